"""Central over real HTTP, on SQLite and PostgreSQL: members, enrolment, TSA, global
configuration, problem details, roles and the audit log."""

from __future__ import annotations

import asyncio
import base64
import random
import sqlite3
import subprocess
import time
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from central_process import (
    FIRST_ADMIN_KEY,
    CentralProcess,
    launch_central,
    start_central,
    stop_central,
    wait_until_serving,
)
from support import free_port
from zistboom.core import globalconf as gc
from zistboom.core.crypto import jws, keys, x509
from zistboom.core.crypto.timestamp import create_timestamp_request
from zistboom.core.enrolment import enrol_certificate
from zistboom.core.errors import ConfigurationError
from zistboom.core.iran import generate_legal_entity_id, generate_national_code

rng = random.Random()


def new_member(central: CentralProcess, member_class: str = "GOV", kind: str = "agency") -> dict:
    body = {
        "member_class": member_class,
        "code": generate_legal_entity_id(rng),
        "name_fa": "سازمان آزمایشی",
        "name_en": "Test Agency",
        "kind": kind,
        "contact_national_code": generate_national_code(rng),
    }
    with central.admin as client:
        response = client.post("/api/v1/members", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def member_path(member: dict) -> str:
    return f"/api/v1/members/{member['member_class']}/{member['code']}"


def enrol(central: CentralProcess, member: dict, kind: str, gateway_code: str | None = None):
    with central.admin as client:
        token = client.post(
            "/api/v1/enrolment-tokens",
            json={"member_id": member["id"], "kind": kind, "gateway_code": gateway_code},
        )
        assert token.status_code == 201, token.text
        key = keys.generate_private_key()
        csr = x509.create_csr(key, common_name="ignored by the CA").decode()
        issued = client.post("/api/v1/ca/enrol", json={"token": token.json()["token"], "csr": csr})
    assert issued.status_code == 201, issued.text
    return key, issued.json(), token.json()["token"]


def problem_field(response: httpx.Response) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    return {e["field"] for e in body.get("errors", [])}


def test_openapi_and_docs_are_served(central: CentralProcess) -> None:
    spec = httpx.get(f"{central.url}/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    for path in ("/global-conf", "/tsa", "/api/v1/members", "/api/v1/ca/enrol"):
        assert path in spec["paths"]
    docs = httpx.get(f"{central.url}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_ecosystems_are_seeded_with_jalali_and_gregorian_deadlines(central: CentralProcess) -> None:
    ecosystems = httpx.get(f"{central.url}/api/v1/ecosystems").json()
    assert len(ecosystems) == 13
    by_key = {e["key"]: e for e in ecosystems}
    assert by_key["tax"]["phase"] == 1
    assert by_key["tax"]["deadline"] == "2026-02-04"
    assert by_key["tax"]["deadline_jalali"] == "1404-11-15"
    assert by_key["insurance"]["deadline"] == "2026-05-05"
    assert by_key["insurance"]["deadline_jalali"] == "1405-02-15"
    assert by_key["migrants-and-foreign-nationals"]["name_fa"] == "مهاجران و اتباع"


def test_global_conf_is_signed_and_verifies_against_the_printed_anchor(
    central: CentralProcess, tmp_path: Path
) -> None:
    printed = central.cli("anchor")
    assert printed.returncode == 0, printed.stderr
    anchor = gc.Anchor.from_json(printed.stdout.strip())
    assert anchor.url == f"{central.url}/global-conf"
    client = gc.GlobalConfClient(anchor, tmp_path)
    conf = asyncio.run(client.refresh())
    assert conf.instance == "IR-DEMO"
    assert len(conf.ecosystems) == 13
    assert conf.ca_certificates and conf.tsa_certificates


def test_global_conf_version_increases_only_when_content_changes(central: CentralProcess) -> None:
    def fetch() -> tuple[gc.GlobalConf, httpx.Response]:
        response = httpx.get(f"{central.url}/global-conf")
        token = response.text
        payload = orjson.loads(keys.b64url_decode(token.split(".")[1]))
        return gc.GlobalConf.model_validate(payload), response

    before, response = fetch()
    etag = response.headers["etag"]
    unchanged = httpx.get(f"{central.url}/global-conf", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.headers["etag"] == etag
    member = new_member(central)
    after, response = fetch()
    assert after.version == before.version + 1
    assert response.headers["etag"] != etag
    stale = httpx.get(f"{central.url}/global-conf", headers={"If-None-Match": etag})
    assert stale.status_code == 200
    assert any(m.id == member["id"] for m in after.members)
    assert after.expires_at > after.generated_at


def test_enrolled_certificates_verify_with_openssl(central: CentralProcess, tmp_path: Path) -> None:
    member = new_member(central)
    with central.admin as client:
        gw = client.post(
            member_path(member) + "/gateways", json={"code": "gw1", "address": "127.0.0.1:9443"}
        )
        assert gw.status_code == 201, gw.text
    _, auth, _ = enrol(central, member, "auth", "gw1")
    _, sign, _ = enrol(central, member, "sign")
    (tmp_path / "ca.pem").write_text(auth["ca_certificate"])
    for name, cert, purpose in (("auth", auth, "sslclient"), ("sign", sign, None)):
        (tmp_path / f"{name}.pem").write_text(cert["certificate"])
        command = ["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem")]
        if purpose:
            command += ["-purpose", purpose]
        result = subprocess.run(
            [*command, str(tmp_path / f"{name}.pem")], capture_output=True, text=True
        )
        assert result.returncode == 0 and ": OK" in result.stdout, result.stdout + result.stderr
    assert auth["identity"] == f"{member['id']}/gw1"
    assert sign["identity"] == member["id"]
    # The gateway's auth certificate is named in the global configuration.
    conf = gc.GlobalConf.model_validate(
        orjson.loads(keys.b64url_decode(httpx.get(f"{central.url}/global-conf").text.split(".")[1]))
    )
    gateway = next(g for g in conf.gateways if g.id == f"{member['id']}/gw1")
    assert gateway.auth_certificates == [auth["fingerprint"]]


def test_tsa_tokens_verify_with_openssl(central: CentralProcess, tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"evidence " * 100)
    query = create_timestamp_request(keys.sha256(data.read_bytes()), nonce=12345)
    response = httpx.post(
        f"{central.url}/tsa", content=query, headers={"content-type": "application/timestamp-query"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/timestamp-reply"
    (tmp_path / "reply.tsr").write_bytes(response.content)
    (tmp_path / "query.tsq").write_bytes(query)
    (tmp_path / "ca.pem").write_text(httpx.get(f"{central.url}/api/v1/ca/certificate").text)
    conf = orjson.loads(
        keys.b64url_decode(httpx.get(f"{central.url}/global-conf").text.split(".")[1])
    )
    (tmp_path / "tsa.pem").write_text(conf["tsa_certificates"][0])
    for source in (["-queryfile", "query.tsq"], ["-data", "data.bin"]):
        result = subprocess.run(
            ["openssl", "ts", "-verify", *source, "-in", "reply.tsr", "-CAfile", "ca.pem",
             "-untrusted", "tsa.pem"],
            cwd=tmp_path, capture_output=True, text=True,
        )  # fmt: skip
        assert "Verification: OK" in result.stdout, result.stdout + result.stderr
    bad = httpx.post(
        f"{central.url}/tsa",
        content=b"garbage",
        headers={"content-type": "application/timestamp-query"},
    )
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/timestamp-reply"


def test_renewal_with_the_current_key_and_revocation(central: CentralProcess) -> None:
    member = new_member(central)
    key, current, _ = enrol(central, member, "sign")
    new_key = keys.generate_private_key()
    cert = x509.load_certificate(current["certificate"])
    request = jws.sign_jws(
        orjson.dumps(
            {"csr": x509.create_csr(new_key, common_name="x").decode(), "iat": int(time.time())}
        ),
        key,
        headers={"x5c": [base64.b64encode(cert.public_bytes(Encoding.DER)).decode()]},
    )
    renewed = httpx.post(f"{central.url}/api/v1/ca/renew", content=request)
    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["identity"] == member["id"]
    assert renewed.json()["serial"] != current["serial"]
    # A request signed by another key than the certificate's is refused.
    forged = jws.sign_jws(
        orjson.dumps({"csr": x509.create_csr(new_key, common_name="x").decode(), "iat": 0}),
        new_key,
        headers={"x5c": [base64.b64encode(cert.public_bytes(Encoding.DER)).decode()]},
    )
    # ZB-STD-002 §11.3 step 3: a JWS signature that does not verify with the current
    # certificate's key is 400, problem type crypto-error.
    refused_forgery = httpx.post(f"{central.url}/api/v1/ca/renew", content=forged)
    assert refused_forgery.status_code == 400, refused_forgery.text
    assert refused_forgery.headers["content-type"].startswith("application/problem+json")
    assert refused_forgery.json()["type"].endswith("/crypto-error"), refused_forgery.text
    with central.admin as client:
        revoked = client.post(
            f"/api/v1/ca/certificates/{current['serial']}/revoke", json={"reason": "superseded"}
        )
        assert revoked.status_code == 200, revoked.text
    conf = orjson.loads(
        keys.b64url_decode(httpx.get(f"{central.url}/global-conf").text.split(".")[1])
    )
    assert current["serial"] in conf["revoked_serials"]
    # ZB-STD-003 1.2: the same revocation with its time, as central recorded it.
    published = gc.GlobalConf.model_validate(conf)
    revoked_at = published.revoked_at(int(current["serial"], 16))
    assert revoked_at is not None
    assert revoked_at == datetime.fromisoformat(revoked.json()["revoked_at"])
    assert revoked_at.microsecond == 0
    assert revoked_at <= published.generated_at
    assert published.revoked_at(int(renewed.json()["serial"], 16)) is None
    assert {
        "serial": current["serial"],
        "revoked_at": revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    } in conf["revoked_certificates"]
    # A revoked certificate cannot renew.
    again = jws.sign_jws(
        orjson.dumps(
            {"csr": x509.create_csr(new_key, common_name="x").decode(), "iat": int(time.time())}
        ),
        key,
        headers={"x5c": [base64.b64encode(cert.public_bytes(Encoding.DER)).decode()]},
    )
    refused = httpx.post(f"{central.url}/api/v1/ca/renew", content=again)
    assert refused.status_code == 400 and "revoked" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"contact_national_code": "0499370898"}, "contact_national_code"),
        ({"code": "10380284791"}, "code"),
        ({"member_class": "XYZ"}, "member_class"),
        ({"kind": "ministry"}, "kind"),
        ({"contact_mobile": "0912"}, "contact_mobile"),
    ],
)
def test_bad_member_input_names_the_field(
    central: CentralProcess, change: dict, field: str
) -> None:
    body = {
        "member_class": "GOV",
        "code": generate_legal_entity_id(rng),
        "name_fa": "نام",
        "name_en": "Name",
        "kind": "agency",
        **change,
    }
    with central.admin as client:
        response = client.post("/api/v1/members", json=body)
        assert response.status_code == 422, response.text
        assert field in problem_field(response)
        assert client.get(f"/api/v1/members/GOV/{body['code']}").status_code == 404


def test_malformed_csr_and_reused_token_are_refused(central: CentralProcess) -> None:
    member = new_member(central)
    with central.admin as client:
        token = client.post(
            "/api/v1/enrolment-tokens", json={"member_id": member["id"], "kind": "sign"}
        ).json()["token"]
        bad = client.post(
            "/api/v1/ca/enrol",
            json={"token": token, "csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"},
        )
        assert bad.status_code == 422 and "csr" in problem_field(bad)
    _, _, used = enrol(central, member, "sign")
    key = keys.generate_private_key()
    again = httpx.post(
        f"{central.url}/api/v1/ca/enrol",
        json={"token": used, "csr": x509.create_csr(key, common_name="x").decode()},
    )
    assert again.status_code == 409 and "token" in problem_field(again)
    unknown = httpx.post(
        f"{central.url}/api/v1/ca/enrol",
        json={"token": "zbe_nope", "csr": x509.create_csr(key, common_name="x").decode()},
    )
    assert unknown.status_code == 401 and "token" in problem_field(unknown)


def test_roles_are_enforced(central: CentralProcess) -> None:
    member = new_member(central)
    with central.admin as client:
        auditor = client.post("/api/v1/api-keys", json={"name": "audit", "role": "auditor"}).json()
        scoped = client.post(
            "/api/v1/api-keys",
            json={"name": "self", "role": "member", "member_id": member["id"]},
        ).json()
    with central.client(auditor["secret"]) as client:
        assert client.get("/api/v1/members").status_code == 200
        refused = client.post(
            "/api/v1/members",
            json={"member_class": "GOV", "code": generate_legal_entity_id(rng),
                  "name_fa": "x", "name_en": "x", "kind": "agency"},
        )  # fmt: skip
        assert refused.status_code == 403
    with central.client(scoped["secret"]) as client:
        listed = client.get("/api/v1/members").json()
        assert [m["id"] for m in listed] == [member["id"]]
        own = client.post(member_path(member) + "/subsystems", json={"code": "registry"})
        assert own.status_code == 201
        other = new_member(central)
        assert client.get(member_path(other)).status_code == 403
    assert httpx.get(f"{central.url}/api/v1/members").status_code == 401
    wrong = httpx.get(f"{central.url}/api/v1/members", headers={"Authorization": "Bearer zb_x"})
    assert wrong.status_code == 401


def test_audit_verify_detects_an_edited_row(
    fresh_backend_database: str | None, tmp_path: Path
) -> None:
    # A central and database of its own: the chain it breaks is seen by no other test.
    central = start_central(tmp_path / "central", fresh_backend_database)
    try:
        new_member(central)
        ok = central.cli("audit", "verify")
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "intact" in ok.stdout
        with central.admin as client:
            records = client.get("/api/v1/audit", params={"limit": 1000}).json()
        target = next(r for r in records if r["action"] == "member.register")
        tampered_target = target["target"].replace("GOV", "PUB")
        sql = f"UPDATE audit_log SET target = '{tampered_target}' WHERE seq = {target['seq']}"

        def execute(statement: str) -> None:
            if fresh_backend_database is None:
                db = sqlite3.connect(central.data_dir / "central.db")
                try:
                    with db:  # commits
                        assert db.execute(statement).rowcount == 1
                finally:
                    db.close()
                return

            async def run() -> None:
                url = fresh_backend_database.replace("+asyncpg", "")
                connection = await asyncpg.connect(url)
                try:
                    assert await connection.execute(statement) == "UPDATE 1"
                finally:
                    await connection.close()

            asyncio.run(run())

        execute(sql)
        broken = central.cli("audit", "verify")
        assert broken.returncode == 1, broken.stdout + broken.stderr
        assert f"record {target['seq']}" in broken.stdout
        # Putting the row back makes the chain intact again: it was that edit that was found.
        execute(sql.replace(tampered_target, target["target"]))
        restored = central.cli("audit", "verify")
        assert restored.returncode == 0, restored.stdout + restored.stderr
    finally:
        stop_central(central.process)


def test_first_start_prints_the_admin_key_once(tmp_path: Path) -> None:
    proc = start_central(tmp_path / "c", None)
    stop_central(proc.process)
    assert proc.admin_key.startswith("zb_")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    second, output = launch_central(tmp_path / "c", port, proc.env)
    try:
        wait_until_serving(second, output, url, seconds=30)
        # The key printed at the first start still opens the API on the second.
        members = httpx.get(
            f"{url}/api/v1/members", headers={"Authorization": f"Bearer {proc.admin_key}"}
        )
        assert members.status_code == 200, members.text
    finally:
        stop_central(second)
    printed = output.text()
    assert FIRST_ADMIN_KEY not in printed
    assert proc.admin_key not in printed


def test_api_key_command_creates_working_scoped_keys(central: CentralProcess) -> None:
    member = new_member(central)
    created = central.cli("api-key", "--role", "member", "--name", "ops", "--member", member["id"])
    assert created.returncode == 0, created.stderr
    secret = orjson.loads(created.stdout)["secret"]
    with central.client(secret) as client:
        assert [m["id"] for m in client.get("/api/v1/members").json()] == [member["id"]]
    refused = central.cli("api-key", "--role", "wizard", "--name", "x")
    assert refused.returncode == 2
    assert "unknown role" in refused.stderr


def test_a_gateway_token_grants_one_auth_and_one_sign_certificate(central: CentralProcess) -> None:
    member = new_member(central)
    with central.admin as client:
        gw = client.post(
            member_path(member) + "/gateways", json={"code": "gw9", "address": "localhost:9443"}
        )
        assert gw.status_code == 201, gw.text
        token = client.post(
            "/api/v1/enrolment-tokens",
            json={"member_id": member["id"], "kind": "gateway", "gateway_code": "gw9"},
        ).json()["token"]

    def csr() -> str:
        return x509.create_csr(keys.generate_private_key(), common_name="x").decode()

    unsure = httpx.post(f"{central.url}/api/v1/ca/enrol", json={"token": token, "csr": csr()})
    assert unsure.status_code == 422 and "kind" in problem_field(unsure)
    auth = httpx.post(
        f"{central.url}/api/v1/ca/enrol", json={"token": token, "csr": csr(), "kind": "auth"}
    )
    assert auth.status_code == 201 and auth.json()["identity"] == f"{member['id']}/gw9"
    again = httpx.post(
        f"{central.url}/api/v1/ca/enrol", json={"token": token, "csr": csr(), "kind": "auth"}
    )
    assert again.status_code == 409
    sign = httpx.post(
        f"{central.url}/api/v1/ca/enrol", json={"token": token, "csr": csr(), "kind": "sign"}
    )
    assert sign.status_code == 201 and sign.json()["identity"] == member["id"]
    spent = httpx.post(
        f"{central.url}/api/v1/ca/enrol", json={"token": token, "csr": csr(), "kind": "sign"}
    )
    assert spent.status_code == 409 and "token" in problem_field(spent)


# --- document-signing certificates (ZB-STD-002 1.1, kind doc) -----------------------------------


def test_a_doc_token_from_the_cli_enrols_a_document_signing_certificate(
    central: CentralProcess, tmp_path: Path
) -> None:
    member = new_member(central)
    created = central.cli("token", "create", "--kind", "doc", "--member", member["id"])
    assert created.returncode == 0, created.stderr
    answer = orjson.loads(created.stdout)
    assert answer["kind"] == "doc" and answer["member_id"] == member["id"]
    assert answer["gateway_code"] is None
    key = keys.ensure_private_key(tmp_path / "issuer" / "doc.key")

    cert, chain = asyncio.run(enrol_certificate(central.url, answer["token"], key, kind="doc"))
    assert x509.certificate_kind(cert) == "doc"
    assert x509.certificate_identity(cert) == member["id"]
    assert cert.subject.rfc4514_string() == (
        f"2.5.4.5={member['id']},CN={member['code']},O=Test Agency,C=IR"
    )
    assert [attribute.oid for attribute in cert.subject] == [
        NameOID.COUNTRY_NAME,
        NameOID.ORGANIZATION_NAME,
        NameOID.COMMON_NAME,
        NameOID.SERIAL_NUMBER,
    ]
    assert keys.public_key_der(cert.public_key()) == keys.public_key_der(key.public_key())  # type: ignore[arg-type]
    (ca_cert,) = chain
    assert ca_cert == x509.load_certificate(httpx.get(f"{central.url}/api/v1/ca/certificate").text)
    (tmp_path / "ca.pem").write_text(x509.certificate_pem(ca_cert))
    (tmp_path / "doc.pem").write_text(x509.certificate_pem(cert))
    result = subprocess.run(
        ["openssl", "verify", "-CAfile", "ca.pem", "-purpose", "smimesign", "doc.pem"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0 and ": OK" in result.stdout, result.stdout + result.stderr
    tls = subprocess.run(
        ["openssl", "verify", "-CAfile", "ca.pem", "-purpose", "sslclient", "doc.pem"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert tls.returncode != 0
    # The certificates table records the kind, as the operators' listing shows.
    with central.admin as client:
        listed = client.get("/api/v1/ca/certificates", params={"member_id": member["id"]})
    assert listed.status_code == 200, listed.text
    assert [(c["kind"], c["identity"]) for c in listed.json()] == [("doc", member["id"])]
    # The token is spent.
    with pytest.raises(ConfigurationError, match="already used"):
        asyncio.run(
            enrol_certificate(central.url, answer["token"], keys.generate_private_key(), kind="doc")
        )


def test_a_doc_token_grants_a_doc_certificate_only(central: CentralProcess) -> None:
    member = new_member(central)
    with central.admin as client:
        token = client.post(
            "/api/v1/enrolment-tokens",
            json={"member_id": member["id"], "kind": "doc", "gateway_code": "ignored"},
        )
        sign_token = client.post(
            "/api/v1/enrolment-tokens", json={"member_id": member["id"], "kind": "sign"}
        ).json()["token"]
    assert token.status_code == 201, token.text
    assert token.json()["gateway_code"] is None
    key = keys.generate_private_key()
    with pytest.raises(ConfigurationError, match=r"grants doc certificates, not 'sign'"):
        asyncio.run(enrol_certificate(central.url, token.json()["token"], key, kind="sign"))
    with pytest.raises(ConfigurationError, match=r"grants sign certificates, not 'doc'"):
        asyncio.run(enrol_certificate(central.url, sign_token, key, kind="doc"))
    # A refused request does not use the token up.
    cert, _ = asyncio.run(enrol_certificate(central.url, token.json()["token"], key, kind="doc"))
    assert x509.certificate_kind(cert) == "doc"
    refused = central.cli("token", "create", "--kind", "seal", "--member", member["id"])
    assert refused.returncode == 2 and "unknown certificate kind 'seal'" in refused.stderr


def test_a_doc_certificate_renews_as_a_doc_certificate(central: CentralProcess) -> None:
    member = new_member(central)
    key, current, _ = enrol(central, member, "doc")
    assert current["kind"] == "doc"
    cert = x509.load_certificate(current["certificate"])
    new_key = keys.generate_private_key()
    request = jws.sign_jws(
        orjson.dumps(
            {"csr": x509.create_csr(new_key, common_name="x").decode(), "iat": int(time.time())}
        ),
        key,
        headers={"x5c": [base64.b64encode(cert.public_bytes(Encoding.DER)).decode()]},
    )
    renewed = httpx.post(f"{central.url}/api/v1/ca/renew", content=request)
    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["kind"] == "doc"
    successor = x509.load_certificate(renewed.json()["certificate"])
    assert x509.certificate_kind(successor) == "doc"
    assert x509.certificate_identity(successor) == member["id"]
    assert keys.public_key_der(successor.public_key()) == keys.public_key_der(new_key.public_key())  # type: ignore[arg-type]


def test_enrol_certificate_names_an_unreachable_central() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConfigurationError, match=rf"central at {url}/api/v1/ca/enrol could not"):
        asyncio.run(enrol_certificate(url, "zbe_x", keys.generate_private_key(), kind="doc"))
