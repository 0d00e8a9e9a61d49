"""The rules of the person's locker at the window: always the signed-in person's own locker
(the viewer's subject is the only ``X-Road-UserId`` the window sends for them), a share only
with an agency registered at the window, for a stated purpose, until a day from tomorrow to
``MAX_SHARE_DAYS`` ahead (the share ends at that day's end, Tehran time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import ConfigurationError, ValidationError
from zistboom.window.catalogue import service as catalogue
from zistboom.window.identity_models import Agency
from zistboom.window.locker.client import AccessEvent, FullDocument, LockerClient, Share
from zistboom.window.sessions import Viewer
from zistboom.window.settings import WindowSettings

TEHRAN: Final = ZoneInfo("Asia/Tehran")
MAX_SHARE_DAYS: Final = 364
"""The longest share the window offers, in days: within the hub's own bound (a year)."""
MAX_PURPOSE: Final = 500


def locker_client(settings: WindowSettings, http: httpx.AsyncClient) -> LockerClient:
    """The hub's lockers service as configured (``hub_lockers_service``)."""
    if not settings.hub_lockers_service:
        raise ConfigurationError(
            "the window reads lockers from the documents hub: set ZB_HUB_LOCKERS_SERVICE",
            field="hub_lockers_service",
        )
    return LockerClient(http, service=settings.hub_lockers_service, client=settings.subsystem_id)


@dataclass(frozen=True, slots=True)
class DocumentView:
    """What the document's page shows."""

    document: FullDocument
    shares: list[Share]
    events: list[AccessEvent]


async def document_view(client: LockerClient, viewer: Viewer, document_id: str) -> DocumentView:
    document = await client.document(viewer.subject, document_id)
    shares = await client.shares(viewer.subject, document.id)
    events = await client.access_events(viewer.subject, document_id=document.id)
    return DocumentView(document, shares, events)


@dataclass(frozen=True, slots=True)
class ShareBounds:
    """The days a share may end on, in Tehran."""

    first: date
    last: date


def share_bounds(now: datetime) -> ShareBounds:
    today = now.astimezone(TEHRAN).date()
    return ShareBounds(today + timedelta(days=1), today + timedelta(days=MAX_SHARE_DAYS))


async def share_document(
    session: AsyncSession,
    client: LockerClient,
    viewer: Viewer,
    document_id: str,
    *,
    recipient: str,
    purpose: str,
    until: str,
    now: datetime,
) -> Share:
    """Share the viewer's document with a registered agency for ``purpose`` until the end of
    the day ``until`` (``YYYY-MM-DD``)."""
    agencies = {agency.member_id for agency in await catalogue.agencies(session)}
    if recipient not in agencies:
        raise ValidationError("choose one of the agencies listed", field="recipient")
    purpose = purpose.strip()
    if not purpose:
        raise ValidationError("say why the agency may see the document", field="purpose")
    if len(purpose) > MAX_PURPOSE:
        raise ValidationError(f"the purpose is longer than {MAX_PURPOSE} characters",
                              field="purpose")  # fmt: skip
    try:
        day = date.fromisoformat(until)
    except ValueError:
        raise ValidationError("the last day is not a date (YYYY-MM-DD)", field="until") from None
    bounds = share_bounds(now)
    if not bounds.first <= day <= bounds.last:
        raise ValidationError(
            f"the last day must be from {bounds.first} to {bounds.last}", field="until"
        )
    expires_at = datetime.combine(day, time(23, 59, 59), tzinfo=TEHRAN)
    return await client.share(viewer.subject, document_id, recipient, purpose, expires_at)


async def registered_agencies(session: AsyncSession) -> list[Agency]:
    return list(await catalogue.agencies(session))
