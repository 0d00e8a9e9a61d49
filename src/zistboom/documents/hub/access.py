"""Access events: every issuance, share, share revocation, fetch, verification and listing of
a holder's documents through the hub, written in the same transaction as what it records, so
the holder's list never misses one and never shows one that did not happen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.documents.hub import repository
from zistboom.documents.hub.models import AccessEvent
from zistboom.documents.hub.service import Caller

EventKind = Literal["issued", "shared", "share-revoked", "fetched", "verified", "listed"]
PUBLIC = "public"
"""The actor of a verification by anyone (the public verify API, the page, a pull link)."""
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class Event:
    """What happened to one holder's document (``document_id`` none for a listing)."""

    holder: str
    kind: EventKind
    at: datetime
    document_id: str | None = None
    share_id: str | None = None
    purpose: str | None = None


def record(session: AsyncSession, event: Event, caller: Caller | None) -> None:
    """Add the event; ``caller`` none for the public (verification, pull links)."""
    repository.add_event(
        session,
        AccessEvent(
            holder=event.holder,
            document_id=event.document_id,
            kind=event.kind,
            actor=caller.client if caller is not None else PUBLIC,
            user_id=caller.user_id if caller is not None else None,
            purpose=event.purpose or (caller.purpose if caller is not None else None),
            share_id=event.share_id,
            message_id=caller.message_id if caller is not None else None,
            at=event.at,
        ),
    )


async def events_of(
    session: AsyncSession,
    holder: str,
    *,
    document_id: str | None = None,
    since: datetime | None = None,
    before: int | None = None,
    limit: int = 50,
) -> tuple[list[AccessEvent], int | None]:
    """A page of the holder's events, newest first, and the ``before`` of the next page."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = list(
        await repository.access_events(
            session, holder, document_id=document_id, since=since, before=before, limit=limit + 1
        )
    )
    following = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], following
