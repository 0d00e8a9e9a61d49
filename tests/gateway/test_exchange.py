"""The exchange end to end, over real processes and real mutual TLS, on SQLite and PostgreSQL:
information system → gateway A → gateway B → provider backend, and everything that must be
refused on the way (with the right status and X-Road error type, and nothing forwarded)."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from central_process import ZISTBOOM
from federation import Federation, GatewayProcess, start_federation
from support import free_port
from zistboom.core.crypto import httpsig, keys, x509

# Five gateways set up and started one after another: over two minutes on a loaded machine.
pytestmark = pytest.mark.timeout(600)

PERSON = "0499370899"


@pytest.fixture(scope="module")
def fed(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Federation]:
    root = tmp_path_factory.mktemp("federation")
    federation = start_federation(
        root,
        backend_database,
        central_env={"ZB_CONF_REFRESH_SECONDS": "1", "ZB_CONF_VALIDITY_SECONDS": "6"},
    )
    try:
        a = federation.add_member("Client agency", ["client"])
        b = federation.add_member("Registry agency", ["registry"])
        c = federation.add_member("Other agency", ["other"])
        d = federation.add_member("HTTPS agency", ["secure"])
        e = federation.add_member("Hosted agency", ["hosted"])
        gw_a = federation.add_gateway("a", a, env={"ZB_MAX_BODY_BYTES": str(256 * 1024)})
        gw_b = federation.add_gateway("b", b)
        gw_c = federation.add_gateway("c", c)
        gw_d = federation.add_gateway("d", d, env={"ZB_CLIENT_TLS": "true"})
        backend = federation.start_backend()
        gw_a.cli("client", "add", f"{a}/client")
        gw_c.cli("client", "add", f"{c}/other")
        gw_d.cli("client", "add", f"{d}/secure")
        is_dir = root / "information-system"
        is_dir.mkdir()
        write_self_signed(is_dir, "registered")
        write_self_signed(is_dir, "stranger")
        gw_d.cli("client", "add-certificate", f"{d}/secure", str(is_dir / "registered.pem"))
        gw_b.cli("client", "add", f"{b}/registry")
        gw_b.cli("service", "add", f"{b}/registry", "persons", backend, "--description", "persons")
        gw_b.cli("service", "add", f"{b}/registry", "slow", backend, "--timeout", "1")
        gw_b.cli("service", "add", f"{b}/registry", "down", f"http://127.0.0.1:{free_port()}")
        gw_b.cli("service", "add", f"{b}/registry", "hidden", backend)
        secret_file = root / "backend-secret"
        secret_file.write_text(BACKEND_SECRET + "\n")
        secret_file.chmod(0o600)
        gw_b.cli(
            "service", "add", f"{b}/registry", "guarded", backend,
            "--backend-secret-file", str(secret_file),
        )  # fmt: skip
        gw_b.cli("access", "grant", f"{b}/registry", "guarded", f"{a}/client")
        for code in ("persons", "slow", "down"):
            gw_b.cli("access", "grant", f"{b}/registry", code, f"{a}/client")
        gw_b.cli("access", "grant", f"{b}/registry", "persons", f"{d}/secure")
        # Gateway B also serves member E's subsystem (multi-tenant hosting).
        _, b_class, b_code = b.split("/")
        with federation.admin() as admin:
            hosted = admin.post(
                f"/api/v1/members/{b_class}/{b_code}/gateways/gw1/hosted-members",
                json={"member_id": e},
            )
            assert hosted.status_code == 201, hosted.text
            sign_token = admin.post(
                "/api/v1/enrolment-tokens", json={"member_id": e, "kind": "sign"}
            ).json()["token"]
        gw_b.cli("member", "add", "--member", e, "--token", sign_token)
        gw_b.cli("client", "add", f"{e}/hosted")
        gw_b.cli("service", "add", f"{e}/hosted", "persons", backend)
        gw_b.cli("access", "grant", f"{e}/hosted", "persons", f"{a}/client")
        federation.hosted_member = e
        for gateway in (gw_b, gw_a, gw_c, gw_d):
            gateway.start()
        federation.backend = backend
        yield federation
    finally:
        federation.stop()


BACKEND_SECRET = "s3cret-" + "x" * 40


def write_self_signed(folder: Path, name: str) -> None:
    """An information system's own self-signed TLS client certificate (and its key)."""
    key = keys.generate_private_key()
    subject = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    (folder / f"{name}.pem").write_text(x509.certificate_pem(cert))
    keys.save_private_key(key, folder / f"{name}.key")


def ids(fed: Federation) -> tuple[str, str, str]:
    return (
        fed.gateways["a"].member_id + "/client",
        fed.gateways["b"].member_id + "/registry",
        fed.gateways["c"].member_id + "/other",
    )


def call(
    gateway: GatewayProcess,
    service: str,
    path: str = "",
    *,
    client: str | None,
    method: str = "GET",
    **kwargs: object,
) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}) or {})  # type: ignore[call-overload]
    if client is not None:
        headers["X-Road-Client"] = client
    return httpx.request(
        method, f"{gateway.url}/r1/{service}{path}", headers=headers, timeout=30, **kwargs
    )  # type: ignore[arg-type]


def hits(fed: Federation, path: str) -> int:
    backend = fed.backend
    return int(httpx.get(f"{backend}/hits", params={"path": path}).json()["hits"])


def assert_xroad_error(response: httpx.Response, status: int, error_type: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers.get("x-road-error") == error_type, response.headers
    body = response.json()
    assert body["type"] == error_type
    assert body["message"]


# --- the call that works ---------------------------------------------------------------------


def test_a_call_through_two_gateways_returns_the_providers_answer(fed: Federation) -> None:
    client, provider, _ = ids(fed)
    message_id = str(uuid.uuid4())
    response = call(
        fed.gateways["a"],
        f"{provider}/persons",
        f"/persons/{PERSON}?fields=name&x=%2F1",
        client=client,
        headers={"X-Road-Id": message_id, "X-Road-UserId": "IR" + PERSON, "Connection": "close"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["national_code"] == PERSON
    assert body["query"] == "fields=name&x=%2F1"  # query strings pass unchanged
    assert body["x_road_client"] == client
    assert body["x_road_id"] == message_id
    assert response.headers["x-road-id"] == message_id
    assert response.headers["x-road-client"] == client
    assert response.headers["x-road-service"] == f"{provider}/persons"
    assert uuid.UUID(response.headers["x-road-request-id"])
    assert len(base64.b64decode(response.headers["x-road-request-hash"])) == 64
    assert response.headers["x-backend"] == "persons"  # provider headers pass
    for gateway_only in ("signature", "signature-input", "zb-signer-certificate", "x-road-error"):
        assert gateway_only not in response.headers


def test_a_post_body_arrives_intact_and_ids_are_generated(fed: Federation) -> None:
    client, provider, _ = ids(fed)
    payload = json.dumps({"data": "ی" * 8000}).encode()
    response = call(
        fed.gateways["a"],
        f"{provider}/persons",
        "/echo",
        client=client,
        method="POST",
        content=payload,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    assert response.content == payload
    assert response.headers["content-type"].startswith("application/json")
    assert uuid.UUID(response.headers["x-road-id"])


def test_a_gateway_serves_the_subsystems_of_a_member_it_hosts(fed: Federation) -> None:
    client, _, _ = ids(fed)
    hosted = f"{fed.hosted_member}/hosted"
    response = call(fed.gateways["a"], f"{hosted}/persons", f"/persons/{PERSON}", client=client)
    assert response.status_code == 200, response.text
    assert response.json()["national_code"] == PERSON
    assert response.headers["x-road-service"] == f"{hosted}/persons"
    # Gateway A verified the answer as signed by the hosted member, through B's TLS identity.
    other = call(fed.gateways["c"], f"{hosted}/persons", "/persons/1", client=ids(fed)[2])
    assert_xroad_error(other, 403, "Server.ServerProxy.AccessDenied")


def test_provider_errors_and_redirects_pass_as_they_are(fed: Federation) -> None:
    client, provider, _ = ids(fed)
    failed = call(fed.gateways["a"], f"{provider}/persons", "/fail", client=client)
    assert failed.status_code == 500
    assert "x-road-error" not in failed.headers
    assert failed.json() == {"error": "backend says no"}
    redirected = call(fed.gateways["a"], f"{provider}/persons", "/redirect", client=client)
    assert redirected.status_code == 302
    assert redirected.headers["location"] == "https://example.invalid/elsewhere"


def test_the_last_x_road_client_header_wins(fed: Federation) -> None:
    client, provider, other = ids(fed)
    response = httpx.get(
        f"{fed.gateways['a'].url}/r1/{provider}/persons/headers",
        headers=[("X-Road-Client", other), ("X-Road-Client", client)],
    )
    assert response.status_code == 200, response.text
    assert response.json()["x-road-client"] == client


def test_the_provider_gateway_adds_the_backend_secret_and_drops_a_forged_one(
    fed: Federation,
) -> None:
    client, provider, _ = ids(fed)
    forged = {"X-Zistboom-Gateway-Secret": "forged-" + "y" * 40}
    guarded = call(fed.gateways["a"], f"{provider}/guarded", "/headers", client=client,
                   headers=forged)  # fmt: skip
    assert guarded.status_code == 200, guarded.text
    assert guarded.json()["x-zistboom-gateway-secret"] == BACKEND_SECRET
    assert "x-zistboom-gateway-secret" not in guarded.headers
    plain = call(fed.gateways["a"], f"{provider}/persons", "/headers", client=client,
                 headers=forged)  # fmt: skip
    assert plain.status_code == 200, plain.text
    assert "x-zistboom-gateway-secret" not in plain.json()
    gateway = fed.gateways["b"]
    token = (gateway.data_dir / "admin-token").read_text().strip()
    shown = httpx.get(
        f"http://127.0.0.1:{gateway.admin_port}/api/v1/services/{provider}/guarded",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert shown.status_code == 200, shown.text
    assert shown.json()["backend_secret_set"] is True
    assert BACKEND_SECRET not in shown.text


def test_information_systems_may_connect_over_https_with_a_registered_certificate(
    fed: Federation,
) -> None:
    _, provider, _ = ids(fed)
    d = fed.gateways["d"]
    folder = fed.root / "information-system"
    url = f"https://127.0.0.1:{d.client_port}/r1/{provider}/persons/persons/{PERSON}"
    headers = {"X-Road-Client": f"{d.member_id}/secure"}

    def context(name: str | None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(d.data_dir / "certs" / "ca.pem"))
        ctx.check_hostname = False
        if name:
            ctx.load_cert_chain(str(folder / f"{name}.pem"), str(folder / f"{name}.key"))
        return ctx

    ok = httpx.get(url, headers=headers, verify=context("registered"), timeout=30)
    assert ok.status_code == 200, ok.text
    assert ok.json()["national_code"] == PERSON
    for name in (None, "stranger"):
        with pytest.raises((httpx.TransportError, ssl.SSLError)):
            httpx.get(url, headers=headers, verify=context(name), timeout=10).raise_for_status()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{d.client_port}/r1/{provider}/persons/x", timeout=5)


# --- refused on the client side ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_header", "error_type"),
    [
        (None, "Client.InvalidClientIdentifier"),
        ("IR-DEMO/GOV", "Client.InvalidClientIdentifier"),
        ("IR-DEMO/XYZ/10380284790/client", "Client.InvalidClientIdentifier"),
    ],
)
def test_missing_or_malformed_client_header(
    fed: Federation, client_header: str | None, error_type: str
) -> None:
    _, provider, _ = ids(fed)
    before = hits(fed, f"/persons/{PERSON}")
    response = call(
        fed.gateways["a"], f"{provider}/persons", f"/persons/{PERSON}", client=client_header
    )
    assert_xroad_error(response, 400, error_type)
    assert hits(fed, f"/persons/{PERSON}") == before


@pytest.mark.parametrize(
    ("target", "status", "error_type"),
    [
        ("/r1/IR-DEMO/GOV/10380284790", 400, "Client.InvalidServiceIdentifier"),
        ("/r1/IR-DEMO/GOV/12345/registry/persons", 400, "Client.InvalidServiceIdentifier"),
        ("/r1/IR-DEMO/GOV/10380284790/reg/x%2Fy", 400, "Client.InvalidServiceIdentifier"),
        ("/r2/IR-DEMO/GOV/10380284790/reg/persons", 400, "Client.BadRequest"),
        ("/r1/IR-DEMO/GOV/10380284790/registry/persons", 404, "Client.UnknownMember"),
    ],
)
def test_malformed_or_unknown_service_ids(
    fed: Federation, target: str, status: int, error_type: str
) -> None:
    client, _, _ = ids(fed)
    response = httpx.get(f"{fed.gateways['a'].url}{target}", headers={"X-Road-Client": client})
    assert_xroad_error(response, status, error_type)


def test_dot_segments_are_refused(fed: Federation) -> None:
    client, provider, _ = ids(fed)
    raw = f"{fed.gateways['a'].url}/r1/{provider}/persons/%2e%2e/admin"
    response = httpx.get(httpx.URL(raw), headers={"X-Road-Client": client})
    assert_xroad_error(response, 400, "Client.BadRequest")


def test_a_client_the_gateway_does_not_serve_is_refused(fed: Federation) -> None:
    _, provider, other = ids(fed)
    response = call(fed.gateways["a"], f"{provider}/persons", f"/persons/{PERSON}", client=other)
    assert_xroad_error(response, 403, "Client.UnknownClient")


def test_an_oversized_body_is_refused_before_sending(fed: Federation) -> None:
    client, provider, _ = ids(fed)
    before = hits(fed, "/echo")
    response = call(
        fed.gateways["a"],
        f"{provider}/persons",
        "/echo",
        client=client,
        method="POST",
        content=b"x" * (300 * 1024),
    )
    assert_xroad_error(response, 413, "Client.RequestTooLarge")
    assert hits(fed, "/echo") == before


# --- refused on the provider's side ------------------------------------------------------------


def test_access_denied_forwards_nothing(fed: Federation) -> None:
    client, provider, other = ids(fed)
    before = hits(fed, f"/persons/{PERSON}")
    denied = call(fed.gateways["c"], f"{provider}/persons", f"/persons/{PERSON}", client=other)
    assert_xroad_error(denied, 403, "Server.ServerProxy.AccessDenied")
    no_right = call(fed.gateways["a"], f"{provider}/hidden", f"/persons/{PERSON}", client=client)
    assert_xroad_error(no_right, 403, "Server.ServerProxy.AccessDenied")
    assert hits(fed, f"/persons/{PERSON}") == before


def test_unknown_service_at_the_provider(fed: Federation) -> None:
    client, provider, _ = ids(fed)
    response = call(fed.gateways["a"], f"{provider}/nosuch", "/x", client=client)
    assert_xroad_error(response, 404, "Server.ServerProxy.UnknownService")


def test_provider_down_and_provider_timeout(fed: Federation) -> None:
    client, provider, _ = ids(fed)
    down = call(fed.gateways["a"], f"{provider}/down", "/persons/1", client=client)
    assert_xroad_error(down, 502, "Server.ServerProxy.ServiceFailed")
    started = time.monotonic()
    slow = call(
        fed.gateways["a"], f"{provider}/slow", "/slow", client=client, params={"seconds": 5}
    )
    assert_xroad_error(slow, 504, "Server.ServerProxy.Timeout")
    assert time.monotonic() - started < 4


# --- messages crafted by hand, sent straight to gateway B's peer port ---------------------------


def _tls(gateway: GatewayProcess) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(gateway.data_dir / "certs" / "ca.pem"))
    context.check_hostname = False
    context.load_cert_chain(
        str(gateway.data_dir / "certs" / "auth.pem"), str(gateway.data_dir / "keys" / "auth.key")
    )
    return context


def _signing(gateway: GatewayProcess) -> tuple[keys.PrivateKey, str]:
    name = "sign-" + gateway.member_id.replace("/", "_")
    key = keys.load_private_key(gateway.data_dir / "keys" / f"{name}.key")
    cert = (gateway.data_dir / "certs" / f"{name}.pem").read_bytes()
    return key, cert.decode()


def crafted(
    fed: Federation,
    *,
    tls_from: str = "a",
    signer_key: keys.PrivateKey | None = None,
    signer_cert_pem: str | None = None,
    body: bytes = b"",
    sent_body: bytes | None = None,
    message_id: str | None = None,
    created: int | None = None,
    tamper_signature: bool = False,
) -> tuple[dict[str, str], bytes]:
    """A request as gateway A would send it, with the given deviations."""
    client, provider, _ = ids(fed)
    b = fed.gateways["b"]
    if signer_key is None:
        signer_key, signer_cert_pem = _signing(fed.gateways["a"])
    assert signer_cert_pem is not None
    cert = x509.load_certificate(signer_cert_pem)
    message_id = message_id or str(uuid.uuid4())
    path = f"/r1/{provider}/persons/persons/{PERSON}"
    uri = f"https://127.0.0.1:{b.peer_port}{path}"
    headers = {
        "x-road-client": client,
        "x-road-id": message_id,
        "content-digest": httpsig.content_digest(body),
        "zb-signer-certificate": base64.b64encode(x509.certificate_der(cert)).decode(),
    }
    signed = httpsig.sign_request(
        httpsig.RequestParts("POST", uri, headers),
        components=[
            '"@method"', '"@path"', '"@query"', '"content-digest"', '"x-road-client"',
            '"x-road-id"', '"zb-signer-certificate"',
        ],
        key=signer_key,
        key_id=x509.certificate_fingerprint(cert),
        created=created or int(time.time()),
        nonce=message_id,
    )  # fmt: skip
    headers["signature-input"] = signed.signature_input
    signature = signed.signature
    if tamper_signature:
        value = signature.split(":")[1]
        flipped = ("B" if value[5] != "B" else "C").join((value[:5], value[6:]))
        signature = signature.replace(value, flipped)
    headers["signature"] = signature
    with httpx.Client(verify=_tls(fed.gateways[tls_from]), timeout=30) as peer:
        response = peer.post(
            uri, headers=headers, content=sent_body if sent_body is not None else body
        )
    return {k.lower(): v for k, v in response.headers.items()} | {
        "status": str(response.status_code)
    }, response.content


def test_a_correct_crafted_message_is_accepted(fed: Federation) -> None:
    # The baseline for the negatives below: the hand-made message itself is right.
    headers, _ = crafted(fed)
    assert headers["status"] == "405"  # POST to a GET-only backend path: the backend's answer
    assert "x-road-error" not in headers
    assert headers["signature"]


def test_a_tampered_body_is_refused(fed: Federation) -> None:
    headers, _ = crafted(fed, body=b'{"a": 1}', sent_body=b'{"a": 2}')
    assert headers["status"] == "400"
    assert headers["x-road-error"] == "Server.ServerProxy.InvalidMessage"


def test_a_tampered_signature_is_refused(fed: Federation) -> None:
    headers, _ = crafted(fed, tamper_signature=True)
    assert headers["status"] == "400"
    assert headers["x-road-error"] == "Server.ServerProxy.InvalidSignature"


def test_a_replayed_message_is_refused(fed: Federation) -> None:
    message_id = str(uuid.uuid4())
    first, _ = crafted(fed, message_id=message_id)
    assert "x-road-error" not in first
    again, _ = crafted(fed, message_id=message_id)
    assert again["status"] == "409"
    assert again["x-road-error"] == "Server.ServerProxy.ReplayedMessage"
    stale, _ = crafted(fed, created=int(time.time()) - 600)
    assert stale["x-road-error"] == "Server.ServerProxy.ReplayedMessage"


def test_a_peer_presenting_another_gateways_certificate_is_refused(fed: Federation) -> None:
    # Gateway C's own, valid TLS certificate, but a message from member A: C is not A's gateway.
    headers, _ = crafted(fed, tls_from="c")
    assert headers["status"] == "403"
    assert headers["x-road-error"] == "Server.ServerProxy.SslAuthenticationFailed"


def test_a_signature_by_another_member_is_refused(fed: Federation) -> None:
    key, cert = _signing(fed.gateways["c"])
    headers, _ = crafted(fed, signer_key=key, signer_cert_pem=cert)
    assert headers["status"] == "400"
    assert headers["x-road-error"] == "Server.ServerProxy.InvalidSignature"


def test_a_revoked_signing_certificate_is_refused(fed: Federation) -> None:
    a = fed.gateways["a"]
    with fed.admin() as admin:
        token = admin.post(
            "/api/v1/enrolment-tokens", json={"member_id": a.member_id, "kind": "sign"}
        ).json()["token"]
        key = keys.generate_private_key()
        issued = admin.post(
            "/api/v1/ca/enrol",
            json={"token": token, "csr": x509.create_csr(key, common_name="x").decode()},
        ).json()
        good, _ = crafted(fed, signer_key=key, signer_cert_pem=issued["certificate"])
        assert "x-road-error" not in good
        revoked = admin.post(
            f"/api/v1/ca/certificates/{issued['serial']}/revoke", json={"reason": "keyCompromise"}
        )
        assert revoked.status_code == 200
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        headers, body = crafted(fed, signer_key=key, signer_cert_pem=issued["certificate"])
        if "x-road-error" in headers:
            break
        time.sleep(0.5)
    assert headers["x-road-error"] == "Server.ServerProxy.InvalidSignature"
    assert b"revoked" in body


def test_an_oversized_body_is_refused_by_the_provider(fed: Federation) -> None:
    b = fed.gateways["b"]
    big = b"x" * (11 * 1024 * 1024)
    headers, _ = crafted(fed, body=big)
    assert headers["status"] == "413"
    assert headers["x-road-error"] == "Server.ServerProxy.RequestTooLarge"
    assert b.process is not None and b.process.poll() is None


def test_plain_connections_to_the_peer_port_are_refused(fed: Federation) -> None:
    b = fed.gateways["b"]
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{b.peer_port}/r1/x", timeout=5)
    no_cert = ssl.create_default_context(cafile=str(b.data_dir / "certs" / "ca.pem"))
    no_cert.check_hostname = False
    with pytest.raises(httpx.TransportError):
        httpx.get(f"https://127.0.0.1:{b.peer_port}/r1/x", verify=no_cert, timeout=5)


# --- evidence ---------------------------------------------------------------------------------


def test_evidence_of_a_message_verifies_and_a_changed_byte_is_named(
    fed: Federation, tmp_path: Path
) -> None:
    client, provider, _ = ids(fed)
    message_id = str(uuid.uuid4())
    ok = call(
        fed.gateways["a"],
        f"{provider}/persons",
        f"/persons/{PERSON}",
        client=client,
        headers={"X-Road-Id": message_id},
    )
    assert ok.status_code == 200
    for side in ("a", "b"):
        gateway = fed.gateways[side]
        bundle = tmp_path / f"{side}.json"
        # The log is sealed and timestamped every 2 s in these tests: wait for the seal.
        deadline = time.monotonic() + 30
        while True:
            exported = subprocess.run(
                [ZISTBOOM, "evidence", "export", "--data-dir", str(gateway.data_dir),
                 "--message-id", message_id, "--out", str(bundle)],
                env=gateway.env, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert exported.returncode == 0, exported.stdout + exported.stderr
            verified = subprocess.run(
                [ZISTBOOM, "evidence", "verify", str(bundle),
                 "--ca", str(gateway.data_dir / "certs" / "ca.pem")],
                env=gateway.env, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            if verified.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        document = json.loads(bundle.read_text())
        assert {r["kind"] for r in document["records"]} == {"request", "response"}
        tampered = bundle.read_text().replace(PERSON, PERSON[:-1] + "8", 1)
        assert tampered != bundle.read_text()
        (tmp_path / "t.json").write_text(tampered)
        broken = subprocess.run(
            [ZISTBOOM, "evidence", "verify", str(tmp_path / "t.json"),
             "--ca", str(gateway.data_dir / "certs" / "ca.pem")],
            env=gateway.env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert broken.returncode == 1
        assert message_id in broken.stdout


# --- operations ----------------------------------------------------------------------------


def test_health_ready_and_metrics(fed: Federation) -> None:
    a = fed.gateways["a"]
    assert httpx.get(f"{a.url}/health").json()["status"] == "ok"
    ready = httpx.get(f"{a.url}/ready")
    assert ready.status_code == 200, ready.text
    metrics = httpx.get(f"{a.url}/metrics").text
    assert "zistboom_gateway_requests_total" in metrics


# --- with central gone, the configuration expires ----------------------------------------------


def test_an_expired_global_configuration_stops_the_exchange(
    fresh_backend_database: str | None, tmp_path: Path
) -> None:
    # A federation of its own: stopping its central changes nothing for any other test.
    validity = 6
    own = start_federation(
        tmp_path,
        fresh_backend_database,
        central_env={"ZB_CONF_REFRESH_SECONDS": "1", "ZB_CONF_VALIDITY_SECONDS": str(validity)},
    )
    try:
        a = own.add_member("Client agency", ["client"])
        b = own.add_member("Registry agency", ["registry"])
        gw_a = own.add_gateway("a", a)
        gw_b = own.add_gateway("b", b)
        backend = own.start_backend()
        gw_a.cli("client", "add", f"{a}/client")
        gw_b.cli("client", "add", f"{b}/registry")
        gw_b.cli("service", "add", f"{b}/registry", "persons", backend)
        gw_b.cli("access", "grant", f"{b}/registry", "persons", f"{a}/client")
        for gateway in (gw_b, gw_a):
            gateway.start()
        client, service = f"{a}/client", f"{b}/registry/persons"
        # While central runs the call goes through, so the refusal below is the expiry's doing.
        before = call(gw_a, service, f"/persons/{PERSON}", client=client)
        assert before.status_code == 200, before.text
        assert httpx.get(f"{gw_a.url}/ready").status_code == 200

        own.central.process.terminate()
        own.central.process.wait(timeout=20)
        deadline = time.monotonic() + validity + 30
        while True:
            response = call(gw_a, service, f"/persons/{PERSON}", client=client)
            if response.headers.get("x-road-error") == "Server.ClientProxy.OutdatedGlobalConf":
                break
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{validity + 30} s after central stopped, gateway A still answers "
                    f"{response.status_code} {response.text[:300]!r}; the end of its output:\n"
                    + "".join(gw_a.output[-30:])
                )
            time.sleep(0.2)
        assert_xroad_error(response, 503, "Server.ClientProxy.OutdatedGlobalConf")
        ready = httpx.get(f"{gw_a.url}/ready")
        assert ready.status_code == 503, ready.text
    finally:
        own.stop()
