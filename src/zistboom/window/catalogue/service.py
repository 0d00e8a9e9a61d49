"""The catalogue's rules: who is calling (the window operator or an agency by its key), the
operator registering agencies and issuing their keys (audited), and an agency writing its own
service definitions only (one at a time, or an import that is all or nothing). Every change to
the definitions raises the catalogue's version in the same transaction."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from zistboom.core.identifiers import MemberId, SubsystemId
from zistboom.window.catalogue import repository
from zistboom.window.catalogue.definitions import ServiceDefinition
from zistboom.window.catalogue.models import AgencyKey, ServiceRecord
from zistboom.window.identity_models import Agency

KEY_PREFIX = "zbw_"
OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who calls the management API: the operator (``agency`` None) or an agency."""

    agency: str | None

    @property
    def is_operator(self) -> bool:
        return self.agency is None

    @property
    def name(self) -> str:
        return self.agency or OPERATOR


@dataclass(frozen=True, slots=True)
class IssuedKey:
    id: int
    agency: str
    key: str
    """Shown once; only its SHA-256 hash is kept."""


@dataclass(frozen=True, slots=True)
class StoredDefinition:
    agency: str
    definition: ServiceDefinition
    updated_at: datetime


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def authenticate(session: AsyncSession, bearer: str | None, admin_token: str) -> Caller:
    """The caller of ``bearer``: the operator's token, or an agency's unrevoked key."""
    if not bearer:
        raise AuthenticationError("send 'Authorization: Bearer <key>' (an agency's key)")
    if hmac.compare_digest(bearer.encode(), admin_token.encode()):
        return Caller(None)
    key = await repository.live_key(session, key_hash(bearer))
    if key is None:
        raise AuthenticationError("the key is unknown or revoked; ask the window operator")
    return Caller(key.agency)


def require_operator(caller: Caller) -> None:
    if not caller.is_operator:
        raise PermissionDeniedError("only the window operator may do this, not an agency's key")


def _agency_of(caller: Caller, agency: str | None) -> str:
    """The agency whose definitions ``caller`` writes: its own, never another's."""
    if caller.agency is None:
        raise PermissionDeniedError(
            "service definitions are written by their agency with its own key", field="agency"
        )
    if agency is not None and str(MemberId.parse(agency, field="agency")) != caller.agency:
        raise PermissionDeniedError(
            f"the key of {caller.agency} may write only its own definitions, not {agency}'s",
            field="agency",
        )
    return caller.agency


async def register_agency(
    session: AsyncSession, *, member_id: str, name_fa: str, name_en: str, actor: str, now: datetime
) -> Agency:
    member = str(MemberId.parse(member_id, field="member_id"))
    if await repository.agency(session, member) is not None:
        raise ConflictError(f"agency {member} is already registered", field="member_id")
    agency = Agency(member_id=member, name_fa=name_fa, name_en=name_en, created_at=now)
    session.add(agency)
    repository.audit(
        session,
        at=now,
        actor=actor,
        action="agency-registered",
        agency=member,
        detail={"name_fa": name_fa, "name_en": name_en},
    )
    await session.flush()
    return agency


async def set_inbox(
    session: AsyncSession, *, member_id: str, subsystem: str, actor: str, now: datetime
) -> Agency:
    """Name the agency's subsystem that receives the window's tasks."""
    agency = await _known_agency(session, member_id)
    checked = SubsystemId.parse(f"{agency.member_id}/{subsystem}", field="subsystem")
    agency.inbox_subsystem = checked.subsystem_code
    repository.audit(
        session, at=now, actor=actor, action="agency-inbox-set", agency=agency.member_id,
        detail={"subsystem": checked.subsystem_code},
    )  # fmt: skip
    await session.flush()
    return agency


async def agencies(session: AsyncSession) -> Sequence[Agency]:
    return await repository.agencies(session)


async def _known_agency(session: AsyncSession, member_id: str) -> Agency:
    member = str(MemberId.parse(member_id, field="member_id"))
    agency = await repository.agency(session, member)
    if agency is None:
        raise NotFoundError(
            f"agency {member} is not registered at the window; register it first",
            field="member_id",
        )
    return agency


async def issue_key(
    session: AsyncSession, *, member_id: str, actor: str, now: datetime
) -> IssuedKey:
    agency = await _known_agency(session, member_id)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = AgencyKey(agency=agency.member_id, key_hash=key_hash(key), created_at=now)
    session.add(row)
    await session.flush()
    repository.audit(
        session,
        at=now,
        actor=actor,
        action="agency-key-issued",
        agency=agency.member_id,
        detail={"key_id": row.id},
    )
    return IssuedKey(row.id, agency.member_id, key)


async def revoke_key(
    session: AsyncSession, *, member_id: str, key_id: int, actor: str, now: datetime
) -> None:
    agency = await _known_agency(session, member_id)
    row = await repository.agency_key(session, agency.member_id, key_id)
    if row is None:
        raise NotFoundError(f"agency {agency.member_id} has no key {key_id}", field="key_id")
    if row.revoked_at is None:
        row.revoked_at = now
        repository.audit(
            session,
            at=now,
            actor=actor,
            action="agency-key-revoked",
            agency=agency.member_id,
            detail={"key_id": key_id},
        )


def _stored(row: ServiceRecord) -> StoredDefinition:
    return StoredDefinition(
        row.agency, ServiceDefinition.model_validate(row.definition), row.updated_at
    )


async def _write(
    session: AsyncSession, agency: str, definition: ServiceDefinition, now: datetime
) -> tuple[StoredDefinition, bool]:
    body: dict[str, Any] = definition.model_dump(mode="json", exclude_none=True)
    row = await repository.service(session, agency, definition.code)
    created = row is None
    if row is None:
        row = ServiceRecord(
            agency=agency, code=definition.code, created_at=now, updated_at=now, definition={}
        )
        session.add(row)
    row.definition = body
    row.ecosystem = definition.ecosystem
    row.name_en = definition.name_en
    row.updated_at = now
    return StoredDefinition(agency, definition, now), created


async def put_definition(
    session: AsyncSession,
    caller: Caller,
    definition: ServiceDefinition,
    *,
    agency: str | None = None,
    now: datetime,
) -> tuple[StoredDefinition, bool]:
    """Create or replace the caller's own definition; True when it was created."""
    member = _agency_of(caller, agency)
    await _known_agency(session, member)
    stored = await _write(session, member, definition, now)
    await repository.raise_version(session, now)
    return stored


async def import_definitions(
    session: AsyncSession, agency: str, definitions: Sequence[ServiceDefinition], *, now: datetime
) -> list[StoredDefinition]:
    """Write every definition (already checked as a whole) for ``agency``, in one transaction."""
    await _known_agency(session, agency)
    written = [(await _write(session, agency, d, now))[0] for d in definitions]
    await repository.raise_version(session, now)
    return written


async def import_as(
    session: AsyncSession,
    caller: Caller,
    definitions: Sequence[ServiceDefinition],
    *,
    agency: str | None = None,
    now: datetime,
) -> list[StoredDefinition]:
    return await import_definitions(session, _agency_of(caller, agency), definitions, now=now)


async def delete_definition(
    session: AsyncSession, caller: Caller, code: str, *, agency: str | None = None, now: datetime
) -> None:
    member = _agency_of(caller, agency)
    row = await repository.service(session, member, code)
    if row is None:
        raise NotFoundError(f"{member} has no service '{code}'", field="code")
    await session.delete(row)
    await repository.raise_version(session, now)


async def definitions_for(
    session: AsyncSession, caller: Caller, *, agency: str | None = None
) -> list[StoredDefinition]:
    """The caller's own definitions; the operator's: all (or one agency's)."""
    if caller.is_operator:
        member = str(MemberId.parse(agency, field="agency")) if agency else None
    else:
        member = _agency_of(caller, agency)
    return [_stored(row) for row in await repository.services(session, member)]


async def definition_for(
    session: AsyncSession, caller: Caller, code: str, *, agency: str | None = None
) -> StoredDefinition:
    if caller.is_operator:
        if not agency:
            raise NotFoundError("the operator names the agency: ?agency=INSTANCE/CLASS/CODE")
        member = str(MemberId.parse(agency, field="agency"))
    else:
        member = _agency_of(caller, agency)
    return await public_definition(session, member, code)


async def public_definition(session: AsyncSession, member: str, code: str) -> StoredDefinition:
    row = await repository.service(session, member, code)
    if row is None:
        raise NotFoundError(f"{member} has no service '{code}'", field="code")
    return _stored(row)


async def all_definitions(session: AsyncSession) -> list[StoredDefinition]:
    return [_stored(row) for row in await repository.services(session)]


async def catalogue_version(session: AsyncSession) -> int:
    return await repository.version(session)
