"""The exchange benchmark: what the security of the message path costs.

One request shape at a time (GET answered with 1 KiB of JSON; POST of a 16 KiB JSON body,
answered with a small JSON acknowledgement) goes two ways, in the same run, to the same
provider backend process:

- secure: load generator → gateway A (client port, plain HTTP from loopback) → gateway B (peer
  port, mutual TLS 1.3, RFC 9421 signatures both ways, durable message log with bodies) → backend,
  with real processes set up as an operator would (``zistboom central serve``, ``zistboom gateway
  init`` with a 'gateway' enrolment token, the management CLI, ``zistboom gateway serve``);
- plain: load generator → proxy → proxy → backend, two aiohttp.web processes on uvloop that
  forward with a pooled aiohttp ClientSession (no TLS, no signatures, no log): the baseline.

For each way it measures round trips per second at saturation (``--workers`` concurrent
requests for ``--duration`` seconds after a warm-up) with p50 and p99 latency, and p50 and p99
with one request at a time (``--sequential`` requests). It prints a table, one summary line per
shape, and as its last line, for the GET shape:
``ratio=<secure/plain throughput> secure_rps=<n> plain_rps=<n> added_p50_ms=<n>``.

The full run keeps the gateways' and central's databases on PostgreSQL (fresh databases on
127.0.0.1:5432, dropped at the end); ``--quick`` keeps them in SQLite files. Hidden modes of the
same script run the backend (``--backend PORT``) and a plain proxy (``--plain-proxy PORT
UPSTREAM``) as their own processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import FrameType

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import httpx
import orjson
import uvloop
from aiohttp import web
from multidict import CIMultiDict
from rich.console import Console
from rich.table import Table
from yarl import URL

from zistboom.core.iran import generate_legal_entity_id

ZISTBOOM = str(Path(sys.executable).with_name("zistboom"))
POSTGRES = os.environ.get("ZB_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
PERSON = "0499370899"
GET_ANSWER_BYTES = 1024
POST_BODY_BYTES = 16 * 1024
# Headers that belong to one hop; a proxy sets its own.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


# Ports handed out by this process, never twice.
_given: set[int] = set()
_rng = random.SystemRandom()


def free_port() -> int:
    """A port free now, below the ephemeral range (32768 and up on Linux): a port the kernel
    hands out for bind(0) is one it may hand out again for an outgoing connection before the
    server that was meant to get it binds it (seen as "address already in use")."""
    while True:
        port = _rng.randrange(20000, 32000)
        if port in _given:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port


# --- the provider backend and the plain proxy (hidden modes, each its own process) -----------


def person_answer(code: str) -> bytes:
    """A JSON answer of exactly GET_ANSWER_BYTES bytes."""
    skeleton = {"national_code": code, "name": "Bench Person", "padding": ""}
    size = len(orjson.dumps(skeleton))
    skeleton["padding"] = "x" * (GET_ANSWER_BYTES - size)
    return orjson.dumps(skeleton)


def backend_app() -> web.Application:
    async def person(request: web.Request) -> web.Response:
        return web.Response(
            body=person_answer(request.match_info["code"]), content_type="application/json"
        )

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        return web.Response(
            body=orjson.dumps({"ok": True, "received_bytes": len(body)}),
            content_type="application/json",
        )

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_get("/persons/{code}", person)
    app.router.add_post("/echo", echo)
    app.router.add_get("/health", health)
    return app


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def plain_proxy_app(upstream: str) -> web.Application:
    """Forward every request to ``upstream`` as it came, over pooled keep-alive connections."""
    sessions: list[aiohttp.ClientSession] = []

    async def pool(_app: web.Application) -> AsyncIterator[None]:
        sessions.append(
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=30),
                auto_decompress=False,
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
            )
        )
        yield
        await sessions[0].close()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = CIMultiDict(
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in HOP_BY_HOP
        )
        async with sessions[0].request(
            request.method,
            URL(upstream + request.rel_url.raw_path_qs, encoded=True),
            headers=headers,
            data=body if body else None,
            allow_redirects=False,
        ) as answer:
            answer_body = await answer.read()
            out = CIMultiDict(
                (name, value)
                for name, value in answer.headers.items()
                if name.lower() not in HOP_BY_HOP
            )
            return web.Response(status=answer.status, body=answer_body, headers=out)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.cleanup_ctx.append(pool)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


async def serve_until_signalled(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


# --- the federation under benchmark ---------------------------------------------------------


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass(eq=False)
class Gateway:
    name: str
    member_id: str
    data_dir: Path
    client_port: int
    peer_port: int
    admin_port: int
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"


class SetUpFailed(RuntimeError):
    """A step of setting up the processes under benchmark failed; the message says which."""


@dataclass
class Federation:
    """Central, two gateways, the backend and the plain proxies, as processes; torn down in
    :meth:`stop` whatever happened."""

    root: Path
    postgres: bool
    processes: list[Process] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)
    central_url: str = ""
    admin_key: str = ""
    gateways: dict[str, Gateway] = field(default_factory=dict)
    backend_url: str = ""
    plain_url: str = ""
    client_id: str = ""
    provider_id: str = ""
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))

    # processes ---------------------------------------------------------------------------

    def spawn(self, name: str, args: Sequence[str], env: dict[str, str] | None = None) -> Process:
        log = self.root / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            popen = subprocess.Popen(
                list(args), env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def wait_http(self, process: Process, url: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise SetUpFailed(f"{process.name} exited while starting:\n{process.tail()}")
            try:
                if httpx.get(url, timeout=1).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise SetUpFailed(f"{process.name} did not answer at {url}:\n{process.tail()}")

    def run_all(self, commands: dict[str, tuple[list[str], dict[str, str]]]) -> None:
        """Run one-shot commands side by side; each must succeed."""
        running = {
            name: subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for name, (args, env) in commands.items()
        }
        failures = []
        try:
            for name, popen in running.items():
                output, _ = popen.communicate(timeout=120)
                if popen.returncode != 0:
                    failures.append(f"{name} failed ({popen.returncode}):\n{output.decode()}")
        finally:  # interrupted: none of them may outlive the benchmark
            for popen in running.values():
                if popen.poll() is None:
                    popen.kill()
                    popen.wait()
        if failures:
            raise SetUpFailed("\n".join(failures))

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=5)
        if self.databases:
            asyncio.run(drop_databases(self.databases))
            self.databases.clear()

    # environment and databases ----------------------------------------------------------

    def base_env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if not k.startswith("ZB_")}

    def new_database(self, role: str) -> str | None:
        if not self.postgres:
            return None
        name = f"zb_bench_{self.run_id}_{role}"
        asyncio.run(create_database(name))
        self.databases.append(name)
        base = POSTGRES.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        return f"{base}/{name}"

    # set-up -------------------------------------------------------------------------------

    def start(self) -> None:
        self._start_central()
        client_member = self._add_member("Bench client agency", "client")
        provider_member = self._add_member("Bench registry agency", "registry")
        self.client_id = f"{client_member}/client"
        self.provider_id = f"{provider_member}/registry"
        a = self._register_gateway("a", client_member)
        b = self._register_gateway("b", provider_member)
        port = free_port()
        backend = self.spawn("backend", [sys.executable, __file__, "--backend", str(port)])
        self.backend_url = f"http://127.0.0.1:{port}"
        p1, p2 = free_port(), free_port()
        proxies = [
            (self.spawn("plain-proxy-2", [sys.executable, __file__, "--plain-proxy", str(p2),
                                          self.backend_url]), p2),
            (self.spawn("plain-proxy-1", [sys.executable, __file__, "--plain-proxy", str(p1),
                                          f"http://127.0.0.1:{p2}"]), p1),
        ]  # fmt: skip
        self.plain_url = f"http://127.0.0.1:{p1}"
        self._init_gateways([a, b])
        # Each gateway is configured with the management CLI, then served; the two side by side.
        chains = {
            a: [self._cli(a, "client", "add", self.client_id)],
            b: [
                self._cli(b, "client", "add", self.provider_id),
                self._cli(b, "service", "add", self.provider_id, "bench", self.backend_url),
                self._cli(b, "access", "grant", self.provider_id, "bench", self.client_id),
            ],
        }
        with ThreadPoolExecutor(len(chains)) as pool:
            served = list(pool.map(lambda g: self._configure_and_serve(g, chains[g]), chains))
        self.wait_http(backend, f"{self.backend_url}/health")
        for process, proxy_port in proxies:
            self.wait_http(process, f"http://127.0.0.1:{proxy_port}/health")
        for process, gateway in zip(served, chains, strict=True):
            self.wait_http(process, f"{gateway.url}/health")

    def _configure_and_serve(self, gateway: Gateway, commands: list[list[str]]) -> Process:
        for command in commands:
            self.run_all(
                {f"gateway {gateway.name}: {' '.join(command[2:4])}": (command, gateway.env)}
            )
        return self.spawn(
            f"gateway-{gateway.name}",
            [ZISTBOOM, "gateway", "serve", "--data-dir", str(gateway.data_dir)],
            gateway.env,
        )

    def _start_central(self) -> None:
        port = free_port()
        env = self.base_env()
        # Re-issue the configuration on the next fetch once it is a second old, so gateways
        # started after their registration see one another.
        env["ZB_CONF_REFRESH_SECONDS"] = "1"
        url = self.new_database("central")
        if url:
            env["ZB_DATABASE_URL"] = url
        central = self.spawn(
            "central",
            [ZISTBOOM, "central", "serve", "--data-dir", str(self.root / "central"),
             "--port", str(port)],
            env,
        )  # fmt: skip
        self.central_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if central.popen.poll() is not None:
                raise SetUpFailed(f"central exited while starting:\n{central.tail()}")
            lines = [ln for ln in central.tail(200).splitlines() if "First admin API key" in ln]
            if lines:
                self.admin_key = lines[0].rsplit(" ", 1)[-1].strip()
                break
            time.sleep(0.05)
        else:
            raise SetUpFailed(f"central printed no admin API key:\n{central.tail()}")
        self.wait_http(central, f"{self.central_url}/health")

    def _admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.central_url,
            headers={"Authorization": f"Bearer {self.admin_key}"},
            timeout=30,
        )

    def _add_member(self, name: str, subsystem: str, member_class: str = "GOV") -> str:
        code = generate_legal_entity_id(random.Random())
        kind = {"GOV": "agency", "COM": "company"}.get(member_class, "public-body")
        with self._admin() as client:
            created = client.post(
                "/api/v1/members",
                json={"member_class": member_class, "code": code, "name_fa": name,
                      "name_en": name, "kind": kind},
            )  # fmt: skip
            expect(created, 201, f"creating member {name}")
            added = client.post(
                f"/api/v1/members/{member_class}/{code}/subsystems", json={"code": subsystem}
            )
            expect(added, 201, f"adding subsystem {subsystem}")
        member_id: str = created.json()["id"]
        return member_id

    def _register_gateway(self, name: str, member_id: str) -> Gateway:
        _, member_class, code = member_id.split("/")
        gateway = Gateway(
            name, member_id, self.root / f"gateway-{name}", free_port(), free_port(), free_port(),
            self.base_env(),
        )  # fmt: skip
        gateway.env["ZB_MESSAGELOG_INTERVAL"] = "60"  # the default, stated: sealing is rare
        with self._admin() as client:
            registered = client.post(
                f"/api/v1/members/{member_class}/{code}/gateways",
                json={"code": "gw1", "address": f"127.0.0.1:{gateway.peer_port}"},
            )
            expect(registered, 201, f"registering gateway {name}")
        self.gateways[name] = gateway
        return gateway

    def _init_gateways(self, gateways: list[Gateway]) -> None:
        commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        with self._admin() as client:
            anchor = client.get("/anchor").json()["key_fingerprint"]
            for gateway in gateways:
                issued = client.post(
                    "/api/v1/enrolment-tokens",
                    json={"member_id": gateway.member_id, "kind": "gateway", "gateway_code": "gw1"},
                )
                expect(issued, 201, f"issuing an enrolment token for gateway {gateway.name}")
                commands[f"gateway {gateway.name}: init"] = (
                    [ZISTBOOM, "gateway", "init", "--data-dir", str(gateway.data_dir),
                     "--central", self.central_url, "--anchor", anchor,
                     "--member", gateway.member_id, "--token", issued.json()["token"],
                     "--client-port", str(gateway.client_port),
                     "--peer-port", str(gateway.peer_port),
                     "--admin-port", str(gateway.admin_port), "--peer-host", "127.0.0.1"],
                    gateway.env,
                )  # fmt: skip
        self.run_all(commands)
        for gateway in gateways:
            url = self.new_database(f"gateway_{gateway.name}")
            if url:
                gateway.env["ZB_DATABASE_URL"] = url

    @staticmethod
    def _cli(gateway: Gateway, *args: str) -> list[str]:
        return [ZISTBOOM, "gateway", *args, "--data-dir", str(gateway.data_dir)]


def expect(response: httpx.Response, status: int, doing: str) -> None:
    if response.status_code != status:
        raise SetUpFailed(f"{doing}: central answered {response.status_code}: {response.text}")


async def create_database(name: str) -> None:
    try:
        connection = await asyncpg.connect(POSTGRES, timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        raise SetUpFailed(
            f"PostgreSQL at {POSTGRES} is not reachable ({error}); the full run needs it "
            "(or run with --quick for SQLite)"
        ) from error
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_databases(names: list[str]) -> None:
    connection = await asyncpg.connect(POSTGRES, timeout=10)
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


# --- the load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    name: str
    method: str
    path: str
    body: bytes | None


@dataclass(frozen=True)
class Route:
    name: str
    base: str
    """URL prefix the shape's path is appended to."""
    headers: dict[str, str]


@dataclass
class Sample:
    latencies_ns: list[int]
    errors: int
    elapsed_ns: int
    first_error: str = ""

    @property
    def rps(self) -> float:
        return len(self.latencies_ns) / (self.elapsed_ns / 1e9) if self.elapsed_ns else 0.0

    def percentile_ms(self, p: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies_ns:
            return math.nan
        ordered = sorted(self.latencies_ns)
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1] / 1e6


@dataclass
class Result:
    shape: str
    route: str
    saturated: Sample
    sequential: Sample


def post_body() -> bytes:
    """A JSON document of exactly POST_BODY_BYTES bytes."""
    skeleton = {"national_code": PERSON, "attachment": ""}
    skeleton["attachment"] = "y" * (POST_BODY_BYTES - len(orjson.dumps(skeleton)))
    return orjson.dumps(skeleton)


def shapes() -> list[Shape]:
    return [
        Shape("GET", "GET", f"/persons/{PERSON}", None),
        Shape("POST", "POST", "/echo", post_body()),
    ]


class Load:
    """Requests of one shape over one route, from this process, through one keep-alive pool."""

    def __init__(self, session: aiohttp.ClientSession, route: Route, shape: Shape) -> None:
        self.session = session
        self.url = URL(route.base + shape.path, encoded=True)
        self.shape = shape
        self.headers = dict(route.headers)
        if shape.body is not None:
            self.headers["Content-Type"] = "application/json"

    async def one(self) -> tuple[bool, str]:
        try:
            async with self.session.request(
                self.shape.method, self.url, data=self.shape.body, headers=self.headers
            ) as answer:
                body = await answer.read()
                if answer.status != 200:
                    return False, f"{answer.status}: {body[:300]!r}"
                return True, ""
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            return False, f"{type(error).__name__}: {error}"

    async def saturate(self, workers: int, seconds: float) -> Sample:
        latencies: list[int] = []
        errors = 0
        first_error = ""
        started = time.perf_counter_ns()
        deadline = started + int(seconds * 1e9)

        async def worker() -> None:
            nonlocal errors, first_error
            while (begun := time.perf_counter_ns()) < deadline:
                ok, problem = await self.one()
                if ok:
                    latencies.append(time.perf_counter_ns() - begun)
                else:
                    errors += 1
                    first_error = first_error or problem
                    await asyncio.sleep(0.01)  # a failing path must not spin the loop

        await asyncio.gather(*(worker() for _ in range(workers)))
        return Sample(latencies, errors, time.perf_counter_ns() - started, first_error)

    async def one_at_a_time(self, count: int) -> Sample:
        latencies: list[int] = []
        errors = 0
        first_error = ""
        started = time.perf_counter_ns()
        for _ in range(count):
            begun = time.perf_counter_ns()
            ok, problem = await self.one()
            if ok:
                latencies.append(time.perf_counter_ns() - begun)
            else:
                errors += 1
                first_error = first_error or problem
        return Sample(latencies, errors, time.perf_counter_ns() - started, first_error)


@dataclass(frozen=True)
class Plan:
    workers: int
    duration: float
    warmup: float
    sequential: int


async def check_answers(session: aiohttp.ClientSession, routes: list[Route]) -> None:
    """Each route answers each shape with the backend's answer before anything is timed."""
    for route in routes:
        for shape in shapes():
            load = Load(session, route, shape)
            async with session.request(
                shape.method, load.url, data=shape.body, headers=load.headers
            ) as answer:
                body = await answer.read()
                if answer.status != 200:
                    raise SetUpFailed(
                        f"{route.name} {shape.name} answered {answer.status}: {body[:500]!r}"
                    )
            if shape.body is None and len(body) != GET_ANSWER_BYTES:
                raise SetUpFailed(f"{route.name} GET answered {len(body)} bytes, not 1 KiB")
            if shape.body is not None and json.loads(body)["received_bytes"] != len(shape.body):
                raise SetUpFailed(f"{route.name} POST: the backend got {body!r}")


async def measure(routes: list[Route], plan: Plan, say: Callable[[str], None]) -> list[Result]:
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    ) as session:
        await check_answers(session, routes)
        results: list[Result] = []
        for shape in shapes():
            for route in routes:
                load = Load(session, route, shape)
                say(f"  {route.name:6} {shape.name:4}: one at a time ({plan.sequential}) …")
                await load.one_at_a_time(max(10, plan.sequential // 10))  # warm the path up
                sequential = await load.one_at_a_time(plan.sequential)
                say(f"  {route.name:6} {shape.name:4}: {plan.workers} at once for "
                    f"{plan.duration:g} s …")  # fmt: skip
                await load.saturate(plan.workers, plan.warmup)
                saturated = await load.saturate(plan.workers, plan.duration)
                results.append(Result(shape.name, route.name, saturated, sequential))
        return results


# --- the report -------------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value:.2f}"


def report(console: Console, results: list[Result], plan: Plan) -> str:
    table = Table(
        title=f"round trips: {plan.workers} concurrent for {plan.duration:g} s (after "
        f"{plan.warmup:g} s warm-up); {plan.sequential} one at a time; latencies in ms"
    )
    for column in ("path", "shape", "rps@sat", "p50@sat", "p99@sat", "p50 seq", "p99 seq",
                   "errors"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("path", "shape") else "right")
    for result in sorted(results, key=lambda r: (r.shape, r.route != "secure")):
        sat, seq = result.saturated, result.sequential
        table.add_row(
            result.route, result.shape, f"{sat.rps:.0f}", ms(sat.percentile_ms(50)),
            ms(sat.percentile_ms(99)), ms(seq.percentile_ms(50)), ms(seq.percentile_ms(99)),
            str(sat.errors + seq.errors),
        )  # fmt: skip
    console.print(table)
    for result in results:
        for sample, mode in (
            (result.saturated, "saturation"),
            (result.sequential, "one at a time"),
        ):
            if sample.errors:
                console.print(
                    f"[red]{result.route} {result.shape} ({mode}): {sample.errors} failed, "
                    f"first: {sample.first_error}[/red]"
                )
    last = ""
    for shape in ("GET", "POST"):
        secure = next(r for r in results if r.shape == shape and r.route == "secure")
        plain = next(r for r in results if r.shape == shape and r.route == "plain")
        ratio = secure.saturated.rps / plain.saturated.rps if plain.saturated.rps else 0.0
        added = secure.sequential.percentile_ms(50) - plain.sequential.percentile_ms(50)
        verdict_rps = "met" if ratio >= 0.5 else "MISSED"
        verdict_p50 = "met" if added <= 3.0 else "MISSED"
        console.print(
            f"{shape}: secure/plain throughput at saturation = {ratio:.2f} (target >= 0.50: "
            f"{verdict_rps}); added p50 one at a time = {added:.2f} ms (target <= 3 ms: "
            f"{verdict_p50})",
            highlight=False,
        )
        if shape == "GET":
            last = (
                f"ratio={ratio:.2f} secure_rps={secure.saturated.rps:.0f} "
                f"plain_rps={plain.saturated.rps:.0f} added_p50_ms={added:.2f}"
            )
    return last


# --- entry points -----------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Round trips through two gateways (full security, durable log) against a "
        "plain two-hop reverse proxy, on this machine."
    )
    parser.add_argument(
        "--quick", action="store_true", help="SQLite, 3 s per saturation run, 150 one at a time"
    )
    parser.add_argument("--duration", type=float, help="seconds per saturation run (10; quick 3)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before it (2; quick 1)")
    parser.add_argument("--sequential", type=int, help="requests one at a time (500; quick 150)")
    parser.add_argument("--workers", type=int, default=64, help="concurrent requests (64)")
    parser.add_argument("--keep", action="store_true", help="keep the data directories and logs")
    parser.add_argument("--backend", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument(
        "--plain-proxy", nargs=2, metavar=("PORT", "UPSTREAM"), help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def benchmark(arguments: argparse.Namespace) -> int:
    quick: bool = arguments.quick
    plan = Plan(
        workers=arguments.workers,
        duration=arguments.duration or (3.0 if quick else 10.0),
        warmup=arguments.warmup if arguments.warmup is not None else (1.0 if quick else 2.0),
        sequential=arguments.sequential or (150 if quick else 500),
    )
    console = Console(width=110, highlight=False, soft_wrap=True)
    # Interrupted or terminated, even when started with SIGINT ignored: tear down first.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    root = Path(tempfile.mkdtemp(prefix="zb-bench-"))
    federation = Federation(root, postgres=not quick)
    began = time.monotonic()
    try:
        if quick:
            console.print(f"databases: SQLite (files under {root})")
        else:
            server = POSTGRES.rsplit("@", 1)[-1].rsplit("/", 1)[0]
            console.print(
                f"databases: PostgreSQL at {server} (fresh databases "
                f"zb_bench_{federation.run_id}_*, dropped at the end)"
            )
        console.print(
            f"machine: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.2f} at start), "
            f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, uvloop "
            f"{metadata.version('uvloop')}; everything on this host"
        )
        console.print(
            "gateways: durable message log with bodies (group commit), seal interval 60 s, "
            "operational log to a file"
        )
        console.print("setting up central, gateways A and B, the backend and the plain proxies …")
        federation.start()
        console.print(f"  ready after {time.monotonic() - began:.1f} s")
        routes = [
            Route("plain", federation.plain_url, {"X-Road-Client": federation.client_id}),
            Route(
                "secure",
                f"{federation.gateways['a'].url}/r1/{federation.provider_id}/bench",
                {"X-Road-Client": federation.client_id},
            ),
        ]
        results = uvloop.run(measure(routes, plan, console.print))
        last = report(console, results, plan)
        console.print(
            f"took {time.monotonic() - began:.1f} s (load average {os.getloadavg()[0]:.2f} at end)"
        )
    except SetUpFailed as error:
        console.print(f"[red]set-up failed:[/red] {error}", highlight=False, markup=False)
        return 2
    finally:
        federation.stop()
        if arguments.keep:
            console.print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    # The last line, for scripts: the GET shape.
    print(last, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if arguments.backend is not None:
        uvloop.run(serve_until_signalled(backend_app(), arguments.backend))
        return 0
    if arguments.plain_proxy is not None:
        port, upstream = arguments.plain_proxy
        uvloop.run(serve_until_signalled(plain_proxy_app(upstream.rstrip("/")), int(port)))
        return 0
    return benchmark(arguments)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: every process stopped, temporary files removed", file=sys.stderr)
        sys.exit(130)
