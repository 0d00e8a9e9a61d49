"""``zistboom demo``: the demo federation of instance IR-DEMO on one machine.

Central, six organisations each with its own gateway, keys and SQLite database, and the civil
registration organisation's example population registry behind its gateway, open to the single
window and the tax organisation and closed to the private ecosystem company. Everything talks
real HTTP, with mutual TLS and signatures between the gateways. Re-running reuses the data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
import uvicorn
import uvloop
from aiohttp import web
from rich.console import Console
from rich.table import Table

from zistboom.central import ca, operators, service
from zistboom.central.app import create_app, prepare
from zistboom.central.models import find_member
from zistboom.central.settings import CentralSettings
from zistboom.core.database import transaction
from zistboom.core.errors import ConflictError
from zistboom.core.persian import format_jalali, to_jalali_iso
from zistboom.demo import population
from zistboom.gateway import enrolment
from zistboom.gateway import service as gateway_service
from zistboom.gateway.app import EmbeddedServer, Gateway, open_database
from zistboom.gateway.settings import SETTINGS_FILE, GatewaySettings

console = Console()
INSTANCE = "IR-DEMO"
PERSON = "0499370899"  # synthetic, with a valid check digit


@dataclass(frozen=True, slots=True)
class Organisation:
    key: str
    member: service.MemberInput
    subsystem: str


# Synthetic organisations (legal-entity IDs generated with valid check digits).
ORGANISATIONS = (
    Organisation(
        "it-authority",
        service.MemberInput(
            "GOV", "10380284790", "سازمان فناوری اطلاعات ایران",
            "Information Technology Organization of Iran", "agency",
        ),
        "portal",
    ),
    Organisation(
        "civil-registration",
        service.MemberInput(
            "GOV", "12147922321", "سازمان ثبت احوال کشور",
            "National Organization for Civil Registration", "agency",
        ),
        "population-registry",
    ),
    Organisation(
        "tax",
        service.MemberInput(
            "GOV", "60711446972", "سازمان امور مالیاتی کشور",
            "Iranian National Tax Administration", "agency",
        ),
        "tax-services",
    ),
    Organisation(
        "companies-registration",
        service.MemberInput(
            "GOV", "16394841376", "اداره ثبت شرکت‌ها", "Companies Registration Office", "agency",
        ),
        "company-registry",
    ),
    Organisation(
        "single-window",
        service.MemberInput(
            "PUB", "15222078494", "اپراتور پنجره واحد خدمات", "Single Service Window Operator",
            "public-body",
        ),
        "window",
    ),
    Organisation(
        "finance-ecosystem",
        service.MemberInput(
            "COM", "88135404915", "شرکت زیست‌بوم مالی نمونه", "Sample Finance Ecosystem Company",
            "ecosystem-operator",
        ),
        "finance-platform",
    ),
)  # fmt: skip
PROVIDER = "civil-registration"
ALLOWED = ("single-window", "tax")


def member_id(org: Organisation) -> str:
    return f"{INSTANCE}/{org.member.member_class}/{org.member.code}"


def subsystem_id(org: Organisation) -> str:
    return f"{member_id(org)}/{org.subsystem}"


@dataclass(frozen=True, slots=True)
class Ports:
    base: int

    @property
    def central(self) -> int:
        return self.base

    @property
    def backend(self) -> int:
        return self.base + 1

    def client(self, index: int) -> int:
        return self.base + 10 + 10 * index

    def peer(self, index: int) -> int:
        return self.base + 11 + 10 * index

    def admin(self, index: int) -> int:
        return self.base + 12 + 10 * index


async def _seed_central(
    settings: CentralSettings, ports: Ports, data_dir: Path
) -> tuple[str | None, dict[str, str], list[list[str]]]:
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
                if not any(g.code == "gw1" for g in member.gateways):
                    await service.register_gateway(
                        session, member, "gw1", address, actor=operators.SYSTEM
                    )
                if not (data_dir / org.key / SETTINGS_FILE).exists():
                    _, tokens[org.key] = await ca.create_enrolment_token(
                        session,
                        settings,
                        member=member,
                        kind="gateway",
                        gateway_code="gw1",
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
        return prepared.first_admin_key, tokens, ecosystems
    finally:
        await prepared.engine.dispose()


async def _configure_gateway(settings: GatewaySettings, org: Organisation, backend: str) -> None:
    """Local client, and on the provider the example service with its access rights."""
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
            if await gateway_service.find_service(session, client, "persons") is None:
                await gateway_service.add_service(
                    session,
                    subsystem_id(org),
                    "persons",
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
                subject = subsystem_id(next(o for o in ORGANISATIONS if o.key == allowed))
                with contextlib.suppress(ConflictError):
                    await gateway_service.grant(
                        session, subsystem_id(org), "persons", "subsystem", subject, None
                    )
    finally:
        await engine.dispose()


def demo_calls(ports: Ports) -> list[str]:
    """The copy-paste calls the demo prints (the last one is refused by access rights)."""
    index = {org.key: i for i, org in enumerate(ORGANISATIONS)}
    provider = next(o for o in ORGANISATIONS if o.key == PROVIDER)
    service_path = f"{subsystem_id(provider)}/persons"

    def via(org_key: str) -> tuple[str, str]:
        org = ORGANISATIONS[index[org_key]]
        return f"http://127.0.0.1:{ports.client(index[org_key])}", subsystem_id(org)

    window_url, window = via("single-window")
    tax_url, tax = via("tax")
    company_url, company = via("finance-ecosystem")
    return [
        f"curl -s -H 'X-Road-Client: {window}' {window_url}/r1/{service_path}/persons/{PERSON}",
        f"curl -s -H 'X-Road-Client: {tax}' {tax_url}/r1/{service_path}/persons/{PERSON}",
        f"curl -s -H 'X-Road-Client: {window}' "
        f"{window_url}/r1/{subsystem_id(provider)}/allowedMethods",
        f"curl -s {window_url}/listClients",
        f"curl -s -H 'X-Road-Client: {company}' "
        f"{company_url}/r1/{service_path}/persons/{PERSON}  # refused",
    ]


async def run(data_dir: Path, base_port: int) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ports = Ports(base_port)
    central_settings = CentralSettings(
        data_dir=data_dir / "central", instance=INSTANCE, host="127.0.0.1", port=ports.central
    )
    admin_key, tokens, ecosystems = await _seed_central(central_settings, ports, data_dir)
    central = EmbeddedServer(
        uvicorn.Config(
            create_app(central_settings),
            host="127.0.0.1",
            port=ports.central,
            log_level="warning",
        )
    )
    tasks = [asyncio.create_task(central.serve())]
    backend_runner = web.AppRunner(population.make_app(), access_log=None)
    gateways: list[Gateway] = []
    try:
        await _wait_for(f"{central_settings.base_url}/health")
        await backend_runner.setup()
        await web.TCPSite(backend_runner, "127.0.0.1", ports.backend).start()
        backend = f"http://127.0.0.1:{ports.backend}"
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{central_settings.base_url}/anchor")
        anchor = answer.json()["key_fingerprint"]
        for index, org in enumerate(ORGANISATIONS):
            gateway_dir = data_dir / org.key
            if org.key in tokens:
                await enrolment.init(
                    gateway_dir,
                    central_url=central_settings.base_url,
                    anchor_fingerprint=anchor,
                    member_id=member_id(org),
                    token=tokens[org.key],
                    listen=enrolment.Listen(
                        client_port=ports.client(index),
                        peer_host="127.0.0.1",
                        peer_port=ports.peer(index),
                        admin_port=ports.admin(index),
                    ),
                )
            settings = GatewaySettings.load(gateway_dir)
            await _configure_gateway(settings, org, backend)
        for org in ORGANISATIONS:
            gateway = Gateway(GatewaySettings.load(data_dir / org.key))
            await gateway.start()
            gateways.append(gateway)
        _print_summary(admin_key, ecosystems, ports, central_settings.base_url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        for gateway in gateways:
            await gateway.stop()
        await backend_runner.cleanup()
        central.should_exit = True
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _wait_for(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(url, timeout=1)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _print_summary(
    admin_key: str | None, ecosystems: list[list[str]], ports: Ports, central_url: str
) -> None:
    table = Table(title="Ecosystems (زیست‌بوم‌ها)")
    for column in ("key", "fa", "phase", "deadline (Jalali / Gregorian)", "مهلت"):
        table.add_column(column)
    for row in ecosystems:
        table.add_row(*row)
    console.print(table)
    members = Table(title="Organisations and their gateways (سازمان‌ها و درگاه‌ها)")
    for column in ("organisation", "subsystem", "information systems", "peers (TLS)"):
        members.add_column(column, overflow="fold")
    for index, org in enumerate(ORGANISATIONS):
        members.add_row(
            f"{org.member.name_en}\n{org.member.name_fa}",
            subsystem_id(org),
            f"http://127.0.0.1:{ports.client(index)}",
            f"127.0.0.1:{ports.peer(index)}",
        )
    console.print(members)
    if admin_key:
        console.print(
            f"First admin API key (shown once): {admin_key}", highlight=False, soft_wrap=True
        )
    console.print(
        f"Central: {central_url}  OpenAPI: {central_url}/openapi.json  docs: {central_url}/docs",
        soft_wrap=True,
    )
    console.print("Try (the last one is refused by the registry's access rights):")
    for call in demo_calls(ports):
        console.print(call, soft_wrap=True, highlight=False, markup=False)
    console.print("Serving until interrupted (Ctrl-C).", highlight=False)


def demo(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="where the demo keeps its files")
    ] = Path("var/demo"),
    base_port: Annotated[
        int, typer.Option(help="central's port; the others follow it (see the printed table)")
    ] = 8600,
) -> None:
    """Run the demo federation (instance IR-DEMO) until interrupted."""
    data_dir.mkdir(parents=True, exist_ok=True)
    uvloop.run(run(data_dir, base_port))
