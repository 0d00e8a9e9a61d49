"""The service catalogue against a real central process (SQLite and PostgreSQL): gateways publish
signed service descriptions, anyone reads and searches them, and central refuses publications
it cannot trust."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
import uvicorn
from cryptography import x509 as cx509

from central_process import CentralProcess
from support import free_port
from zistboom.core.crypto import jws, keys, x509
from zistboom.core.database import create_engine, migrate, session_factory, utc_now
from zistboom.core.errors import PermissionDeniedError, ValidationError
from zistboom.core.iran import generate_legal_entity_id
from zistboom.gateway.api import create_management_app
from zistboom.gateway.catalogue import CataloguePublisher
from zistboom.gateway.models import Endpoint, Service
from zistboom.gateway.service import ServiceEntry
from zistboom.gateway.settings import GatewaySettings

rng = random.Random()
PUBLISH = "/api/v1/catalogue/services"
OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "Tax records", "version": "1"},
    "paths": {"/returns/{year}": {"get": {"operationId": "getReturn", "summary": "One return"}}},
}


def new_member(central: CentralProcess, *subsystems: str) -> dict:
    body = {
        "member_class": "GOV",
        "code": generate_legal_entity_id(rng),
        "name_fa": "سازمان امور مالیاتی",
        "name_en": "Tax Administration",
        "kind": "agency",
    }
    with central.admin as client:
        response = client.post("/api/v1/members", json=body)
        assert response.status_code == 201, response.text
        member = response.json()
        for code in subsystems:
            added = client.post(
                f"/api/v1/members/GOV/{member['code']}/subsystems", json={"code": code}
            )
            assert added.status_code == 201, added.text
    return member


def enrol_signing(
    central: CentralProcess, member: dict
) -> tuple[keys.PrivateKey, cx509.Certificate, str]:
    with central.admin as client:
        token = client.post(
            "/api/v1/enrolment-tokens", json={"member_id": member["id"], "kind": "sign"}
        )
        assert token.status_code == 201, token.text
        key = keys.generate_private_key()
        csr = x509.create_csr(key, common_name="ignored by the CA").decode()
        issued = client.post("/api/v1/ca/enrol", json={"token": token.json()["token"], "csr": csr})
    assert issued.status_code == 201, issued.text
    return key, x509.load_certificate(issued.json()["certificate"]), issued.json()["serial"]


def entry(
    subsystem_id: str,
    code: str,
    *,
    description: str = "Tax returns of a legal entity",
    ecosystem: str | None = "tax",
    openapi: dict | None = OPENAPI,
) -> ServiceEntry:
    service = Service(
        code=code,
        backend_url="http://127.0.0.1:1",
        description=description,
        ecosystem=ecosystem,
        service_kind="tax-record-inquiry",
        openapi=openapi,
        personal_data=False,
        created_at=utc_now(),
    )
    endpoints = [
        Endpoint(method="GET", path="/returns/{year}", operation_id="getReturn", summary="One")
    ]
    return ServiceEntry(subsystem_id, service, endpoints)


def publisher(
    central: CentralProcess, key: keys.PrivateKey, cert: cx509.Certificate
) -> CataloguePublisher:
    return CataloguePublisher(central.url, lambda member_id: (key, cert))


def conf_version(central: CentralProcess) -> int:
    token = httpx.get(f"{central.url}/global-conf").text
    return int(orjson.loads(keys.b64url_decode(token.split(".")[1]))["version"])


def post(central: CentralProcess, statement: str) -> httpx.Response:
    return httpx.post(
        central.url + PUBLISH,
        content=statement.encode(),
        headers={"Content-Type": "application/jose"},
        timeout=30,
    )


def refused(response: httpx.Response, status: int, field: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [field], body
    return str(body["detail"])


@pytest.fixture
def provider(central: CentralProcess) -> tuple[dict, keys.PrivateKey, cx509.Certificate]:
    """A member of its own for each test: what one test publishes no other test sees under it."""
    member = new_member(central, "returns", "archive")
    key, cert, _ = enrol_signing(central, member)
    return member, key, cert


def test_a_published_service_appears_in_the_catalogue(central, provider) -> None:
    member, key, cert = provider
    subsystem = f"{member['id']}/returns"
    version_before = conf_version(central)
    published = entry(subsystem, "taxReturns")
    asyncio.run(publisher(central, key, cert).publish(published))
    assert published.service.published_at is not None

    listed = httpx.get(f"{central.url}/api/v1/catalogue", params={"member_id": member["id"]})
    [found] = listed.json()
    assert found["service_id"] == f"{subsystem}/taxReturns"
    assert found["member_name_en"] == "Tax Administration"
    assert (found["subsystem_code"], found["service_code"]) == ("returns", "taxReturns")
    assert found["ecosystem"] == "tax" and found["service_kind"] == "tax-record-inquiry"
    assert found["endpoints"] == [
        {"method": "GET", "path": "/returns/{year}", "operation_id": "getReturn", "summary": "One"}
    ]

    detail = httpx.get(f"{central.url}/api/v1/catalogue/{subsystem}/taxReturns").json()
    assert detail["openapi"] == OPENAPI
    # The stored publication verifies with the member's certificate, by anyone, later.
    _, payload = jws.verify_jws(detail["statement"], cert.public_key())
    assert orjson.loads(payload)["service_id"] == f"{subsystem}/taxReturns"

    # The catalogue is not part of the global configuration.
    assert conf_version(central) == version_before
    with central.admin as client:
        records = client.get("/api/v1/audit", params={"limit": 1000}).json()
    assert any(
        r["action"] == "catalogue.publish" and r["target"] == f"{subsystem}/taxReturns"
        for r in records
    )

    # Publishing again replaces the entry.
    first_published = found["published_at"]
    asyncio.run(
        publisher(central, key, cert).publish(
            entry(subsystem, "taxReturns", description="Tax returns, revised")
        )
    )
    [again] = httpx.get(
        f"{central.url}/api/v1/catalogue", params={"member_id": member["id"]}
    ).json()
    assert again["description"] == "Tax returns, revised"
    assert again["published_at"] == first_published
    assert again["updated_at"] >= first_published

    missing = httpx.get(f"{central.url}/api/v1/catalogue/{subsystem}/nothing")
    assert refused(missing, 404, "service_id")


def test_search_by_text_ecosystem_and_member(central, provider) -> None:
    member, key, cert = provider
    subsystem = f"{member['id']}/archive"
    sender = publisher(central, key, cert)
    asyncio.run(
        sender.publish(entry(subsystem, "incomeDeclarations", description="اظهارنامه مالیاتی"))
    )
    asyncio.run(
        sender.publish(
            entry(subsystem, "archiveSearch", description="Search the ARCHIVE", ecosystem=None)
        )
    )

    def search(**params: str) -> set[str]:
        response = httpx.get(f"{central.url}/api/v1/catalogue", params=params)
        assert response.status_code == 200, response.text
        return {e["service_code"] for e in response.json()}

    assert search(q="archive search", member_id=member["id"]) == {"archiveSearch"}
    assert search(q="INCOMEDECL") == {"incomeDeclarations"}
    # Arabic yeh and kaf find text written with Persian letters.
    assert search(q="ماليات") >= {"incomeDeclarations"}
    assert "archiveSearch" not in search(ecosystem="tax")
    assert "incomeDeclarations" in search(ecosystem="tax")
    assert search(q="100%_") == set()
    assert search(q="no such words at all") == set()
    bad = httpx.get(f"{central.url}/api/v1/catalogue", params={"member_id": "IR-DEMO/GOV/1"})
    assert refused(bad, 422, "member_id")


def test_a_national_base_registry_belongs_to_no_single_ecosystem(central, provider) -> None:
    member, key, cert = provider
    subsystem = f"{member['id']}/archive"
    sender = publisher(central, key, cert)
    asyncio.run(sender.publish(entry(subsystem, "persons", ecosystem="national")))
    asyncio.run(sender.publish(entry(subsystem, "taxpayers", ecosystem="tax")))

    def listed(**params: str) -> dict[str, dict]:
        response = httpx.get(f"{central.url}/api/v1/catalogue", params=params)
        assert response.status_code == 200, response.text
        return {e["service_code"]: e for e in response.json() if e["member_id"] == member["id"]}

    national = listed(ecosystem="national")
    assert "persons" in national and "taxpayers" not in national
    assert national["persons"]["ecosystem"] is None
    assert "persons" not in listed(ecosystem="tax")


def test_publications_central_cannot_trust_are_refused(central, provider) -> None:
    member, key, cert = provider
    subsystem = f"{member['id']}/returns"
    sender = publisher(central, key, cert)

    # Signed by another member: only the owner may describe its services.
    other = new_member(central, "returns")
    other_key, other_cert, _ = enrol_signing(central, other)
    response = post(central, publisher(central, other_key, other_cert).statement(
        entry(subsystem, "hijacked")
    ))  # fmt: skip
    assert "only its own member" in refused(response, 403, "service_id")
    with pytest.raises(PermissionDeniedError) as error:
        asyncio.run(publisher(central, other_key, other_cert).publish(entry(subsystem, "hijacked")))
    assert error.value.field == "service_id"

    # A revoked certificate.
    revoked_member = new_member(central, "returns")
    revoked_key, revoked_cert, serial = enrol_signing(central, revoked_member)
    with central.admin as client:
        revoke = client.post(
            f"/api/v1/ca/certificates/{serial}/revoke", json={"reason": "keyCompromise"}
        )
        assert revoke.status_code == 200, revoke.text
    response = post(central, publisher(central, revoked_key, revoked_cert).statement(
        entry(f"{revoked_member['id']}/returns", "x")
    ))  # fmt: skip
    assert "revoked" in refused(response, 400, "statement")

    # Signed too long ago (a replayed or stale publication).
    stale = sender.statement(entry(subsystem, "stale"), issued_at=time.time() - 600)
    assert "seconds away" in refused(post(central, stale), 422, "iat")
    future = sender.statement(entry(subsystem, "future"), issued_at=time.time() + 600)
    refused(post(central, future), 422, "iat")

    # Tampered: the payload changed after signing.
    header, payload, signature = sender.statement(entry(subsystem, "honest")).split(".")
    changed = orjson.loads(keys.b64url_decode(payload))
    changed["description"] = "something else"
    forged = ".".join((header, keys.b64url_encode(orjson.dumps(changed)), signature))
    assert "signature" in refused(post(central, forged), 400, "statement")

    # An unknown subsystem, an unknown ecosystem, a member of another instance.
    unknown = sender.statement(entry(f"{member['id']}/nowhere", "x"))
    assert "no subsystem 'nowhere'" in refused(post(central, unknown), 422, "service_id")
    with pytest.raises(ValidationError) as error:
        asyncio.run(sender.publish(entry(subsystem, "x", ecosystem="atlantis")))
    assert error.value.field == "ecosystem"
    foreign = sender.statement(entry(subsystem.replace("IR-DEMO/", "IR-TEST/", 1), "x"))
    refused(post(central, foreign), 403, "service_id")  # the certificate names IR-DEMO

    # Not a JWS with x5c; a certificate this CA never issued.
    refused(post(central, "not.a.jws"), 422, "statement")
    refused(post(central, jws.sign_jws(b"{}", key)), 422, "statement")
    stranger_key = keys.generate_private_key()
    stranger = x509.create_ca_certificate(stranger_key, common_name="not the instance CA")
    response = post(central, publisher(central, stranger_key, stranger).statement(
        entry(subsystem, "x")
    ))  # fmt: skip
    refused(response, 401, "statement")

    codes = {e["service_code"] for e in httpx.get(f"{central.url}/api/v1/catalogue").json()}
    assert not codes & {"hijacked", "stale", "future", "honest", "x"}


def serve_gateway_management(
    database_url: str, data_dir: Path, gateway_id: str, sender: CataloguePublisher
) -> Iterator[tuple[str, str]]:
    """A gateway's management API under uvicorn in a thread, publishing with ``sender``."""
    port = free_port()
    settings = GatewaySettings(data_dir=data_dir, gateway_id=gateway_id, database_url=database_url)
    servers: list[uvicorn.Server] = []

    async def main() -> None:
        engine = create_engine(database_url)
        try:
            await migrate(engine, "zistboom.gateway:migrations")
            app = create_management_app(session_factory(engine), settings, sender)
            config = uvicorn.Config(app, port=port, log_level="warning", lifespan="off")
            servers.append(uvicorn.Server(config))
            await servers[0].serve()
        finally:
            await engine.dispose()

    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not failures:
        try:
            if httpx.get(f"{url}/openapi.json", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    else:
        raise RuntimeError(f"the gateway management API did not start: {failures}")
    try:
        yield url, (data_dir / "admin-token").read_text().strip()
    finally:
        servers[0].should_exit = True
        thread.join(timeout=15)


def test_the_gateway_management_api_publishes_to_central(
    central: CentralProcess, provider, tmp_path: Path
) -> None:
    member, key, cert = provider
    subsystem = f"{member['id']}/returns"
    served = serve_gateway_management(
        f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        tmp_path / "gateway",
        f"{member['id']}/gw1",
        publisher(central, key, cert),
    )
    url, token = next(served)
    try:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as gateway:
            client = gateway.post("/api/v1/clients", json={"subsystem_id": subsystem})
            assert client.status_code == 201, client.text
            created = gateway.post(
                "/api/v1/services",
                json={
                    "subsystem_id": subsystem,
                    "code": "viaGateway",
                    "backend_url": "http://127.0.0.1:9",
                    "description": "Published through the management API",
                    "ecosystem": "tax",
                    "openapi": OPENAPI,
                },
            )
            assert created.status_code == 201, created.text
            published = gateway.post(f"/api/v1/services/{subsystem}/viaGateway/publish")
            assert published.status_code == 200, published.text
            published_at = datetime.fromisoformat(published.json()["published_at"])
            assert abs((published_at - datetime.now(UTC)).total_seconds()) < 60

            created = gateway.post(
                "/api/v1/services",
                json={
                    "subsystem_id": subsystem,
                    "code": "badEcosystem",
                    "backend_url": "http://127.0.0.1:9",
                    "ecosystem": "atlantis",
                },
            )
            assert created.status_code == 201, created.text
            failed = gateway.post(f"/api/v1/services/{subsystem}/badEcosystem/publish")
            assert failed.status_code == 422, failed.text
            assert failed.json()["errors"][0]["field"] == "ecosystem"
            assert "central refused" in failed.json()["detail"]
            assert (
                gateway.get(f"/api/v1/services/{subsystem}/badEcosystem").json()["published_at"]
                is None
            )
    finally:
        next(served, None)
    found = httpx.get(f"{central.url}/api/v1/catalogue/{subsystem}/viaGateway").json()
    assert found["description"] == "Published through the management API"
    assert found["endpoints"][0]["operation_id"] == "getReturn"
