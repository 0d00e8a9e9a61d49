"""The queries of who is who at the window (over ``identity_models.py``): people, sessions,
pending sign-ins, agencies, role grants, consents and the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.window.identity_models import (
    Agency,
    AuditRecord,
    Consent,
    PendingSignIn,
    Person,
    RoleGrant,
    WebSession,
)


async def person(session: AsyncSession, subject: str) -> Person | None:
    return await session.get(Person, subject)


async def agency(session: AsyncSession, member_id: str) -> Agency | None:
    return await session.get(Agency, member_id)


async def agencies_named(session: AsyncSession, member_ids: Sequence[str]) -> dict[str, Agency]:
    if not member_ids:
        return {}
    rows = await session.scalars(select(Agency).where(Agency.member_id.in_(member_ids)))
    return {row.member_id: row for row in rows}


async def take_pending_sign_in(session: AsyncSession, id_hash: str) -> PendingSignIn | None:
    """The pending sign-in under ``id_hash``, deleted as it is read: it serves once."""
    pending = await session.get(PendingSignIn, id_hash)
    if pending is not None:
        await session.delete(pending)
    return pending


async def forget_pending_before(session: AsyncSession, moment: datetime) -> None:
    await session.execute(delete(PendingSignIn).where(PendingSignIn.created_at < moment))


async def web_session(session: AsyncSession, id_hash: str) -> WebSession | None:
    return await session.get(WebSession, id_hash)


async def touch_session(session: AsyncSession, id_hash: str, moment: datetime) -> None:
    await session.execute(
        update(WebSession).where(WebSession.id_hash == id_hash).values(last_seen_at=moment)
    )


async def live_grants(session: AsyncSession, subject: str) -> Sequence[RoleGrant]:
    """The roles ``subject`` holds now, at every agency."""
    rows = await session.scalars(
        select(RoleGrant)
        .where(RoleGrant.subject == subject, RoleGrant.revoked_at.is_(None))
        .order_by(RoleGrant.agency, RoleGrant.role)
    )
    return rows.all()


async def agency_grants(session: AsyncSession, agency: str) -> Sequence[RoleGrant]:
    """The roles held now at ``agency``, by person."""
    rows = await session.scalars(
        select(RoleGrant)
        .where(RoleGrant.agency == agency, RoleGrant.revoked_at.is_(None))
        .order_by(RoleGrant.subject, RoleGrant.role)
    )
    return rows.all()


async def live_grant(
    session: AsyncSession, agency: str, subject: str, role: str
) -> RoleGrant | None:
    return await session.scalar(
        select(RoleGrant).where(
            RoleGrant.agency == agency,
            RoleGrant.subject == subject,
            RoleGrant.role == role,
            RoleGrant.revoked_at.is_(None),
        )
    )


async def grant(session: AsyncSession, grant_id: int) -> RoleGrant | None:
    return await session.get(RoleGrant, grant_id)


async def consents(session: AsyncSession, subject: str) -> Sequence[Consent]:
    rows = await session.scalars(
        select(Consent).where(Consent.subject == subject).order_by(Consent.at.desc())
    )
    return rows.all()


def audit(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    agency: str | None,
    detail: dict[str, Any],
) -> None:
    session.add(AuditRecord(at=at, actor=actor, action=action, agency=agency, detail=detail))


async def audit_trail(
    session: AsyncSession, agency: str, limit: int = 200
) -> Sequence[AuditRecord]:
    rows = await session.scalars(
        select(AuditRecord)
        .where(AuditRecord.agency == agency)
        .order_by(AuditRecord.id.desc())
        .limit(limit)
    )
    return rows.all()
