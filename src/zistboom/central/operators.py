"""Operators and their API keys: who may change what at central.

Roles: ``admin`` (everything, including keys and revocation), ``registrar`` (members, subsystems,
gateways, groups, enrolment tokens), ``auditor`` (read everything, change nothing), ``member``
(a key scoped to one member: read that member's records and manage its subsystems), and
``assessor`` (a key that names its member, the assessor's employer, and reviews accreditation
applications under the schemes it is authorised for; see ``zistboom.accreditation.assessors``).
Keys are random 256-bit secrets; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.central import audit
from zistboom.central.models import ApiKey, Member
from zistboom.core.database import utc_now
from zistboom.core.errors import AuthenticationError, PermissionDeniedError, ValidationError

Role = Literal["admin", "registrar", "auditor", "member", "assessor"]
SCOPED_ROLES = ("member", "assessor")
"""Roles whose keys name a member."""
ROLES: tuple[str, ...] = get_args(Role)
KEY_PREFIX = "zb_"


@dataclass(frozen=True, slots=True)
class Operator:
    """The authenticated caller of central's management API."""

    key_id: str
    name: str
    role: str
    member_id: int | None = None

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise PermissionDeniedError(
                f"this needs one of the roles {', '.join(roles)}; your key has role {self.role}"
            )

    def require_member(self, member: Member, *roles: str) -> None:
        """Allow the given roles, or a member-scoped key for this very member."""
        if self.role == "member" and self.member_id == member.id:
            return
        self.require(*roles)


SYSTEM = Operator(key_id="system", name="central", role="admin")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_api_key(
    session: AsyncSession,
    *,
    name: str,
    role: str,
    member: Member | None,
    actor: Operator,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the secret, which is never stored or shown again."""
    actor.require("admin")
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}: use one of {', '.join(ROLES)}", field="role")
    if role in SCOPED_ROLES and member is None:
        raise ValidationError(f"a key with role {role!r} must name its member", field="member_id")
    if role not in SCOPED_ROLES and member is not None:
        raise ValidationError(
            "only keys with role 'member' or 'assessor' name a member", field="role"
        )
    if not name.strip():
        raise ValidationError("name must not be empty", field="name")
    key_id = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        key_id=key_id,
        secret_hash=_hash(secret),
        name=name.strip(),
        role=role,
        member_id=member.id if member else None,
        created_at=utc_now(),
    )
    session.add(row)
    await session.flush()
    await audit.append(
        session,
        actor=actor.actor,
        action="api-key.create",
        target=f"key:{key_id}",
        details={"name": row.name, "role": role, "member": member.identifier if member else None},
    )
    return row, secret


async def revoke_api_key(session: AsyncSession, key_id: str, *, actor: Operator) -> ApiKey:
    actor.require("admin")
    row = (
        await session.execute(select(ApiKey).where(ApiKey.key_id == key_id))
    ).scalar_one_or_none()
    if row is None:
        raise ValidationError(f"no API key with id {key_id!r}", field="key_id")
    if row.revoked_at is None:
        row.revoked_at = utc_now()
        await audit.append(
            session, actor=actor.actor, action="api-key.revoke", target=f"key:{key_id}", details={}
        )
    return row


async def find_api_key(session: AsyncSession, key_id: str) -> ApiKey | None:
    found: ApiKey | None = await session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    return found


async def has_any_key(session: AsyncSession) -> bool:
    return (await session.execute(select(ApiKey.id).limit(1))).first() is not None


async def authenticate(session: AsyncSession, presented: str | None) -> Operator:
    """Resolve a presented secret to its operator, or refuse."""
    if not presented:
        raise AuthenticationError(
            "send your API key as 'Authorization: Bearer <key>'", field="authorization"
        )
    if not presented.startswith(KEY_PREFIX):
        raise AuthenticationError("this is not a Zistboom API key", field="authorization")
    digest = _hash(presented)
    row = (
        await session.execute(select(ApiKey).where(ApiKey.secret_hash == digest))
    ).scalar_one_or_none()
    if row is None or not hmac.compare_digest(row.secret_hash, digest):
        raise AuthenticationError("unknown API key", field="authorization")
    if row.revoked_at is not None:
        raise AuthenticationError("this API key has been revoked", field="authorization")
    return Operator(key_id=row.key_id, name=row.name, role=row.role, member_id=row.member_id)
