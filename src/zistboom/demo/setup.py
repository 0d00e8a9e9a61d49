"""Setting the demo federation up: central's members, subsystems, gateways and enrolment tokens
(written straight into central's database), each gateway's enrolment (through central's real
enrolment API) and its local client; each registry owner's registry service (its settings, the
small national seed of its registries), and once its gateway serves, its registries published
through the gateway's management API with the demo's access rights. Everything is idempotent,
so a re-run reuses the data."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from zistboom.central import ca, operators, service
from zistboom.central.app import prepare
from zistboom.central.models import find_member
from zistboom.central.settings import CentralSettings
from zistboom.core.accreditation import Requirement
from zistboom.core.database import transaction
from zistboom.core.errors import ConfigurationError
from zistboom.core.persian import format_jalali, to_jalali_iso
from zistboom.demo import documents
from zistboom.demo.accreditation import seed_accreditation, seed_document_issuers
from zistboom.demo.federation import (
    ACCREDITED_READERS,
    GATEWAY_CODE,
    INSTANCE,
    ORGANISATIONS,
    READ_ENDPOINTS,
    READERS,
    SEED_SIZE,
    USAGE_READERS,
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
from zistboom.registries import publishing
from zistboom.registries import service as registry_service
from zistboom.registries.app import open_database as open_registry_database
from zistboom.registries.seed import DEFAULT_SEED
from zistboom.registries.seeding import seed_registries
from zistboom.registries.settings import RegistrySettings


@dataclass(frozen=True, slots=True)
class CentralSeed:
    first_admin_key: str | None
    """Shown once, on the first run only."""
    tokens: dict[str, str]
    """Enrolment tokens for the organisations whose gateway is not set up yet."""
    ecosystems: list[list[str]]
    """The programme's ecosystems, as rows for the printed table."""
    document_tokens: dict[str, str]
    """``doc`` enrolment tokens for the documents hub and the issuers not yet set up."""


def central_settings(data_dir: Path, ports: Ports) -> CentralSettings:
    return CentralSettings(
        data_dir=data_dir / "central", instance=INSTANCE, host="127.0.0.1", port=ports.central
    )


def gateway_dir(data_dir: Path, org: Organisation) -> Path:
    return data_dir / org.key


def is_enrolled(data_dir: Path, org: Organisation) -> bool:
    return (gateway_dir(data_dir, org) / SETTINGS_FILE).exists()


async def seed_central(
    settings: CentralSettings,
    ports: Ports,
    data_dir: Path,
    subsystems: Mapping[str, Sequence[str]] | None = None,
) -> CentralSeed:
    """Members, subsystems (``subsystems``: more of them per organisation key, beside its own),
    gateways, and enrolment tokens for gateways not yet set up."""
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
                for code in (org.subsystem, *(subsystems or {}).get(org.key, ())):
                    if not any(s.code == code for s in member.subsystems):
                        await service.add_subsystem(session, member, code, actor=operators.SYSTEM)
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
            await seed_accreditation(session, prepared.keys.trust_list_key)
            types = documents.seed_types()
            await seed_document_issuers(
                session,
                {
                    key: Requirement(
                        types[code].requirement.ecosystem,
                        types[code].requirement.kind,
                        types[code].requirement.level,
                        action="issue",
                    )
                    for key, code in documents.ISSUERS.items()
                },
            )
            document_tokens = await documents.seed_central_documents(session, settings, data_dir)
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
        return CentralSeed(prepared.first_admin_key, tokens, ecosystems, document_tokens)
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
    settings: GatewaySettings, org: Organisation, migrations: asyncio.Lock
) -> None:
    """The organisation's subsystem as a local client of its gateway.

    ``migrations`` is held while the database is migrated: Alembic keeps its migration context
    in module globals, so two migrations in one process must not interleave."""
    async with migrations:
        engine, sessions = await open_database(settings)
    try:
        async with transaction(sessions) as session:
            for code in (org.subsystem, *documents.extra_subsystems(org)):
                client = f"{member_id(org)}/{code}"
                if await gateway_service.find_client(session, client) is None:
                    await gateway_service.add_client(
                        session, client, hosted_members=[member_id(org)]
                    )
    finally:
        await engine.dispose()


def registry_dir(data_dir: Path, org: Organisation) -> Path:
    return data_dir / f"{org.key}-registry"


def registry_settings(
    data_dir: Path, org: Organisation, index: int, ports: Ports
) -> RegistrySettings:
    """The organisation's registry service: behind its gateway, publishing through it."""
    gateway = gateway_dir(data_dir, org)
    return RegistrySettings.load(
        registry_dir(data_dir, org),
        member_id=member_id(org),
        subsystem=org.subsystem,
        host="127.0.0.1",
        port=ports.registry(index),
        gateway_admin_url=f"http://127.0.0.1:{ports.admin(index)}",
        gateway_admin_token_file=str(gateway / "admin-token"),
    )


async def seed_registry(
    settings: RegistrySettings, migrations: asyncio.Lock
) -> tuple[dict[str, int], float]:
    """The small national seed of the registries this organisation owns (kept on a re-run):
    the records loaded per registry, and the seconds it took."""
    settings.write()
    async with migrations:
        begun = time.monotonic()
        loaded = await seed_registries(settings, size=SEED_SIZE, seed=DEFAULT_SEED)
        return loaded, time.monotonic() - begun


async def publish_registries(
    settings: RegistrySettings, codes: list[str], migrations: asyncio.Lock
) -> None:
    """Register the registries on the (running) gateway, publish them to central's catalogue,
    and grant the demo's access rights: read endpoints only, usage lists to the window."""
    async with migrations:
        opened = await open_registry_database(settings)
    schemas = registry_service.Schemas()
    try:
        for code in codes:
            await publishing.publish(settings, opened.sessions, schemas, code)
    finally:
        await opened.engine.dispose()
    async with publishing.gateway(settings) as gateway:
        for code in codes:
            for reader in READERS.get(code, ()):
                for method, path in READ_ENDPOINTS:
                    await gateway.grant(code, subsystem_id(organisation(reader)), method, path)
            for reader, requirement in ACCREDITED_READERS.get(code, ()):
                for method, path in READ_ENDPOINTS:
                    await gateway.grant(
                        code,
                        subsystem_id(organisation(reader)),
                        method,
                        path,
                        requirement=requirement,
                    )
        for reader in USAGE_READERS:
            await gateway.grant(publishing.USAGE_SERVICE, subsystem_id(organisation(reader)))


async def wait_until_offered(
    window_url: str, window: str, provider: str, codes: list[str], *, within: float = 30.0
) -> None:
    """Until the provider's gateway offers the window the registries just published (a
    gateway reloads its services within a few seconds of a change): ``allowedMethods``
    through the exchange, as the window will call them."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            answer = await client.get(
                f"{window_url}/r1/{provider}/allowedMethods", headers={"X-Road-Client": window}
            )
            if answer.status_code == 200:
                offered = {s.get("service_code") for s in answer.json().get("service", [])}
                if set(codes) <= offered:
                    return
            if time.monotonic() > deadline:
                raise ConfigurationError(
                    f"{provider} did not offer {', '.join(codes)} to the window within "
                    f"{within:.0f} s: {answer.status_code} {answer.text[:200]}",
                    field="registry",
                )
            await asyncio.sleep(0.2)
