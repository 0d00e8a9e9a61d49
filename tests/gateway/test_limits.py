"""Bounded resources on both listeners of a gateway (client port and peer port), over real
processes, real sockets and real mutual TLS: the header read timeout (slow headers, stalled TLS
handshakes, idle kept-alive connections), the body read timeout, the cap on concurrent
connections per listener, and the process-wide memory budget for request bodies in flight
(its peak read from /metrics, the process's memory from /proc).

Runs on SQLite only: nothing here depends on the database backend."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from federation import Federation, GatewayProcess, start_federation

MiB = 1024 * 1024
HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 5.0
BUDGET = 16 * MiB
BODY = 10 * MiB
MAX_CONNECTIONS = 5
PERSON = "0499370899"
# Central, three gateways and a backend start in the fixture: slow on a loaded machine.
pytestmark = pytest.mark.timeout(400)
LIMITED = {
    "ZB_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
    "ZB_BODY_TIMEOUT": str(BODY_TIMEOUT),
    "ZB_BODY_BUDGET_BYTES": str(BUDGET),
}


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    root = tmp_path_factory.mktemp("federation")
    federation = start_federation(root, None, central_env={"ZB_CONF_REFRESH_SECONDS": "1"})
    try:
        a = federation.add_member("Client agency", ["client"])
        b = federation.add_member("Registry agency", ["registry"])
        c = federation.add_member("Capped agency", ["capped"])
        gw_a = federation.add_gateway("a", a, env=LIMITED)
        gw_b = federation.add_gateway("b", b, env=LIMITED)
        gw_c = federation.add_gateway(
            "c", c, env={"ZB_MAX_CONNECTIONS": str(MAX_CONNECTIONS), "ZB_HEADER_TIMEOUT": "60"}
        )
        backend = federation.start_backend()
        gw_a.cli("client", "add", f"{a}/client")
        gw_b.cli("client", "add", f"{b}/registry")
        gw_b.cli("service", "add", f"{b}/registry", "persons", backend)
        gw_b.cli("access", "grant", f"{b}/registry", "persons", f"{a}/client")
        gw_c.cli("client", "add", f"{c}/capped")
        for gateway in (gw_b, gw_a, gw_c):
            gateway.start()
        federation.backend = backend
        deadline = time.monotonic() + 30
        while normal_call(federation).status_code != 200:
            assert time.monotonic() < deadline, normal_call(federation).text
            time.sleep(0.2)
        yield federation
    finally:
        federation.stop()


def client_id(fed: Federation) -> str:
    return fed.gateways["a"].member_id + "/client"


def provider_id(fed: Federation) -> str:
    return fed.gateways["b"].member_id + "/registry"


def normal_call(fed: Federation) -> httpx.Response:
    return httpx.get(
        f"{fed.gateways['a'].url}/r1/{provider_id(fed)}/persons/persons/{PERSON}",
        headers={"X-Road-Client": client_id(fed)},
        timeout=30,
    )


def samples(gateway: GatewayProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{gateway.url}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def metric(gateway: GatewayProcess, name: str, **labels: str) -> float:
    found = samples(gateway).get((name, tuple(sorted(labels.items()))))
    assert found is not None, f"{name}{labels} is not in {gateway.gateway_id}'s /metrics"
    return found


def wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.1)


def tls_from(gateway: GatewayProcess) -> ssl.SSLContext:
    """A peer's mutual-TLS context: the gateway's own authentication key and certificate."""
    context = ssl.create_default_context(cafile=str(gateway.data_dir / "certs" / "ca.pem"))
    context.check_hostname = False
    context.load_cert_chain(
        str(gateway.data_dir / "certs" / "auth.pem"), str(gateway.data_dir / "keys" / "auth.key")
    )
    return context


# --- process memory -------------------------------------------------------------------------


def status_bytes(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} in /proc/{pid}/status")


class PeakMemory:
    """The highest resident set size of a process while the block runs: the kernel's own
    high-water mark (VmHWM, reset through clear_refs) where allowed, and samples of VmRSS
    every 5 ms in any case."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = status_bytes(pid, "VmRSS")
        self.sampled = self.start
        self.kernel_peak: int | None = None
        self._done = threading.Event()

    def __enter__(self) -> PeakMemory:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self._hwm = True
        except OSError:
            self._hwm = False
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.005):
            self.sampled = max(self.sampled, status_bytes(self.pid, "VmRSS"))

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()
        if self._hwm:
            self.kernel_peak = status_bytes(self.pid, "VmHWM")

    @property
    def growth(self) -> int:
        return max(self.sampled, self.kernel_peak or 0) - self.start


# --- raw HTTP/1.1 over asyncio streams --------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines if line)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


async def send_ignoring_close(writer: asyncio.StreamWriter, data: bytes) -> None:
    """Send, unless the gateway has answered and closed (a refused body is drained, then the
    connection is closed)."""
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        for offset in range(0, len(data), MiB):
            writer.write(data[offset : offset + MiB])
            await writer.drain()


async def concurrent_bodies(
    gateway: GatewayProcess,
    port: int,
    head: bytes,
    tls: ssl.SSLContext | None,
    count: int,
    refused_before: float,
    listener: str,
) -> list[tuple[int, dict[str, str], bytes]]:
    """``count`` requests announcing a BODY-byte body each, their bodies sent at once once
    every head is in (the gateway decides on each head: reserve or refuse)."""
    streams = [await asyncio.open_connection("127.0.0.1", port, ssl=tls) for _ in range(count)]
    for _, writer in streams:
        writer.write(head.replace(b"{id}", str(uuid.uuid4()).encode()))
        await writer.drain()

    def all_heads_decided() -> bool:
        refused = metric(gateway, "zistboom_gateway_refusals_total", listener=listener,
                         reason="body_budget")  # fmt: skip
        return refused - refused_before >= count - BUDGET // BODY

    await asyncio.to_thread(wait_for, all_heads_decided, 60, "every head reserved or refused")
    body = b"z" * BODY

    async def one(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[int, dict[str, str], bytes]:
        sending = asyncio.ensure_future(send_ignoring_close(writer, body))
        try:
            return await asyncio.wait_for(read_response(reader), 120)
        finally:
            await sending
            writer.close()

    return await asyncio.gather(*(one(reader, writer) for reader, writer in streams))


def assert_busy(answer: tuple[int, dict[str, str], bytes], error_type: str) -> None:
    status, headers, body = answer
    assert status == 503, (status, headers, body[:300])
    assert headers.get("x-road-error") == error_type, headers
    payload = json.loads(body)
    assert payload["type"] == error_type
    assert "budget" in payload["message"]


# --- header read timeout --------------------------------------------------------------------


def test_slow_headers_are_dropped_after_the_header_timeout_while_calls_answer(
    fed: Federation,
) -> None:
    a = fed.gateways["a"]
    slow: list[socket.socket] = []
    opened = time.monotonic()
    for _ in range(200):
        sock = socket.create_connection(("127.0.0.1", a.client_port))
        sock.sendall(b"GET /r1/" + provider_id(fed).encode() + b"/persons HTTP/1.1\r\nX-Slow: ")
        sock.setblocking(False)
        slow.append(sock)
    # A kept-alive connection that went idle after its answer is held to the same timeout.
    idle = socket.create_connection(("127.0.0.1", a.client_port))
    idle.sendall(b"GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n")
    assert idle.recv(65536).startswith(b"HTTP/1.1 200")
    idle.setblocking(False)
    slow.append(idle)
    answered = time.monotonic()
    response = normal_call(fed)
    assert response.status_code == 200, response.text

    closed_after: dict[int, float] = {}
    deadline = answered + HEADER_TIMEOUT + 15
    while len(closed_after) < len(slow) and time.monotonic() < deadline:
        for index, sock in enumerate(slow):
            if index in closed_after:
                continue
            try:
                gone = sock.recv(65536) == b""
                if not gone:
                    raise AssertionError("the gateway answered a request head never completed")
            except BlockingIOError:
                gone = False
            except ConnectionError:
                gone = True
            if not gone and index < 200:
                with contextlib.suppress(BlockingIOError, ConnectionError):
                    sock.send(b"a")  # one more header byte: dribbling, never finishing
            if gone:
                closed_after[index] = time.monotonic() - opened
        time.sleep(0.2)
    for sock in slow:
        sock.close()
    assert len(closed_after) == len(slow), (
        f"{len(slow) - len(closed_after)} of {len(slow)} slow connections still open "
        f"{deadline - opened:.0f} s after they were opened"
    )
    # Dropped by the header timeout, not sooner (the idle one counts from its answer).
    assert min(closed_after.values()) >= HEADER_TIMEOUT - 0.5, sorted(closed_after.values())[:5]


def test_the_peer_port_drops_slow_headers_and_stalled_tls_handshakes(fed: Federation) -> None:
    b = fed.gateways["b"]
    context = tls_from(fed.gateways["a"])
    dribbling: list[ssl.SSLSocket] = []
    for _ in range(20):
        raw = socket.create_connection(("127.0.0.1", b.peer_port))
        tls = context.wrap_socket(raw, server_hostname=None)
        tls.sendall(b"POST /r1/x HTTP/1.1\r\nX-Slow: ")
        tls.setblocking(False)
        dribbling.append(tls)
    stalled = [socket.create_connection(("127.0.0.1", b.peer_port)) for _ in range(20)]
    for sock in stalled:
        sock.setblocking(False)  # connected, never a ClientHello
    pending: list[socket.socket] = [*dribbling, *stalled]
    deadline = time.monotonic() + HEADER_TIMEOUT + 15
    while pending and time.monotonic() < deadline:
        for sock in list(pending):
            try:
                gone = sock.recv(65536) == b""
            except (BlockingIOError, ssl.SSLWantReadError):
                gone = False
            except (ConnectionError, ssl.SSLError):
                gone = True
            if gone:
                pending.remove(sock)
            elif isinstance(sock, ssl.SSLSocket):
                with contextlib.suppress(OSError):
                    sock.send(b"a")
        time.sleep(0.2)
    for sock in [*dribbling, *stalled]:
        sock.close()
    assert not pending, f"{len(pending)} of 40 slow peer connections still open at the deadline"


# --- body read timeout ----------------------------------------------------------------------


def slow_body(
    port: int, head: bytes, tls: ssl.SSLContext | None
) -> tuple[float, int, dict[str, str], bytes]:
    async def run() -> tuple[float, int, dict[str, str], bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
        started = time.monotonic()
        writer.write(head + b"only ten b")
        await writer.drain()
        try:
            status, headers, body = await asyncio.wait_for(read_response(reader), BODY_TIMEOUT + 15)
        except TimeoutError:
            raise AssertionError(
                f"no answer {BODY_TIMEOUT + 15:.0f} s into a body that never ends"
            ) from None
        finally:
            writer.close()
        return time.monotonic() - started, status, headers, body

    return asyncio.run(run())


def test_a_body_not_received_within_the_body_timeout_is_refused(fed: Federation) -> None:
    a, b = fed.gateways["a"], fed.gateways["b"]
    head = (
        f"POST /r1/{provider_id(fed)}/persons/echo HTTP/1.1\r\nHost: gateway\r\n"
        f"X-Road-Client: {client_id(fed)}\r\nX-Road-Id: {uuid.uuid4()}\r\n"
        "Content-Length: 1000\r\n\r\n"
    ).encode()
    for port, tls, error_type, listener in (
        (a.client_port, None, "Client.RequestTimeout", "client"),
        (b.peer_port, tls_from(a), "Server.ServerProxy.RequestTimeout", "peer"),
    ):
        gateway = a if listener == "client" else b
        elapsed, status, headers, body = slow_body(port, head, tls)
        assert status == 408, (status, headers, body)
        assert headers["x-road-error"] == error_type
        assert json.loads(body)["type"] == error_type
        assert elapsed >= BODY_TIMEOUT - 0.5
        assert metric(gateway, "zistboom_gateway_refusals_total", listener=listener,
                      reason="body_timeout") >= 1  # fmt: skip
        assert metric(gateway, "zistboom_gateway_body_bytes_in_flight") == 0


# --- connection cap -------------------------------------------------------------------------


def test_connections_beyond_the_cap_are_closed_at_once(fed: Federation) -> None:
    c = fed.gateways["c"]
    health = b"GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n"
    held: list[socket.socket] = []
    for _ in range(MAX_CONNECTIONS):
        sock = socket.create_connection(("127.0.0.1", c.client_port), timeout=10)
        sock.sendall(health)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")  # held, kept alive
        held.append(sock)
    context = tls_from(fed.gateways["a"])
    held_peer: list[ssl.SSLSocket] = []
    for _ in range(MAX_CONNECTIONS):
        tls = context.wrap_socket(
            socket.create_connection(("127.0.0.1", c.peer_port), timeout=10), server_hostname=None
        )
        tls.sendall(b"GET /r1/x HTTP/1.1\r\nHost: gateway\r\n\r\n")
        assert tls.recv(65536).startswith(b"HTTP/1.1 400")  # held, kept alive
        held_peer.append(tls)
    try:
        one_more = socket.create_connection(("127.0.0.1", c.client_port), timeout=10)
        with one_more:
            with contextlib.suppress(OSError):
                one_more.sendall(health)
            try:
                answer = one_more.recv(65536)
            except ConnectionError:
                answer = b""
            except TimeoutError:
                raise AssertionError("a connection beyond the cap was held open") from None
            assert answer == b"", answer[:200]
        try:
            with context.wrap_socket(
                socket.create_connection(("127.0.0.1", c.peer_port), timeout=10),
                server_hostname=None,
            ) as one_more_peer:
                with contextlib.suppress(OSError):
                    one_more_peer.sendall(b"GET /r1/x HTTP/1.1\r\nHost: gateway\r\n\r\n")
                peer_answer = one_more_peer.recv(65536)
        except TimeoutError:
            raise AssertionError("a peer connection beyond the cap was held open") from None
        except (ConnectionError, ssl.SSLError):
            peer_answer = b""
        assert peer_answer == b"", peer_answer[:200]
        # A freed place is taken again.
        held.pop().close()

        def health_answers() -> bool:
            try:
                return httpx.get(f"{c.url}/health", timeout=5).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(health_answers, 10, "a connection once a place is free")
        assert metric(c, "zistboom_gateway_refusals_total", listener="client",
                      reason="connections") >= 1  # fmt: skip
        assert metric(c, "zistboom_gateway_refusals_total", listener="peer",
                      reason="connections") >= 1  # fmt: skip
        assert metric(c, "zistboom_gateway_connections", listener="peer") == MAX_CONNECTIONS
    finally:
        for sock in [*held, *held_peer]:
            sock.close()


# --- memory budget for bodies in flight -----------------------------------------------------


def rss_bound() -> int:
    """What a gateway may grow by while its budget is full: an admitted body is held several
    times over on its way (read buffer, bytes, the message log's record, the TLS write buffer;
    measured: a consumer gateway +77 MiB for one 10 MiB body, a provider +23 MiB). Without the
    budget, 20 such bodies at once took the consumer +620 MiB and the provider +174 MiB."""
    return 8 * BUDGET


def test_twenty_concurrent_bodies_stay_within_the_budget_on_the_client_port(
    fed: Federation,
) -> None:
    a = fed.gateways["a"]
    assert a.process is not None
    refused_before = metric(a, "zistboom_gateway_refusals_total", listener="client",
                            reason="body_budget")  # fmt: skip
    head = (
        f"POST /r1/{provider_id(fed)}/persons/sink HTTP/1.1\r\nHost: gateway\r\n"
        f"X-Road-Client: {client_id(fed)}\r\nX-Road-Id: {{id}}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {BODY}\r\n\r\n"
    ).encode()
    with PeakMemory(a.process.pid) as memory:
        answers = asyncio.run(
            concurrent_bodies(a, a.client_port, head, None, 20, refused_before, "client")
        )
    admitted = [answer for answer in answers if answer[0] != 503]
    assert len(admitted) == BUDGET // BODY, [answer[:2] for answer in answers]
    for status, _, body in admitted:
        assert status == 200 and json.loads(body) == {"received": BODY}, (status, body[:300])
    for answer in answers:
        if answer[0] == 503:
            assert_busy(answer, "Server.ClientProxy.Busy")
    assert metric(a, "zistboom_gateway_body_bytes_in_flight_peak") <= BUDGET
    assert metric(a, "zistboom_gateway_body_budget_bytes") == BUDGET
    wait_for(
        lambda: metric(a, "zistboom_gateway_body_bytes_in_flight") == 0,
        10,
        "every reservation released",
    )
    assert memory.growth <= rss_bound(), f"grew by {memory.growth / MiB:.0f} MiB"


def test_twenty_concurrent_bodies_stay_within_the_budget_on_the_peer_port(
    fed: Federation,
) -> None:
    a, b = fed.gateways["a"], fed.gateways["b"]
    assert b.process is not None
    refused_before = metric(b, "zistboom_gateway_refusals_total", listener="peer",
                            reason="body_budget")  # fmt: skip
    # An enrolled peer (gateway A's TLS identity) sending bodies that are not even signed:
    # the provider must not hold more of them than its budget before checking anything.
    head = (
        f"POST /r1/{provider_id(fed)}/persons/sink HTTP/1.1\r\nHost: gateway\r\n"
        f"X-Road-Client: {client_id(fed)}\r\nX-Road-Id: {{id}}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {BODY}\r\n\r\n"
    ).encode()
    with PeakMemory(b.process.pid) as memory:
        answers = asyncio.run(
            concurrent_bodies(b, b.peer_port, head, tls_from(a), 20, refused_before, "peer")
        )
    admitted = [answer for answer in answers if answer[0] != 503]
    assert len(admitted) == BUDGET // BODY, [answer[:2] for answer in answers]
    for status, headers, _ in admitted:  # read whole, then refused for its digest
        assert status == 400 and headers["x-road-error"] == "Server.ServerProxy.InvalidMessage"
    for answer in answers:
        if answer[0] == 503:
            assert_busy(answer, "Server.ServerProxy.Busy")
    assert metric(b, "zistboom_gateway_body_bytes_in_flight_peak") <= BUDGET
    wait_for(
        lambda: metric(b, "zistboom_gateway_body_bytes_in_flight") == 0,
        10,
        "every reservation released",
    )
    assert memory.growth <= rss_bound(), f"grew by {memory.growth / MiB:.0f} MiB"


def test_chunked_bodies_are_reserved_as_they_are_read(fed: Federation) -> None:
    a = fed.gateways["a"]
    part = 9 * MiB
    head = (
        f"POST /r1/{provider_id(fed)}/persons/sink HTTP/1.1\r\nHost: gateway\r\n"
        f"X-Road-Client: {client_id(fed)}\r\nX-Road-Id: {{id}}\r\n"
        "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = b"%x\r\n" % MiB + b"c" * MiB + b"\r\n"

    async def run() -> tuple[tuple[int, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]:
        first_reader, first = await asyncio.open_connection("127.0.0.1", a.client_port)
        first.write(head.replace(b"{id}", str(uuid.uuid4()).encode()) + chunk * (part // MiB))
        await first.drain()

        def first_held() -> bool:
            return metric(a, "zistboom_gateway_body_bytes_in_flight") >= part

        await asyncio.to_thread(wait_for, first_held, 30, "the first body's bytes reserved")
        second_reader, second = await asyncio.open_connection("127.0.0.1", a.client_port)
        sending = asyncio.ensure_future(
            send_ignoring_close(
                second,
                head.replace(b"{id}", str(uuid.uuid4()).encode()) + chunk * (part // MiB),
            )
        )
        refused = await asyncio.wait_for(read_response(second_reader), 60)
        await sending
        second.close()
        first.write(b"0\r\n\r\n")
        await first.drain()
        admitted = await asyncio.wait_for(read_response(first_reader), 60)
        first.close()
        return refused, admitted

    refused, admitted = asyncio.run(run())
    assert_busy(refused, "Server.ClientProxy.Busy")
    assert admitted[0] == 200 and json.loads(admitted[2]) == {"received": part}, admitted
    assert metric(a, "zistboom_gateway_body_bytes_in_flight_peak") <= BUDGET
