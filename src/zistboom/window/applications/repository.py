"""The queries of applications: each scoped to its owner where a person asks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.window.applications.models import (
    Application,
    ApplicationItem,
    ApplicationShare,
    Notice,
    RegistryRead,
    Task,
    TimelineEvent,
    TrackingLookup,
)
from zistboom.window.identity_models import Agency, Consent, Person


async def application_of(
    session: AsyncSession, subject: str, application_id: str
) -> Application | None:
    """The application, only when ``subject`` owns it."""
    found = await session.scalar(
        select(Application).where(Application.id == application_id, Application.subject == subject)
    )
    return found


async def application_by_code(session: AsyncSession, tracking_code: str) -> Application | None:
    found = await session.scalar(
        select(Application).where(Application.tracking_code == tracking_code)
    )
    return found


async def applications_of(session: AsyncSession, subject: str) -> Sequence[Application]:
    rows = await session.scalars(
        select(Application)
        .where(Application.subject == subject, Application.state != "abandoned")
        .order_by(Application.updated_at.desc())
    )
    return rows.all()


async def items_of(session: AsyncSession, application_id: str) -> Sequence[ApplicationItem]:
    rows = await session.scalars(
        select(ApplicationItem)
        .where(ApplicationItem.application_id == application_id)
        .order_by(ApplicationItem.source_index, ApplicationItem.id)
    )
    return rows.all()


async def reads_of(session: AsyncSession, application_id: str) -> Sequence[RegistryRead]:
    rows = await session.scalars(
        select(RegistryRead)
        .where(RegistryRead.application_id == application_id)
        .order_by(RegistryRead.id)
    )
    return rows.all()


async def reads_about(session: AsyncSession, subject: str) -> Sequence[RegistryRead]:
    """Every read the window made for ``subject``, newest first (their data tracker)."""
    rows = await session.scalars(
        select(RegistryRead).where(RegistryRead.subject == subject).order_by(RegistryRead.at.desc())
    )
    return rows.all()


async def shares_of(session: AsyncSession, application_id: str) -> Sequence[ApplicationShare]:
    rows = await session.scalars(
        select(ApplicationShare)
        .where(ApplicationShare.application_id == application_id)
        .order_by(ApplicationShare.id)
    )
    return rows.all()


async def tasks_of(session: AsyncSession, application_id: str) -> Sequence[Task]:
    rows = await session.scalars(
        select(Task).where(Task.application_id == application_id).order_by(Task.created_at, Task.id)
    )
    return rows.all()


async def timeline_of(session: AsyncSession, application_id: str) -> Sequence[TimelineEvent]:
    rows = await session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.application_id == application_id)
        .order_by(TimelineEvent.id)
    )
    return rows.all()


async def consents_of(session: AsyncSession, subject: str) -> Sequence[Consent]:
    rows = await session.scalars(
        select(Consent)
        .where(Consent.subject == subject)
        .order_by(Consent.at.desc(), Consent.id.desc())
    )
    return rows.all()


async def person(session: AsyncSession, subject: str) -> Person | None:
    return await session.get(Person, subject)


async def agencies(session: AsyncSession, member_ids: Sequence[str]) -> dict[str, Agency]:
    rows = await session.scalars(select(Agency).where(Agency.member_id.in_(list(member_ids))))
    return {row.member_id: row for row in rows}


async def due_handovers(session: AsyncSession, now: datetime, limit: int) -> Sequence[Task]:
    """Tasks whose hand-over is to be submitted or followed now."""
    rows = await session.scalars(
        select(Task)
        .where(
            Task.handover_state.in_(("queued", "submitted", "received")),
            Task.next_attempt_at <= now,
        )
        .order_by(Task.next_attempt_at)
        .limit(limit)
    )
    return rows.all()


async def due_notices(session: AsyncSession, now: datetime, limit: int) -> Sequence[Notice]:
    rows = await session.scalars(
        select(Notice)
        .where(Notice.state == "queued", Notice.next_attempt_at <= now)
        .order_by(Notice.next_attempt_at)
        .limit(limit)
    )
    return rows.all()


async def event(session: AsyncSession, event_id: int) -> TimelineEvent | None:
    return await session.get(TimelineEvent, event_id)


async def lookups_since(
    session: AsyncSession, *, address: str, tracking_code: str, since: datetime
) -> tuple[int, int]:
    """Lookups without sign-in since ``since``: from ``address``, and of ``tracking_code``."""
    by_address = await session.scalar(
        select(func.count()).where(TrackingLookup.address == address, TrackingLookup.at >= since)
    )
    by_code = await session.scalar(
        select(func.count()).where(
            TrackingLookup.tracking_code == tracking_code, TrackingLookup.at >= since
        )
    )
    return int(by_address or 0), int(by_code or 0)


async def forget_lookups_before(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(TrackingLookup).where(TrackingLookup.at < before))
