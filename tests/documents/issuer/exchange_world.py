"""An issuer in a small federation of real processes, for the issuer's end-to-end tests.

- central: a real process whose trust-list content the test decides
  (``tests/trust_list_central.py``), with its CA, TSA and signed global configuration;
- the agency (civil registration): its gateway (``zistboom gateway init``/``serve``), its
  registry service with the seeded ``persons`` registry (``zistboom registry seed``), and its
  issuer (``zistboom documents issuer init``, which enrols the ``doc`` key and registers the
  ``credentials`` service on the gateway, then ``issuer serve``);
- the documents authority: its gateway and the hub (``zistboom documents hub init``/``serve``);
- access rights as an operator grants them: the agency's back office may call its issuer, the
  issuer may read ``persons`` and deposit at the hub's ``documents`` service.

On PostgreSQL every component has a database of its own. The test calls the issuer as the
agency's back office does, through the agency's gateway.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from central_process import ZISTBOOM, stop_central
from federation import (
    Federation,
    GatewayProcess,
    RegistryProcess,
    ServiceProcess,
    add_registry,
)
from support import free_port
from trust_list_central import (
    Content,
    accreditation,
    change,
    published,
    put_content,
    scheme,
    start_list_central,
    wait_for,
)
from zistboom.core.database import transaction
from zistboom.documents.issuer.database import open_database
from zistboom.documents.issuer.models import Allocation, StatusList
from zistboom.documents.issuer.settings import IssuerSettings

PERSON = "IR0499370899"  # the official the back office acts for (synthetic, valid check digit)


@dataclass(frozen=True)
class Allocated:
    list_id: str
    status_index: int
    outcome: str
    reason: str


@dataclass
class World:
    fed: Federation
    agency: str
    hub_member: str
    agency_gateway: GatewayProcess
    hub_gateway: GatewayProcess
    registry: RegistryProcess
    hub: ServiceProcess
    issuer: ServiceProcess
    issuer_dir: Path
    issuer_env: dict[str, str]
    hub_url: str
    since: datetime

    @property
    def back_office(self) -> str:
        return f"{self.agency}/backoffice"

    @property
    def issuer_service(self) -> str:
        return f"{self.agency}/issuer/credentials"

    def call_issuer(
        self, path: str, body: dict[str, Any], *, user_id: str | None = PERSON
    ) -> httpx.Response:
        """``POST /r1/<issuer>/credentials/<path>`` as the back office, through its gateway."""
        headers = {"X-Road-Client": self.back_office}
        if user_id:
            headers["X-Road-UserId"] = user_id
        return httpx.post(
            f"{self.agency_gateway.url}/r1/{self.issuer_service}/{path}",
            json=body,
            headers=headers,
            timeout=180,
        )

    def issue(self, credential: dict[str, Any], **options: Any) -> httpx.Response:
        return self.call_issuer("issue", {"credential": credential, "options": options})

    def status(self, credential_id: str, *entries: tuple[str, bool]) -> httpx.Response:
        return self.call_issuer(
            "status",
            {
                "credentialId": credential_id,
                "credentialStatus": [
                    {"type": "BitstringStatusListCredential", "statusPurpose": p, "status": s}
                    for p, s in entries
                ],
            },
        )

    def read_person(self, national_code: str | None = None) -> dict[str, Any]:
        """A record of the seeded persons registry, read as the back office."""
        headers = {
            "X-Road-Client": self.back_office,
            "X-Road-UserId": PERSON,
            "X-Road-Purpose": "test-suite",
        }
        base = f"{self.agency_gateway.url}/r1/{self.agency}/registry/persons/1.0"
        if national_code is None:
            answer = httpx.get(f"{base}?page_size=1", headers=headers, timeout=30)
            assert answer.status_code == 200, answer.text
            return dict(answer.json()["results"][0])
        answer = httpx.post(
            f"{base}/read",
            json={"query": {"content": {"national_code": national_code}}},
            headers=headers,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["content"])

    async def allocations(self) -> list[Allocated]:
        """Every status-list entry the issuer handed out, read from its database."""
        settings = IssuerSettings.load(
            self.issuer_dir, database_url=self.issuer_env.get("ZB_DATABASE_URL")
        )
        opened = await open_database(settings)
        try:
            async with transaction(opened.sessions) as session:
                rows = await session.execute(
                    select(StatusList.list_id, Allocation)
                    .join(Allocation, Allocation.list_number == StatusList.number)
                    .order_by(Allocation.allocated_at)
                )
                return [
                    Allocated(list_id, a.status_index, a.outcome, a.reason) for list_id, a in rows
                ]
        finally:
            await opened.engine.dispose()

    def restart_issuer(self) -> None:
        self.issuer.stop()
        self.issuer.start()


def issuer_content(member: str, *, since: datetime) -> Content:
    """The trust list: the national document-issuer scheme, the agency accredited at high."""
    document_issuer = scheme("national", "document-issuer", since=since, actions=("issue",))
    return Content(
        schemes=[document_issuer],
        accreditations=[
            accreditation(
                1,
                document_issuer.code,
                member,
                level="high",
                changes=[change("granted", since)],
                valid_until=since + timedelta(days=365),
            )
        ],
    )


def _doc_token(fed: Federation, member: str) -> str:
    with fed.admin() as client:
        answer = client.post("/api/v1/enrolment-tokens", json={"member_id": member, "kind": "doc"})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command[:4]} failed:\n{result.stdout}{result.stderr}"


def _component_env(fed: Federation) -> dict[str, str]:
    env = fed.env()
    if fed.database_url:
        env["ZB_DATABASE_URL"] = fed._new_pg_database()
    return env


def build_world(root: Path, database_url: str | None) -> Iterator[World]:
    central = start_list_central(root / "central", database_url)
    fed = Federation(central=central, root=root, database_url=database_url)
    started: list[Any] = []
    try:
        yield from _build(fed, root, started)
    finally:
        for component in reversed(started):
            component.stop()
        fed.stop()
        stop_central(central.process)


def _build(fed: Federation, root: Path, started: list[Any]) -> Iterator[World]:
    since = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    agency = fed.add_member("Civil registration", ["issuer", "backoffice", "registry"])
    hub_member = fed.add_member("Documents authority", ["documents"])
    window = fed.add_member("Single window operator", ["window"], member_class="COM")
    answer = put_content(fed.central, issuer_content(agency, since=since))
    assert answer.status_code == 204, answer.text
    wait_for(
        lambda: published(fed.central).trust_list.accreditations,
        seconds=30,
        what="central publishes the trust list",
    )
    gw_a, gw_h = fed.add_gateway("agency-gw", agency), fed.add_gateway("hub-gw", hub_member)
    gw_a.cli("client", "add", f"{agency}/backoffice")
    for gateway in (gw_a, gw_h):
        gateway.launch()
    for gateway in (gw_a, gw_h):
        gateway.wait_serving()
    anchor = root / "anchor.json"
    anchor.write_text(httpx.get(f"{fed.central.url}/anchor", timeout=10).text)

    registry = add_registry(fed, "registry", agency, gw_a)
    registry.cli("seed", "--size", "small", "--registry", "persons", "--publish")
    registry.start()
    started.append(registry)

    hub_port = free_port()
    hub_dir = root / "hub"
    hub_env = _component_env(fed)
    _run(
        [
            ZISTBOOM, "documents", "hub", "init", "--data-dir", str(hub_dir),
            "--member", hub_member, "--central-url", fed.central.url, "--anchor", str(anchor),
            "--window", f"{window}/window", "--token", _doc_token(fed, hub_member),
            "--port", str(hub_port),
            "--gateway-admin-url", f"http://127.0.0.1:{gw_h.admin_port}",
            "--gateway-admin-token-file", str(gw_h.data_dir / "admin-token"),
        ],
        hub_env,
    )  # fmt: skip
    hub_url = f"http://127.0.0.1:{hub_port}"
    hub = ServiceProcess(
        "hub",
        [ZISTBOOM, "documents", "hub", "serve", "--data-dir", str(hub_dir)],
        f"{hub_url}/health",
        hub_env,
    )
    hub.start()
    started.append(hub)

    issuer_port = free_port()
    issuer_dir = root / "issuer"
    issuer_env = _component_env(fed)
    issuer_env.update({"ZB_CONF_REFRESH_SECONDS": "1", "ZB_STATUS_CHECK_SECONDS": "1"})
    _run(
        [
            ZISTBOOM, "documents", "issuer", "init", "--data-dir", str(issuer_dir),
            "--central-url", fed.central.url, "--anchor", str(anchor),
            "--token", _doc_token(fed, agency), "--member", agency,
            "--gateway-url", gw_a.url, "--hub-service", f"{hub_member}/documents/documents",
            "--hub-url", hub_url, "--registry-subsystem", f"{agency}/registry",
            "--port", str(issuer_port),
            "--gateway-admin-url", f"http://127.0.0.1:{gw_a.admin_port}",
            "--gateway-admin-token-file", str(gw_a.data_dir / "admin-token"),
        ],
        issuer_env,
    )  # fmt: skip
    issuer = ServiceProcess(
        "issuer",
        [ZISTBOOM, "documents", "issuer", "serve", "--data-dir", str(issuer_dir)],
        f"http://127.0.0.1:{issuer_port}/health",
        issuer_env,
    )
    issuer.start()
    started.append(issuer)

    gw_a.cli("access", "grant", f"{agency}/issuer", "credentials", f"{agency}/backoffice")
    gw_a.cli("access", "grant", f"{agency}/registry", "persons", f"{agency}/issuer")
    gw_a.cli("access", "grant", f"{agency}/registry", "persons", f"{agency}/backoffice")
    gw_h.cli("access", "grant", f"{hub_member}/documents", "documents", f"{agency}/issuer")
    # Gateways take configuration changes within a few seconds: wait until each call goes
    # through (the service itself answers, whatever it says to a GET).
    for client, path in (
        (f"{agency}/backoffice", f"{agency}/issuer/credentials/issue"),
        (f"{agency}/issuer", f"{agency}/registry/persons/1.0"),
        (f"{agency}/issuer", f"{hub_member}/documents/documents/documents"),
    ):
        wait_for(
            lambda client=client, path=path: _goes_through(gw_a, client, path),
            seconds=60,
            what=f"{client} reaches {path} through the exchange",
        )
    yield World(
        fed=fed,
        agency=agency,
        hub_member=hub_member,
        agency_gateway=gw_a,
        hub_gateway=gw_h,
        registry=registry,
        hub=hub,
        issuer=issuer,
        issuer_dir=issuer_dir,
        issuer_env=issuer_env,
        hub_url=hub_url,
        since=since,
    )


def _goes_through(gateway: GatewayProcess, client: str, path: str) -> bool:
    answer = httpx.get(
        f"{gateway.url}/r1/{path}",
        headers={"X-Road-Client": client, "X-Road-UserId": PERSON, "X-Road-Purpose": "probe"},
        timeout=30,
    )
    return "x-road-error" not in answer.headers


def problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, f"{answer.status_code}: {answer.text}"
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    body: dict[str, Any] = json.loads(answer.content)
    return body
