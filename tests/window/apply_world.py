"""The world of applying at the window, every part a real process, for every test of part 2:

- central: ``tests/trust_list_central.py`` (central's own app; its trust list accredits the civil
  registration agency as a national document issuer at level high), with its CA and TSA;
- members and their gateways: the window operator (subsystem ``window``), the civil registration
  agency (``registry``, ``inbox``, ``issuer``), the tax administration (``registry``,
  ``tax-services``, ``inbox``) and the documents authority running the hub (``documents``);
- registries: the civil agency's ``persons`` and the tax administration's ``taxpayers``, with the
  national seed's schemas (``registries/seed_schemas.py``), each in its agency's registry
  service, published (``--no-catalogue``); the window's subsystem holds an access right to each
  registry and to each registry service's ``personal-data-usage`` (ZB-STD-006 §4.4);
- the documents hub behind its gateway (``zistboom documents hub init``/``serve``): the window
  may call ``lockers``, both agencies' ``inbox`` may call ``shared-documents``, the civil
  agency's ``issuer`` may call ``documents`` (it deposits);
- two synthetic people (valid national codes) in the identity provider, in ``persons`` and in
  ``taxpayers``; the first holds a ``birth-certificate-extract`` the civil agency issued here:
  signed with its enrolled ``doc`` key, timestamped by central's TSA, with its QR and its PAdES
  PDF, deposited through the civil agency's gateway;
- the identity provider (``zistboom idp serve``) with the window as its client, and the window
  (``zistboom window init``/``serve``) pointing at the gateway, the persons registry, the hub's
  ``lockers`` service and, when given, an SMTP server; the catalogue's seed loaded and both
  agencies registered at the window.

Records are written through the exchange as the window (which holds an access right to each
registry's whole service), the way ``exchange_world.py`` seeds them. Independent steps run side
by side (gateway set-ups, the registries, the hub, the document's signing). On PostgreSQL
every component has a database of its own."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import jdatetime

from central_process import ZISTBOOM, stop_central
from federation import Federation, GatewayProcess, RegistryProcess, ServiceProcess, add_registry
from idp.provider import Person, Provider, start_provider
from mail_server import SmtpServer
from support import create_pg_database, drop_pg_database, free_port
from trust_list_central import (
    published,
    put_content,
    start_list_central,
    wait_for,
)
from window.issuing import CIVIL_NAME, birth_certificate, doc_signer, doc_token, issuer_content
from window.window_process import WindowProcess, init_window, window_address
from zistboom.registries.seed_schemas import PERSONS_SCHEMA, TAXPAYERS_SCHEMA

T = TypeVar("T")
TAX_NAME = ("سازمان امور مالیاتی کشور", "Iranian National Tax Administration")
PURPOSE = "apply-world"


@dataclass(frozen=True)
class Resident:
    """A person of the world: their sign-in at the provider and their registry records."""

    person: Person
    record: dict[str, Any]
    """Their record in ``persons``."""
    taxpayer: dict[str, Any]
    """Their record in ``taxpayers`` (``taxpayer_id`` their national code)."""

    @property
    def subject(self) -> str:
        return self.person.subject

    @property
    def national_code(self) -> str:
        return self.person.national_code


@dataclass
class ApplyWorld:
    federation: Federation
    operator: str
    """The window operator's member id."""
    civil: str
    """The civil registration agency's member id."""
    tax: str
    """The tax administration's member id."""
    hub_member: str
    """The documents authority's member id (the hub's operator)."""
    gateway: GatewayProcess
    """The operator's gateway: the window calls through its client port."""
    civil_gateway: GatewayProcess
    tax_gateway: GatewayProcess
    hub_gateway: GatewayProcess
    civil_registry: RegistryProcess
    tax_registry: RegistryProcess
    hub: ServiceProcess
    hub_url: str
    provider: Provider
    window: WindowProcess
    person: Resident
    """Signs in, holds the document."""
    other_person: Resident
    """Another person, in every registry, with an empty locker."""
    document_id: str
    """The first person's birth-certificate extract, in their locker."""
    smtp: SmtpServer | None = None
    probes: list[tuple[GatewayProcess, str, str, str]] = field(default_factory=list)

    # --- names ----------------------------------------------------------------------------

    @property
    def window_subsystem(self) -> str:
        return f"{self.operator}/window"

    @property
    def civil_inbox(self) -> str:
        return f"{self.civil}/inbox"

    @property
    def tax_inbox(self) -> str:
        return f"{self.tax}/inbox"

    @property
    def hub_subsystem(self) -> str:
        return f"{self.hub_member}/documents"

    @property
    def persons_service(self) -> str:
        return f"{self.civil}/registry/persons"

    @property
    def taxpayers_service(self) -> str:
        return f"{self.tax}/registry/taxpayers"

    @property
    def persons_usage_service(self) -> str:
        return f"{self.civil}/registry/personal-data-usage"

    @property
    def taxpayers_usage_service(self) -> str:
        return f"{self.tax}/registry/personal-data-usage"

    @property
    def lockers_service(self) -> str:
        return f"{self.hub_subsystem}/lockers"

    @property
    def shared_documents_service(self) -> str:
        return f"{self.hub_subsystem}/shared-documents"

    @property
    def people(self) -> list[Resident]:
        return [self.person, self.other_person]

    def sms_code(self, person: Person, after: int) -> str:
        return self.provider.sms_code(person.phone_number, after=after)

    # --- calls through the exchange -------------------------------------------------------

    def wait_until_granted(self, seconds: float = 60) -> None:
        """Gateways take new services and access rights within seconds: wait until every call
        of the world goes through (the service itself answers, whatever it says)."""
        waiting = list(self.probes)

        def all_through() -> bool:
            waiting[:] = [p for p in waiting if not _goes_through(*p)]
            return not waiting

        wait_for(all_through, seconds=seconds, what=f"the exchange lets through {waiting}")

    def read(self, service: str, key: dict[str, str], *, user_id: str) -> httpx.Response:
        """``POST /r1/<service>/1.0/read`` as the window, for ``user_id``."""
        return httpx.post(
            f"{self.gateway.url}/r1/{service}/1.0/read",
            json={"query": {"content": key}},
            headers=_headers(self.window_subsystem, user_id),
            timeout=30,
        )

    def read_person(self, national_code: str) -> httpx.Response:
        return self.read(
            self.persons_service, {"national_code": national_code}, user_id="IR" + national_code
        )

    def locker(self, subject: str, path: str = "/lockers/documents") -> httpx.Response:
        """The hub's ``lockers`` service as the window calls it, for ``subject``."""
        return httpx.get(
            f"{self.gateway.url}/r1/{self.lockers_service}{path}",
            headers=_headers(self.window_subsystem, subject),
            timeout=30,
        )

    def fetch_share(
        self, agency_inbox_subsystem: str, share_id: str, *, purpose: str | None = None
    ) -> httpx.Response:
        """The shared document, fetched as that agency's system fetches it: through its own
        gateway, from the hub's ``shared-documents`` service."""
        member = agency_inbox_subsystem.rsplit("/", 1)[0]
        gateway = {self.civil: self.civil_gateway, self.tax: self.tax_gateway}[member]
        headers = {"X-Road-Client": agency_inbox_subsystem}
        if purpose is not None:
            headers["X-Road-Purpose"] = purpose
        return httpx.get(
            f"{gateway.url}/r1/{self.shared_documents_service}/shares/{share_id}/document",
            headers=headers,
            timeout=30,
        )


def _headers(client: str, user_id: str, purpose: str = PURPOSE) -> dict[str, str]:
    return {"X-Road-Client": client, "X-Road-UserId": user_id, "X-Road-Purpose": purpose}


def _goes_through(gateway: GatewayProcess, client: str, path: str, user_id: str) -> bool:
    headers = {"X-Road-Client": client, "X-Road-Purpose": "probe"}
    if user_id:
        headers["X-Road-UserId"] = user_id
    answer = httpx.get(f"{gateway.url}/r1/{path}", headers=headers, timeout=30)
    return "x-road-error" not in answer.headers


# --- the gateways' management API ----------------------------------------------------------


def _management(gateway: GatewayProcess) -> httpx.Client:
    token = (gateway.data_dir / "admin-token").read_text().strip()
    return httpx.Client(
        base_url=f"http://127.0.0.1:{gateway.admin_port}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def add_clients(gateway: GatewayProcess, *subsystems: str) -> None:
    with _management(gateway) as admin:
        for subsystem in subsystems:
            answer = admin.post("/clients", json={"subsystem_id": subsystem})
            assert answer.status_code in (201, 409), answer.text


def grant(gateway: GatewayProcess, provider: str, code: str, *clients: str) -> None:
    """Access rights to ``provider``'s service ``code`` for ``clients``, as an operator gives
    them on the provider's gateway."""
    with _management(gateway) as admin:
        for client in clients:
            answer = admin.post(
                f"/services/{provider}/{code}/access",
                json={"subject_kind": "subsystem", "subject": client},
            )
            assert answer.status_code in (201, 409), answer.text


# --- the people -----------------------------------------------------------------------------

NAMES = (
    {"given_name_fa": "نرگس", "family_name_fa": "رضایی", "given_name_en": "Narges",
     "family_name_en": "Rezaei", "sex": "F", "birth_date": "1992-05-17",
     "birth_province": "isfahan", "birth_city": "کاشان"},
    {"given_name_fa": "علی", "family_name_fa": "کریمی", "given_name_en": "Ali",
     "family_name_en": "Karimi", "sex": "M", "birth_date": "1987-11-02",
     "birth_province": "tehran", "birth_city": "تهران"},
)  # fmt: skip


def _resident(person: Person, names: dict[str, str], rng: random.Random) -> Resident:
    born = date.fromisoformat(names["birth_date"])
    record = {
        "national_code": person.national_code,
        **names,
        "birth_date_jalali": jdatetime.date.fromgregorian(date=born).strftime("%Y-%m-%d"),
        "marital_status": "single",
        "alive": True,
    }
    taxpayer = {
        "tax_file_number": "".join(rng.choice("0123456789") for _ in range(12)),
        "taxpayer_id": person.national_code,
        "taxpayer_kind": "person",
        "status": "active",
        "outstanding_debt_rial": 0,
    }
    return Resident(person, record, taxpayer)


def _write(gateway: GatewayProcess, client: str, service: str, record: dict[str, Any],
           user_id: str) -> None:  # fmt: skip
    answer = httpx.post(
        f"{gateway.url}/r1/{service}/1.0/create",
        json={"write": {"content": record}},
        headers=_headers(client, user_id, "test-seed"),
        timeout=30,
    )
    assert answer.status_code in (200, 201), answer.text


# --- the world ------------------------------------------------------------------------------


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command[:4]} failed:\n{result.stdout}{result.stderr}"


def _registry(
    federation: Federation, name: str, member: str, gateway: GatewayProcess, code: str,
    schema: dict[str, Any], names: tuple[str, str], ecosystem: str, serving: threading.Event,
) -> RegistryProcess:  # fmt: skip
    """A registry defined while the gateways start, published once they serve."""
    registry = add_registry(federation, name, member, gateway)
    schema_file = federation.root / f"{code}.json"
    schema_file.write_text(json.dumps(schema, ensure_ascii=False))
    registry.cli(
        "create", code, "--schema", str(schema_file), "--name-fa", names[0],
        "--name-en", names[1], "--ecosystem", ecosystem,
    )  # fmt: skip
    assert serving.wait(timeout=300), "the gateways did not start"
    registry.cli("publish", code, "--no-catalogue")
    registry.start()
    return registry


def _hub(federation: Federation, root: Path, member: str, window: str,
         gateway: GatewayProcess, port: int) -> ServiceProcess:  # fmt: skip
    anchor = root / "anchor.json"
    anchor.write_text(httpx.get(f"{federation.central.url}/anchor", timeout=10).text)
    env = federation.env()
    if federation.database_url:
        env["ZB_DATABASE_URL"] = federation._new_pg_database()
    data_dir = root / "hub"
    _run(
        [
            ZISTBOOM, "documents", "hub", "init", "--data-dir", str(data_dir),
            "--member", member, "--central-url", federation.central.url,
            "--anchor", str(anchor), "--window", window,
            "--token", doc_token(federation, member), "--port", str(port),
            "--gateway-admin-url", f"http://127.0.0.1:{gateway.admin_port}",
            "--gateway-admin-token-file", str(gateway.data_dir / "admin-token"),
        ],
        env,
    )  # fmt: skip
    hub = ServiceProcess(
        "hub",
        [ZISTBOOM, "documents", "hub", "serve", "--data-dir", str(data_dir)],
        f"http://127.0.0.1:{port}/health",
        env,
    )
    hub.start()
    return hub


def _window(
    fed: Federation, root: Path, port: int, subsystem: str, gateway: GatewayProcess,
    provider_started: Future[Provider], services: dict[str, str],
    agencies: dict[str, tuple[str, str]], smtp: SmtpServer | None,
    window_env: dict[str, str] | None,
) -> WindowProcess:  # fmt: skip
    """The window set up (``window init``, the catalogue's seed), served, and the agencies
    registered through its management API."""
    env = fed.env(window_env)
    if fed.database_url:
        env["ZB_DATABASE_URL"] = fed._new_pg_database()
    env["ZB_HUB_LOCKERS_SERVICE"] = services["lockers"]
    if smtp is not None:
        env.update({"ZB_SMTP_HOST": "127.0.0.1", "ZB_SMTP_PORT": str(smtp.port)})
    provider = provider_started.result()
    window = init_window(
        root, port=port, env=env, subsystem=subsystem, gateway_url=gateway.url,
        central_url=fed.central.url, issuer=provider.url, secret_file=root / "window.secret",
        persons_registry=services["persons"],
    )  # fmt: skip
    seeded = window.cli("services", "seed")
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    window.start()
    with window.operator() as operator_api:
        for member, (name_fa, name_en) in agencies.items():
            answer = operator_api.post(
                "/api/v1/agencies",
                json={"member_id": member, "name_fa": name_fa, "name_en": name_en},
            )
            assert answer.status_code == 201, answer.text
    return window


class _Started:
    """What has been started, stopped in reverse order at the end (whatever failed)."""

    def __init__(self) -> None:
        self.stoppers: list[Callable[[], None]] = []

    def add(self, component: T, stop: Callable[[], None]) -> T:
        self.stoppers.append(stop)
        return component

    def later(self, future: Future[T]) -> Future[T]:
        """A component being started in ``future``: stopped at the end if it started."""

        def stop() -> None:
            component: Any = future.result(timeout=120)
            component.stop()

        self.stoppers.append(stop)
        return future

    def stop(self) -> None:
        for stop in reversed(self.stoppers):
            try:
                stop()
            except Exception as error:
                print(f"stopping a component of the apply world failed: {error!r}")


@contextmanager
def apply_world(
    root: Path,
    database_url: str | None,
    *,
    window_env: dict[str, str] | None = None,
    smtp: SmtpServer | None = None,
) -> Iterator[ApplyWorld]:
    """The world, stopped (and its PostgreSQL databases dropped) afterwards."""
    started = _Started()
    provider_db: tuple[str, str] | None = (
        asyncio.run(create_pg_database()) if database_url else None
    )
    if provider_db is not None:
        started.add(None, lambda: asyncio.run(drop_pg_database(provider_db[0])))
    window_port, window_url = window_address()
    pool = ThreadPoolExecutor(max_workers=10)
    started.add(pool, lambda: pool.shutdown(wait=False, cancel_futures=True))
    try:
        # The provider needs nothing of the exchange: it starts beside central.
        provider_started: Future[Provider] = started.later(pool.submit(
            start_provider, root, provider_db[1] if provider_db else None,
            window_redirect=f"{window_url}/signin/callback",
            window_logout=f"{window_url}/signed-out",
        ))  # fmt: skip
        central = start_list_central(root / "central", database_url)
        federation = Federation(central=central, root=root, database_url=database_url)
        started.add(federation, federation.stop)
        started.add(central, lambda: stop_central(central.process))
        world = _build(federation, root, pool, started, provider_started, window_port, smtp,
                       window_env)  # fmt: skip
        yield world
    finally:
        started.stop()


def _build(
    fed: Federation, root: Path, pool: ThreadPoolExecutor, started: _Started,
    provider_started: Future[Provider], window_port: int, smtp: SmtpServer | None,
    window_env: dict[str, str] | None,
) -> ApplyWorld:  # fmt: skip
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    operator = fed.add_member("Single window operator", ["window"], "PUB")
    civil = fed.add_member("Civil registration", ["registry", "inbox", "issuer"])
    tax = fed.add_member("Tax administration", ["registry", "tax-services", "inbox"])
    hub_member = fed.add_member("Documents authority", ["documents"])
    accredited = put_content(fed.central, issuer_content(civil, since))
    assert accredited.status_code == 204, accredited.text
    signer_made = pool.submit(doc_signer, fed, civil)

    names = {"operator": operator, "civil": civil, "tax": tax, "hub": hub_member}
    made = {name: pool.submit(fed.add_gateway, name, member) for name, member in names.items()}
    gateways = {name: future.result() for name, future in made.items()}
    window = f"{operator}/window"
    hub_subsystem = f"{hub_member}/documents"
    # The window needs no running gateway to start: it is set up while they start.
    window_made = started.later(pool.submit(
        _window, fed, root, window_port, window, gateways["operator"], provider_started,
        {"persons": f"{civil}/registry/persons", "lockers": f"{hub_subsystem}/lockers"},
        {civil: CIVIL_NAME, tax: TAX_NAME}, smtp, window_env,
    ))  # fmt: skip
    serving = threading.Event()
    started.add(serving, serving.set)  # a failed start lets the waiting registries go
    civil_registry_made = started.later(pool.submit(
        _registry, fed, "civil-registry", civil, gateways["civil"], "persons", PERSONS_SCHEMA,
        ("ثبت احوال", "Civil registry"), "national", serving,
    ))  # fmt: skip
    tax_registry_made = started.later(pool.submit(
        _registry, fed, "tax-registry", tax, gateways["tax"], "taxpayers", TAXPAYERS_SCHEMA,
        ("مودیان مالیاتی", "Taxpayers registry"), "tax", serving,
    ))  # fmt: skip
    for gateway in gateways.values():
        started.add(gateway, gateway.stop)
        gateway.launch()
    for gateway in gateways.values():
        gateway.wait_serving()
    serving.set()
    gw_op, gw_civil, gw_tax, gw_hub = (gateways[n] for n in ("operator", "civil", "tax", "hub"))
    add_clients(gw_op, window)
    add_clients(gw_civil, f"{civil}/inbox", f"{civil}/issuer")
    add_clients(gw_tax, f"{tax}/inbox", f"{tax}/tax-services")

    hub_port = free_port()
    hub_url = f"http://127.0.0.1:{hub_port}"
    hub_made = started.later(pool.submit(_hub, fed, root, hub_member, window, gw_hub, hub_port))
    wait_for(lambda: published(fed.central).trust_list.accreditations, seconds=30,
             what="central publishes the trust list")  # fmt: skip
    tsa_url = published(fed.central).conf.central.tsa_url
    provider = provider_started.result()
    residents = [
        _resident(person, names, random.Random(person.national_code))
        for person, names in zip(provider.people[:2], NAMES, strict=True)
    ]
    deposit_made = pool.submit(
        birth_certificate, signer_made.result(), residents[0], hub_url, tsa_url
    )

    window_process = window_made.result()
    civil_registry, tax_registry = civil_registry_made.result(), tax_registry_made.result()
    hub = hub_made.result()
    grant(gw_civil, f"{civil}/registry", "persons", window)
    grant(gw_civil, f"{civil}/registry", "personal-data-usage", window)
    grant(gw_tax, f"{tax}/registry", "taxpayers", window)
    grant(gw_tax, f"{tax}/registry", "personal-data-usage", window)
    grant(gw_hub, hub_subsystem, "lockers", window)
    grant(gw_hub, hub_subsystem, "shared-documents", f"{civil}/inbox", f"{tax}/inbox")
    grant(gw_hub, hub_subsystem, "documents", f"{civil}/issuer")
    someone = residents[0].subject
    probes = [
        (gw_op, window, f"{civil}/registry/persons/1.0", someone),
        (gw_op, window, f"{civil}/registry/personal-data-usage/1.0", someone),
        (gw_op, window, f"{tax}/registry/taxpayers/1.0", someone),
        (gw_op, window, f"{tax}/registry/personal-data-usage/1.0", someone),
        (gw_op, window, f"{hub_subsystem}/lockers/lockers/documents", someone),
        (gw_civil, f"{civil}/issuer", f"{hub_subsystem}/documents/documents", ""),
        (gw_civil, f"{civil}/inbox", f"{hub_subsystem}/shared-documents/shares/x/document", ""),
        (gw_tax, f"{tax}/inbox", f"{hub_subsystem}/shared-documents/shares/x/document", ""),
    ]
    world = ApplyWorld(
        federation=fed, operator=operator, civil=civil, tax=tax, hub_member=hub_member,
        gateway=gw_op, civil_gateway=gw_civil, tax_gateway=gw_tax, hub_gateway=gw_hub,
        civil_registry=civil_registry, tax_registry=tax_registry, hub=hub, hub_url=hub_url,
        provider=provider, window=window_process, person=residents[0],
        other_person=residents[1], document_id="", smtp=smtp, probes=probes,
    )  # fmt: skip
    world.wait_until_granted()
    for resident in residents:
        _write(gw_op, window, world.persons_service, resident.record, resident.subject)
        _write(gw_op, window, world.taxpayers_service, resident.taxpayer, resident.subject)
    deposited = httpx.post(
        f"{gw_civil.url}/r1/{hub_subsystem}/documents/documents",
        json=deposit_made.result(),
        headers={"X-Road-Client": f"{civil}/issuer"},
        timeout=60,
    )
    assert deposited.status_code == 201, deposited.text
    world.document_id = str(deposited.json()["id"])
    return world
