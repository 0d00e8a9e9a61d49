"""Trusted time for documents against a real central process: the timestamp of a real ES256
JWS signature from central's TSA, which ``openssl ts -verify`` accepts with the instance CA and
refuses for a changed byte; ``trusted_time`` returning its genTime and naming what fails (the
imprint, the signature, the CA, the kind of the signer); a token without the TSA certificate
checked against the global configuration's; a rejection by central's TSA and an unreachable TSA
refused with their reasons.

The TSA does not touch central's database, so central runs on SQLite only here.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from asn1crypto import cms
from cryptography import x509 as cx509

from central_process import CentralProcess, start_central, stop_central
from support import free_port
from zistboom.core import globalconf as gc
from zistboom.core.crypto import jws, keys, timestamp, x509
from zistboom.core.enrolment import enrol_certificate
from zistboom.core.errors import DocumentError, TimestampUnavailableError
from zistboom.core.iran import generate_legal_entity_id
from zistboom.documents.timestamps import imprint_of_signature, request_timestamp, trusted_time

OPENSSL = "/usr/bin/openssl"


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CentralProcess]:
    proc = start_central(tmp_path_factory.mktemp("central"), None)
    try:
        yield proc
    finally:
        stop_central(proc.process)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


def ca_certificate(central: CentralProcess) -> cx509.Certificate:
    return x509.load_certificate(httpx.get(f"{central.url}/api/v1/ca/certificate").text)


def global_conf(central: CentralProcess) -> gc.GlobalConf:
    anchor = gc.Anchor.from_json(httpx.get(f"{central.url}/anchor").text)
    return gc.verify_global_conf(httpx.get(anchor.url).text, anchor, now=datetime.now(UTC))


def jws_signature() -> bytes:
    """The raw signature octets (r || s) of a real ES256 JWS: what a VC-JWT's timestamp covers."""
    token = jws.sign_jws(
        orjson.dumps({"iss": "urn:zb:member:IR-DEMO/GOV/10000000001"}), keys.generate_private_key()
    )
    signature = keys.b64url_decode(token.split(".")[2])
    assert len(signature) == 64
    return signature


def changed(data: bytes, index: int) -> bytes:
    altered = bytearray(data)
    altered[index] ^= 0x01
    return bytes(altered)


def openssl_ts_verify(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OPENSSL, "ts", "-verify", "-in", "t.der", "-token_in", "-data", "sig.bin",
         "-CAfile", "ca.pem", *extra],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip


def openssl_ts_text(folder: Path) -> str:
    return subprocess.run(
        [OPENSSL, "ts", "-reply", "-in", "t.der", "-token_in", "-text"],
        cwd=folder, capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip


async def test_openssl_verifies_the_timestamp_of_a_jws_signature(
    central: CentralProcess, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    signature = jws_signature()
    digest = imprint_of_signature(signature)
    before = datetime.now(UTC).replace(microsecond=0)
    token = await request_timestamp(f"{central.url}/tsa", digest, cert_req=True, client=client)
    ca = ca_certificate(central)
    (tmp_path / "t.der").write_bytes(token)
    (tmp_path / "sig.bin").write_bytes(signature)
    (tmp_path / "ca.pem").write_text(x509.certificate_pem(ca))

    verified = openssl_ts_verify(tmp_path)
    assert "Verification: OK" in verified.stdout, verified.stdout + verified.stderr

    gen_time = trusted_time(token, digest, [], ca_certificates=[ca])
    assert before <= gen_time <= datetime.now(UTC)
    # openssl reads the same genTime from the token.
    shown = openssl_ts_text(tmp_path)
    assert gen_time.strftime("Time stamp: %b %e %H:%M:%S") in shown, shown

    # One changed byte of the signature: openssl and trusted_time both refuse it.
    (tmp_path / "sig.bin").write_bytes(changed(signature, 17))
    refused = openssl_ts_verify(tmp_path)
    assert "Verification: OK" not in refused.stdout
    assert "message imprint mismatch" in refused.stdout + refused.stderr
    with pytest.raises(DocumentError, match=r"message imprint .* does not match") as caught:
        trusted_time(token, imprint_of_signature(changed(signature, 17)), [], ca_certificates=[ca])
    assert caught.value.code == "document-invalid" and caught.value.status == 422


async def test_a_token_without_the_tsa_certificate_is_checked_against_the_configurations(
    central: CentralProcess, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    signature = jws_signature()
    digest = imprint_of_signature(signature)
    token = await request_timestamp(f"{central.url}/tsa", digest, cert_req=False, client=client)
    with_certificate = await request_timestamp(
        f"{central.url}/tsa", digest, cert_req=True, client=client
    )
    # Kept small for the QR: the certificate is left out.
    assert not timestamp.timestamp_token_info(token).carries_certificates
    assert len(token) < len(with_certificate) - 400
    conf = global_conf(central)
    tsa_certificates = [x509.load_certificate(pem) for pem in conf.tsa_certificates]
    ca_certificates = [x509.load_certificate(pem) for pem in conf.ca_certificates]
    gen_time = trusted_time(token, digest, tsa_certificates, ca_certificates=ca_certificates)
    assert abs(datetime.now(UTC) - gen_time) < timedelta(minutes=1)
    with pytest.raises(DocumentError, match="carries no TSA certificate and none was given"):
        trusted_time(token, digest, [], ca_certificates=ca_certificates)

    (tmp_path / "t.der").write_bytes(token)
    (tmp_path / "sig.bin").write_bytes(signature)
    (tmp_path / "ca.pem").write_text(conf.ca_certificates[0])
    (tmp_path / "tsa.pem").write_text(conf.tsa_certificates[0])
    assert "Verification: OK" not in openssl_ts_verify(tmp_path).stdout
    with_tsa = openssl_ts_verify(tmp_path, "-untrusted", "tsa.pem")
    assert "Verification: OK" in with_tsa.stdout, with_tsa.stdout + with_tsa.stderr


async def test_trusted_time_names_what_does_not_hold(
    central: CentralProcess, client: httpx.AsyncClient
) -> None:
    digest = imprint_of_signature(jws_signature())
    token = await request_timestamp(f"{central.url}/tsa", digest, cert_req=True, client=client)
    ca = ca_certificate(central)
    assert trusted_time(token, digest, [], ca_certificates=[ca])

    # Another instance's CA: the TSA certificate does not chain to it.
    other_key = keys.generate_private_key()
    other = x509.create_ca_certificate(other_key, common_name="IR-TEST Instance CA")
    with pytest.raises(DocumentError, match="not issued by the instance CA"):
        trusted_time(token, digest, [], ca_certificates=[other])
    # Listed beside the right CA, the other one does not hide the answer.
    assert trusted_time(token, digest, [], ca_certificates=[other, ca])
    with pytest.raises(DocumentError, match="no instance CA certificate"):
        trusted_time(token, digest, [], ca_certificates=[])

    # A changed byte of the TSA's signature.
    parsed = cms.ContentInfo.load(token)
    signer = parsed["content"]["signer_infos"][0]
    signer["signature"] = changed(bytes(signer["signature"].native), 10)
    with pytest.raises(DocumentError, match="signature does not verify"):
        trusted_time(parsed.dump(force=True), digest, [], ca_certificates=[ca])

    # The same TSTInfo signed by a document-signing key of this very instance: a doc
    # certificate gives no trusted time, only the TSA's does.
    with central.admin as admin:
        agency = {
            "member_class": "GOV",
            "code": generate_legal_entity_id(random.Random()),
            "name_fa": "دستگاه آزمایشی",
            "name_en": "Test agency",
            "kind": "agency",
        }
        member = admin.post("/api/v1/members", json=agency)
        assert member.status_code == 201, member.text
        granted = admin.post(
            "/api/v1/enrolment-tokens", json={"member_id": member.json()["id"], "kind": "doc"}
        )
        assert granted.status_code == 201, granted.text
    doc_key = keys.generate_private_key()
    doc_cert, _ = await enrol_certificate(
        central.url, granted.json()["token"], doc_key, kind="doc", client=client
    )
    tst_der = bytes(
        cms.ContentInfo.load(token)["content"]["encap_content_info"]["content"].contents
    )
    forged = timestamp._signed_token(
        tst_der,
        tsa_key=doc_key,
        tsa_cert=doc_cert,
        signing_time=datetime.now(UTC),
        certificates=[doc_cert],
    ).dump()
    with pytest.raises(DocumentError, match=r"not a tsa certificate \(its profile is doc\)"):
        trusted_time(forged, digest, [], ca_certificates=[ca])


async def test_unreachable_and_wrong_endpoints_are_named(
    central: CentralProcess, client: httpx.AsyncClient
) -> None:
    digest = imprint_of_signature(b"\x01" * 64)
    nowhere = f"http://127.0.0.1:{free_port()}/tsa"
    with pytest.raises(TimestampUnavailableError, match=f"TSA at {nowhere} could not be reached"):
        await request_timestamp(nowhere, digest, cert_req=True, client=client)
    with pytest.raises(TimestampUnavailableError, match="not an RFC 3161 reply") as caught:
        await request_timestamp(f"{central.url}/anchor", digest, cert_req=True, client=client)
    assert caught.value.status == 502
    with pytest.raises(DocumentError, match="a sha256 digest is 32 bytes"):
        await request_timestamp(f"{central.url}/tsa", b"short", cert_req=True, client=client)
    with pytest.raises(DocumentError, match="no signature to timestamp"):
        imprint_of_signature(b"")


@pytest.fixture(scope="module")
def central_whose_tsa_cannot_sign(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CentralProcess]:
    """Central with a TSA key that does not belong to its TSA certificate: its TSA answers every
    query with a rejection (systemFailure)."""
    data_dir = tmp_path_factory.mktemp("central-broken-tsa")
    folder = data_dir / "keys"
    ca_key, tsa_key = keys.generate_private_key(), keys.generate_private_key()
    ca = x509.create_ca_certificate(ca_key, common_name="IR-DEMO Instance CA")
    now = datetime.now(UTC)
    tsa = x509.issue_certificate(
        ca_key=ca_key,
        ca_cert=ca,
        public_key=tsa_key.public_key(),
        subject=x509.subject_name(common_name="IR-DEMO Timestamping Authority"),
        kind="tsa",
        serial=x509.random_serial(),
        not_before=now - timedelta(minutes=5),
        not_after=now + timedelta(days=30),
    )
    keys.save_private_key(ca_key, folder / "ca.key")
    keys.save_private_key(keys.generate_private_key(), folder / "tsa.key")  # not tsa's key
    (folder / "ca.pem").write_text(x509.certificate_pem(ca))
    (folder / "tsa.pem").write_text(x509.certificate_pem(tsa))
    proc = start_central(data_dir, None)
    try:
        yield proc
    finally:
        stop_central(proc.process)


async def test_a_rejection_by_centrals_tsa_is_refused_with_its_reason(
    central_whose_tsa_cannot_sign: CentralProcess, client: httpx.AsyncClient
) -> None:
    url = f"{central_whose_tsa_cannot_sign.url}/tsa"
    with pytest.raises(DocumentError, match="TSA refused to timestamp") as caught:
        await request_timestamp(
            url, imprint_of_signature(b"\x02" * 64), cert_req=True, client=client
        )
    assert "status rejection" in caught.value.detail
    assert "the TSA cannot sign now" in caught.value.detail
    assert "failure info system_failure" in caught.value.detail
