"""Accreditations (``acc-<n>``): granted by a decision on an application, then suspended,
reinstated, revoked or withdrawn, each change appended to a history that is never rewritten.

A status at a time is read as the trust list reads it (``core.accreditation``): expiry comes
from ``valid_until`` on its own, with nothing stored and no job run. Suspending, reinstating
and revoking take an admin or an assessor with current authority under the scheme (not of the
accredited member); withdrawing takes the member itself, or an admin or registrar."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.accreditation import assessors, history, repository, schemes
from zistboom.accreditation.listing import accreditation_entry
from zistboom.accreditation.models import Accreditation, AccreditationEvent, Application
from zistboom.central import service as central
from zistboom.central.operators import Operator
from zistboom.core.accreditation import TrustIndex
from zistboom.core.errors import ConflictError, ValidationError
from zistboom.core.trustlist import LEVELS


class AccreditationChange(Protocol):
    """The shape of :func:`suspend`, :func:`reinstate`, :func:`revoke` and :func:`withdraw`."""

    async def __call__(
        self,
        session: AsyncSession,
        accreditation_id: str,
        reason: str,
        *,
        actor: Operator,
        at: datetime | None = None,
    ) -> Accreditation: ...


AccreditationState = Literal[
    "active", "suspended", "revoked", "withdrawn", "expired", "not-yet-valid"
]
STATES: tuple[str, ...] = get_args(AccreditationState)
MAX_CONDITIONS = 20


def state_at(row: Accreditation, at: datetime) -> str:
    """``active``, ``suspended``, ``revoked``, ``withdrawn``, ``expired`` or ``not-yet-valid``."""
    return TrustIndex.accreditation_state(accreditation_entry(row), at)


def _conditions(conditions: Sequence[str]) -> list[str]:
    if len(conditions) > MAX_CONDITIONS:
        raise ValidationError(f"at most {MAX_CONDITIONS} conditions", field="conditions")
    cleaned = [history.text(c, f"conditions.{i}") for i, c in enumerate(conditions)]
    return cleaned


async def grant(
    session: AsyncSession,
    application: Application,
    *,
    level: str,
    conditions: Sequence[str],
    validity_days: int | None,
    reason: str,
    actor: Operator,
    at: datetime,
) -> Accreditation:
    """The accreditation a granting decision makes (``applications.decide`` calls this)."""
    scheme = application.scheme
    if level not in scheme.levels:
        raise ValidationError(
            f"scheme {scheme.code} grants the levels {', '.join(scheme.levels)}", field="level"
        )
    if LEVELS.index(level) > LEVELS.index(application.level):
        raise ValidationError(
            f"{application.identifier} asked for {application.level}; a decision may grant that "
            "or a lower level",
            field="level",
        )
    days = scheme.validity_days if validity_days is None else validity_days
    if not 1 <= days <= scheme.validity_days:
        raise ValidationError(
            f"validity_days must be between 1 and the scheme's {scheme.validity_days}",
            field="validity_days",
        )
    accreditation = Accreditation(
        scheme_id=scheme.id,
        member=application.member,
        scope=application.scope,
        subject=application.subject,
        level=level,
        valid_from=at,
        valid_until=at + timedelta(days=days),
        conditions=_conditions(conditions),
        application_id=application.id,
        events=[AccreditationEvent(status="granted", at=at, actor=actor.actor, reason=reason)],
    )
    session.add(accreditation)
    await session.flush()
    await session.refresh(accreditation, ["scheme"])
    await central.record_change(
        session,
        actor=actor,
        action="accreditation.grant",
        target=accreditation.identifier,
        details={
            "scheme": scheme.code,
            "member": accreditation.member,
            "scope": accreditation.scope,
            "subject": accreditation.subject,
            "level": level,
            "valid_until": history.iso(accreditation.valid_until),
            "application": application.identifier,
            "reason": reason,
        },
    )
    return accreditation


async def get_accreditation(session: AsyncSession, accreditation_id: str) -> Accreditation:
    return await repository.accreditation(session, accreditation_id)


async def list_accreditations(
    session: AsyncSession,
    *,
    at: datetime | None = None,
    scheme: str | None = None,
    member: str | None = None,
    status: str | None = None,
) -> list[tuple[Accreditation, str]]:
    """Accreditations with their status at ``at`` (now by default)."""
    when = history.moment(at)
    if status is not None and status not in STATES:
        raise ValidationError(f"status must be one of {', '.join(STATES)}", field="status")
    scheme_id = None if scheme is None else (await schemes.get_scheme(session, scheme)).id
    rows = await repository.list_accreditations(session, scheme_id=scheme_id, member=member)
    listed = [(row, state_at(row, when)) for row in rows]
    return [(row, state) for row, state in listed if status is None or state == status]


async def _overseer(
    session: AsyncSession, row: Accreditation, actor: Operator, at: datetime, doing: str
) -> None:
    """An admin, or an assessor authorised under the scheme and not of the member."""
    if actor.role == "admin":
        return
    authority = await assessors.current_authority(session, actor, row.scheme, at, doing=doing)
    assessors.refuse_conflict(authority, row.member, row.identifier)


async def _change(
    session: AsyncSession,
    row: Accreditation,
    status: str,
    reason: str,
    *,
    allowed: Sequence[str],
    actor: Operator,
    at: datetime,
) -> Accreditation:
    reason = history.text(reason, "reason")
    history.after_last(row.events, at, row.identifier)
    state = state_at(row, at)
    if at >= row.valid_until:
        raise ConflictError(
            f"{row.identifier} expired at {history.iso(row.valid_until)}: nothing more happens "
            "to it; apply again",
            field="status",
        )
    if state not in allowed:
        raise ConflictError(
            f"{row.identifier} is {state} at {history.iso(at)}: only an accreditation that is "
            f"{' or '.join(allowed)} can be {status}",
            field="status",
        )
    row.events.append(AccreditationEvent(status=status, at=at, actor=actor.actor, reason=reason))
    await session.flush()
    await central.record_change(
        session,
        actor=actor,
        action=f"accreditation.{_ACTIONS[status]}",
        target=row.identifier,
        details={"from": state, "to": status, "reason": reason},
    )
    return row


_ACTIONS = {
    "suspended": "suspend",
    "reinstated": "reinstate",
    "revoked": "revoke",
    "withdrawn": "withdraw",
}


async def suspend(
    session: AsyncSession,
    accreditation_id: str,
    reason: str,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> Accreditation:
    when = history.moment(at)
    row = await repository.accreditation(session, accreditation_id)
    await _overseer(session, row, actor, when, "suspend it")
    return await _change(
        session, row, "suspended", reason, allowed=("active",), actor=actor, at=when
    )


async def reinstate(
    session: AsyncSession,
    accreditation_id: str,
    reason: str,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> Accreditation:
    when = history.moment(at)
    row = await repository.accreditation(session, accreditation_id)
    await _overseer(session, row, actor, when, "reinstate it")
    return await _change(
        session, row, "reinstated", reason, allowed=("suspended",), actor=actor, at=when
    )


async def revoke(
    session: AsyncSession,
    accreditation_id: str,
    reason: str,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> Accreditation:
    when = history.moment(at)
    row = await repository.accreditation(session, accreditation_id)
    await _overseer(session, row, actor, when, "revoke it")
    return await _change(
        session, row, "revoked", reason, allowed=("active", "suspended"), actor=actor, at=when
    )


async def withdraw(
    session: AsyncSession,
    accreditation_id: str,
    reason: str,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> Accreditation:
    """The accredited member gives its accreditation up (or an admin or registrar records it)."""
    when = history.moment(at)
    row = await repository.accreditation(session, accreditation_id)
    member = await central.member_by_id(session, row.member, field="member_id")
    actor.require_member(member, "admin", "registrar")
    return await _change(
        session, row, "withdrawn", reason, allowed=("active", "suspended"), actor=actor, at=when
    )
