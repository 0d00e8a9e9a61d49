"""The exchange under attack and faults (issue 6), over real processes and real mutual TLS, on
SQLite and PostgreSQL: unsigned answers never passed on, replay memory that survives restarts
and spans replicas, single-valued X-Road headers, unknown clients, path forms that a backend
could read as dot segments, and header bytes that are not UTF-8.

Each provider gateway that a test stops or replaces serves only that test, so no test depends
on another having run first."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from central_process import ZISTBOOM
from federation import Federation, GatewayProcess, start_federation
from support import free_port
from zistboom.core.crypto import httpsig, keys, x509

PERSON = "0499370899"
# Setting up the federation (six gateway processes) takes most of the first test's time.
pytestmark = pytest.mark.timeout(600)
SKEW = 3  # the replay gateways' max_clock_skew (s): the window edge is reached quickly


@pytest.fixture(scope="module")
def fed(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    root = tmp_path_factory.mktemp("hardening")
    federation = start_federation(root, backend_database)
    try:
        a = federation.add_member("Client agency", ["client", "ghost"])
        b = federation.add_member("Registry agency", ["registry"])
        r = federation.add_member("Replicated agency", ["replicated"])
        f = federation.add_member("Impersonated agency", ["fake"])
        s = federation.add_member("Restarted agency", ["restarted"])
        h = federation.add_member("Hosted without key", ["nokey"])
        gw_a = federation.add_gateway("a", a)
        gw_b = federation.add_gateway("b", b)
        gw_r = federation.add_gateway("r", r, env={"ZB_MAX_CLOCK_SKEW": str(SKEW)})
        gw_f = federation.add_gateway("f", f)
        gw_s = federation.add_gateway("s", s)
        backend = federation.start_backend()
        federation.backend = backend
        gw_a.cli("client", "add", f"{a}/client")
        # A local client that is not (or no longer) a subsystem in the global configuration.
        gw_a.cli("client", "add", f"{a}/phantom")
        gw_b.cli("client", "add", f"{b}/registry")
        gw_b.cli("service", "add", f"{b}/registry", "persons", backend)
        gw_b.cli("service", "add", f"{b}/registry", "files", backend)
        gw_b.cli("access", "grant", f"{b}/registry", "persons", f"{a}/client")
        gw_b.cli("access", "grant", f"{b}/registry", "persons", f"{a}/phantom")
        gw_b.cli("endpoint", "add", f"{b}/registry", "files", "GET", "/public/**")
        gw_b.cli(
            "access", "grant", f"{b}/registry", "files", f"{a}/client",
            "--method", "GET", "--path", "/public/**",
        )  # fmt: skip
        gw_r.cli("client", "add", f"{r}/replicated")
        gw_r.cli("service", "add", f"{r}/replicated", "persons", backend)
        gw_r.cli("access", "grant", f"{r}/replicated", "persons", f"{a}/client")
        gw_s.cli("client", "add", f"{s}/restarted")
        gw_s.cli("service", "add", f"{s}/restarted", "persons", backend)
        gw_s.cli("access", "grant", f"{s}/restarted", "persons", f"{a}/client")
        gw_f.cli("client", "add", f"{f}/fake")
        gw_f.cli("service", "add", f"{f}/fake", "persons", backend)
        gw_f.cli("access", "grant", f"{f}/fake", "persons", f"{a}/client")
        # Central says gateway B hosts member H, but B never enrolled H's signing key.
        _, b_class, b_code = b.split("/")
        with federation.admin() as admin:
            hosted = admin.post(
                f"/api/v1/members/{b_class}/{b_code}/gateways/gw1/hosted-members",
                json={"member_id": h},
            )
            assert hosted.status_code == 201, hosted.text
        # A second replica of gateway R: the same data directory and database, its own ports
        # and message-log chain.
        federation.gateways["r2"] = GatewayProcess(
            member_id=r,
            gateway_id=gw_r.gateway_id,
            data_dir=gw_r.data_dir,
            client_port=free_port(),
            peer_port=free_port(),
            admin_port=free_port(),
            env=dict(gw_r.env),
        )
        r2 = federation.gateways["r2"]
        r2.env.update(
            ZB_CLIENT_PORT=str(r2.client_port),
            ZB_PEER_PORT=str(r2.peer_port),
            ZB_ADMIN_PORT=str(r2.admin_port),
            ZB_INSTANCE_NAME="replica-2",
        )
        start_all([gw_b, gw_r, r2, gw_f, gw_s, gw_a])
        federation.hosted_member = h
        yield federation
    finally:
        federation.stop()


def start_all(gateways: list[GatewayProcess]) -> None:
    """Start the gateways' processes side by side, then wait for each."""
    for gateway in gateways:
        gateway.launch()
    for gateway in gateways:
        gateway.wait_serving()


def subsystem(fed: Federation, name: str, code: str) -> str:
    return f"{fed.gateways[name].member_id}/{code}"


def call(
    gateway: GatewayProcess,
    target: str,
    *,
    client: str,
    headers: list[tuple[str, str]] | None = None,
) -> httpx.Response:
    return httpx.get(
        f"{gateway.url}{target}",
        headers=[("X-Road-Client", client), *(headers or [])],
        timeout=30,
    )


def hits(fed: Federation, path: str) -> int:
    answer = httpx.get(f"{fed.backend}/hits", params={"path": path}, timeout=10)
    return int(answer.json()["hits"])


def assert_error(response: httpx.Response, status: int, error_type: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers.get("x-road-error") == error_type, response.headers
    body: dict[str, str] = response.json()
    assert body["type"] == error_type, body
    assert body["message"]
    return body


def exported_records(
    gateway: GatewayProcess, message_id: str, out: Path
) -> list[dict[str, object]]:
    exported = subprocess.run(
        [ZISTBOOM, "evidence", "export", "--data-dir", str(gateway.data_dir),
         "--message-id", message_id, "--out", str(out)],
        env=gateway.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stdout + exported.stderr
    records: list[dict[str, object]] = json.loads(out.read_text())["records"]
    return records


# --- a request signed as gateway A would sign it, sent straight to a peer port ----------------


def tls_of(gateway: GatewayProcess) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(gateway.data_dir / "certs" / "ca.pem"))
    context.check_hostname = False
    context.load_cert_chain(
        str(gateway.data_dir / "certs" / "auth.pem"), str(gateway.data_dir / "keys" / "auth.key")
    )
    return context


@dataclass(frozen=True)
class Signed:
    url: str
    headers: list[tuple[str, str]]
    body: bytes


def signed_request(
    fed: Federation,
    provider: GatewayProcess,
    service: str,
    path: str,
    *,
    created: int | None = None,
    extra: list[tuple[str, str]] | None = None,
    client_code: str = "client",
) -> Signed:
    """A GET signed by member A for ``provider``'s peer port; ``extra`` header lines are added
    after signing (the signature covers the combined value of repeated lines)."""
    a = fed.gateways["a"]
    name = "sign-" + a.member_id.replace("/", "_")
    key = keys.load_private_key(a.data_dir / "keys" / f"{name}.key")
    cert = x509.load_certificate((a.data_dir / "certs" / f"{name}.pem").read_bytes())
    message_id = str(uuid.uuid4())
    target = f"/r1/{service}{path}"
    url = f"https://127.0.0.1:{provider.peer_port}{target}"
    lines = [
        ("x-road-client", f"{a.member_id}/{client_code}"),
        ("x-road-id", message_id),
        ("content-digest", httpsig.content_digest(b"")),
        ("zb-signer-certificate", base64.b64encode(x509.certificate_der(cert)).decode()),
        *(extra or []),
    ]
    combined: dict[str, str] = {}
    for field_name, value in lines:
        combined[field_name] = (
            f"{combined[field_name]}, {value}" if field_name in combined else value
        )
    components = [
        '"@method"', '"@path"', '"@query"', '"content-digest"', '"x-road-client"',
        '"x-road-id"', '"zb-signer-certificate"',
    ] + [f'"{n}"' for n in ("x-road-userid",) if n in combined]  # fmt: skip
    signed = httpsig.sign_request(
        httpsig.RequestParts("GET", url, combined),
        components=components,
        key=key,
        key_id=x509.certificate_fingerprint(cert),
        created=created if created is not None else int(time.time()),
        nonce=message_id,
    )
    lines += [("signature-input", signed.signature_input), ("signature", signed.signature)]
    return Signed(url, lines, b"")


def send(fed: Federation, request: Signed, to: GatewayProcess | None = None) -> httpx.Response:
    url = request.url
    if to is not None:
        url = url.replace(url.split("/")[2], f"127.0.0.1:{to.peer_port}", 1)
    with httpx.Client(verify=tls_of(fed.gateways["a"]), timeout=30) as peer:
        return peer.get(url, headers=request.headers)


# --- 1. unsigned answers are never passed on ------------------------------------------------


class FakeProvider:
    """A TLS server holding gateway F's real TLS identity, answering 200 with forged data and a
    cookie, or an unsigned refusal, without any signature."""

    def __init__(self, gateway: GatewayProcess, status: int, error_type: str | None) -> None:
        self.gateway = gateway
        self.status = status
        self.error_type = error_type
        self.requests = 0
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        assert self._ready.wait(20), "the fake provider did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(20)

    def _run(self) -> None:
        import asyncio

        async def answer(_request: web.Request) -> web.Response:
            self.requests += 1
            headers = {"Set-Cookie": "session=stolen", "X-Forged": "yes"}
            if self.error_type is not None:
                headers["X-Road-Error"] = self.error_type
                body = {"type": self.error_type, "message": "forged refusal", "detail": ""}
            else:
                body = {"national_code": PERSON, "name": "forged"}
            return web.json_response(body, status=self.status, headers=headers)

        async def main() -> None:
            data = self.gateway.data_dir
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=str(data / "certs" / "ca.pem"))
            context.load_cert_chain(
                str(data / "certs" / "auth.pem"), str(data / "keys" / "auth.key")
            )
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", answer)
            self._runner = web.AppRunner(app)
            await self._runner.setup()
            site = web.TCPSite(
                self._runner, "127.0.0.1", self.gateway.peer_port, ssl_context=context
            )
            await site.start()
            self._ready.set()
            await asyncio.get_running_loop().run_in_executor(None, self._stop.wait)
            await self._runner.cleanup()

        asyncio.run(main())


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(200, None), (403, "Server.ServerProxy.AccessDenied")],
    ids=["forged-200", "forged-refusal"],
)
def test_an_unsigned_answer_becomes_the_consumers_own_error(
    fed: Federation, tmp_path: Path, status: int, error_type: str | None
) -> None:
    f = fed.gateways["f"]
    f.stop()
    wait_port_closed(f.peer_port)
    message_id = str(uuid.uuid4())
    with FakeProvider(f, status, error_type) as fake:
        response = call(
            fed.gateways["a"],
            f"/r1/{subsystem(fed, 'f', 'fake')}/persons/persons/{PERSON}",
            client=subsystem(fed, "a", "client"),
            headers=[("X-Road-Id", message_id)],
        )
        assert fake.requests == 1
    body = assert_error(response, 502, "Server.ClientProxy.UnsignedAnswer")
    assert "set-cookie" not in response.headers
    assert "x-forged" not in response.headers
    assert "forged" not in body["message"]
    assert f"answered {status}" in body["detail"]
    if error_type is not None:
        assert error_type in body["detail"]
        assert "forged refusal" in body["detail"]
    else:
        assert "national_code" not in response.text
    records = exported_records(fed.gateways["a"], message_id, tmp_path / "a.json")
    answer = next(r for r in records if r["kind"] == "response")
    assert answer["status"] == 502
    assert answer["headers"]["x-road-error"] == "Server.ClientProxy.UnsignedAnswer"  # type: ignore[index]
    assert "set-cookie" not in answer["headers"]  # type: ignore[operator]


def wait_port_closed(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"port {port} still accepts connections")


def test_a_provider_without_the_members_key_answers_unsigned_and_the_consumer_says_so(
    fed: Federation,
) -> None:
    hosted = f"{fed.hosted_member}/nokey"
    deadline = time.monotonic() + 30
    while True:  # until gateway A's configuration names gateway B for the hosted member
        response = call(
            fed.gateways["a"],
            f"/r1/{hosted}/persons/persons/{PERSON}",
            client=subsystem(fed, "a", "client"),
        )
        if response.headers.get("x-road-error") != "Client.UnknownMember":
            break
        assert time.monotonic() < deadline, response.text
        time.sleep(0.2)
    body = assert_error(response, 502, "Server.ClientProxy.UnsignedAnswer")
    assert "Server.ServerProxy.UnknownService" in body["detail"]


def test_refusals_before_authentication_are_signed_and_bound_to_the_request(
    fed: Federation,
) -> None:
    b = fed.gateways["b"]
    stale = signed_request(
        fed, b, subsystem(fed, "b", "registry") + "/persons", f"/persons/{PERSON}",
        created=int(time.time()) - 600,
    )  # fmt: skip
    response = send(fed, stale)
    assert response.status_code == 409
    assert response.headers["x-road-error"] == "Server.ServerProxy.ReplayedMessage"
    assert response.headers.get("signature"), "a refusal by a gateway holding the key is signed"
    covered = response.headers["signature-input"]
    assert '"signature";req;key="zb"' in covered
    assert '"x-road-error"' in covered
    assert response.headers["x-road-request-hash"]
    # Through gateway A the same kind of refusal reaches the information system as it is.
    missing = call(
        fed.gateways["a"],
        f"/r1/{subsystem(fed, 'b', 'registry')}/nosuch/x",
        client=subsystem(fed, "a", "client"),
    )
    assert_error(missing, 404, "Server.ServerProxy.UnknownService")


# --- 2. replay memory -------------------------------------------------------------------------


def replicated(fed: Federation) -> str:
    return subsystem(fed, "r", "replicated") + "/persons"


def test_a_replay_to_another_replica_is_refused(fed: Federation) -> None:
    request = signed_request(fed, fed.gateways["r"], replicated(fed), f"/persons/{PERSON}")
    first = send(fed, request, to=fed.gateways["r"])
    assert first.status_code == 200, first.text
    again = send(fed, request, to=fed.gateways["r2"])
    assert again.status_code == 409, again.text
    assert again.headers["x-road-error"] == "Server.ServerProxy.ReplayedMessage"
    assert "already received" in again.json()["message"]


def test_a_replay_at_the_edge_of_the_window_is_refused(fed: Federation) -> None:
    r = fed.gateways["r"]
    # Signed SKEW seconds ahead: fresh until the verifier's whole-second clock passes
    # created + SKEW, that is for up to 2·SKEW + 1 seconds from now.
    created = int(time.time()) + SKEW
    request = signed_request(fed, r, replicated(fed), f"/persons/{PERSON}", created=created)
    first = send(fed, request, to=r)
    assert first.status_code == 200, first.text
    deadline = time.monotonic() + 4 * SKEW + 5
    while int(time.time()) < created + SKEW:  # the last second in which it is fresh
        assert time.monotonic() < deadline, "the clock did not reach the window's edge"
        time.sleep(0.05)
    again = send(fed, request, to=fed.gateways["r2"])
    assert again.status_code == 409, again.text
    assert "already received" in again.json()["message"], "refused as a replay, not as stale"


def test_a_replay_after_a_restart_is_refused(fed: Federation) -> None:
    s = fed.gateways["s"]  # the default skew of 30 s: time enough to restart
    service = subsystem(fed, "s", "restarted") + "/persons"
    ahead = signed_request(fed, s, service, f"/persons/{PERSON}", created=int(time.time()) + 20)
    assert send(fed, ahead).status_code == 200
    before_restart = signed_request(fed, s, service, f"/persons/{PERSON}")
    s.stop()
    s.start()
    # Claimed before the restart and still fresh: the claim in the database refuses it.
    replayed = send(fed, ahead)
    assert replayed.status_code == 409, replayed.text
    assert "already received" in replayed.json()["message"]
    # Signed before the start and never sent: refused too (a claim lost in a crash would
    # otherwise let it through twice).
    late = send(fed, before_restart)
    assert late.status_code == 409, late.text
    assert "before this gateway started" in late.json()["message"]
    fresh = signed_request(fed, s, service, f"/persons/{PERSON}")
    assert send(fed, fresh).status_code == 200


# --- 3. single-valued headers -----------------------------------------------------------------


def test_repeated_single_valued_headers_are_refused_between_gateways(fed: Federation) -> None:
    b = fed.gateways["b"]
    before = hits(fed, f"/persons/{PERSON}")
    for name in ("x-road-userid", "x-road-purpose", "x-road-issue", "x-road-represented-party"):
        request = signed_request(
            fed, b, subsystem(fed, "b", "registry") + "/persons", f"/persons/{PERSON}",
            extra=[(name, "IR0499370899"), (name, "IR1111111111")],
        )  # fmt: skip
        response = send(fed, request)
        assert response.status_code == 400, (name, response.text)
        assert response.headers["x-road-error"] == "Server.ServerProxy.InvalidMessage"
        assert name in response.json()["message"].lower()
    for name in ("x-road-id", "x-road-client"):
        request = signed_request(
            fed, b, subsystem(fed, "b", "registry") + "/persons", f"/persons/{PERSON}"
        )
        value = dict(request.headers)[name]
        doubled = Signed(request.url, [*request.headers, (name, value)], b"")
        response = send(fed, doubled)
        assert response.status_code == 400, (name, response.text)
        assert response.headers["x-road-error"] == "Server.ServerProxy.InvalidMessage"
    assert hits(fed, f"/persons/{PERSON}") == before


def test_on_the_client_side_the_last_line_of_each_x_road_header_wins(
    fed: Federation, tmp_path: Path
) -> None:
    message_id = str(uuid.uuid4())
    lines = [("X-Road-Id", "first-id"), ("X-Road-Id", message_id)]
    for name in ("X-Road-UserId", "X-Road-Purpose", "X-Road-Issue", "X-Road-Represented-Party"):
        lines += [(name, "first"), (name, "last")]
    response = call(
        fed.gateways["a"],
        f"/r1/{subsystem(fed, 'b', 'registry')}/persons/headers",
        client=subsystem(fed, "a", "client"),
        headers=lines,
    )
    assert response.status_code == 200, response.text
    received = response.json()
    assert received["x-road-id"] == message_id
    for name in ("x-road-userid", "x-road-purpose", "x-road-issue", "x-road-represented-party"):
        assert received[name] == "last", (name, received)
    for side in ("a", "b"):
        records = exported_records(fed.gateways[side], message_id, tmp_path / f"{side}.json")
        request = next(r for r in records if r["kind"] == "request")
        logged = request["headers"]
        assert isinstance(logged, dict)
        for name in ("x-road-userid", "x-road-purpose", "x-road-issue"):
            assert logged[name] == "last", (side, name, logged)


# --- 4. unknown client subsystems -------------------------------------------------------------


def test_a_client_subsystem_missing_from_the_configuration_is_refused(fed: Federation) -> None:
    before = hits(fed, f"/persons/{PERSON}")
    response = call(
        fed.gateways["a"],
        f"/r1/{subsystem(fed, 'b', 'registry')}/persons/persons/{PERSON}",
        client=subsystem(fed, "a", "phantom"),
    )
    body = assert_error(response, 403, "Server.ServerProxy.UnknownMember")
    assert "phantom" in body["message"]
    assert hits(fed, f"/persons/{PERSON}") == before


# --- 8. paths after the service code ----------------------------------------------------------

DOTTY = [
    "..;",
    "..;jsessionid=1",
    "%252e%252e",
    "%25252e%25252e",
    "%c0%ae%c0%ae",
    "%c0%ae",
    "%e0%80%ae%e0%80%ae",
    "%ef%bc%8e%ef%bc%8e",
    "%u002e%u002e",
    "%2e%2e%3b",
]


@pytest.mark.parametrize("segment", DOTTY)
def test_segments_that_normalise_to_dot_segments_are_refused(fed: Federation, segment: str) -> None:
    before = hits(fed, "/private")
    target = f"/r1/{subsystem(fed, 'b', 'registry')}/files/public/{segment}/private"
    response = call(fed.gateways["a"], target, client=subsystem(fed, "a", "client"))
    body = assert_error(response, 400, "Client.BadRequest")
    assert "dot segment" in body["message"]
    # The provider refuses the same when a peer sends it anyway, and nothing is forwarded.
    b = fed.gateways["b"]
    direct = send(
        fed,
        signed_request(
            fed, b, subsystem(fed, "b", "registry") + "/files", f"/public/{segment}/private"
        ),
    )
    assert direct.status_code == 400, direct.text
    assert direct.headers["x-road-error"] == "Client.BadRequest"
    assert direct.headers.get("signature"), "the provider signs its refusal"
    assert hits(fed, "/private") == before


@pytest.mark.parametrize("path", ["/public/a%00b", "/public/%2500", "/public/a%0d%0ab"])
def test_nul_and_line_breaks_in_the_path_are_bad_requests(fed: Federation, path: str) -> None:
    target = f"/r1/{subsystem(fed, 'b', 'registry')}/files{path}"
    response = call(fed.gateways["a"], target, client=subsystem(fed, "a", "client"))
    assert_error(response, 400, "Client.BadRequest")


def test_an_access_right_on_a_prefix_is_not_escaped_with_path_parameters(
    fed: Federation,
) -> None:
    client = subsystem(fed, "a", "client")
    files = f"/r1/{subsystem(fed, 'b', 'registry')}/files"
    # Baseline: the right on /public/** opens /public/... and nothing else.
    assert call(fed.gateways["a"], f"{files}/public/x", client=client).status_code == 404
    assert_error(
        call(fed.gateways["a"], f"{files}/private", client=client),
        403,
        "Server.ServerProxy.AccessDenied",
    )
    assert_error(
        call(fed.gateways["a"], f"{files}/public/..;/private", client=client),
        400,
        "Client.BadRequest",
    )


# --- 9. bytes that are not UTF-8 ------------------------------------------------------------


def test_a_header_that_is_not_utf8_is_refused_naming_it(fed: Federation) -> None:
    a = fed.gateways["a"]
    before = hits(fed, "/headers")
    target = f"/r1/{subsystem(fed, 'b', 'registry')}/persons/headers"
    with socket.create_connection(("127.0.0.1", a.client_port), timeout=30) as connection:
        connection.sendall(
            f"GET {target} HTTP/1.1\r\nHost: gw\r\nX-Road-Client: {subsystem(fed, 'a', 'client')}"
            "\r\nConnection: close\r\n".encode()
            + b"X-Greeting: caf\xe9\r\n\r\n"
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b"x-road-error: client.badrequest" in head.lower()
    assert "x-greeting" in json.loads(body)["message"].lower()
    assert hits(fed, "/headers") == before


# --- answers longer than what arrives in one read ---------------------------------------------


def test_a_large_answer_arrives_whole_through_both_gateways(fed: Federation) -> None:
    body = bytes(range(256)) * (3 * 4096)  # 3 MiB, echoed by the backend
    response = httpx.post(
        f"{fed.gateways['a'].url}/r1/{subsystem(fed, 'b', 'registry')}/persons/echo",
        headers={"X-Road-Client": subsystem(fed, "a", "client"), "Content-Type": "x/y"},
        content=body,
        timeout=60,
    )
    assert response.status_code == 200, response.text[:300]
    assert "x-road-error" not in response.headers
    assert response.content == body
