"""A small federation of real processes for the exchange tests: central, gateways set up with
`zistboom gateway init`, configured with the management CLI and run with `zistboom gateway
serve`, and provider backends (tests/gateway/backend.py)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from central_process import ZISTBOOM, CentralProcess, start_central
from support import free_port
from zistboom.core.iran import generate_legal_entity_id

BACKEND = Path(__file__).parent / "gateway" / "backend.py"
rng = random.Random()


def wait_http(
    url: str, process: subprocess.Popen[str], output: list[str], seconds: float = 60
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited while waiting for {url}:\n" + "".join(output))
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer:\n" + "".join(output))


def drain(process: subprocess.Popen[str], output: list[str]) -> None:
    def run() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)

    threading.Thread(target=run, daemon=True).start()


@dataclass
class GatewayProcess:
    member_id: str
    gateway_id: str
    data_dir: Path
    client_port: int
    peer_port: int
    admin_port: int
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [ZISTBOOM, "gateway", *args, "--data-dir", str(self.data_dir)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"gateway {args} failed: {result.stdout}{result.stderr}")
        return result

    def start(self) -> None:
        self.launch()
        self.wait_serving()

    def launch(self) -> None:
        """Start the process without waiting (several gateways start faster side by side)."""
        self.output = []
        self.process = subprocess.Popen(
            [ZISTBOOM, "gateway", "serve", "--data-dir", str(self.data_dir)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        drain(self.process, self.output)

    def wait_serving(self) -> None:
        assert self.process is not None, "launch() first"
        # The admin port opens last, once the client and peer ports listen.
        wait_http(
            f"http://127.0.0.1:{self.admin_port}/openapi.json",
            self.process,
            self.output,
            seconds=180,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Federation:
    central: CentralProcess
    root: Path
    database_url: str | None
    gateways: dict[str, GatewayProcess] = field(default_factory=dict)
    backends: list[subprocess.Popen[str]] = field(default_factory=list)
    pg_databases: list[str] = field(default_factory=list)
    backend: str = ""
    hosted_member: str = ""

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZB_")}
        env["ZB_CONF_REFRESH_SECONDS"] = "1"
        env["ZB_MESSAGELOG_INTERVAL"] = "2"
        env.update(extra or {})
        return env

    def admin(self) -> httpx.Client:
        return self.central.admin

    def add_member(self, name: str, subsystems: list[str], member_class: str = "GOV") -> str:
        code = generate_legal_entity_id(rng)
        kind = {"GOV": "agency", "COM": "company"}.get(member_class, "public-body")
        with self.admin() as client:
            created = client.post(
                "/api/v1/members",
                json={
                    "member_class": member_class,
                    "code": code,
                    "name_fa": name,
                    "name_en": name,
                    "kind": kind,
                },
            )
            assert created.status_code == 201, created.text
            for subsystem in subsystems:
                response = client.post(
                    f"/api/v1/members/{member_class}/{code}/subsystems", json={"code": subsystem}
                )
                assert response.status_code == 201, response.text
        return created.json()["id"]

    def add_gateway(
        self,
        name: str,
        member_id: str,
        gateway_code: str = "gw1",
        env: dict[str, str] | None = None,
        address_port: int | None = None,
    ) -> GatewayProcess:
        """``address_port``: the port central names for the gateway's peers (a proxy in front
        of its peer port), when not the peer port itself."""
        _, member_class, code = member_id.split("/")
        client_port, peer_port, admin_port = free_port(), free_port(), free_port()
        with self.admin() as client:
            registered = client.post(
                f"/api/v1/members/{member_class}/{code}/gateways",
                json={
                    "code": gateway_code,
                    "address": f"127.0.0.1:{address_port or peer_port}",
                },
            )
            assert registered.status_code == 201, registered.text
            token = client.post(
                "/api/v1/enrolment-tokens",
                json={"member_id": member_id, "kind": "gateway", "gateway_code": gateway_code},
            ).json()["token"]
            anchor = client.get("/anchor").json()["key_fingerprint"]
        gateway = GatewayProcess(
            member_id=member_id,
            gateway_id=f"{member_id}/{gateway_code}",
            data_dir=self.root / name,
            client_port=client_port,
            peer_port=peer_port,
            admin_port=admin_port,
            env=self.env(env),
        )
        result = subprocess.run(
            [
                ZISTBOOM, "gateway", "init", "--data-dir", str(gateway.data_dir),
                "--central", self.central.url, "--anchor", anchor, "--member", member_id,
                "--token", token, "--client-port", str(client_port),
                "--peer-port", str(peer_port), "--admin-port", str(admin_port),
                "--peer-host", "127.0.0.1",
            ],
            env=gateway.env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        if self.database_url:
            # Each gateway keeps its own database: on PostgreSQL, a database of its own.
            gateway.env["ZB_DATABASE_URL"] = self._new_pg_database()
        self.gateways[name] = gateway
        return gateway

    def _new_pg_database(self) -> str:
        import asyncio

        from support import create_pg_database

        name, url = asyncio.run(create_pg_database())
        self.pg_databases.append(name)
        return url

    def start_backend(self) -> str:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, str(BACKEND), str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output: list[str] = []
        drain(process, output)
        self.backends.append(process)
        wait_http(f"http://127.0.0.1:{port}/headers", process, output)
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        import asyncio

        from support import drop_pg_database

        for gateway in self.gateways.values():
            gateway.stop()
        for backend in self.backends:
            backend.terminate()
            backend.wait(timeout=10)
        self.central.process.terminate()
        self.central.process.wait(timeout=20)
        for name in self.pg_databases:
            asyncio.run(drop_pg_database(name))


def start_federation(
    root: Path, database_url: str | None, central_env: dict[str, str] | None = None
) -> Federation:
    central = start_central(root / "central", database_url, central_env)
    return Federation(central=central, root=root, database_url=database_url)


@dataclass
class RegistryProcess:
    """A registry service (`zistboom registry init` and `serve`) behind a gateway."""

    data_dir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [ZISTBOOM, "registry", *args, "--data-dir", str(self.data_dir)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"registry {args} failed: {result.stdout}{result.stderr}")
        return result

    def start(self) -> None:
        self.output = []
        self.process = subprocess.Popen(
            [ZISTBOOM, "registry", "serve", "--data-dir", str(self.data_dir)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        drain(self.process, self.output)
        wait_http(f"{self.url}/health", self.process, self.output)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class ServiceProcess:
    """A component run with ``zistboom … serve`` (the issuer, the hub)."""

    name: str
    command: list[str]
    health_url: str
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    def start(self) -> None:
        self.output = []
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        drain(self.process, self.output)
        wait_http(self.health_url, self.process, self.output, seconds=90)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


def add_registry(
    federation: Federation, name: str, member_id: str, gateway: GatewayProcess
) -> RegistryProcess:
    """A registry service for ``member_id`` that publishes through ``gateway``'s management API;
    on PostgreSQL with a database of its own."""
    port = free_port()
    env = federation.env()
    if federation.database_url:
        env["ZB_DATABASE_URL"] = federation._new_pg_database()
    registry = RegistryProcess(data_dir=federation.root / name, port=port, env=env)
    registry.cli(
        "init", "--member", member_id, "--port", str(port),
        "--gateway-admin-url", f"http://127.0.0.1:{gateway.admin_port}",
        "--gateway-admin-token-file", str(gateway.data_dir / "admin-token"),
    )  # fmt: skip
    return registry
