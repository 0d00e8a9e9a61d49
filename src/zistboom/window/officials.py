"""Officials and their roles per agency: ``clerk``, ``approver`` and ``agency-admin``. The
window operator appoints an agency's first admin, on the agency's request; from then on the
agency's admins grant and revoke its roles; every appointment, grant and revocation is audited.
Authorisation is checked here, not in the routes: an admin of agency A grants nothing at B."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from zistboom.window import identity_repository as repository
from zistboom.window.identity_models import Agency, AuditRecord, RoleGrant
from zistboom.window.people import parse_subject
from zistboom.window.sessions import Viewer

Role = Literal["clerk", "approver", "agency-admin"]
ROLES: Final[tuple[Role, ...]] = ("clerk", "approver", "agency-admin")
ADMIN: Final = "agency-admin"
OPERATOR: Final = "operator"


def parse_role(text: str) -> Role:
    for role in ROLES:
        if text == role:
            return role
    raise ValidationError(f"{text!r} is not a role; the roles are {', '.join(ROLES)}", field="role")


async def _agency(session: AsyncSession, member_id: str) -> Agency:
    agency = await repository.agency(session, member_id)
    if agency is None:
        raise NotFoundError(
            f"{member_id} is not an agency of the window; the window operator registers it first",
            field="agency",
        )
    return agency


def _require_admin(viewer: Viewer, agency: str) -> None:
    if not viewer.holds(agency, ADMIN):
        raise PermissionDeniedError(
            f"only an agency-admin of {agency} grants or revokes its roles", field="agency"
        )


async def appoint_first_admin(
    session: AsyncSession, *, agency: str, subject: str, request_reference: str, now: datetime
) -> RoleGrant:
    """The operator appoints ``agency``'s first admin (``request_reference`` names the agency's
    request). Once an agency has an admin, its admins grant its roles themselves."""
    await _agency(session, agency)
    person = parse_subject(subject)
    if not request_reference.strip():
        raise ValidationError(
            "name the agency's request for its first admin (its letter's number or date)",
            field="request_reference",
        )
    admins = [g for g in await repository.agency_grants(session, agency) if g.role == ADMIN]
    if admins:
        raise ConflictError(
            f"{agency} already has an agency-admin ({admins[0].subject}); its admins grant "
            "roles from now on",
            field="agency",
        )
    grant = RoleGrant(
        agency=agency, subject=person, role=ADMIN, granted_by=OPERATOR, granted_at=now
    )
    session.add(grant)
    repository.audit(
        session, at=now, actor=OPERATOR, action="appoint-first-admin", agency=agency,
        detail={"subject": person, "role": ADMIN, "request_reference": request_reference.strip()},
    )  # fmt: skip
    await session.flush()
    return grant


async def grant_role(
    session: AsyncSession, viewer: Viewer, *, agency: str, subject: str, role: str, now: datetime
) -> RoleGrant:
    """An admin of ``agency`` grants ``role`` there to ``subject``."""
    _require_admin(viewer, agency)
    await _agency(session, agency)
    person, chosen = parse_subject(subject), parse_role(role)
    if await repository.live_grant(session, agency, person, chosen) is not None:
        raise ConflictError(f"{person} already holds {chosen} at {agency}", field="role")
    grant = RoleGrant(
        agency=agency, subject=person, role=chosen, granted_by=viewer.subject, granted_at=now
    )
    session.add(grant)
    repository.audit(
        session, at=now, actor=viewer.subject, action="grant-role", agency=agency,
        detail={"subject": person, "role": chosen},
    )  # fmt: skip
    await session.flush()
    return grant


async def revoke_role(
    session: AsyncSession, viewer: Viewer, *, agency: str, grant_id: int, now: datetime
) -> RoleGrant:
    """An admin of ``agency`` revokes one of its grants; its last admin cannot be revoked (the
    agency would have nobody to grant roles)."""
    _require_admin(viewer, agency)
    grant = await repository.grant(session, grant_id)
    if grant is None or grant.agency != agency or grant.revoked_at is not None:
        raise NotFoundError(f"no current grant {grant_id} at {agency}", field="grant")
    if grant.role == ADMIN:
        admins = [g for g in await repository.agency_grants(session, agency) if g.role == ADMIN]
        if len(admins) == 1:
            raise ConflictError(
                f"{grant.subject} is the last agency-admin of {agency}; grant the role to "
                "another official first",
                field="grant",
            )
    grant.revoked_at, grant.revoked_by = now, viewer.subject
    repository.audit(
        session, at=now, actor=viewer.subject, action="revoke-role", agency=agency,
        detail={"subject": grant.subject, "role": grant.role, "grant": grant.id},
    )  # fmt: skip
    return grant


@dataclass(frozen=True, slots=True)
class AgencyRoles:
    agency: Agency
    grants: Sequence[RoleGrant]
    audit: Sequence[AuditRecord]


async def agency_roles(session: AsyncSession, viewer: Viewer, agency: str) -> AgencyRoles:
    """An agency's roles and their audit trail, for its admins only."""
    _require_admin(viewer, agency)
    found = await _agency(session, agency)
    return AgencyRoles(
        found,
        await repository.agency_grants(session, agency),
        await repository.audit_trail(session, agency),
    )


async def agency_of_official(session: AsyncSession, viewer: Viewer, agency: str) -> Agency:
    """The agency whose pages ``viewer`` opens: only an official of that agency may."""
    if not viewer.works_at(agency):
        raise PermissionDeniedError(
            f"you hold no role at {agency}; an official sees only their own agency's work",
            field="agency",
        )
    return await _agency(session, agency)
