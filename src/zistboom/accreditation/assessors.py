"""Assessor authority: which assessor keys may review and decide applications under which
scheme (``asr-<n>``), granted by an admin with a delegation depth, or delegated by an assessor
holding depth ≥ 1 to another assessor key with a smaller depth, so every chain is bounded.

Withdrawing an authorisation withdraws, at the same moment, every authorisation delegated from
it (and from those), each with its own ``withdrawn`` event: the trust list then says so of each
entry, and a reader needs no chain walk. Decisions made under it before then stay as they were.
An assessor may not review or decide an application of its own member (the conflict rule)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.accreditation import history, repository, schemes
from zistboom.accreditation.models import AssessorAuthorisation, AssessorEvent, Scheme
from zistboom.central import service as central
from zistboom.central.operators import Operator
from zistboom.core.errors import ConflictError, PermissionDeniedError, ValidationError

MAX_DEPTH = 5
"""The deepest delegation an admin may allow."""


def authority_status(row: AssessorAuthorisation, at: datetime) -> str:
    """``granted``, ``withdrawn``, or ``not-yet-granted`` at ``at``."""
    return history.status_at(row.events, at) or "not-yet-granted"


async def _assessor_key(session: AsyncSession, key_id: str) -> central.KeyHolder:
    holder = await central.key_holder(session, key_id)
    if holder.role != "assessor":
        raise ValidationError(
            f"key {key_id} has role {holder.role}: authority goes to keys with role assessor",
            field="key_id",
        )
    if holder.revoked:
        raise ValidationError(f"key {key_id} has been revoked", field="key_id")
    if holder.member is None:
        raise ValidationError(f"assessor key {key_id} names no member", field="key_id")
    return holder


async def _no_current(session: AsyncSession, key_id: str, scheme: Scheme, at: datetime) -> None:
    for row in await repository.authorisations_of_key(session, key_id, scheme_id=scheme.id):
        if authority_status(row, at) == "granted":
            raise ConflictError(
                f"key {key_id} already holds authority {row.identifier} under {scheme.code}",
                field="key_id",
            )


async def _create(
    session: AsyncSession,
    *,
    holder: central.KeyHolder,
    scheme: Scheme,
    depth: int,
    parent: AssessorAuthorisation | None,
    reason: str,
    actor: Operator,
    at: datetime,
) -> AssessorAuthorisation:
    assert holder.member is not None
    row = AssessorAuthorisation(
        key_id=holder.key_id,
        member=holder.member,
        scheme_id=scheme.id,
        depth=depth,
        delegated_from_id=parent.id if parent is not None else None,
        created_at=at,
        events=[AssessorEvent(status="granted", at=at, actor=actor.actor, reason=reason)],
    )
    session.add(row)
    await session.flush()
    await session.refresh(row, ["scheme"])
    await central.record_change(
        session,
        actor=actor,
        action="accreditation.assessor.delegate" if parent else "accreditation.assessor.grant",
        target=row.identifier,
        details={
            "key_id": holder.key_id,
            "member": holder.member,
            "scheme": scheme.code,
            "depth": depth,
            "delegated_from": parent.identifier if parent else None,
            "reason": reason,
        },
    )
    return row


async def grant_authority(
    session: AsyncSession,
    *,
    key_id: str,
    scheme: str,
    depth: int,
    reason: str,
    actor: Operator,
    at: datetime | None = None,
) -> AssessorAuthorisation:
    """An admin authorises an assessor key under a scheme, allowing ``depth`` delegations."""
    actor.require("admin")
    when = history.moment(at)
    target = await schemes.require_active(session, scheme, when, field="scheme")
    if not 0 <= depth <= MAX_DEPTH:
        raise ValidationError(f"depth must be between 0 and {MAX_DEPTH}", field="depth")
    holder = await _assessor_key(session, key_id)
    await _no_current(session, key_id, target, when)
    return await _create(
        session,
        holder=holder,
        scheme=target,
        depth=depth,
        parent=None,
        reason=history.text(reason, "reason"),
        actor=actor,
        at=when,
    )


async def delegate(
    session: AsyncSession,
    authorisation_id: str,
    *,
    key_id: str,
    depth: int,
    reason: str,
    actor: Operator,
    at: datetime | None = None,
) -> AssessorAuthorisation:
    """The holder of ``authorisation_id`` passes part of it to another assessor key."""
    when = history.moment(at)
    parent = await repository.authorisation(session, authorisation_id)
    if actor.role != "assessor" or actor.key_id != parent.key_id:
        raise PermissionDeniedError(
            f"only the holder of {parent.identifier} (key {parent.key_id}) may delegate it"
        )
    if authority_status(parent, when) != "granted":
        raise ConflictError(
            f"{parent.identifier} is {authority_status(parent, when)}: it cannot be delegated",
            field="authorisation_id",
        )
    if parent.depth < 1:
        raise PermissionDeniedError(
            f"{parent.identifier} has delegation depth 0: it may not be delegated further"
        )
    if not 0 <= depth < parent.depth:
        raise ValidationError(
            f"a delegation from {parent.identifier} (depth {parent.depth}) must have a depth "
            f"between 0 and {parent.depth - 1}",
            field="depth",
        )
    if key_id == parent.key_id:
        raise ValidationError("an assessor cannot delegate to its own key", field="key_id")
    await schemes.require_active(session, parent.scheme.code, when, field="scheme")
    holder = await _assessor_key(session, key_id)
    await _no_current(session, key_id, parent.scheme, when)
    return await _create(
        session,
        holder=holder,
        scheme=parent.scheme,
        depth=depth,
        parent=parent,
        reason=history.text(reason, "reason"),
        actor=actor,
        at=when,
    )


async def withdraw_authority(
    session: AsyncSession,
    authorisation_id: str,
    reason: str,
    *,
    actor: Operator,
    at: datetime | None = None,
) -> list[AssessorAuthorisation]:
    """Withdraw an authorisation and everything delegated from it, from ``at`` on; returns the
    authorisations withdrawn, the named one first. An admin may withdraw any; an assessor the
    delegations it made."""
    when = history.moment(at)
    row = await repository.authorisation(session, authorisation_id)
    if actor.role != "admin":
        parent = (
            await repository.authorisation(session, row.delegated_from)
            if row.delegated_from is not None
            else None
        )
        if actor.role != "assessor" or parent is None or parent.key_id != actor.key_id:
            raise PermissionDeniedError(
                f"{row.identifier} may be withdrawn by an admin"
                + (f" or by key {parent.key_id}, which delegated it" if parent else "")
            )
    status = authority_status(row, when)
    if status != "granted":
        raise ConflictError(f"{row.identifier} is {status}: nothing to withdraw", field="id")
    reason = history.text(reason, "reason")
    withdrawn: list[AssessorAuthorisation] = []
    pending = [(row, reason)]
    while pending:
        current, why = pending.pop(0)
        if authority_status(current, when) != "granted":
            continue
        history.after_last(current.events, when, current.identifier)
        current.events.append(
            AssessorEvent(status="withdrawn", at=when, actor=actor.actor, reason=why)
        )
        withdrawn.append(current)
        await session.flush()
        await central.record_change(
            session,
            actor=actor,
            action="accreditation.assessor.withdraw",
            target=current.identifier,
            details={"key_id": current.key_id, "scheme": current.scheme.code, "reason": why},
        )
        for child in await repository.delegations_from(session, current.id):
            pending.append(
                (child, f"withdrawn with {current.identifier}, from which it was delegated: {why}")
            )
    return withdrawn


async def list_authorities(
    session: AsyncSession, *, scheme: str | None = None, key_id: str | None = None
) -> list[AssessorAuthorisation]:
    scheme_id = None if scheme is None else (await schemes.get_scheme(session, scheme)).id
    return await repository.list_authorisations(session, scheme_id=scheme_id, key_id=key_id)


async def current_authority(
    session: AsyncSession, actor: Operator, scheme: Scheme, at: datetime, *, doing: str
) -> AssessorAuthorisation:
    """The authorisation under which ``actor`` may ``doing`` under ``scheme`` at ``at``."""
    if actor.role != "assessor":
        raise PermissionDeniedError(
            f"to {doing} you need an assessor key authorised under {scheme.code}; your key has "
            f"role {actor.role}"
        )
    for row in await repository.authorisations_of_key(session, actor.key_id, scheme_id=scheme.id):
        if authority_status(row, at) == "granted":
            return row
    raise PermissionDeniedError(
        f"assessor key {actor.key_id} holds no current authority under {scheme.code} to {doing}"
    )


async def schemes_assessed_by(session: AsyncSession, actor: Operator, at: datetime) -> list[int]:
    rows = await repository.authorisations_of_key(session, actor.key_id)
    return [row.scheme_id for row in rows if authority_status(row, at) == "granted"]


def refuse_conflict(authority: AssessorAuthorisation, member: str, what: str) -> None:
    """An assessor may not review or decide its own member's application."""
    if authority.member == member:
        raise PermissionDeniedError(
            f"conflict of interest: assessor key {authority.key_id} belongs to {member}, which "
            f"is the applicant of {what}; an assessor of another member must review it",
            conflict={
                "assessor_key": authority.key_id,
                "assessor_member": authority.member,
                "applicant": member,
            },
        )
