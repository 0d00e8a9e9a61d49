"""An application's timeline, for its owner and for a lookup without sign-in by tracking code
and national code (or foreign-national ID). The lookup answers only the status and the dates
of the steps — no personal data, no agency's notes — and the same "not found" whether the
code is unknown or the identifier is not the applicant's; it is limited per client address and
per tracking code within an hour, and every lookup counts, found or not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import ZistboomError
from zistboom.core.persian import normalize_digits
from zistboom.window import tracking
from zistboom.window.applications import repository
from zistboom.window.applications.models import TimelineEvent, TrackingLookup

LIMIT_WINDOW: Final = timedelta(hours=1)
PUBLIC_KINDS: Final = frozenset(
    {"submitted", "task-received", "more-information-requested", "answered", "decided",
     "document-issued"}
)  # fmt: skip


class TooManyLookupsError(ZistboomError):
    """Too many lookups of tracking codes without sign-in: from this address, or of this
    code, in the last hour."""

    status = 429
    code = "too-many-lookups"
    title = "Too many lookups"


@dataclass(frozen=True, slots=True)
class PublicStep:
    kind: str
    at: datetime
    agency: str | None


@dataclass(frozen=True, slots=True)
class PublicStatus:
    """What a lookup without sign-in shows."""

    tracking_code: str
    state: str
    agency: str
    service_code: str
    submitted_at: datetime | None
    steps: tuple[PublicStep, ...]


def public_steps(events: Sequence[TimelineEvent]) -> tuple[PublicStep, ...]:
    return tuple(PublicStep(e.kind, e.at, e.agency) for e in events if e.kind in PUBLIC_KINDS)


async def lookup(
    session: AsyncSession,
    *,
    tracking_code: str,
    identifier: str,
    address: str,
    now: datetime,
    per_code: int,
    per_address: int,
) -> PublicStatus | None:
    """The status of the application with ``tracking_code`` (a valid code) whose applicant has
    ``identifier`` (national code or foreign-national ID, digits), or None; counted for the
    limits either way."""
    code = tracking.normalise_tracking_code(tracking_code)
    since = now - LIMIT_WINDOW
    await repository.forget_lookups_before(session, since)
    by_address, by_code = await repository.lookups_since(
        session, address=address[:64], tracking_code=code[:32], since=since
    )
    if by_address >= per_address or by_code >= per_code:
        raise TooManyLookupsError(
            "too many lookups in the last hour; sign in to see your applications, or try later",
            field="tracking_code",
        )
    session.add(TrackingLookup(address=address[:64], tracking_code=code[:32], at=now))
    digits = "".join(normalize_digits(identifier).split())
    application = await repository.application_by_code(session, code)
    if application is None or application.state == "draft" or application.subject[2:] != digits:
        return None  # the same answer for an unknown code and for another's identifier
    events = await repository.timeline_of(session, application.id)
    return PublicStatus(
        tracking_code=application.tracking_code, state=application.state,
        agency=application.agency, service_code=application.service_code,
        submitted_at=application.submitted_at, steps=public_steps(events),
    )  # fmt: skip
