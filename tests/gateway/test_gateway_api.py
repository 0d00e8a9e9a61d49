"""The gateway's management API over real HTTP (uvicorn on a free port, both database
backends): the admin token, problem details, and a whole flow from client to access rights;
and the management CLI on the same database."""

from __future__ import annotations

import asyncio
import random
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from support import free_port
from zistboom.core.crypto import keys, x509
from zistboom.core.database import create_engine, migrate, session_factory
from zistboom.core.iran import generate_legal_entity_id
from zistboom.gateway.api import create_management_app, ensure_admin_token
from zistboom.gateway.management_cli import app as cli_app
from zistboom.gateway.settings import GatewaySettings

rng = random.Random(23)
MEMBER = f"IR-DEMO/GOV/{generate_legal_entity_id(rng)}"
PROVIDER = f"{MEMBER}/registry"
CONSUMER = f"IR-DEMO/COM/{generate_legal_entity_id(rng)}/claims"
SPECS = Path(__file__).parent / "specs"

PERSONS_YAML = """
openapi: 3.0.3
info: {title: Persons, version: "1"}
paths:
  /persons/{nationalCode}:
    get:
      operationId: getPerson
      summary: One person
      responses:
        200: {description: the person}
  /persons:
    post:
      operationId: addPerson
      responses:
        201: {description: added}
"""


@dataclass
class Management:
    url: str
    token: str
    data_dir: Path

    def client(self, token: str | None = None) -> httpx.Client:
        presented = self.token if token is None else token
        headers = {"Authorization": f"Bearer {presented}"} if presented else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def serve_management(database_url: str, data_dir: Path) -> Iterator[Management]:
    """The management app under uvicorn in a thread with its own event loop and engine."""
    port = free_port()
    settings = GatewaySettings(
        data_dir=data_dir, gateway_id=f"{MEMBER}/gw1", database_url=database_url
    )
    servers: list[uvicorn.Server] = []
    failures: list[BaseException] = []

    async def main() -> None:
        engine = create_engine(database_url)
        try:
            await migrate(engine, "zistboom.gateway:migrations")
            app = create_management_app(session_factory(engine), settings, None)
            config = uvicorn.Config(
                app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
            )
            servers.append(uvicorn.Server(config))
            await servers[0].serve()
        finally:
            await engine.dispose()

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
            time.sleep(0.05)
    else:
        raise RuntimeError(f"the management API did not start: {failures}")
    try:
        yield Management(url, (data_dir / "admin-token").read_text().strip(), data_dir)
    finally:
        servers[0].should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def management(database_url: str, tmp_path: Path) -> Iterator[Management]:
    yield from serve_management(database_url, tmp_path / "gateway")


def problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    return body


def fields(body: dict) -> set[str]:
    return {e["field"] for e in body.get("errors", [])}


def test_admin_token_file_is_created_once_and_private(tmp_path: Path) -> None:
    first = ensure_admin_token(tmp_path / "gw")
    assert len(first) >= 40
    path = tmp_path / "gw" / "admin-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_admin_token(tmp_path / "gw") == first


def test_the_admin_token_is_required(management: Management) -> None:
    for token in ("", "wrong", management.token + "x"):
        with management.client(token) as client:
            response = client.get("/api/v1/clients")
        body = problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert fields(body) == {"authorization"}
    with management.client() as client:
        assert client.get("/api/v1/clients").json() == []
    with management.client("") as client:
        # A write without the token changes nothing.
        problem(client.post("/api/v1/clients", json={"subsystem_id": PROVIDER}), 401)
    with management.client() as client:
        assert client.get("/api/v1/clients").json() == []
        spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert (
        "/api/v1/services/{instance}/{member_class}/{member_code}/{subsystem_code}/{code}/access"
        in spec["paths"]
    )


def test_problem_details_name_the_field(management: Management) -> None:
    with management.client() as client:
        body = problem(client.post("/api/v1/clients", json={"subsystem_id": "IR-DEMO/GOV/1"}), 422)
        assert fields(body) == {"subsystem_id"}
        body = problem(client.post("/api/v1/clients", json={"subsystem_id": CONSUMER}), 422)
        assert fields(body) == {"subsystem_id"} and "does not host" in body["detail"]
        body = problem(client.post("/api/v1/clients", json={}), 422)
        assert fields(body) == {"subsystem_id"}
        body = problem(
            client.post("/api/v1/clients", json={"subsystem_id": PROVIDER, "extra": 1}), 422
        )
        assert fields(body) == {"extra"}
        assert client.post("/api/v1/clients", json={"subsystem_id": PROVIDER}).status_code == 201
        problem(client.post("/api/v1/clients", json={"subsystem_id": PROVIDER}), 409)

        service = {"subsystem_id": PROVIDER, "code": "persons"}
        for url in ("file:///etc/passwd", "http://user:pw@backend/", "backend:8080/x"):
            body = problem(
                client.post("/api/v1/services", json={**service, "backend_url": url}), 422
            )
            assert fields(body) == {"backend_url"}, url
        body = problem(
            client.post(
                "/api/v1/services",
                json={**service, "backend_url": "http://b", "openapi": {"swagger": "2.0"}},
            ),
            422,
        )
        assert fields(body) == {"openapi"}
        body = problem(
            client.post(
                "/api/v1/services",
                json={**service, "backend_url": "http://b", "openapi_yaml": "a: [x"},
            ),
            422,
        )
        assert fields(body) == {"openapi_yaml"}
        body = problem(client.get(f"/api/v1/services/{PROVIDER}/nothing"), 404)
        assert fields(body) == {"code"}
        body = problem(client.post(f"/api/v1/services/{PROVIDER}/nothing/publish"), 404)
        assert fields(body) == {"code"}


def test_a_whole_flow_client_service_grant_list(management: Management) -> None:
    with management.client() as client:
        version = client.get("/api/v1/configuration-version").json()["version"]
        assert version == 0
        created = client.post(
            "/api/v1/clients", json={"subsystem_id": PROVIDER, "body_logging": False}
        )
        assert created.status_code == 201, created.text
        assert created.json()["body_logging"] is False

        response = client.post(
            "/api/v1/services",
            json={
                "subsystem_id": PROVIDER,
                "code": "persons",
                "backend_url": "http://127.0.0.1:9000/api",
                "description": "Persons of the civil registry",
                "ecosystem": "tax",
                "service_kind": "person-inquiry",
                "personal_data": True,
                "openapi_yaml": PERSONS_YAML,
            },
        )
        assert response.status_code == 201, response.text
        service = response.json()
        assert service["service_id"] == f"{PROVIDER}/persons"
        assert service["has_openapi"] is True and service["published_at"] is None
        assert {(e["method"], e["path"]) for e in service["endpoints"]} == {
            ("GET", "/persons/{nationalCode}"),
            ("POST", "/persons"),
        }
        base = f"/api/v1/services/{PROVIDER}/persons"
        document = client.get(f"{base}/openapi").json()
        assert document["paths"]["/persons"]["post"]["responses"]["201"]["description"] == "added"

        added = client.post(f"{base}/endpoints", json={"method": "get", "path": "/health/**"})
        assert added.status_code == 201 and added.json()["method"] == "GET"

        whole = client.post(f"{base}/access", json={"subject": CONSUMER})
        assert whole.status_code == 201, whole.text
        one = client.post(
            f"{base}/access",
            json={"subject": CONSUMER, "method": "GET", "path": "/persons/{nationalCode}"},
        )
        assert one.status_code == 201, one.text
        body = problem(client.post(f"{base}/access", json={"subject": CONSUMER}), 409)
        assert fields(body) == {"subject"}
        body = problem(
            client.post(f"{base}/access", json={"subject": CONSUMER, "method": "GET"}), 422
        )
        assert fields(body) == {"path"}

        group = client.post(
            "/api/v1/local-groups",
            json={"subsystem_id": PROVIDER, "code": "insurers", "description": "insurers"},
        )
        assert group.status_code == 201, group.text
        member = client.post(
            f"/api/v1/local-groups/{PROVIDER}/insurers/members", json={"member_id": CONSUMER}
        )
        assert member.json()["members"] == [CONSUMER]
        granted = client.post(
            f"{base}/access", json={"subject_kind": "local-group", "subject": "insurers"}
        )
        assert granted.status_code == 201, granted.text

        rights = client.get(f"{base}/access").json()
        assert {(r["subject_kind"], r["subject"], r["method"], r["path"]) for r in rights} == {
            ("subsystem", CONSUMER, None, None),
            ("subsystem", CONSUMER, "GET", "/persons/{nationalCode}"),
            ("local-group", "insurers", None, None),
        }

        revoked = client.delete(f"{base}/access", params={"subject": CONSUMER})
        assert revoked.status_code == 204
        gone = client.delete(
            f"{base}/access",
            params={"subject_kind": "local-group", "subject": "insurers"},
        )
        assert gone.status_code == 204
        rights = client.get(f"{base}/access").json()
        assert [(r["subject"], r["method"]) for r in rights] == [(CONSUMER, "GET")]

        updated = client.patch(base, json={"backend_url": "https://registry.internal"})
        assert updated.json()["backend_url"] == "https://registry.internal"
        assert updated.json()["ecosystem"] == "tax"  # untouched
        body = problem(client.patch(base, json={"backend_url": None}), 422)
        assert fields(body) == {"backend_url"}
        cleared = client.patch(base, json={"ecosystem": None})
        assert cleared.json()["ecosystem"] is None

        listed = client.get("/api/v1/services", params={"subsystem_id": PROVIDER}).json()
        assert [s["code"] for s in listed] == ["persons"]
        assert len(listed[0]["endpoints"]) == 3

        # The management API of a gateway without central cannot publish, and says why.
        body = problem(client.post(f"{base}/publish"), 500)
        assert fields(body) == {"central_url"}

        removed = client.delete(f"{base}/endpoints", params={"method": "GET", "path": "/health/**"})
        assert removed.status_code == 204
        assert client.patch(f"/api/v1/clients/{PROVIDER}", json={"body_logging": True}).json()[
            "body_logging"
        ]

        key = keys.generate_private_key()
        pem = x509.certificate_pem(x509.create_ca_certificate(key, common_name="is"))
        certificate = client.post(
            f"/api/v1/clients/{PROVIDER}/certificates", json={"certificate": pem}
        )
        assert certificate.status_code == 201, certificate.text
        fingerprint = certificate.json()["fingerprint"]
        assert (
            client.get(f"/api/v1/clients/{PROVIDER}").json()["certificates"][0]["fingerprint"]
            == fingerprint
        )

        final = client.get("/api/v1/configuration-version").json()["version"]
        # client, service, endpoint, 2 grants, group, member, grant, 2 revokes, 2 updates,
        # endpoint removal, body logging, certificate
        assert final == 15

        assert client.delete(f"/api/v1/clients/{PROVIDER}").status_code == 204
        assert client.get("/api/v1/services").json() == []


def test_the_cli_manages_the_same_database(database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "gateway"
    data_dir.mkdir()
    (data_dir / "gateway.toml").write_text(f'gateway_id = "{MEMBER}/gw1"\n')
    spec = tmp_path / "persons.yaml"
    spec.write_text(PERSONS_YAML)
    runner = CliRunner(env={"ZB_DATABASE_URL": database_url, "COLUMNS": "250"})

    def run(*args: str) -> str:
        result = runner.invoke(cli_app, [*args, "--data-dir", str(data_dir)])
        assert result.exit_code == 0, result.output
        return result.output

    assert PROVIDER in run("client", "add", PROVIDER, "--no-body-logging")
    output = run(
        "service", "add", PROVIDER, "persons", "http://127.0.0.1:9000",
        "--openapi", str(spec), "--ecosystem", "tax", "--kind", "person-inquiry",
        "--personal-data",
    )  # fmt: skip
    assert "GET /persons/{nationalCode}" in output and "POST /persons" in output
    run("endpoint", "add", PROVIDER, "persons", "*", "/health/**")
    run("group", "add", PROVIDER, "insurers", "--description", "insurers")
    assert CONSUMER in run("group", "add-member", PROVIDER, "insurers", CONSUMER)
    run("access", "grant", PROVIDER, "persons", CONSUMER)
    run(
        "access", "grant", PROVIDER, "persons", CONSUMER,
        "--method", "GET", "--path", "/persons/{nationalCode}",
    )  # fmt: skip
    run("access", "grant", PROVIDER, "persons", "insurers", "--kind", "local-group")
    listed = run("access", "list", PROVIDER, "persons")
    assert "whole service" in listed and "GET /persons/{nationalCode}" in listed
    assert "insurers" in listed
    run("access", "revoke", PROVIDER, "persons", "insurers", "--kind", "local-group")
    assert "insurers" not in run("access", "list", PROVIDER, "persons")
    services = run("service", "list", "--endpoints")
    assert f"{PROVIDER}/persons" in services and "* /health/**" in services
    assert "no" in run("client", "list")

    refused = runner.invoke(
        cli_app,
        ["service", "add", PROVIDER, "x", "file:///etc/passwd", "--data-dir", str(data_dir)],
    )
    assert refused.exit_code == 2
    assert "error: the backend URL must start with http:// or https://" in refused.output
    refused = runner.invoke(cli_app, ["client", "add", CONSUMER, "--data-dir", str(data_dir)])
    assert refused.exit_code == 2 and "does not host" in refused.output
    refused = runner.invoke(
        cli_app,
        [
            "access",
            "grant",
            PROVIDER,
            "persons",
            CONSUMER,
            "--method",
            "GET",
            "--data-dir",
            str(data_dir),
        ],
    )
    assert refused.exit_code == 2 and "--method and --path" in refused.output
    # Publishing needs central and a signing certificate; this gateway has neither.
    refused = runner.invoke(
        cli_app, ["service", "publish", PROVIDER, "persons", "--data-dir", str(data_dir)]
    )
    assert refused.exit_code == 2 and "central_url" in refused.output
