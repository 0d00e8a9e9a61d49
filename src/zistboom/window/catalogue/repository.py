"""The catalogue's queries: agencies, their keys, service definitions and the catalogue's
version. Every function takes the session it runs in; the rules are in ``service.py``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.window.catalogue.models import AgencyKey, CatalogueVersion, ServiceRecord
from zistboom.window.identity_models import Agency, AuditRecord


async def agency(session: AsyncSession, member_id: str) -> Agency | None:
    return await session.get(Agency, member_id)


async def agencies(session: AsyncSession) -> Sequence[Agency]:
    return (await session.scalars(select(Agency).order_by(Agency.member_id))).all()


async def live_key(session: AsyncSession, key_hash: str) -> AgencyKey | None:
    """The unrevoked key of this hash."""
    return await session.scalar(
        select(AgencyKey).where(AgencyKey.key_hash == key_hash, AgencyKey.revoked_at.is_(None))
    )


async def agency_key(session: AsyncSession, member_id: str, key_id: int) -> AgencyKey | None:
    return await session.scalar(
        select(AgencyKey).where(AgencyKey.agency == member_id, AgencyKey.id == key_id)
    )


async def service(session: AsyncSession, member_id: str, code: str) -> ServiceRecord | None:
    return await session.scalar(
        select(ServiceRecord).where(ServiceRecord.agency == member_id, ServiceRecord.code == code)
    )


async def services(session: AsyncSession, member_id: str | None = None) -> Sequence[ServiceRecord]:
    """Every definition (of one agency when ``member_id`` is given), by agency and code."""
    query = select(ServiceRecord).order_by(ServiceRecord.agency, ServiceRecord.code)
    if member_id is not None:
        query = query.where(ServiceRecord.agency == member_id)
    return (await session.scalars(query)).all()


async def version(session: AsyncSession) -> int:
    row = await session.get(CatalogueVersion, 1)
    return row.version if row else 0


async def raise_version(session: AsyncSession, now: datetime) -> None:
    """Mark the catalogue changed (in the writing transaction, so readers see both at once)."""
    row = await session.get(CatalogueVersion, 1, with_for_update=True)
    if row is None:
        session.add(CatalogueVersion(id=1, version=1, changed_at=now))
    else:
        row.version += 1
        row.changed_at = now


def audit(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    agency: str,
    detail: dict[str, object],
) -> None:
    session.add(AuditRecord(at=at, actor=actor, action=action, agency=agency, detail=detail))
