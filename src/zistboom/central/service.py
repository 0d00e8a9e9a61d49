"""Central's registry rules: members, subsystems, gateways, global groups and ecosystems.

Functions take their database session and the acting operator; they check authorisation, validate
input, change the tables and append to the audit log in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.central import audit
from zistboom.central.models import (
    ApiKey,
    Ecosystem,
    Gateway,
    GlobalGroup,
    GlobalGroupMember,
    HostedMember,
    Member,
    Subsystem,
    find_member,
)
from zistboom.central.operators import Operator, find_api_key
from zistboom.core import identifiers
from zistboom.core.database import utc_now
from zistboom.core.errors import ConflictError, NotFoundError, ValidationError
from zistboom.core.iran import validate_legal_entity_id, validate_mobile, validate_national_code
from zistboom.core.persian import add_jalali_months, normalize_text, parse_jalali

MEMBER_KINDS = ("agency", "public-body", "company", "ecosystem-operator")
# A kind that fixes the member class: agencies are executive (GOV); ecosystem operators are
# companies with at least 51% private shareholding (COM).
KIND_CLASS = {"agency": "GOV", "ecosystem-operator": "COM"}
_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{1,5})$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")


# --- programme facts and ecosystems -------------------------------------------------------


@cache
def programme_facts() -> dict[str, Any]:
    """The programme's facts shipped with the package (seed/ecosystems.yaml)."""
    text = resources.files("zistboom.central").joinpath("seed/ecosystems.yaml").read_text("utf-8")
    facts: dict[str, Any] = yaml.safe_load(text)
    return facts


def directive_date() -> date:
    return parse_jalali(programme_facts()["programme"]["directive"]["date_jalali"])


def phase_deadline(months_after_directive: int | None) -> date | None:
    """Deadlines add months in the Jalali calendar, the programme's own."""
    if months_after_directive is None:
        return None
    return add_jalali_months(directive_date(), months_after_directive)


async def seed_ecosystems(session: AsyncSession) -> int:
    """Insert or refresh the programme's ecosystems; returns how many there are."""
    existing = {e.key: e for e in (await session.execute(select(Ecosystem))).scalars()}
    position = 0
    for phase in programme_facts()["phases"]:
        deadline = phase_deadline(phase["deadline_months_after_directive"])
        for entry in phase["ecosystems"]:
            position += 1
            row = existing.get(entry["key"])
            if row is None:
                row = Ecosystem(key=entry["key"])
                session.add(row)
            row.name_fa = entry["fa"]
            row.name_en = entry["en"]
            row.phase = phase["phase"]
            row.position = position
            row.deadline = deadline
    await session.flush()
    return position


async def list_ecosystems(session: AsyncSession) -> list[Ecosystem]:
    return list((await session.execute(select(Ecosystem).order_by(Ecosystem.position))).scalars())


async def get_ecosystem(session: AsyncSession, key: str) -> Ecosystem:
    row = await session.get(Ecosystem, key)
    if row is None:
        raise NotFoundError(f"no ecosystem {key!r}", field="key")
    return row


# --- members ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberInput:
    member_class: str
    code: str
    name_fa: str
    name_en: str
    kind: str
    contact_name: str | None = None
    contact_national_code: str | None = None
    contact_mobile: str | None = None
    contact_email: str | None = None


def _required_text(value: str, field: str) -> str:
    text = normalize_text(value)
    if not text:
        raise ValidationError(f"{field} must not be empty", field=field)
    if len(text) > 255:
        raise ValidationError(f"{field} is longer than 255 characters", field=field)
    return text


async def register_member(
    session: AsyncSession, instance: str, data: MemberInput, *, actor: Operator
) -> Member:
    actor.require("admin", "registrar")
    member_class = identifiers.validate_member_class(data.member_class, field="member_class")
    code = validate_legal_entity_id(data.code, field="code")
    if data.kind not in MEMBER_KINDS:
        raise ValidationError(
            f"unknown member kind {data.kind!r}: use one of {', '.join(MEMBER_KINDS)}",
            field="kind",
        )
    expected_class = KIND_CLASS.get(data.kind)
    if expected_class is not None and member_class != expected_class:
        raise ValidationError(
            f"a member of kind {data.kind} must be of class {expected_class}, not {member_class}",
            field="member_class",
        )
    email = data.contact_email.strip() if data.contact_email else None
    if email and not _EMAIL.match(email):
        raise ValidationError(f"{email!r} is not an e-mail address", field="contact_email")
    member = Member(
        instance=instance,
        member_class=member_class,
        code=code,
        name_fa=_required_text(data.name_fa, "name_fa"),
        name_en=_required_text(data.name_en, "name_en"),
        kind=data.kind,
        contact_name=normalize_text(data.contact_name) if data.contact_name else None,
        contact_national_code=(
            validate_national_code(data.contact_national_code, field="contact_national_code")
            if data.contact_national_code
            else None
        ),
        contact_mobile=(
            validate_mobile(data.contact_mobile, field="contact_mobile")
            if data.contact_mobile
            else None
        ),
        contact_email=email,
        created_at=utc_now(),
    )
    if await find_member(session, instance, member_class, code) is not None:
        raise ConflictError(f"member {member.identifier} is already registered", field="code")
    session.add(member)
    await session.flush()
    await session.refresh(member, ["subsystems", "gateways"])
    await audit.append(
        session,
        actor=actor.actor,
        action="member.register",
        target=member.identifier,
        details={"name_en": member.name_en, "name_fa": member.name_fa, "kind": member.kind},
    )
    return member


async def get_member(
    session: AsyncSession, instance: str, member_class: str, code: str, *, actor: Operator
) -> Member:
    member = await find_member(session, instance, member_class, code)
    if member is None:
        raise NotFoundError(f"no member {instance}/{member_class}/{code}", field="member_id")
    actor.require_member(member, "admin", "registrar", "auditor")
    return member


async def member_by_id(session: AsyncSession, member_id: str, *, field: str) -> Member:
    """Find a member by its textual id ``INSTANCE/CLASS/CODE``."""
    parsed = identifiers.MemberId.parse(member_id, field=field)
    member = await find_member(session, parsed.instance, parsed.member_class, parsed.member_code)
    if member is None:
        raise NotFoundError(f"no member {member_id}", field=field)
    return member


async def list_members(session: AsyncSession, *, actor: Operator) -> list[Member]:
    query = select(Member).order_by(Member.member_class, Member.code)
    if actor.role == "member":
        query = query.where(Member.id == actor.member_id)
    else:
        actor.require("admin", "registrar", "auditor")
    return list((await session.execute(query)).scalars())


async def add_subsystem(
    session: AsyncSession, member: Member, code: str, *, actor: Operator
) -> Subsystem:
    actor.require_member(member, "admin", "registrar")
    code = identifiers.validate_code(code, field="code")
    if any(s.code == code for s in member.subsystems):
        raise ConflictError(f"{member.identifier} already has subsystem {code}", field="code")
    subsystem = Subsystem(member_id=member.id, code=code, created_at=utc_now())
    session.add(subsystem)
    await session.flush()
    await session.refresh(member, ["subsystems"])
    await audit.append(
        session,
        actor=actor.actor,
        action="subsystem.add",
        target=f"{member.identifier}/{code}",
        details={},
    )
    return subsystem


def validate_address(address: str, *, field: str = "address") -> str:
    """A gateway's peer address: ``host:port``."""
    match = _HOST_PORT.match(address.strip())
    if match is None or not 0 < int(match["port"]) < 65536:
        raise ValidationError(
            f"{address!r} is not host:port (for example gw.example.ir:8443)", field=field
        )
    return address.strip()


async def register_gateway(
    session: AsyncSession, member: Member, code: str, address: str, *, actor: Operator
) -> Gateway:
    actor.require("admin", "registrar")
    code = identifiers.validate_code(code, field="code")
    address = validate_address(address)
    if any(g.code == code for g in member.gateways):
        raise ConflictError(f"{member.identifier} already has gateway {code}", field="code")
    gateway = Gateway(member_id=member.id, code=code, address=address, created_at=utc_now())
    session.add(gateway)
    await session.flush()
    await session.refresh(member, ["gateways"])
    await audit.append(
        session,
        actor=actor.actor,
        action="gateway.register",
        target=f"{member.identifier}/{code}",
        details={"address": address},
    )
    return gateway


async def host_member(
    session: AsyncSession, gateway: Gateway, hosted: Member, *, actor: Operator
) -> HostedMember:
    """Let ``gateway`` also serve the subsystems of ``hosted`` (another member)."""
    actor.require("admin", "registrar")
    if hosted.id == gateway.member_id:
        raise ValidationError("a gateway always serves its own member", field="member_id")
    exists = (
        await session.execute(
            select(HostedMember).where(
                HostedMember.gateway_id == gateway.id, HostedMember.member_id == hosted.id
            )
        )
    ).scalar_one_or_none()
    if exists is not None:
        raise ConflictError(
            f"{hosted.identifier} is already hosted by this gateway", field="member_id"
        )
    row = HostedMember(gateway_id=gateway.id, member_id=hosted.id, created_at=utc_now())
    session.add(row)
    await session.flush()
    await audit.append(
        session,
        actor=actor.actor,
        action="gateway.host-member",
        target=f"{gateway.member.identifier}/{gateway.code}",
        details={"hosted_member": hosted.identifier},
    )
    return row


def find_gateway(member: Member, code: str) -> Gateway:
    for gateway in member.gateways:
        if gateway.code == code:
            return gateway
    raise NotFoundError(
        f"{member.identifier} has no gateway {code!r}; register it first", field="gateway_code"
    )


# --- for other contexts in central's database (accreditation) ------------------------------


async def record_change(
    session: AsyncSession, *, actor: Operator, action: str, target: str, details: dict[str, Any]
) -> None:
    """Append a change another context made to central's audit log, in the caller's
    transaction."""
    await audit.append(session, actor=actor.actor, action=action, target=target, details=details)


async def operator_member(session: AsyncSession, actor: Operator) -> Member | None:
    """The member an operator's key names (member and assessor keys), if any."""
    return None if actor.member_id is None else await session.get(Member, actor.member_id)


@dataclass(frozen=True, slots=True)
class KeyHolder:
    """What another context may know of an API key: its role, its member and whether it works."""

    key_id: str
    role: str
    member: str | None
    revoked: bool


async def key_holder(session: AsyncSession, key_id: str, *, field: str = "key_id") -> KeyHolder:
    row: ApiKey | None = await find_api_key(session, key_id)
    if row is None:
        raise NotFoundError(f"no API key with id {key_id!r}", field=field)
    member = None if row.member_id is None else await session.get(Member, row.member_id)
    return KeyHolder(
        key_id=row.key_id,
        role=row.role,
        member=member.identifier if member is not None else None,
        revoked=row.revoked_at is not None,
    )


# --- global groups -----------------------------------------------------------------------------


async def create_global_group(
    session: AsyncSession, code: str, description: str, *, actor: Operator
) -> GlobalGroup:
    actor.require("admin", "registrar")
    code = identifiers.validate_code(code, field="code")
    exists = (
        await session.execute(select(GlobalGroup).where(GlobalGroup.code == code))
    ).scalar_one_or_none()
    if exists is not None:
        raise ConflictError(f"global group {code} already exists", field="code")
    group = GlobalGroup(
        code=code, description=_required_text(description, "description"), created_at=utc_now()
    )
    session.add(group)
    await session.flush()
    await session.refresh(group, ["members"])
    await audit.append(
        session,
        actor=actor.actor,
        action="global-group.create",
        target=f"group:{code}",
        details={"description": group.description},
    )
    return group


async def get_global_group(session: AsyncSession, code: str) -> GlobalGroup:
    group = (
        await session.execute(select(GlobalGroup).where(GlobalGroup.code == code))
    ).scalar_one_or_none()
    if group is None:
        raise NotFoundError(f"no global group {code!r}", field="code")
    return group


async def list_global_groups(session: AsyncSession) -> list[GlobalGroup]:
    return list((await session.execute(select(GlobalGroup).order_by(GlobalGroup.code))).scalars())


async def add_global_group_member(
    session: AsyncSession, group: GlobalGroup, client_id: str, *, actor: Operator
) -> GlobalGroupMember:
    """Add a subsystem (``INSTANCE/CLASS/CODE/SUBSYSTEM``) to a global group."""
    actor.require("admin", "registrar")
    subsystem_id = identifiers.SubsystemId.parse(client_id, field="client_id")
    member = await member_by_id(session, str(subsystem_id.member), field="client_id")
    if not any(s.code == subsystem_id.subsystem_code for s in member.subsystems):
        raise NotFoundError(f"no subsystem {subsystem_id}", field="client_id")
    text_id = str(subsystem_id)
    if any(m.client_id == text_id for m in group.members):
        raise ConflictError(f"{text_id} is already in group {group.code}", field="client_id")
    entry = GlobalGroupMember(group_id=group.id, client_id=text_id, added_at=utc_now())
    group.members.append(entry)
    await session.flush()
    await audit.append(
        session,
        actor=actor.actor,
        action="global-group.add-member",
        target=f"group:{group.code}",
        details={"client_id": text_id},
    )
    return entry


# --- ecosystem operators ---------------------------------------------------------------------


async def ecosystem_operators(session: AsyncSession) -> dict[str, Member]:
    """Each ecosystem's operating company, by ecosystem key (ecosystems without one left out)."""
    rows = await session.execute(
        select(Ecosystem.key, Member).join(Member, Member.id == Ecosystem.operator_member_id)
    )
    return {key: member for key, member in rows}


async def set_ecosystem_operator(
    session: AsyncSession,
    ecosystem: Ecosystem,
    operator: Member | None,
    *,
    reason: str | None = None,
    actor: Operator,
) -> Ecosystem:
    """Name (or, with None, clear) the company that operates ``ecosystem``: a member of kind
    ecosystem-operator (class COM, at least 51 % privately held, as its readings check)."""
    actor.require("admin", "registrar")
    if operator is not None and operator.kind != "ecosystem-operator":
        # The member's registered kind, not the request's shape: a conflict with stored state.
        raise ConflictError(
            f"{operator.identifier} is a member of kind {operator.kind}: an ecosystem's operator "
            "is a member of kind ecosystem-operator (class COM)",
            field="member_id",
        )
    previous = ecosystem.operator_member_id
    ecosystem.operator_member_id = operator.id if operator is not None else None
    await session.flush()
    if previous != ecosystem.operator_member_id:
        await audit.append(
            session,
            actor=actor.actor,
            action="ecosystem.set-operator" if operator else "ecosystem.clear-operator",
            target=f"ecosystem:{ecosystem.key}",
            details={"operator": operator.identifier if operator else None, "reason": reason},
        )
    return ecosystem
