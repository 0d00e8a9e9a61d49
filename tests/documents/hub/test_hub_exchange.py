"""The hub behind its own gateway, called through the exchange: ``hub init`` registers its three
services on its gateway (each with its own backend URL and the backend secret), the gateway's
access rights decide who may call which, and the hub's own rule decides for whom: the single
window lists a person's locker, a company's system is refused when it names a person and lists
its own locker when it does not. Real processes: central, three gateways, the hub."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from documents.hub.world import MovableClock, hub_init, new_person, serve_hub
from federation import Federation, GatewayProcess, start_federation
from support import free_port
from trust_list_central import wait_for
from zistboom.documents.hub.settings import HubSettings

pytestmark = pytest.mark.timeout(900)


@dataclass
class Exchange:
    fed: Federation
    hub: str
    """The hub's subsystem, ``…/documents``."""
    window: str
    company: str
    gateways: dict[str, GatewayProcess]

    def call(
        self, via: str, client: str, service: str, path: str, **headers: str
    ) -> httpx.Response:
        sent = {"X-Road-Client": client, **{k.replace("_", "-"): v for k, v in headers.items()}}
        url = f"{self.gateways[via].url}/r1/{self.hub}/{service}{path}"
        return httpx.get(url, headers=sent, timeout=30)


@pytest.fixture(scope="module")
def exchange(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Exchange]:
    root = tmp_path_factory.mktemp("hub-exchange")
    fed = start_federation(root, None, central_env={"ZB_CONF_REFRESH_SECONDS": "1"})
    server = None
    try:
        authority = fed.add_member("Documents authority", ["documents"])
        window_member = fed.add_member("Window operator", ["window"], member_class="COM")
        company = fed.add_member("A company", ["erp"], member_class="COM")
        gw_h, gw_w = fed.add_gateway("h", authority), fed.add_gateway("w", window_member)
        gw_c = fed.add_gateway("c", company)
        gw_w.cli("client", "add", f"{window_member}/window")
        gw_c.cli("client", "add", f"{company}/erp")
        for gateway in (gw_h, gw_w, gw_c):
            gateway.launch()
        for gateway in (gw_h, gw_w, gw_c):
            gateway.wait_serving()
        data_dir = root / "hub"
        port = free_port()
        window = f"{window_member}/window"
        result = hub_init(
            fed.central, data_dir, authority, window, port, backend_database,
            "--gateway-admin-url", f"http://127.0.0.1:{gw_h.admin_port}",
            "--gateway-admin-token-file", str(gw_h.data_dir / "admin-token"),
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        settings = HubSettings.load(data_dir, database_url=backend_database)
        server = serve_hub(settings, MovableClock())
        hub = f"{authority}/documents"
        gw_h.cli("access", "grant", hub, "lockers", window)
        gw_h.cli("access", "grant", hub, "lockers", f"{company}/erp")
        gateways = {"h": gw_h, "w": gw_w, "c": gw_c}
        yield Exchange(fed, hub, window, f"{company}/erp", gateways)
    finally:
        if server is not None:
            server.stop()
        fed.stop()


def test_the_hub_registers_its_services_on_its_gateway(exchange: Exchange) -> None:
    gateway = exchange.gateways["h"]
    token = (gateway.data_dir / "admin-token").read_text().strip()
    expected = {
        "documents": {("POST", "/documents"), ("PUT", "/status-lists/{list_id}/{purpose}")},
        "lockers": {
            ("GET", "/lockers/documents"), ("GET", "/lockers/documents/{document_id}"),
            ("GET", "/lockers/shares"), ("POST", "/lockers/shares"),
            ("DELETE", "/lockers/shares/{share_id}"), ("GET", "/lockers/access-events"),
        },
        "shared-documents": {("GET", "/shares/{share_id}/document")},
    }  # fmt: skip
    for code, endpoints in expected.items():
        answer = httpx.get(
            f"http://127.0.0.1:{gateway.admin_port}/api/v1/services/{exchange.hub}/{code}",
            headers={"Authorization": f"Bearer {token}"}, timeout=30,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        service = answer.json()
        assert service["backend_url"].endswith(f"/exchange/{code}"), service
        assert {(e["method"], e["path"]) for e in service["endpoints"]} == endpoints


def answered(exchange: Exchange, *args: Any, **headers: str) -> httpx.Response | None:
    """The answer, once the gateways have taken the new services and rights (they reload
    within seconds): ``None`` while the exchange still refuses with its own error."""
    answer = exchange.call(*args, **headers)
    return None if "X-Road-Error" in answer.headers else answer


def test_the_window_acts_for_a_person_through_the_exchange(exchange: Exchange) -> None:
    person = new_person()
    answer = wait_for(
        lambda: answered(
            exchange, "w", exchange.window, "lockers", "/lockers/documents",
            X_Road_UserId=person, X_Road_Purpose="the person's own request",
        ),
        seconds=60, what="the window reaches the lockers service",
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"documents": []}


def test_a_company_acts_for_itself_only(exchange: Exchange) -> None:
    own = wait_for(
        lambda: answered(exchange, "c", exchange.company, "lockers", "/lockers/documents"),
        seconds=60, what="the company reaches the lockers service",
    )  # fmt: skip
    assert own.status_code == 200, own.text
    refused = exchange.call(
        "c", exchange.company, "lockers", "/lockers/documents", X_Road_UserId=new_person(),
        X_Road_Purpose="curiosity",
    )  # fmt: skip
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/act-for-person-refused")
    # No access right to the issuers' service: the exchange refuses before the hub hears of it.
    denied = exchange.call("c", exchange.company, "documents", "/status-lists/x/revocation")
    assert denied.status_code == 403 and "X-Road-Error" in denied.headers, denied.text
