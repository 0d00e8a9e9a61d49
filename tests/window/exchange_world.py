"""The exchange behind the window in its tests: a real central, the window operator's gateway
(client subsystem ``window``) and the civil registry agency's gateway with a registry service
serving ``persons`` (tests/window/data/persons-1.0.yaml), readable by the window; records are
written through the exchange, as the registry's own systems would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from central_process import CentralProcess
from federation import Federation, GatewayProcess, RegistryProcess, add_registry, start_federation

DATA = Path(__file__).parent / "data"


@dataclass
class Exchange:
    federation: Federation
    operator: str
    """The window operator's member id."""
    civil: str
    """The civil registry agency's member id."""
    gateway: GatewayProcess
    """The operator's gateway (the window calls through its client port)."""
    civil_gateway: GatewayProcess
    registry: RegistryProcess

    @property
    def window_subsystem(self) -> str:
        return f"{self.operator}/window"

    @property
    def persons_service(self) -> str:
        return f"{self.civil}/registry/persons"

    def wait_until_granted(self, seconds: float = 30) -> None:
        """The provider's gateway reloads its access rights every few seconds: wait until the
        window's read is allowed (a missing record, not an access refusal)."""
        deadline = time.monotonic() + seconds
        while True:
            answer = self.read("0000000000")
            if "X-Road-Error" not in answer.headers or time.monotonic() > deadline:
                assert "X-Road-Error" not in answer.headers, answer.text
                return
            time.sleep(0.2)

    def read(self, national_code: str) -> httpx.Response:
        return httpx.post(
            f"{self.gateway.url}/r1/{self.persons_service}/1.0/read",
            json={"query": {"content": {"national_code": national_code}}},
            headers={
                "X-Road-Client": self.window_subsystem,
                "X-Road-UserId": "IR" + national_code,
                "X-Road-Purpose": "test",
            },
            timeout=30,
        )

    def add_person(self, record: dict[str, Any]) -> None:
        answer = httpx.post(
            f"{self.gateway.url}/r1/{self.persons_service}/1.0/create",
            json={"write": {"content": record}},
            headers={
                "X-Road-Client": self.window_subsystem,
                "X-Road-UserId": "IR" + record["national_code"],
                "X-Road-Purpose": "test-seed",
            },
            timeout=30,
        )
        assert answer.status_code in (200, 201), answer.text


@contextmanager
def exchange(
    root: Path, database_url: str | None, central: CentralProcess | None = None
) -> Iterator[Exchange]:
    """The exchange; on ``central`` when given (one whose trust list a test decides), else on a
    central of its own."""
    if central is None:
        fed = start_federation(root, database_url, central_env={"ZB_CONF_REFRESH_SECONDS": "1"})
    else:
        fed = Federation(central=central, root=root, database_url=database_url)
    registry = None
    try:
        operator = fed.add_member("Single window operator", ["window"], "PUB")
        civil = fed.add_member("Civil registration", ["registry"])
        gw_op, gw_civil = fed.add_gateway("operator", operator), fed.add_gateway("civil", civil)
        gw_op.cli("client", "add", f"{operator}/window")
        for gateway in (gw_op, gw_civil):
            gateway.launch()
        for gateway in (gw_op, gw_civil):
            gateway.wait_serving()
        registry = add_registry(fed, "civil-registry", civil, gw_civil)
        registry.start()
        registry.cli(
            "create", "persons", "--schema", str(DATA / "persons-1.0.yaml"),
            "--name-fa", "اشخاص", "--name-en", "Persons", "--ecosystem", "national",
        )  # fmt: skip
        registry.cli("publish", "persons", "--no-catalogue")
        gw_civil.cli("access", "grant", f"{civil}/registry", "persons", f"{operator}/window")
        world = Exchange(fed, operator, civil, gw_op, gw_civil, registry)
        world.wait_until_granted()
        yield world
    finally:
        if registry is not None:
            registry.stop()
        if central is None:
            fed.stop()
        else:
            for gateway in fed.gateways.values():
                gateway.stop()
