"""Setting the demo federation up before its processes serve: central's members, subsystems,
gateways and enrolment tokens (written straight into central's database), each gateway's
enrolment (through central's real enrolment API) and its local clients, service and access
rights (in the gateway's database). Everything is idempotent, so a re-run reuses the data."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

from zistboom.central import ca, operators, service
from zistboom.central.app import prepare
from zistboom.central.models import find_member
from zistboom.central.settings import CentralSettings
from zistboom.core.database import transaction
from zistboom.core.errors import ConflictError
from zistboom.core.persian import format_jalali, to_jalali_iso
from zistboom.demo import population
from zistboom.demo.federation import (
    ALLOWED,
    GATEWAY_CODE,
    INSTANCE,
    ORGANISATIONS,
    PROVIDER,
    SERVICE_CODE,
    Organisation,
    Ports,
    member_id,
    organisation,
    subsystem_id,
)
from zistboom.gateway import enrolment
from zistboom.gateway import service as gateway_service
from zistboom.gateway.app import open_database
from zistboom.gateway.settings import SETTINGS_FILE, GatewaySettings


@dataclass(frozen=True, slots=True)
class CentralSeed:
    first_admin_key: str | None
    """Shown once, on the first run only."""
    tokens: dict[str, str]
    """Enrolment tokens for the organisations whose gateway is not set up yet."""
    ecosystems: list[list[str]]
    """The programme's ecosystems, as rows for the printed table."""


def central_settings(data_dir: Path, ports: Ports) -> CentralSettings:
    return CentralSettings(
        data_dir=data_dir / "central", instance=INSTANCE, host="127.0.0.1", port=ports.central
    )


def gateway_dir(data_dir: Path, org: Organisation) -> Path:
    return data_dir / org.key


def is_enrolled(data_dir: Path, org: Organisation) -> bool:
    return (gateway_dir(data_dir, org) / SETTINGS_FILE).exists()


async def seed_central(settings: CentralSettings, ports: Ports, data_dir: Path) -> CentralSeed:
    """Members, subsystems, gateways, and enrolment tokens for gateways not yet set up."""
    prepared = await prepare(settings)
    tokens: dict[str, str] = {}
    try:
        async with transaction(prepared.sessions) as session:
            for index, org in enumerate(ORGANISATIONS):
                data = org.member
                member = await find_member(session, INSTANCE, data.member_class, data.code)
                if member is None:
                    member = await service.register_member(
                        session, INSTANCE, data, actor=operators.SYSTEM
                    )
                if not any(s.code == org.subsystem for s in member.subsystems):
                    await service.add_subsystem(
                        session, member, org.subsystem, actor=operators.SYSTEM
                    )
                address = f"127.0.0.1:{ports.peer(index)}"
                if not any(g.code == GATEWAY_CODE for g in member.gateways):
                    await service.register_gateway(
                        session, member, GATEWAY_CODE, address, actor=operators.SYSTEM
                    )
                if not is_enrolled(data_dir, org):
                    _, tokens[org.key] = await ca.create_enrolment_token(
                        session,
                        settings,
                        member=member,
                        kind="gateway",
                        gateway_code=GATEWAY_CODE,
                        expires_in_minutes=60,
                        actor=operators.SYSTEM,
                    )
            ecosystems = [
                [
                    e.key,
                    e.name_fa,
                    str(e.phase),
                    f"{to_jalali_iso(e.deadline)} ({e.deadline.isoformat()})"
                    if e.deadline
                    else "—",
                    format_jalali(e.deadline) if e.deadline else "—",
                ]
                for e in await service.list_ecosystems(session)
            ]
        return CentralSeed(prepared.first_admin_key, tokens, ecosystems)
    finally:
        await prepared.engine.dispose()


async def enrol_gateway(
    data_dir: Path,
    org: Organisation,
    index: int,
    ports: Ports,
    *,
    central_url: str,
    anchor_fingerprint: str,
    token: str,
) -> None:
    """``zistboom gateway init`` for the organisation's gateway, against the running central."""
    await enrolment.init(
        gateway_dir(data_dir, org),
        central_url=central_url,
        anchor_fingerprint=anchor_fingerprint,
        member_id=member_id(org),
        token=token,
        listen=enrolment.Listen(
            client_port=ports.client(index),
            peer_host="127.0.0.1",
            peer_port=ports.peer(index),
            admin_port=ports.admin(index),
        ),
    )


async def configure_gateway(
    settings: GatewaySettings, org: Organisation, backend: str, migrations: asyncio.Lock
) -> None:
    """Local client, and on the provider the example service with its access rights.

    ``migrations`` is held while the database is migrated: Alembic keeps its migration context
    in module globals, so two migrations in one process must not interleave."""
    async with migrations:
        engine, sessions = await open_database(settings)
    try:
        async with transaction(sessions) as session:
            if await gateway_service.find_client(session, subsystem_id(org)) is None:
                await gateway_service.add_client(
                    session, subsystem_id(org), hosted_members=[member_id(org)]
                )
            if org.key != PROVIDER:
                return
            client = await gateway_service.find_client(session, subsystem_id(org))
            assert client is not None
            if await gateway_service.find_service(session, client, SERVICE_CODE) is None:
                await gateway_service.add_service(
                    session,
                    subsystem_id(org),
                    SERVICE_CODE,
                    backend,
                    description="Persons of the civil registry (synthetic demo data)",
                    ecosystem=None,
                    service_kind="base-registry",
                    openapi=population.OPENAPI,
                    personal_data=False,
                    timeout=None,
                    max_body_bytes=None,
                )
            for allowed in ALLOWED:
                with contextlib.suppress(ConflictError):
                    await gateway_service.grant(
                        session,
                        subsystem_id(org),
                        SERVICE_CODE,
                        "subsystem",
                        subsystem_id(organisation(allowed)),
                        None,
                    )
    finally:
        await engine.dispose()
