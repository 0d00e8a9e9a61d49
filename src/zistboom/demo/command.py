"""``zistboom demo``: the demo federation of instance IR-DEMO on one machine, one process per
component, as it would be deployed.

Central (``zistboom central serve``), ten organisations each with its own gateway process
(``zistboom gateway serve``), keys and SQLite database, and the seven national base registries
with the small synthetic seed, each in its owner's registry service (``zistboom registry
serve``) behind the owner's gateway: persons open to the single window and the tax organisation
and closed to the private ecosystem company. Everything talks real HTTP, with mutual TLS and
signatures between the gateways.

The command sets the federation up itself (see :mod:`zistboom.demo.setup`), starts the
processes (in parallel where they do not depend on each other), prints each one's pid, ports
and log file, and supervises them (:mod:`zistboom.demo.supervisor`) until Ctrl-C or SIGTERM.
Re-running reuses the data.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from zistboom.core.errors import ConfigurationError, ZistboomError
from zistboom.demo import applying, documents, einvoice, federation, setup
from zistboom.demo import window as single_window
from zistboom.demo.federation import INSTANCE, ORGANISATIONS, Organisation, Ports
from zistboom.demo.supervisor import (
    Component,
    Running,
    Supervisor,
    describe_exit,
    tail,
)
from zistboom.gateway import enrolment
from zistboom.gateway.settings import GatewaySettings

console = Console()
app = typer.Typer(
    help="Run the demo federation (instance IR-DEMO) on this machine, one process per component, "
    "until interrupted."
)
STOP_GRACE_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 60.0


def zistboom_command() -> str:
    """The ``zistboom`` script of this installation, which every component is started with."""
    script = Path(sys.executable).with_name("zistboom")
    if script.exists():
        return str(script)
    found = shutil.which("zistboom")
    if found is None:
        raise ConfigurationError("the zistboom command is neither next to Python nor on PATH")
    return found


def central_component(zistboom: str, data_dir: Path, ports: Ports) -> Component:
    return Component(
        name="central",
        argv=(
            zistboom,
            "central",
            "serve",
            "--data-dir",
            str(data_dir / "central"),
            "--host",
            "127.0.0.1",
            "--port",
            str(ports.central),
        ),
        listens=(("http", ports.central),),
        health_url=f"http://127.0.0.1:{ports.central}/health",
        env={"ZB_INSTANCE": INSTANCE, **ownership_client_env(ports)},
    )


def ownership_client_env(ports: Ports) -> dict[str, str]:
    """Central reads the ecosystem operators' shareholding from the companies registry through
    the IT authority's gateway, as that authority's portal subsystem; a pass every 10 s until
    each operator has a good reading (the registries come up after central), then daily."""
    it_authority = federation.organisation("it-authority")
    companies = federation.organisation("companies-registration")
    return {
        "ZB_EXCHANGE_GATEWAY_URL": f"http://127.0.0.1:{ports.client(ORGANISATIONS.index(it_authority))}",
        "ZB_EXCHANGE_CLIENT": federation.subsystem_id(it_authority),
        "ZB_COMPANIES_REGISTRY_SERVICE": f"{federation.subsystem_id(companies)}/companies",
        "ZB_OWNERSHIP_CHECK_SECONDS": "10",
    }


def registry_name(org: Organisation) -> str:
    return f"registry {org.key}"


def gateway_name(org: Organisation) -> str:
    return f"gateway {org.key}"


def component_names() -> list[str]:
    """Every component's name, in the order the demo lists them."""
    owners = federation.registry_owners()
    return [
        "central",
        *(gateway_name(org) for org in ORGANISATIONS),
        *(registry_name(org) for org in ORGANISATIONS if org.key in owners),
        HUB_NAME,
        *(issuer_name(federation.organisation(key)) for key in documents.ISSUERS),
        einvoice.SYSTEM_NAME,
        single_window.IDP_NAME,
        single_window.WINDOW_NAME,
    ]


HUB_NAME = "documents hub"


def issuer_name(org: Organisation) -> str:
    return f"issuer {org.key}"


def hub_component(zistboom: str, data_dir: Path, places: documents.Places) -> Component:
    return Component(
        name=HUB_NAME,
        argv=(
            zistboom,
            "documents",
            "hub",
            "serve",
            "--data-dir",
            str(documents.hub_dir(data_dir)),
        ),
        listens=(("http", places.hub_port),),
        health_url=f"{places.hub_url}/health",
    )


def issuer_component(
    zistboom: str, data_dir: Path, places: documents.Places, org: Organisation
) -> Component:
    folder = documents.issuer_dir(data_dir, org)
    port = places.issuer_port(org)
    return Component(
        name=issuer_name(org),
        argv=(zistboom, "documents", "issuer", "serve", "--data-dir", str(folder)),
        listens=(("http", port),),
        health_url=f"http://127.0.0.1:{port}/health",
    )


def registry_component(zistboom: str, data_dir: Path, org: Organisation, port: int) -> Component:
    return Component(
        name=registry_name(org),
        argv=(zistboom, "registry", "serve", "--data-dir", str(setup.registry_dir(data_dir, org))),
        listens=(("http", port),),
        health_url=f"http://127.0.0.1:{port}/health",
    )


def gateway_component(
    zistboom: str, data_dir: Path, org: Organisation, index: int, ports: Ports
) -> Component:
    return Component(
        name=gateway_name(org),
        argv=(zistboom, "gateway", "serve", "--data-dir", str(setup.gateway_dir(data_dir, org))),
        listens=(
            ("client", ports.client(index)),
            ("peer/tls", ports.peer(index)),
            ("admin", ports.admin(index)),
        ),
        health_url=f"http://127.0.0.1:{ports.client(index)}/health",
    )


@dataclass(slots=True)
class Started:
    seed: setup.CentralSeed
    seeded: dict[str, int] = field(default_factory=dict)
    """Records loaded per registry on this start (empty when the data was kept)."""
    seeding_seconds: float = 0.0
    documents: list[dict[str, Any]] = field(default_factory=list)
    """The demo's documents (issued on the first run, kept after)."""
    invoice: dict[str, Any] = field(default_factory=dict)
    """The status of the demo's first e-invoice (sent once, answered by the tax system)."""
    window_people: list[single_window.DemoPerson] = field(default_factory=list)
    """The demo's persons and official at the single window."""
    applications: list[applying.DemoApplication] = field(default_factory=list)
    """What each of them applies for at the window."""


async def bring_up(supervisor: Supervisor, data_dir: Path, ports: Ports) -> Started:
    """Set the federation up and start every component; returns once all of them serve."""
    zistboom = zistboom_command()
    owners = federation.registry_owners()
    gateways = [
        gateway_component(zistboom, data_dir, org, index, ports)
        for index, org in enumerate(ORGANISATIONS)
    ]
    registries = {
        org.key: registry_component(zistboom, data_dir, org, ports.registry(index))
        for index, org in enumerate(ORGANISATIONS)
        if org.key in owners
    }
    places = documents.Places(ports)
    hub = hub_component(zistboom, data_dir, places)
    issuers = {
        key: issuer_component(zistboom, data_dir, places, federation.organisation(key))
        for key in documents.ISSUERS
    }
    central_process = central_component(zistboom, data_dir, ports)
    tax_system = einvoice.system_component(zistboom, ports)
    window_places = single_window.Places(ports)
    idp = single_window.idp_component(zistboom, data_dir, window_places)
    window = single_window.window_component(zistboom, data_dir, window_places)
    await supervisor.check_ports_free(
        [central_process, *gateways, *registries.values(), hub, *issuers.values(), tax_system,
         idp, window]
    )  # fmt: skip
    central_settings = setup.central_settings(data_dir, ports)
    demo_applications = applying.applications()
    inboxes = applying.inbox_agencies(demo_applications)
    seed = await setup.seed_central(
        central_settings, ports, data_dir, {org.key: (applying.INBOX_SUBSYSTEM,) for org in inboxes}
    )
    started = Started(seed)
    central = await supervisor.start(central_process)
    migrations = asyncio.Lock()

    async def central_anchor() -> str:
        await supervisor.wait_ready(central, READY_TIMEOUT_SECONDS)
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{central_settings.base_url}/anchor")
        fingerprint: str = answer.raise_for_status().json()["key_fingerprint"]
        return fingerprint

    async def gateway(index: int, org: Organisation, anchor: asyncio.Task[str]) -> None:
        if org.key in seed.tokens:
            await setup.enrol_gateway(
                data_dir,
                org,
                index,
                ports,
                central_url=central_settings.base_url,
                anchor_fingerprint=await anchor,
                token=seed.tokens[org.key],
            )
        settings = GatewaySettings.load(setup.gateway_dir(data_dir, org))
        await setup.configure_gateway(settings, org, migrations)
        if org.key == "tax":
            await einvoice.configure_tax_gateway(settings, ports, migrations)
        await anchor  # central serves the global configuration the gateway fetches at start
        running = await supervisor.start(gateways[index])
        await supervisor.wait_ready(running, READY_TIMEOUT_SECONDS)

    async def registry(index: int, org: Organisation, gateway_up: asyncio.Task[None]) -> None:
        settings = setup.registry_settings(data_dir, org, index, ports)
        loaded, seconds = await setup.seed_registry(settings, migrations)
        if loaded:
            started.seeded.update(loaded)
            started.seeding_seconds += seconds
        running = await supervisor.start(registries[org.key])
        await supervisor.wait_ready(running, READY_TIMEOUT_SECONDS)
        await gateway_up
        await setup.publish_registries(settings, owners[org.key], migrations)
        window = ORGANISATIONS.index(federation.organisation("single-window"))
        await gateways_up[window]
        await setup.wait_until_offered(
            f"http://127.0.0.1:{ports.client(window)}",
            federation.subsystem_id(federation.organisation("single-window")),
            federation.subsystem_id(org),
            owners[org.key],
        )

    async def documents_up(
        anchor: asyncio.Task[str], registries_up: list[asyncio.Task[None]]
    ) -> None:
        """The hub, then the issuers (set up once each with a doc token), their access rights,
        and the demo's documents, once the registries they pull from are offered."""
        anchor_file = data_dir / "anchor.json"
        central_url = central_settings.base_url
        fingerprint = await anchor
        anchor_file.write_text((await enrolment.fetch_anchor(central_url, fingerprint)).to_json())
        gateway_dirs = {org.key: setup.gateway_dir(data_dir, org) for org in ORGANISATIONS}
        hub_org = federation.organisation(documents.HUB_ORGANISATION)
        await gateways_up[ORGANISATIONS.index(hub_org)]
        await documents.init_hub(
            zistboom, data_dir, places, gateway_dirs[hub_org.key], central_url=central_url,
            anchor_file=anchor_file, token=seed.document_tokens.get(hub_org.key),
        )  # fmt: skip
        await supervisor.wait_ready(await supervisor.start(hub), READY_TIMEOUT_SECONDS)

        async def issuer(key: str) -> None:
            org = federation.organisation(key)
            await gateways_up[ORGANISATIONS.index(org)]
            if key in seed.document_tokens:
                await documents.init_issuer(
                    zistboom, data_dir, places, org, gateway_dirs[key],
                    central_url=central_url, anchor_file=anchor_file,
                    token=seed.document_tokens[key],
                )  # fmt: skip
            await supervisor.wait_ready(await supervisor.start(issuers[key]), READY_TIMEOUT_SECONDS)

        async with asyncio.TaskGroup() as starting:
            for key in documents.ISSUERS:
                starting.create_task(issuer(key))
        for done in registries_up:
            await done
        await documents.grant_documents(
            places, gateway_dirs, [applying.inbox_subsystem(org) for org in inboxes]
        )
        await documents.wait_until_issuers_offered(places)
        started.documents = await documents.issue_demo_documents(places, data_dir)

    async def einvoices_up() -> None:
        """The tax e-invoice system, then the demo's first e-invoice from the finance company,
        answered by it (asynchronous messages between the two gateways)."""
        system = await supervisor.start(tax_system)
        await supervisor.wait_ready(system, READY_TIMEOUT_SECONDS)
        await gateways_up[einvoice.tax_index()]
        await gateways_up[einvoice.finance_index()]
        started.invoice = await einvoice.send_demo_invoice(ports)

    async def window_up(anchor: asyncio.Task[str]) -> None:
        """The identity provider (its people from the seed), then the window behind the
        single-window operator's gateway, its agencies and first admins, and the inboxes of
        the agencies the demo's persons apply to."""
        await single_window.init_idp(zistboom, data_dir, window_places)
        provider = await supervisor.start(idp)
        await single_window.init_window(
            zistboom, data_dir, window_places, central_settings.base_url,
            f"{documents.hub_subsystem()}/lockers",
        )  # fmt: skip
        await anchor
        await supervisor.wait_ready(provider, READY_TIMEOUT_SECONDS)
        running = await supervisor.start(window)
        await supervisor.wait_ready(running, READY_TIMEOUT_SECONDS)
        _, started.window_people = single_window.people()
        official = next(p for p in started.window_people if p.role == "official")
        await single_window.seed_window(window_places, data_dir, official)
        started.applications = applying.with_keys(demo_applications, official.identifier)

        async def inbox(org: Organisation) -> None:
            await gateways_up[ORGANISATIONS.index(org)]
            await gateways_up[window_places.index]
            await applying.open_inbox(places, setup.gateway_dir(data_dir, org), org)

        async with asyncio.TaskGroup() as opening:
            opening.create_task(
                applying.tell_window(zistboom, single_window.window_dir(data_dir), inboxes)
            )
            for org in inboxes:
                opening.create_task(inbox(org))

    try:
        async with asyncio.TaskGroup() as group:
            anchor = group.create_task(central_anchor())
            gateways_up = [
                group.create_task(gateway(index, org, anchor))
                for index, org in enumerate(ORGANISATIONS)
            ]
            registries_up = [
                group.create_task(registry(index, org, gateways_up[index]))
                for index, org in enumerate(ORGANISATIONS)
                if org.key in owners
            ]
            group.create_task(documents_up(anchor, registries_up))
            group.create_task(einvoices_up())
            group.create_task(window_up(anchor))
    except* ZistboomError as failures:
        raise failures.exceptions[0] from None
    return started


async def run(data_dir: Path, ports: Ports) -> int:
    """The demo until interrupted; returns the exit status."""
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, interrupted.set)
    supervisor = Supervisor(data_dir / "logs", on_death=report_death)
    console.print(f"Starting the demo federation {INSTANCE} in {data_dir} …", highlight=False)
    try:
        starting = asyncio.create_task(bring_up(supervisor, data_dir, ports))
        stop = asyncio.create_task(interrupted.wait())
        await asyncio.wait({starting, stop}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, ZistboomError):
                await starting
            console.print("Interrupted while starting.")
            return 130
        try:
            done = starting.result()
        except ZistboomError as error:
            console.print(f"[red]The demo did not start:[/red] {escape(error.detail)}")
            return 1
        print_summary(done.seed, ports, data_dir, supervisor.running)
        print_documents(documents.Places(ports), done.documents)
        print_invoice(ports, done.invoice)
        print_window(single_window.Places(ports), data_dir, done.window_people)
        print_applying(
            single_window.Places(ports), documents.Places(ports), done.window_people,
            done.applications,
        )  # fmt: skip
        if done.seeded:
            console.print(
                f"Seeded the base registries ({sum(done.seeded.values()):,} synthetic records "
                f"in {len(done.seeded)} registries) in {done.seeding_seconds:.1f} s.",
                highlight=False,
            )
        else:
            console.print("The base registries kept their data from the last run.")
        console.print(
            f"Started in {time.monotonic() - started:.1f} s. Serving until interrupted (Ctrl-C).",
            highlight=False,
        )
        all_exited = asyncio.create_task(supervisor.all_exited.wait())
        await asyncio.wait({stop, all_exited}, return_when=asyncio.FIRST_COMPLETED)
        if not interrupted.is_set():
            console.print("[red]Every component has died; the demo ends.[/red]")
            return 1
        return 0
    finally:
        console.print("Stopping every component …")
        killed = await supervisor.stop(STOP_GRACE_SECONDS)
        for running in killed:
            console.print(
                f"{running.component.name} (pid {running.pid}) did not stop within "
                f"{STOP_GRACE_SECONDS:.0f} s and was killed",
                highlight=False,
            )
        console.print("All components stopped.")


def report_death(running: Running, returncode: int) -> None:
    console.print(
        f"[red]✗ {escape(running.component.name)} (pid {running.pid}) died: "
        f"{describe_exit(returncode)}.[/red] It is not restarted; the other components keep "
        f"running. Last lines of {escape(str(running.log_path))}:",
        highlight=False,
    )
    for line in tail(running.log_path, running.log_start):
        console.print(f"    {line}", markup=False, highlight=False, soft_wrap=True)


def print_summary(
    seed: setup.CentralSeed, ports: Ports, data_dir: Path, running: list[Running]
) -> None:
    table = Table(title="Ecosystems (زیست‌بوم‌ها)")
    for column in ("key", "fa", "phase", "deadline (Jalali / Gregorian)", "مهلت"):
        table.add_column(column)
    for row in seed.ecosystems:
        table.add_row(*row)
    console.print(table)
    members = Table(title="Organisations and their gateways (سازمان‌ها و درگاه‌ها)")
    for column in ("organisation", "subsystem", "information systems", "peers (TLS)"):
        members.add_column(column, overflow="fold")
    for index, org in enumerate(ORGANISATIONS):
        members.add_row(
            f"{org.member.name_en}\n{org.member.name_fa}",
            federation.subsystem_id(org),
            f"http://127.0.0.1:{ports.client(index)}",
            f"127.0.0.1:{ports.peer(index)}",
        )
    console.print(members)
    # No log column: each component's log file is named after it, so the folder is named once
    # in the title and the ports keep their room on an 80-column terminal.
    log_names = sorted(r.log_path.name for r in running)
    processes = Table(
        title=f"Processes (logs in {data_dir / 'logs'}: {', '.join(log_names[:2])}, …)"
    )
    processes.add_column("component", no_wrap=True)
    processes.add_column("pid", no_wrap=True, justify="right")
    processes.add_column("ports", min_width=12)
    order = component_names()
    for component in sorted(running, key=lambda r: order.index(r.component.name)):
        processes.add_row(
            component.component.name,
            str(component.pid),
            ", ".join(f"{label}:{port}" for label, port in component.component.listens),
        )
    console.print(processes)
    if seed.first_admin_key:
        console.print(
            f"First admin API key (shown once): {seed.first_admin_key}",
            highlight=False,
            soft_wrap=True,
        )
    central_url = f"http://127.0.0.1:{ports.central}"
    console.print(
        f"Central: {central_url}  OpenAPI: {central_url}/openapi.json  docs: {central_url}/docs",
        soft_wrap=True,
    )
    console.print(
        "Try (through the exchange: a person read from the civil registry, a search of the "
        "legal-entities registry, the person's usage list; then two trust-registry queries at "
        "central, answered yes and no; the two calls marked # refused are refused by the "
        "registry's access rights and for a missing accreditation):"
    )
    for call in federation.demo_calls(ports):
        console.print(call, soft_wrap=True, highlight=False, markup=False)


def print_documents(places: documents.Places, issued: list[dict[str, Any]]) -> None:
    """The demo's documents, a curl call that verifies the first at the hub (VC API), and the
    verification page with its QR text to paste."""
    console.print(
        f"Documents issued through the exchange ({len(issued)}): "
        + ", ".join(f"{d['type']} for {d['holder']}" for d in issued),
        highlight=False,
    )
    if not issued:
        return
    console.print("Verify one at the documents hub (VC API):")
    console.print(
        documents.verify_call(places, issued[0]), soft_wrap=True, highlight=False, markup=False
    )
    console.print(
        f"Verification page: {places.hub_url}/verify (paste this QR text, or open its pull "
        f"link {issued[0]['pull_link']}):",
        soft_wrap=True,
        highlight=False,
    )
    console.print(issued[0]["qr"], soft_wrap=True, highlight=False, markup=False)


def print_invoice(ports: Ports, invoice: dict[str, Any]) -> None:
    """The demo's e-invoice (an asynchronous message with its signed receipt and the tax
    organisation's answer), and the curl calls that submit another and read a status."""
    if invoice:
        answer = invoice.get("answer") or {}
        tracking = ""
        if answer.get("body_base64"):
            with contextlib.suppress(ValueError, KeyError, TypeError):
                body = orjson.loads(base64.b64decode(answer["body_base64"]))
                tracking = f", tracking number {body['tracking_number']}"
        console.print(
            f"E-invoice {invoice['id']} from the finance company to the tax organisation "
            f"(asynchronous message, signed receipt held): {invoice['status']}{tracking}.",
            highlight=False,
            soft_wrap=True,
        )
    console.print("Send another e-invoice, then read the status of the first:")
    console.print(einvoice.submit_call(ports), soft_wrap=True, highlight=False, markup=False)
    if invoice:
        console.print(
            einvoice.status_call(ports, invoice["id"]),
            soft_wrap=True,
            highlight=False,
            markup=False,
        )


def print_window(
    places: single_window.Places, data_dir: Path, people: list[single_window.DemoPerson]
) -> None:
    """The window's address, the demo's persons and official, and where their codes appear."""
    console.print(
        f"Single service window (پنجره واحد خدمات): {places.window_url}  "
        f"identity provider: {places.idp_url}",
        highlight=False,
        soft_wrap=True,
    )
    table = Table(title="Sign in at the window with one of these (ورود با کد یک‌بارمصرف)")
    for column in ("who", "national code / foreign-national ID", "name", "mobile (SMS)"):
        table.add_column(column, overflow="fold")
    for person in people:
        table.add_row(
            person.detail, person.identifier, f"{person.name_fa}\n{person.name_en}", person.phone
        )
    console.print(table)
    log = data_dir / "logs" / (single_window.IDP_NAME.replace(" ", "-") + ".log")
    console.print(
        f"Their one-time codes are sent by SMS to the console: each appears as a line "
        f"'SMS to +98…: …' in {log} (e.g. tail -f {log}).",
        highlight=False,
        soft_wrap=True,
    )


def print_applying(
    places: single_window.Places,
    document_places: documents.Places,
    people: list[single_window.DemoPerson],
    applications: list[applying.DemoApplication],
) -> None:
    """Which person applies for which service (its page, what to type), and how each agency's
    system sees the tasks arrive in its inbox."""
    if not applications:
        return
    console.print(
        "Apply at the window, each of them signed in with their one-time code (from the "
        "provider's log, as above), up to the tracking code, shown at once, and the hand-over "
        "of the first tasks to the agencies' inboxes:",
        highlight=False,
        soft_wrap=True,
    )
    by_role = {person.role: person for person in people}
    for application in applications:
        definition = application.definition
        typed = ""
        for index, key in application.asked.items():
            asked = definition.base_data[int(index)].asked
            if asked is not None:
                typed += f"; type {asked.title_en.lower()} {key} when asked"
        agencies = ", ".join(org.member.name_en for org in application.first_agencies())
        console.print(
            f"  {application.role} {by_role[application.role].identifier}: "
            f"{definition.name_en} at {places.window_url}{application.path}{typed}; "
            f"first tasks to {agencies}",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )
    console.print(
        "See a task arrive: each agency's system lists its inbox on its own gateway (asynchronous "
        "messages; a message's body_base64 is the task, the application with its data and their "
        "sources):",
        highlight=False,
        soft_wrap=True,
    )
    for org in applying.inbox_agencies(applications):
        console.print(
            applying.inbox_call(document_places, org),
            soft_wrap=True,
            highlight=False,
            markup=False,
        )


@app.command("tax-e-invoice-system", hidden=True)
def tax_e_invoice_system(
    port: Annotated[int, typer.Option(help="the port to listen on")],
    gateway: Annotated[str, typer.Option(help="the tax gateway's client URL")],
    subsystem: Annotated[str, typer.Option(help="the tax subsystem that answers")],
) -> None:
    """The demo tax organisation's e-invoice system (pushed to by its gateway)."""
    einvoice.run_system(port, gateway, subsystem)


@app.callback(invoke_without_command=True)
def demo(
    context: typer.Context,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="where the demo keeps its files and logs")
    ] = Path("var/demo"),
    base_port: Annotated[
        int, typer.Option(help="central's port; the others follow it (see the printed table)")
    ] = 8600,
) -> None:
    """Run the demo federation (instance IR-DEMO), one process per component, until
    interrupted."""
    if context.invoked_subcommand is not None:
        return
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    data_dir.mkdir(parents=True, exist_ok=True)
    raise typer.Exit(asyncio.run(run(data_dir.resolve(), Ports(base_port))))
