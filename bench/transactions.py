"""The asynchronous messaging benchmark: what a durable, receipted message costs against a
synchronous round trip through the same two gateways.

The set-up, as an operator would make it (bench/exchange.py's Federation, imported: this
script's folder is first on ``sys.path``): central; gateway A for a COM member whose subsystem
sends; gateway B for a GOV member whose subsystem receives, its service ``bench`` granted to the
sender, and its push endpoint (``zistboom gateway client push-endpoint``) a receiving
information system of this script's own (hidden mode ``--system PORT``: aiohttp.web on uvloop,
answering a push 204 and a synchronous ``POST /sync`` 200 at once, counting the message ids it
was pushed).

One message is a 1 KiB JSON body POSTed to A's ``/messages/v1/{service}`` (answered 202 with
its id). It travels: A's outbox → signed delivery over mutual TLS to B → B stores it and
answers with a signed receipt (A: ``received``) → B pushes it to the system, which answers 204
→ B records it ``delivered`` and sends a signed status notice back to A (A: ``delivered``).

In one run it measures:

1. **async_mps**: ``--workers`` submitters POST messages for ``--duration`` seconds (after a
   warm-up whose messages are all delivered first); the messages of the window divided by the
   time from the first submission to the last ``delivered_at`` among them at the sender. The
   bench learns the statuses from A's outbox listing (``GET /messages/v1/outbox``: polled with
   ``status=`` and ``limit=1`` until nothing is pending, then read page by page, 500 at a time),
   as an information system would, not from the database.
2. **p50/p99 submission → received**, one message at a time (``--sequential``): the time from
   the ``accepted`` transition (written as the submission is stored, just before the 202) to the
   ``received`` one (the receipt checked and stored), both from the status resource
   ``GET /messages/v1/outbox/{id}``; the next message goes once the last is ``delivered``.
   The same for a sample of the saturation window's messages (queueing included).
3. **drain_mps**: gateway B stopped (SIGTERM), a backlog (``--backlog``: 10,000; quick 1,000)
   submitted to A, B started again; the backlog divided by the time from B answering its health
   check to the last of the backlog ``delivered`` at A. The gateways retry with a short backoff
   (0.2 s doubling to a 1 s cap; the default is 1 s to 300 s) so that the drain measures the
   gateways rather than the backoff's schedule.
4. **sync_rps**: ``POST /r1/{service}/sync`` with the same 1 KiB body, through the same gateways
   to the same system process and service, at saturation with the same ``--workers`` (and one at
   a time): the baseline, and the ratio async_mps / sync_rps against the target 0.5.

Nothing may be lost: every accepted message must end ``delivered`` at A and its id must have
been pushed to the system (``lost=<n>``; ``duplicates_at_system=<n>`` counts ids pushed more
than once). The run exits 1 when a message is lost.

The full run keeps central's and the gateways' databases on PostgreSQL (fresh databases on
127.0.0.1:5432, dropped at the end); ``--quick`` keeps them in SQLite files and finishes in about
a minute. It prints a table with every figure and, as its last line,
``async_mps=<n> p50_received_ms=<n> drain_mps=<n>``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import exchange as xb
import orjson
import uvloop
from aiohttp import web
from rich.console import Console
from rich.table import Table
from yarl import URL

from zistboom.gateway.settings import GatewaySettings

BODY_BYTES = 1024
SERVICE = "bench"
TARGET_RATIO = 0.5
# Statuses at the sender on the way to ``delivered``.
PENDING = ("accepted", "sent", "received")
PAGE = 500
# Short retries, stated in the output: the drain measures the gateways, not the backoff.
RETRY_ENV = {"ZB_MESSAGE_RETRY_BASE_SECONDS": "0.2", "ZB_MESSAGE_RETRY_CAP_SECONDS": "1"}


def message_body() -> bytes:
    """A JSON document of exactly BODY_BYTES bytes."""
    skeleton = {"invoice": "bench-0001", "amount_rials": 125_000_000, "padding": ""}
    skeleton["padding"] = "z" * (BODY_BYTES - len(orjson.dumps(skeleton)))
    return orjson.dumps(skeleton)


# --- the receiving information system (hidden mode, its own process) -------------------------


def system_app() -> web.Application:
    """Takes pushes (204) and synchronous requests (200) at once; counts the pushed ids."""
    pushed: dict[str, int] = {}

    async def push(request: web.Request) -> web.Response:
        await request.read()
        message_id = request.headers.get("X-Road-Id", "")
        pushed[message_id] = pushed.get(message_id, 0) + 1
        return web.Response(status=204)

    async def answer(request: web.Request) -> web.Response:
        body = await request.read()
        return web.Response(
            body=orjson.dumps({"ok": True, "received_bytes": len(body)}),
            content_type="application/json",
        )

    async def seen(_request: web.Request) -> web.Response:
        return web.Response(
            body=orjson.dumps({"pushes": sum(pushed.values()), "ids": list(pushed)}),
            content_type="application/json",
        )

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/push", push)
    app.router.add_post("/sync", answer)
    app.router.add_get("/seen", seen)
    app.router.add_get("/health", xb.health)
    return app


# --- the processes under benchmark ------------------------------------------------------------


@dataclass
class Messaging(xb.Federation):
    """Central, gateways A (sender) and B (receiver) and the receiving system, as processes
    (bench/exchange.py's Federation, set up for messages); B can be stopped and started."""

    system_url: str = ""
    served: dict[str, xb.Process] = field(default_factory=dict)
    restarts: int = 0
    profile_dir: Path | None = None
    """When set, each gateway serves under cProfile, its profile written there as it stops."""

    def spawn(
        self, name: str, args: Sequence[str], env: dict[str, str] | None = None
    ) -> xb.Process:
        if self.profile_dir is not None and list(args[:3]) == [xb.ZISTBOOM, "gateway", "serve"]:
            profile = self.profile_dir / f"{name}.prof"
            args = [sys.executable, "-m", "cProfile", "-o", str(profile), *args]
        return super().spawn(name, args, env)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) each serving process has used so far."""
        processes = {"gateway A": self.served["a"], "gateway B": self.served["b"]}
        processes.update({p.name: p for p in self.processes if p.name in ("central", "system")})
        return {name: process_cpu(process.popen.pid) for name, process in processes.items()}

    @property
    def service_id(self) -> str:
        return f"{self.provider_id}/{SERVICE}"

    def start(self) -> None:
        self._start_central()
        sender = self._add_member("Bench trading company", "orders", member_class="COM")
        receiver = self._add_member("Bench tax agency", "inbox")
        self.client_id = f"{sender}/orders"
        self.provider_id = f"{receiver}/inbox"
        a = self._register_gateway("a", sender)
        b = self._register_gateway("b", receiver)
        for gateway in (a, b):
            gateway.env.update(RETRY_ENV)
        port = xb.free_port()
        system = self.spawn("system", [sys.executable, __file__, "--system", str(port)])
        self.system_url = f"http://127.0.0.1:{port}"
        self._init_gateways([a, b])
        chains = {
            a: [self._cli(a, "client", "add", self.client_id)],
            b: [
                self._cli(b, "client", "add", self.provider_id),
                self._cli(b, "service", "add", self.provider_id, SERVICE, self.system_url),
                self._cli(b, "access", "grant", self.provider_id, SERVICE, self.client_id),
                self._cli(b, "client", "push-endpoint", self.provider_id, "--url",
                          f"{self.system_url}/push"),
            ],
        }  # fmt: skip
        with ThreadPoolExecutor(len(chains)) as pool:
            served = list(pool.map(lambda g: self._configure_and_serve(g, chains[g]), chains))
        self.wait_http(system, f"{self.system_url}/health")
        for process, gateway in zip(served, chains, strict=True):
            self.wait_http(process, f"{gateway.url}/health")
            self.served[gateway.name] = process

    def stop_gateway(self, name: str) -> None:
        """SIGTERM, as an operator's service manager would, and wait for the exit."""
        process = self.served[name].popen
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired as error:
            raise xb.SetUpFailed(f"gateway {name} did not stop within 30 s") from error

    def start_gateway(self, name: str) -> None:
        gateway = self.gateways[name]
        self.restarts += 1
        process = self.spawn(
            f"gateway-{name}-{self.restarts + 1}",
            [xb.ZISTBOOM, "gateway", "serve", "--data-dir", str(gateway.data_dir)],
            gateway.env,
        )
        self.served[name] = process
        self.wait_http(process, f"{gateway.url}/health")


def process_cpu(pid: int) -> float:
    """Seconds of CPU (user + system) of a running process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuShare:
    """CPU each process spent during one phase, per message (or round trip) of the phase."""

    phase: str
    count: int
    seconds: dict[str, float]

    def per_item_ms(self) -> dict[str, float]:
        return {name: 1000 * used / self.count for name, used in self.seconds.items()}


def cpu_since(before: dict[str, float], fed: Messaging, phase: str, count: int) -> CpuShare:
    after = fed.cpu_seconds()
    bench = time.process_time()
    used = {name: after[name] - before.get(name, math.nan) for name in after}
    used["bench (load)"] = bench - before["bench (load)"]
    return CpuShare(phase, max(1, count), used)


def cpu_now(fed: Messaging) -> dict[str, float]:
    return {**fed.cpu_seconds(), "bench (load)": time.process_time()}


# PostgreSQL's cumulative statistics per database (flushed by each backend within about a
# second of a transaction: a figure over a phase of several seconds is close, not exact).
DATABASE_COUNTERS = {
    "transactions": "xact_commit + xact_rollback",
    "new connections": "sessions",
    "rows inserted": "tup_inserted",
    "rows updated": "tup_updated",
}


async def database_counters(fed: Messaging) -> dict[str, dict[str, int]]:
    """The gateways' databases' counters, by gateway; nothing on SQLite."""
    if not fed.postgres:
        return {}
    names = {f"zb_bench_{fed.run_id}_gateway_{g}": f"gateway {g.upper()}" for g in ("a", "b")}
    columns = ", ".join(f"{sql} AS c{i}" for i, sql in enumerate(DATABASE_COUNTERS.values()))
    await asyncio.sleep(1.5)  # let the backends flush what they counted
    connection = await asyncpg.connect(xb.POSTGRES, timeout=10)
    try:
        rows = await connection.fetch(
            f"SELECT datname, {columns} FROM pg_stat_database WHERE datname = any($1::text[])",
            list(names),
        )
    finally:
        await connection.close()
    return {
        names[row["datname"]]: {
            label: int(row[f"c{i}"]) for i, label in enumerate(DATABASE_COUNTERS)
        }
        for row in rows
    }


@dataclass
class DatabaseShare:
    """What each gateway's database did during one phase, per message (or round trip)."""

    phase: str
    count: int
    before: dict[str, dict[str, int]]
    after: dict[str, dict[str, int]]

    def line(self) -> str:
        parts = []
        for gateway, counters in sorted(self.after.items()):
            used = {k: (v - self.before[gateway][k]) / self.count for k, v in counters.items()}
            parts.append(f"{gateway} " + ", ".join(f"{v:.2f} {k}" for k, v in used.items()))
        return f"PostgreSQL per {self.phase}: " + "; ".join(parts)


# --- the load ---------------------------------------------------------------------------------


class LostMessages(RuntimeError):
    """Messages did not reach ``delivered`` at the sender within the bench's deadline."""


@dataclass
class Submitted:
    """Messages accepted (202) in one phase."""

    ids: list[str]
    latencies_ns: list[int]
    errors: int
    started: float
    """Wall-clock time (``time.time()``) of the first submission."""
    elapsed_ns: int
    first_error: str = ""

    @property
    def sample(self) -> xb.Sample:
        return xb.Sample(self.latencies_ns, self.errors, self.elapsed_ns, self.first_error)


class Sender:
    """What the sending information system does on gateway A's messages interface."""

    def __init__(self, session: aiohttp.ClientSession, fed: Messaging) -> None:
        a = fed.gateways["a"]
        self.session = session
        self.base = f"{a.url}/messages/v1"
        self.submit_url = URL(f"{self.base}/{fed.service_id}", encoded=True)
        self.headers = {"X-Road-Client": fed.client_id}
        self.body = message_body()
        self.submit_headers = {**self.headers, "Content-Type": "application/json"}

    async def submit(self) -> tuple[str | None, str]:
        try:
            async with self.session.post(
                self.submit_url, data=self.body, headers=self.submit_headers
            ) as answer:
                body = await answer.read()
                if answer.status != 202:
                    return None, f"{answer.status}: {body[:300]!r}"
                message_id: str = orjson.loads(body)["id"]
                return message_id, ""
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            return None, f"{type(error).__name__}: {error}"

    async def saturate(self, workers: int, seconds: float | None, count: int | None) -> Submitted:
        """``workers`` submitters for ``seconds``, or until ``count`` messages are accepted."""
        ids: list[str] = []
        latencies: list[int] = []
        errors = 0
        first_error = ""
        started_wall = time.time()
        started = time.perf_counter_ns()
        deadline = started + int((seconds or 3600) * 1e9)
        claimed = 0

        async def worker() -> None:
            nonlocal errors, first_error, claimed
            while (begun := time.perf_counter_ns()) < deadline:
                if count is not None:
                    if claimed >= count:
                        return
                    claimed += 1
                message_id, problem = await self.submit()
                if message_id is not None:
                    ids.append(message_id)
                    latencies.append(time.perf_counter_ns() - begun)
                    continue
                errors += 1
                first_error = first_error or problem
                if count is not None:
                    claimed -= 1  # the backlog must reach its count
                await asyncio.sleep(0.01)  # a failing path must not spin the loop

        await asyncio.gather(*(worker() for _ in range(workers)))
        elapsed = time.perf_counter_ns() - started
        return Submitted(ids, latencies, errors, started_wall, elapsed, first_error)

    async def get(self, path: str, **params: str | int) -> Any:
        """A read of the messages interface; tried again once on a connection the gateway
        closed as it was reused (reads change nothing)."""
        for attempt in range(2):
            try:
                async with self.session.get(
                    f"{self.base}/{path}", headers=self.headers, params=params
                ) as answer:
                    body = await answer.read()
            except (aiohttp.ClientConnectionError, OSError):
                if attempt:
                    raise
                continue
            if answer.status != 200:
                raise xb.SetUpFailed(f"GET {path} answered {answer.status}: {body[:300]!r}")
            return orjson.loads(body)
        raise AssertionError("unreachable")

    async def status(self, message_id: str) -> dict[str, Any]:
        view: dict[str, Any] = await self.get(f"outbox/{message_id}")
        return view

    async def pending(self) -> bool:
        """Whether any of the sender's messages is still on its way to ``delivered``."""
        for status in PENDING:
            if (await self.get("outbox", status=status, limit=1))["items"]:
                return True
        return False

    async def outbox(self) -> dict[str, dict[str, Any]]:
        """Every message of the sender's outbox, by id, page by page."""
        items: dict[str, dict[str, Any]] = {}
        after = 0
        while True:
            page = await self.get("outbox", after=after, limit=PAGE)
            for item in page["items"]:
                items[item["id"]] = item
            if page["next"] is None:
                return items
            after = page["next"]

    async def all_delivered(self, seconds: float) -> dict[str, dict[str, Any]]:
        """Wait until nothing is pending (at most ``seconds``); then the whole outbox."""
        deadline = time.monotonic() + seconds
        while await self.pending():
            if time.monotonic() > deadline:
                raise LostMessages(
                    f"messages were still pending at the sender after {seconds:g} s; "
                    f"{await self.describe_pending()}"
                )
            await asyncio.sleep(0.2)
        return await self.outbox()

    async def describe_pending(self) -> str:
        """How many are pending in each status, and the transitions of the first few."""
        counts = []
        views = []
        for status in PENDING:
            items = (await self.get("outbox", status=status, limit=PAGE))["items"]
            counts.append(f"{status}: {len(items)}{'+' if len(items) == PAGE else ''}")
            for item in items[: 3 - len(views)]:
                view = await self.status(item["id"])
                steps = ", ".join(f"{t['status']} {t['at']}" for t in view["transitions"])
                views.append(
                    f"{item['id']} {status} (delivered_at {item['delivered_at']}): {steps}"
                )
        return "; ".join(counts) + "\n" + "\n".join(views)


def at(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()


def transition_ms(view: dict[str, Any], status: str) -> float | None:
    """Milliseconds from the ``accepted`` transition to the first ``status`` one; None when the
    message has no such transition (a ``received`` the status notice overtook)."""
    times: dict[str, float] = {}
    for transition in view["transitions"]:
        times.setdefault(transition["status"], at(transition["at"]))
    if status not in times:
        return None
    return (times[status] - times["accepted"]) * 1000


def add_latency(
    view: dict[str, Any], figures: Figures, received: list[float], delivered: list[float]
) -> None:
    """The message's two latencies, from its transitions; a missing receipt counted."""
    to_received = transition_ms(view, "received")
    to_delivered = transition_ms(view, "delivered")
    if to_received is None:
        figures.receipt_overtaken += 1
    else:
        received.append(to_received)
    if to_delivered is not None:
        delivered.append(to_delivered)


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@dataclass(frozen=True)
class Plan:
    workers: int
    duration: float
    warmup: float
    sequential: int
    backlog: int
    sample: int


@dataclass
class Figures:
    submitted: list[str] = field(default_factory=list)
    """Every accepted message's id, of every phase."""
    window: Submitted | None = None
    async_mps: float = 0.0
    received_mps: float = 0.0
    window_seconds: float = 0.0
    saturated_received_ms: list[float] = field(default_factory=list)
    saturated_delivered_ms: list[float] = field(default_factory=list)
    sequential_received_ms: list[float] = field(default_factory=list)
    sequential_delivered_ms: list[float] = field(default_factory=list)
    sequential_errors: int = 0
    backlog: Submitted | None = None
    drain_seconds: float = 0.0
    drain_mps: float = 0.0
    restart_seconds: float = 0.0
    sync_saturated: xb.Sample | None = None
    cpu: list[CpuShare] = field(default_factory=list)
    database: list[DatabaseShare] = field(default_factory=list)
    sync_sequential: xb.Sample | None = None
    lost: int = 0
    not_delivered: int = 0
    not_seen: int = 0
    duplicates: int = 0
    pushes: int = 0
    no_receipt: int = 0
    """Delivered messages whose receipt the sender did not keep."""
    receipt_overtaken: int = 0
    """Timed messages without a ``received`` transition (left out of the latencies)."""

    @property
    def sync_rps(self) -> float:
        return self.sync_saturated.rps if self.sync_saturated else 0.0

    @property
    def ratio(self) -> float:
        return self.async_mps / self.sync_rps if self.sync_rps else 0.0


def settle_deadline(count: int) -> float:
    """Seconds the bench waits for ``count`` messages to be delivered: generous."""
    return 60 + count / 10


async def check_paths(sender: Sender, session: aiohttp.ClientSession, fed: Messaging) -> str:
    """One message reaches the system and ``delivered``; one synchronous request answers the
    system's answer; before anything is timed."""
    message_id, problem = await sender.submit()
    if message_id is None:
        raise xb.SetUpFailed(f"the first message was refused: {problem}")
    deadline = time.monotonic() + 60
    while (view := await sender.status(message_id))["status"] != "delivered":
        if time.monotonic() > deadline or view["status"] == "failed":
            raise xb.SetUpFailed(f"the first message did not reach delivered: {view}")
        await asyncio.sleep(0.05)
    sync = sync_load(session, fed)
    async with session.post(sync.url, data=sync.shape.body, headers=sync.headers) as answer:
        body = await answer.read()
        if answer.status != 200 or orjson.loads(body)["received_bytes"] != BODY_BYTES:
            raise xb.SetUpFailed(f"the synchronous path answered {answer.status}: {body[:300]!r}")
    return message_id


def sync_load(session: aiohttp.ClientSession, fed: Messaging) -> xb.Load:
    route = xb.Route(
        "sync",
        f"{fed.gateways['a'].url}/r1/{fed.service_id}",
        {"X-Road-Client": fed.client_id},
    )
    return xb.Load(session, route, xb.Shape("POST", "POST", "/sync", message_body()))


async def one_at_a_time(sender: Sender, count: int, figures: Figures) -> None:
    """Each message submitted once the last is delivered; its transitions timed by A."""
    for _ in range(count):
        message_id, _problem = await sender.submit()
        if message_id is None:
            figures.sequential_errors += 1
            continue
        figures.submitted.append(message_id)
        deadline = time.monotonic() + 60
        while (view := await sender.status(message_id))["status"] != "delivered":
            if time.monotonic() > deadline:
                raise LostMessages(f"message {message_id} was not delivered in 60 s: {view}")
            await asyncio.sleep(0.002)
        add_latency(view, figures, figures.sequential_received_ms, figures.sequential_delivered_ms)


async def measure(fed: Messaging, plan: Plan, say: Callable[[str], None]) -> Figures:
    figures = Figures()
    # Idle connections are dropped before the gateway's own limit (header_timeout, 10 s).
    connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=5)
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=120),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    ) as session:
        sender = Sender(session, fed)
        figures.submitted.append(await check_paths(sender, session, fed))

        say(f"  async: {plan.sequential} messages one at a time …")
        await one_at_a_time(sender, plan.sequential, figures)

        sync = sync_load(session, fed)
        say(f"  sync:  {plan.sequential} r1 round trips one at a time …")
        await sync.one_at_a_time(max(10, plan.sequential // 10))
        figures.sync_sequential = await sync.one_at_a_time(plan.sequential)
        say(f"  sync:  {plan.workers} at once for {plan.duration:g} s …")
        await sync.saturate(plan.workers, plan.warmup)
        counted = await database_counters(fed)
        before = cpu_now(fed)
        figures.sync_saturated = await sync.saturate(plan.workers, plan.duration)
        done = len(figures.sync_saturated.latencies_ns)
        figures.cpu.append(cpu_since(before, fed, "sync round trip", done))
        figures.database.append(
            DatabaseShare("sync round trip", max(1, done), counted, await database_counters(fed))
        )

        say(f"  async: warm-up, {plan.workers} submitting for {plan.warmup:g} s, all delivered …")
        warmup = await sender.saturate(plan.workers, plan.warmup, None)
        figures.submitted += warmup.ids
        await sender.all_delivered(settle_deadline(len(warmup.ids)))
        say(f"  async: {plan.workers} submitting for {plan.duration:g} s …")
        counted = await database_counters(fed)
        before = cpu_now(fed)
        window = await sender.saturate(plan.workers, plan.duration, None)
        figures.window = window
        figures.submitted += window.ids
        say(f"  async: {len(window.ids)} accepted; waiting until all are delivered …")
        outbox = await sender.all_delivered(settle_deadline(len(window.ids)))
        figures.cpu.append(cpu_since(before, fed, "async message", len(window.ids)))
        figures.database.append(
            DatabaseShare(
                "async message", max(1, len(window.ids)), counted, await database_counters(fed)
            )
        )
        mine = [outbox[i] for i in window.ids if i in outbox]
        if len(mine) == len(window.ids) and all(m["status"] == "delivered" for m in mine):
            last = max(at(m["delivered_at"]) for m in mine)
            figures.window_seconds = last - window.started
            figures.async_mps = len(mine) / figures.window_seconds
            # A receipt the status notice overtook is never stored (see the README).
            receipts = [at(m["received_at"]) for m in mine if m["received_at"] is not None]
            if receipts:
                figures.received_mps = len(receipts) / (max(receipts) - window.started)
        step = max(1, math.ceil(len(window.ids) / plan.sample))
        for message_id in window.ids[::step]:
            view = await sender.status(message_id)
            add_latency(
                view, figures, figures.saturated_received_ms, figures.saturated_delivered_ms
            )

        say("  drain: gateway B stopped (SIGTERM) …")
        fed.stop_gateway("b")
        say(f"  drain: {plan.backlog} messages submitted to A while B is down …")
        backlog = await sender.saturate(plan.workers, None, plan.backlog)
        figures.backlog = backlog
        figures.submitted += backlog.ids
        say("  drain: gateway B started again …")
        began = time.monotonic()
        await asyncio.to_thread(fed.start_gateway, "b")
        up = time.time()
        figures.restart_seconds = time.monotonic() - began
        before = cpu_now(fed)
        outbox = await sender.all_delivered(settle_deadline(len(backlog.ids)))
        figures.cpu.append(cpu_since(before, fed, "drained message", len(backlog.ids)))
        drained = [outbox[i] for i in backlog.ids if i in outbox]
        if len(drained) == len(backlog.ids) and all(m["status"] == "delivered" for m in drained):
            figures.drain_seconds = max(at(m["delivered_at"]) for m in drained) - up
            figures.drain_mps = len(drained) / figures.drain_seconds

        say("  checking that every message was delivered and pushed …")
        outbox = await sender.outbox()
        async with session.get(f"{fed.system_url}/seen") as answer:
            seen = orjson.loads(await answer.read())
        pushed = set(seen["ids"])
        figures.pushes = seen["pushes"]
        figures.duplicates = seen["pushes"] - len(pushed)
        figures.not_delivered = sum(
            1 for i in figures.submitted if outbox.get(i, {}).get("status") != "delivered"
        )
        figures.not_seen = sum(1 for i in figures.submitted if i not in pushed)
        figures.no_receipt = sum(
            1 for i in figures.submitted if outbox.get(i, {}).get("receipt") is None
        )
        figures.lost = sum(
            1
            for i in figures.submitted
            if outbox.get(i, {}).get("status") != "delivered" or i not in pushed
        )
    return figures


# --- the report -------------------------------------------------------------------------------


def ms(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def report(console: Console, figures: Figures, plan: Plan) -> str:
    window = figures.window
    backlog = figures.backlog
    sync_sat = figures.sync_saturated
    sync_seq = figures.sync_sequential
    assert window is not None
    assert backlog is not None
    assert sync_sat is not None
    assert sync_seq is not None
    table = Table(
        title=f"asynchronous messages (1 KiB JSON) and r1 round trips (1 KiB POST) through the "
        f"same gateways: {plan.workers} concurrent for {plan.duration:g} s after {plan.warmup:g} s "
        f"warm-up; {plan.sequential} one at a time; latencies in ms"
    )
    for column in ("what", "count", "per s", "p50", "p99", "errors"):
        table.add_column(column, justify="left" if column == "what" else "right")
    sat = window.sample
    rows = [
        ("async: submissions accepted (202), at saturation", str(len(window.ids)),
         f"{sat.rps:.1f}", ms(sat.percentile_ms(50)), ms(sat.percentile_ms(99)),
         str(window.errors)),
        ("async: submitted → received (receipt at A), at saturation", str(len(window.ids)),
         f"{figures.received_mps:.1f}", ms(percentile(figures.saturated_received_ms, 50)),
         ms(percentile(figures.saturated_received_ms, 99)), ""),
        ("async: submitted → delivered (notice at A), at saturation = async_mps",
         str(len(window.ids)), f"{figures.async_mps:.1f}",
         ms(percentile(figures.saturated_delivered_ms, 50)),
         ms(percentile(figures.saturated_delivered_ms, 99)), ""),
        ("async: submitted → received, one at a time", str(len(figures.sequential_received_ms)),
         "", ms(percentile(figures.sequential_received_ms, 50)),
         ms(percentile(figures.sequential_received_ms, 99)), str(figures.sequential_errors)),
        ("async: submitted → delivered, one at a time",
         str(len(figures.sequential_delivered_ms)), "",
         ms(percentile(figures.sequential_delivered_ms, 50)),
         ms(percentile(figures.sequential_delivered_ms, 99)), ""),
        ("async: backlog submitted while B is down", str(len(backlog.ids)),
         f"{backlog.sample.rps:.1f}", ms(backlog.sample.percentile_ms(50)),
         ms(backlog.sample.percentile_ms(99)), str(backlog.errors)),
        ("async: backlog drained after B is up = drain_mps", str(len(backlog.ids)),
         f"{figures.drain_mps:.1f}", "", "", ""),
        ("sync: r1 round trips, at saturation = sync_rps", str(len(sync_sat.latencies_ns)),
         f"{sync_sat.rps:.1f}", ms(sync_sat.percentile_ms(50)), ms(sync_sat.percentile_ms(99)),
         str(sync_sat.errors)),
        ("sync: r1 round trips, one at a time", str(len(sync_seq.latencies_ns)), "",
         ms(sync_seq.percentile_ms(50)), ms(sync_seq.percentile_ms(99)), str(sync_seq.errors)),
    ]  # fmt: skip
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(
        f"async window: {len(window.ids)} messages, first submission to last delivered "
        f"{figures.window_seconds:.2f} s (submitting took {window.elapsed_ns / 1e9:.2f} s); "
        f"saturation latencies from the transitions of {len(figures.saturated_received_ms)} "
        f"of them"
    )
    console.print(
        f"drain: gateway B answered again {figures.restart_seconds:.2f} s after it was started; "
        f"the last of {len(backlog.ids)} delivered {figures.drain_seconds:.2f} s after that"
    )
    for name, failed in (("async window", window), ("backlog", backlog)):
        if failed.errors:
            console.print(f"[red]{name}: {failed.errors} submissions refused, first: "
                          f"{failed.first_error}[/red]")  # fmt: skip
    if sync_sat.errors or sync_seq.errors:
        console.print(
            f"[red]sync: {sync_sat.errors + sync_seq.errors} failed, first: "
            f"{sync_sat.first_error or sync_seq.first_error}[/red]"
        )
    for share in figures.cpu:
        console.print(
            f"CPU per {share.phase} (ms): "
            + ", ".join(f"{name} {used:.2f}" for name, used in share.per_item_ms().items())
            + f"; all of these {sum(share.per_item_ms().values()):.2f}"
        )
    for database in figures.database:
        if database.after:
            console.print(database.line())
    verdict = "met" if figures.ratio >= TARGET_RATIO else "MISSED"
    console.print(
        f"async/sync: {figures.async_mps:.1f} messages/s ÷ {figures.sync_rps:.1f} round trips/s "
        f"= {figures.ratio:.2f} (target >= {TARGET_RATIO:.2f}: {verdict})"
    )
    console.print(
        f"messages accepted: {len(figures.submitted)}; not delivered at A: "
        f"{figures.not_delivered}; not pushed to the system: {figures.not_seen}; pushes "
        f"{figures.pushes}"
    )
    if figures.no_receipt:
        console.print(
            f"[red]{figures.no_receipt} delivered messages have no receipt at A (the status "
            f"notice was stored before the receipt, which was then dropped); "
            f"{figures.receipt_overtaken} timed messages had no 'received' transition and are "
            f"left out of the latencies[/red]"
        )
    console.print(f"lost={figures.lost} duplicates_at_system={figures.duplicates}")
    p50 = percentile(figures.sequential_received_ms, 50)
    return (
        f"async_mps={figures.async_mps:.1f} p50_received_ms={p50:.2f} "
        f"drain_mps={figures.drain_mps:.1f}"
    )


# --- entry points -----------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Asynchronous messages through two gateways (durable, receipted, pushed) "
        "against synchronous r1 round trips through the same gateways, on this machine."
    )
    parser.add_argument(
        "--quick", action="store_true", help="SQLite, 2 s windows, a 1,000-message backlog"
    )
    parser.add_argument("--duration", type=float, help="seconds of each saturation (10; quick 2)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before it (2; quick 0.5)")
    parser.add_argument("--sequential", type=int, help="one at a time, each way (200; quick 20)")
    parser.add_argument("--backlog", type=int, help="messages of the drain (10000; quick 1000)")
    parser.add_argument("--workers", type=int, default=64, help="concurrent submitters (64)")
    parser.add_argument(
        "--sample", type=int, default=200, help="window messages whose transitions are read (200)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data directories and logs")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run the gateways under cProfile, their profiles written to DIR (slows them)",
    )
    parser.add_argument("--system", type=int, metavar="PORT", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def benchmark(arguments: argparse.Namespace) -> int:
    quick: bool = arguments.quick
    plan = Plan(
        workers=arguments.workers,
        duration=arguments.duration or (2.0 if quick else 10.0),
        warmup=arguments.warmup if arguments.warmup is not None else (0.5 if quick else 2.0),
        sequential=arguments.sequential or (20 if quick else 200),
        backlog=arguments.backlog or (1000 if quick else 10_000),
        sample=arguments.sample,
    )
    console = Console(width=120, highlight=False, soft_wrap=True)
    # Interrupted or terminated, even when started with SIGINT ignored: tear down first.
    signal.signal(signal.SIGINT, xb._stop)
    signal.signal(signal.SIGTERM, xb._stop)
    root = Path(tempfile.mkdtemp(prefix="zb-bench-transactions-"))
    fed = Messaging(root, postgres=not quick)
    if arguments.profile is not None:
        arguments.profile.mkdir(parents=True, exist_ok=True)
        fed.profile_dir = arguments.profile.resolve()
    began = time.monotonic()
    try:
        if quick:
            console.print(f"databases: SQLite (files under {root})")
        else:
            server = xb.POSTGRES.rsplit("@", 1)[-1].rsplit("/", 1)[0]
            console.print(
                f"databases: PostgreSQL at {server} (fresh databases "
                f"zb_bench_{fed.run_id}_*, dropped at the end)"
            )
        console.print(
            f"machine: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.2f} at start), "
            f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, uvloop "
            f"{metadata.version('uvloop')}; everything on this host"
        )
        defaults = GatewaySettings.model_fields
        console.print(
            f"gateways: default message settings ({defaults['message_workers'].default} "
            f"deliveries in flight, claims of {defaults['message_batch'].default}, durable "
            "message log with bodies) but retries after 0.2 s doubling to 1 s "
            "(default 1 s to 300 s); the receiving system answers a push 204 at once"
        )
        console.print("setting up central, gateways A (COM sender) and B (GOV receiver), the "
                      "receiving system …")  # fmt: skip
        fed.start()
        console.print(f"  ready after {time.monotonic() - began:.1f} s")
        figures = uvloop.run(measure(fed, plan, console.print))
        last = report(console, figures, plan)
        console.print(
            f"took {time.monotonic() - began:.1f} s (load average {os.getloadavg()[0]:.2f} at end)"
        )
    except (xb.SetUpFailed, LostMessages) as error:
        console.print(f"[red]failed:[/red] {error}", highlight=False, markup=False)
        return 2
    finally:
        fed.stop()
        if arguments.keep:
            console.print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(last, flush=True)
    return 1 if figures.lost else 0


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if arguments.system is not None:
        uvloop.run(xb.serve_until_signalled(system_app(), arguments.system))
        return 0
    return benchmark(arguments)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: every process stopped, temporary files removed", file=sys.stderr)
        sys.exit(130)
