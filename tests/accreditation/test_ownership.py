"""Ecosystem operators' ownership, read from the legal-entities registry through the exchange
(issue 8, acceptance 5). Real processes on SQLite and PostgreSQL: central (a client of the IT
authority's gateway), that gateway, the companies registration office's gateway and its
registry service serving the seed's `companies` registry."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from central_process import launch_central, wait_until_serving
from federation import Federation, GatewayProcess, RegistryProcess, add_registry, start_federation
from gateway.test_exchange import write_self_signed
from support import free_port
from zistboom.accreditation.ownership import ExchangeNotConfigured, OwnershipChecker
from zistboom.accreditation.ownership_exchange import PURPOSE, SCHEDULED_USER
from zistboom.central.operators import Operator
from zistboom.central.settings import CentralSettings
from zistboom.core.database import create_engine, session_factory
from zistboom.core.iran import generate_legal_entity_id, generate_national_code
from zistboom.registries.seed_schemas import SCHEMAS

pytestmark = pytest.mark.timeout(900)
rng = random.Random()


@dataclass
class Setup:
    fed: Federation
    registry: RegistryProcess
    it: str  # the IT authority (member)
    provider: str  # the companies registration office's registry subsystem
    back_office: str  # that office's own system: writes records, reads usage lists
    it_gateway: GatewayProcess
    registry_gateway: GatewayProcess
    exchange_env: dict[str, str]  # central's exchange client settings
    registrar: str  # a registrar's API key
    registrar_id: str

    @property
    def central(self) -> httpx.Client:
        return self.fed.central.client(self.registrar)

    def settings(self, **changes: Any) -> CentralSettings:
        """Central's settings, for a checker in this process on central's own database."""
        values: dict[str, Any] = {
            "data_dir": self.fed.central.data_dir,
            "database_url": self.fed.database_url,
            "exchange_gateway_url": self.exchange_env["ZB_EXCHANGE_GATEWAY_URL"],
            "exchange_client": f"{self.it}/central",
            "exchange_tls_cert": self.exchange_env["ZB_EXCHANGE_TLS_CERT"],
            "exchange_tls_key": self.exchange_env["ZB_EXCHANGE_TLS_KEY"],
            "companies_registry_service": f"{self.provider}/companies",
        }
        return CentralSettings(**{**values, **changes})


def restart_central(fed: Federation, extra_env: dict[str, str]) -> None:
    """Central again, on the same data and port, with ``extra_env`` added: the exchange client
    can be named only once the IT authority's gateway exists."""
    central = fed.central
    central.process.terminate()
    central.process.wait(timeout=20)
    env = {**central.env, **extra_env}
    port = int(central.url.rsplit(":", 1)[1])
    process, output = launch_central(central.data_dir, port, env)
    wait_until_serving(process, output, central.url)
    central.process, central.env, central.output = process, env, output


@pytest.fixture(scope="module")
def own(backend_database: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("ownership")
    fed = start_federation(root, backend_database, central_env={"ZB_CONF_REFRESH_SECONDS": "1"})
    registry = None
    try:
        it = fed.add_member("IT authority", ["central", "unlisted"])
        office = fed.add_member("Companies registration office", ["registry", "back-office"])
        # Central connects to the IT authority's gateway over HTTPS with a client certificate.
        it_gateway = fed.add_gateway("it", it, env={"ZB_CLIENT_TLS": "true"})
        registry_gateway = fed.add_gateway("reg", office)
        write_self_signed(root, "central-exchange")
        for subsystem in ("central", "unlisted"):
            it_gateway.cli("client", "add", f"{it}/{subsystem}")
            it_gateway.cli(
                "client", "add-certificate", f"{it}/{subsystem}", str(root / "central-exchange.pem")
            )
        registry_gateway.cli("client", "add", f"{office}/back-office")
        for gateway in (it_gateway, registry_gateway):
            gateway.launch()
        for gateway in (it_gateway, registry_gateway):
            gateway.wait_serving()
        registry = add_registry(fed, "registry", office, registry_gateway)
        registry.start()
        schema = root / "companies.json"
        schema.write_text(json.dumps(SCHEMAS["companies"], ensure_ascii=False))
        registry.cli(
            "create", "companies", "--schema", str(schema),
            "--name-fa", "اشخاص حقوقی", "--name-en", "Legal entities",
        )  # fmt: skip
        registry.cli("publish", "companies", "--no-catalogue")
        provider = f"{office}/registry"
        registry_gateway.cli("access", "grant", provider, "companies", f"{it}/central")
        registry_gateway.cli("access", "grant", provider, "companies", f"{office}/back-office")
        registry_gateway.cli(
            "access", "grant", provider, "personal-data-usage", f"{office}/back-office"
        )
        exchange_env = {
            "ZB_EXCHANGE_GATEWAY_URL": f"https://127.0.0.1:{it_gateway.client_port}",
            "ZB_EXCHANGE_CLIENT": f"{it}/central",
            "ZB_EXCHANGE_TLS_CERT": str(root / "central-exchange.pem"),
            "ZB_EXCHANGE_TLS_KEY": str(root / "central-exchange.key"),
            "ZB_COMPANIES_REGISTRY_SERVICE": f"{provider}/companies",
            # Central's own daily refresh makes one pass at start (nothing to read yet), then
            # none during the tests, which run that pass themselves.
            "ZB_OWNERSHIP_CHECK_SECONDS": "86400",
        }
        restart_central(fed, exchange_env)
        with fed.admin() as admin:
            key = admin.post("/api/v1/api-keys", json={"name": "registrar", "role": "registrar"})
            assert key.status_code == 201, key.text
        yield Setup(
            fed, registry, it, provider, f"{office}/back-office", it_gateway, registry_gateway,
            exchange_env, key.json()["secret"], key.json()["key_id"],
        )  # fmt: skip
    finally:
        if registry is not None:
            registry.stop()
        fed.stop()


# --- helpers ---------------------------------------------------------------------------------


def through_registry(
    own: Setup, path: str, method: str = "GET", *, service: str = "companies", **kwargs: Any
) -> httpx.Response:
    """A call of the companies registration office's own system, through its gateway."""
    headers = {
        "X-Road-Client": own.back_office,
        "X-Road-UserId": kwargs.pop("user", "IR0499370899"),
        "X-Road-Purpose": "test-suite",
    }
    url = f"{own.registry_gateway.url}/r1/{own.provider}/{service}{path}"
    return httpx.request(method, url, headers=headers, timeout=30, **kwargs)


def holder(kind: str, share: float, *, state: bool) -> dict[str, Any]:
    holder_id = generate_national_code(rng) if kind == "person" else generate_legal_entity_id(rng)
    return {"holder_kind": kind, "holder_id": holder_id, "share_percent": share, "state": state}


def company(own: Setup, holders: list[dict[str, Any]]) -> str:
    """A company in the registry (written through its Data API); returns its national ID."""
    national_id = generate_legal_entity_id(rng)
    record = {
        "national_id": national_id,
        "name_fa": "شرکت بهره‌بردار نمونه",
        "name_en": "Sample operating company",
        "type": "private-joint-stock",
        "status": "active",
        "registration_date": "2020-03-21",
        "state_owned": sum(h["share_percent"] for h in holders if h["state"]) > 50,
        "shareholders": holders,
    }
    created = through_registry(own, "/1.0/create", "POST", json={"write": {"content": record}})
    assert created.status_code == 200, created.text
    return national_id


def operator(own: Setup, ecosystem: str, code: str | None = None) -> str:
    """An ecosystem-operator member (its code: a company's national ID), named the operator."""
    code = code or generate_legal_entity_id(rng)
    with own.fed.admin() as admin:
        created = admin.post(
            "/api/v1/members",
            json={
                "member_class": "COM",
                "code": code,
                "name_fa": "شرکت بهره‌بردار",
                "name_en": "Operating company",
                "kind": "ecosystem-operator",
            },
        )
        assert created.status_code == 201, created.text
    member_id: str = created.json()["id"]
    with own.central as client:
        named = client.put(
            f"/api/v1/accreditation/operators/{ecosystem}",
            json={"member_id": member_id, "reason": "the ecosystem's operating company"},
        )
        assert named.status_code == 200, named.text
        assert named.json()["operator"] == member_id
    return member_id


def refresh(own: Setup, ecosystem: str) -> dict[str, Any]:
    with own.central as client:
        response = client.post(f"/api/v1/accreditation/operators/{ecosystem}/refresh")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def standing(own: Setup, ecosystem: str) -> dict[str, Any]:
    with own.central as client:
        response = client.get(f"/api/v1/accreditation/operators/{ecosystem}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def findings(own: Setup) -> list[dict[str, Any]]:
    with own.central as client:
        response = client.get("/api/v1/accreditation/findings")
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def usage_of(own: Setup, person: str) -> list[dict[str, Any]]:
    """The person's personal-data-usage list, as the registry keeps it."""
    listed = through_registry(own, "/1.0", service="personal-data-usage", user=f"IR{person}")
    assert listed.status_code == 200, listed.text
    entries: list[dict[str, Any]] = listed.json()["results"]
    return entries


@pytest.fixture
async def checker(own: Setup) -> AsyncIterator[OwnershipChecker]:
    """The scheduled refresh, run in this process on central's database."""
    settings = own.settings()
    engine = create_engine(settings.resolved_database_url("central"))
    instance = OwnershipChecker.from_settings(settings, session_factory(engine))
    try:
        yield instance
    finally:
        await instance.close()
        await engine.dispose()


# --- the rule --------------------------------------------------------------------------------


def test_an_operator_below_51_percent_private_shows_a_finding(own: Setup) -> None:
    person = holder("person", 30, state=False)
    holders = [person, holder("company", 19.5, state=False), holder("member", 50.5, state=True)]
    member = operator(own, "finance", company(own, holders))
    before = datetime.now(UTC)
    refreshed = refresh(own, "finance")
    reading = refreshed["reading"]
    assert reading["outcome"] == "ok", reading
    assert reading["private_share_percent"] == 49.5
    assert reading["state_share_percent"] == 50.5
    assert reading["minimum_private_share_percent"] == 51
    assert reading["compliant"] is False
    assert reading["holders"] == holders
    assert reading["source"] == {
        "service": f"{own.provider}/companies",
        "registry": "companies",
        "version": "1.0",
    }
    assert reading["message_id"]
    assert datetime.fromisoformat(reading["read_at"]) >= before
    # The finding: on the operator, in the list of operators, and among all findings.
    shown = standing(own, "finance")
    assert shown["operator"] == member
    assert shown["reading"]["id"] == reading["id"]
    [finding] = shown["findings"]
    assert finding["kind"] == "operator-private-share-below-minimum"
    assert finding["operator"] == member and finding["ecosystem"] == "finance"
    assert (finding["private_share_percent"], finding["state_share_percent"]) == (49.5, 50.5)
    assert finding["minimum_private_share_percent"] == 51
    assert finding["source"] == reading["source"]
    assert finding["message_id"] == reading["message_id"]
    assert finding["read_at"] == reading["read_at"]
    for named in ("49.5%", "50.5%", "51%", "companies", reading["message_id"], member):
        assert named in finding["message"], finding["message"]
    assert "Finance" in finding["message"]
    for named in ("۴۹.۵", "۵۰.۵", "۵۱", "مالی", reading["message_id"], member):
        assert named in finding["message_fa"], finding["message_fa"]
    assert finding in findings(own)
    with own.central as client:
        listed = client.get("/api/v1/accreditation/operators").json()
    assert next(o for o in listed if o["ecosystem"] == "finance")["findings"] == [finding]
    # The message id is the exchange's own: the registry logged the read under it.
    [entry] = [
        e for e in usage_of(own, person["holder_id"]) if e["MessageId"] == finding["message_id"]
    ]
    assert entry["DatabaseID"] == "companies"


def test_an_operator_at_51_percent_private_shows_none(own: Setup) -> None:
    holders = [
        holder("person", 25.5, state=False),
        holder("company", 25.5, state=False),
        holder("member", 49, state=True),
    ]
    member = operator(own, "tax", company(own, holders))
    reading = refresh(own, "tax")["reading"]
    assert reading["outcome"] == "ok", reading
    assert (reading["private_share_percent"], reading["state_share_percent"]) == (51, 49)
    assert reading["compliant"] is True
    shown = standing(own, "tax")
    assert shown["reading"]["id"] == reading["id"] and shown["findings"] == []
    assert all(f["operator"] != member for f in findings(own))


def test_a_new_reading_above_the_minimum_clears_the_finding(own: Setup) -> None:
    person = holder("person", 10, state=False)
    national_id = company(own, [person, holder("member", 90, state=True)])
    operator(own, "energy", national_id)
    assert refresh(own, "energy")["operator"]["findings"]
    sold = [person, holder("person", 60, state=False), holder("member", 30, state=True)]
    updated = through_registry(
        own,
        "/1.0/update",
        "PUT",
        json={
            "query": {"content": {"national_id": national_id}},
            "write": {"content": {"shareholders": sold}},
        },
    )
    assert updated.status_code == 200, updated.text
    again = refresh(own, "energy")
    assert again["reading"]["private_share_percent"] == 70
    assert again["operator"]["findings"] == []
    assert all(f["ecosystem"] != "energy" for f in findings(own))


# --- who asked and why, on the wire -----------------------------------------------------------


def test_the_refresh_names_who_asked_and_why(own: Setup) -> None:
    person = holder("person", 60, state=False)
    operator(own, "health", company(own, [person, holder("member", 40, state=True)]))
    reading = refresh(own, "health")["reading"]
    assert reading["requested_by"] == f"key:{own.registrar_id}"
    assert reading["purpose"] == PURPOSE == "ecosystem-operator-ownership-check"
    assert reading["client"] == f"{own.it}/central"
    assert reading["trigger"] == "on-demand"
    [entry] = [
        e for e in usage_of(own, person["holder_id"]) if e["MessageId"] == reading["message_id"]
    ]
    assert entry["ReaderID"] == f"key:{own.registrar_id}"
    assert entry["Purpose"] == "ecosystem-operator-ownership-check"
    assert entry["ReaderApplicationName"] == f"{own.it}/central"
    assert entry["ReaderInstitutionID"] == own.it
    # And in central's audit log, with the actor.
    with own.fed.admin() as admin:
        records = admin.get("/api/v1/audit", params={"limit": 1000}).json()
    [audited] = [
        r
        for r in records
        if r["action"] == "ecosystem-operator.ownership-read"
        and r["details"]["message_id"] == reading["message_id"]
    ]
    assert audited["actor"] == f"key:{own.registrar_id}"
    assert audited["target"] == "ecosystem:health"


# --- failures --------------------------------------------------------------------------------


def test_an_unreachable_registry_keeps_the_last_good_reading(own: Setup) -> None:
    operator(own, "land", company(own, [holder("person", 20, state=False),
                                        holder("member", 80, state=True)]))  # fmt: skip
    good = refresh(own, "land")["reading"]
    assert good["outcome"] == "ok"
    own.registry.stop()
    try:
        failed = refresh(own, "land")
    finally:
        own.registry.start()
    reading = failed["reading"]
    assert reading["outcome"] == "failed"
    assert reading["error"]["type"] == "Server.ServerProxy.ServiceFailed", reading
    assert reading["error"]["message"]
    assert reading["private_share_percent"] is None and reading["holders"] is None
    assert reading["message_id"]  # the exchange answered, under a message id of its own
    shown = standing(own, "land")
    assert shown["reading"]["id"] == good["id"]
    assert shown["last_attempt"]["id"] == reading["id"]
    [finding] = shown["findings"]
    assert finding["reading_id"] == good["id"] and finding["private_share_percent"] == 20
    with own.central as client:
        history = client.get("/api/v1/accreditation/operators/land/readings").json()
    assert [r["id"] for r in history] == [reading["id"], good["id"]]
    # Once the registry is back, a refresh reads again.
    deadline = time.monotonic() + 30
    while (again := refresh(own, "land")["reading"])["outcome"] != "ok":
        assert time.monotonic() < deadline, again
    assert standing(own, "land")["reading"]["id"] == again["id"]


def test_a_company_not_in_the_registry_is_a_failed_reading(own: Setup) -> None:
    operator(own, "supply-chain")  # a member whose national ID the registry does not hold
    reading = refresh(own, "supply-chain")["reading"]
    assert reading["outcome"] == "failed"
    assert reading["error"]["type"] == "Registry.not-found", reading
    assert reading["error"]["http_status"] == 404
    shown = standing(own, "supply-chain")
    assert shown["reading"] is None and shown["findings"] == []
    assert shown["last_attempt"]["id"] == reading["id"]


async def test_access_denied_and_an_unreachable_gateway_are_failed_readings(own: Setup) -> None:
    operator(own, "agriculture", company(own, [holder("person", 100, state=False)]))
    engine = create_engine(own.settings().resolved_database_url("central"))
    sessions = session_factory(engine)
    asking = Operator(key_id=own.registrar_id, name="registrar", role="registrar")
    try:
        for settings, error_type, status in (
            (own.settings(exchange_client=f"{own.it}/unlisted"),
             "Server.ServerProxy.AccessDenied", 403),
            (own.settings(exchange_gateway_url=f"http://127.0.0.1:{free_port()}"),
             "Central.ExchangeGatewayUnreachable", None),
            # The gateway's client port takes HTTPS with a registered client certificate only.
            (own.settings(exchange_tls_cert=None, exchange_tls_key=None),
             "Central.ExchangeGatewayUnreachable", None),
        ):  # fmt: skip
            checker = OwnershipChecker.from_settings(settings, sessions)
            try:
                reading, shown = await checker.refresh("agriculture", actor=asking)
            finally:
                await checker.close()
            assert reading.outcome == "failed"
            assert (reading.error_type, reading.http_status) == (error_type, status)
            assert reading.requested_by == f"key:{own.registrar_id}"
            assert shown.reading is None and shown.last_attempt is not None
        without = OwnershipChecker(own.settings(), sessions, registry=None)
        with pytest.raises(ExchangeNotConfigured):
            await without.refresh("agriculture", actor=asking)
    finally:
        await engine.dispose()
    good = refresh(own, "agriculture")["reading"]
    assert good["outcome"] == "ok" and good["private_share_percent"] == 100


# --- the daily refresh -----------------------------------------------------------------------


async def test_the_daily_refresh_reads_each_operator_due(
    own: Setup, checker: OwnershipChecker
) -> None:
    person = holder("person", 40, state=False)
    member = operator(own, "tourism", company(own, [person, holder("member", 60, state=True)]))
    done = await checker.refresh_due()
    [reading] = [r for r in done if r.ecosystem == "tourism"]
    assert reading.outcome == "ok" and reading.operator_id == member
    assert (reading.requested_by, reading.trigger) == (SCHEDULED_USER, "scheduled")
    assert reading.private_share_percent == 40 and reading.compliant is False
    # Read a moment ago: not due again for a day.
    assert all(r.ecosystem != "tourism" for r in await checker.refresh_due())
    shown = await asyncio.to_thread(standing, own, "tourism")
    assert shown["reading"]["id"] == reading.id
    assert shown["reading"]["requested_by"] == "system:scheduled"
    assert shown["findings"][0]["message_id"] == reading.message_id
    entries = await asyncio.to_thread(usage_of, own, person["holder_id"])
    [entry] = [e for e in entries if e["MessageId"] == reading.message_id]
    assert (entry["ReaderID"], entry["Purpose"]) == (SCHEDULED_USER, PURPOSE)


async def test_a_failed_scheduled_reading_is_tried_again_at_the_next_pass(
    own: Setup, checker: OwnershipChecker
) -> None:
    member = operator(own, "energy")  # a member whose national ID the registry does not hold
    first = [r for r in await checker.refresh_due() if r.ecosystem == "energy"]
    assert [(r.operator_id, r.outcome) for r in first] == [(member, "failed")]
    again = [r for r in await checker.refresh_due() if r.ecosystem == "energy"]
    assert [(r.operator_id, r.outcome) for r in again] == [(member, "failed")]
    assert again[0].id != first[0].id


async def test_the_background_task_runs_the_refresh_again_and_again(own: Setup) -> None:
    operator(own, "insurance", company(own, [holder("person", 80, state=False),
                                             holder("member", 20, state=True)]))  # fmt: skip
    settings = own.settings(ownership_refresh_seconds=0.5, ownership_check_seconds=0.2)
    engine = create_engine(settings.resolved_database_url("central"))
    checker = OwnershipChecker.from_settings(settings, session_factory(engine))
    task = asyncio.create_task(checker.run())
    try:
        deadline = time.monotonic() + 60
        while True:
            history = await asyncio.to_thread(readings, own, "insurance")
            scheduled = [r for r in history if r["trigger"] == "scheduled" and r["outcome"] == "ok"]
            if len(scheduled) >= 2:
                break
            assert not task.done(), task
            assert time.monotonic() < deadline, history
            await asyncio.sleep(0.2)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await checker.close()
        await engine.dispose()
    assert scheduled[0]["read_at"] > scheduled[1]["read_at"]


def readings(own: Setup, ecosystem: str) -> list[dict[str, Any]]:
    with own.central as client:
        response = client.get(f"/api/v1/accreditation/operators/{ecosystem}/readings")
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


# --- naming the operator, and who may do what ---------------------------------------------------


def test_naming_and_clearing_an_operator(own: Setup) -> None:
    member = operator(own, "human-resources", company(own, [holder("member", 100, state=True)]))
    assert refresh(own, "human-resources")["operator"]["findings"]
    with own.central as client:
        listed = client.get("/api/v1/ecosystems/human-resources").json()
        assert listed["operator"] == member
        agency = own.it
        refused = client.put(
            "/api/v1/accreditation/operators/human-resources", json={"member_id": agency}
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["errors"][0]["field"] == "member_id"
        cleared = client.put(
            "/api/v1/accreditation/operators/human-resources",
            json={"member_id": None, "reason": "the operator's licence ended"},
        )
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["operator"] is None and cleared.json()["findings"] == []
        assert client.get("/api/v1/ecosystems/human-resources").json()["operator"] is None
        assert all(f["ecosystem"] != "human-resources" for f in findings(own))
        unoperated = client.post("/api/v1/accreditation/operators/human-resources/refresh")
        assert unoperated.status_code == 409, unoperated.text
        assert unoperated.json()["errors"][0]["field"] == "ecosystem"
        unknown = client.get("/api/v1/accreditation/operators/atlantis")
        assert unknown.status_code == 404, unknown.text
        # The readings stay, with the operator they were about.
        history = client.get("/api/v1/accreditation/operators/human-resources/readings").json()
        assert history and history[0]["operator"] == member
    with own.fed.admin() as admin:
        records = admin.get("/api/v1/audit", params={"limit": 1000}).json()
    cleared_record = [r for r in records if r["action"] == "ecosystem.clear-operator"][-1]
    assert cleared_record["details"]["reason"] == "the operator's licence ended"


def test_only_admins_and_registrars_refresh_and_auditors_read(own: Setup) -> None:
    with own.fed.admin() as admin:
        auditor = admin.post("/api/v1/api-keys", json={"name": "auditor", "role": "auditor"})
        member_key = admin.post(
            "/api/v1/api-keys",
            json={"name": "operator", "role": "member", "member_id": own.it},
        )
    assert auditor.status_code == 201 and member_key.status_code == 201, member_key.text
    with own.fed.central.client(auditor.json()["secret"]) as client:
        assert client.get("/api/v1/accreditation/operators").status_code == 200
        assert client.get("/api/v1/accreditation/findings").status_code == 200
        assert client.post("/api/v1/accreditation/operators/finance/refresh").status_code == 403
        named = client.put("/api/v1/accreditation/operators/finance", json={"member_id": None})
        assert named.status_code == 403
    with own.fed.central.client(member_key.json()["secret"]) as client:
        assert client.get("/api/v1/accreditation/findings").status_code == 403
    with own.fed.central.client() as client:
        assert client.get("/api/v1/accreditation/operators").status_code == 401
        assert client.post("/api/v1/accreditation/operators/finance/refresh").status_code == 401
