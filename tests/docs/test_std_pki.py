"""ZB-STD-002 (PKI profile) agrees with the reference implementation.

Every ```zb-example NAME``` block of the standard is a real artefact and is checked here: the
certificates follow the profile table, chain to the example CA (by our code and by openssl), and
carry the documented subjects; the enrolment messages have the documented shape and fit together;
the renewal JWS really is signed by the current certificate's key; the timestamp reply verifies
for the documented data.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from standard_examples import fenced_examples
from zistboom.core.crypto import jws
from zistboom.core.crypto.keys import generate_private_key, public_key_der
from zistboom.core.crypto.timestamp import (
    TSA_POLICY_OID,
    timestamp_token_from_response,
    verify_timestamp_token,
)
from zistboom.core.crypto.x509 import (
    DOCUMENT_SIGNING,
    CertificateKind,
    certificate_fingerprint,
    certificate_identity,
    certificate_kind,
    certificate_pem,
    create_ca_certificate,
    issue_certificate,
    load_certificate,
    load_csr,
    random_serial,
    subject_name,
    verify_certificate,
)
from zistboom.core.errors import CryptoError
from zistboom.core.identifiers import GatewayId, MemberId

STANDARD = Path(__file__).parents[2] / "docs" / "standards" / "ZB-STD-002-pki-profile.md"
OPENSSL = "/usr/bin/openssl"
KNOWN_EXAMPLES = {
    "ca-certificate",
    "auth-certificate",
    "sign-certificate",
    "tsa-certificate",
    "enrolment-token-request",
    "enrolment-token-response",
    "enrol-request",
    "enrol-response",
    "renew-request",
    "revoke-request",
    "timestamp-query",
    "timestamp-reply",
    "timestamp-rejection",
}
TIMESTAMPED_DATA = b"Zistboom timestamp example\n"
GRANTED_AT = datetime(2026, 11, 28, 10, 15, 30, 250000, tzinfo=UTC)
MEMBER = "IR-DEMO/GOV/10380284790"
REVOCATION_REASONS = {
    "unspecified",
    "keyCompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
}


def standard_text() -> str:
    return STANDARD.read_text(encoding="utf-8")


def example_blocks() -> list[tuple[str, str]]:
    """(name, body) of every fenced block whose info string starts with ``zb-example``."""
    return fenced_examples(standard_text())


def example(name: str) -> str:
    bodies = [body for block_name, body in example_blocks() if block_name == name]
    assert len(bodies) == 1, f"expected one zb-example {name} block, found {len(bodies)}"
    return bodies[0]


def example_json(name: str) -> dict[str, Any]:
    value = json.loads(example(name))
    assert isinstance(value, dict)
    return value


def example_base64(name: str) -> bytes:
    return base64.b64decode("".join(example(name).split()), validate=True)


def example_certificate(name: str) -> x509.Certificate:
    body = example(name)
    assert body.startswith("-----BEGIN CERTIFICATE-----\n")
    assert body.rstrip("\n").endswith("-----END CERTIFICATE-----")
    return load_certificate(body)


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([OPENSSL, *args], capture_output=True, check=False)
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode(errors="replace"),
        result.stderr.decode(errors="replace"),
    )


# --- the document as a whole --------------------------------------------------------------------


def test_every_example_block_is_known_and_present() -> None:
    names = [name for name, _ in example_blocks()]
    unknown = sorted(set(names) - KNOWN_EXAMPLES)
    assert not unknown, f"unknown zb-example blocks: {unknown}"
    assert sorted(names) == sorted(KNOWN_EXAMPLES)


def test_unknown_example_names_are_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The detector itself must see a block it does not know.
    fake = tmp_path / "std.md"
    fake.write_text("text\n\n```zb-example mystery\nx\n```\n", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.STANDARD", fake)
    assert [name for name, _ in example_blocks()] == ["mystery"]


def test_header_and_persian_abstract() -> None:
    text = standard_text()
    assert text.startswith("# ZB-STD-002")
    assert "| Version | 1.1 |" in text
    assert "| Date | 2026-12-01 |" in text
    assert "| Changes | 1.1: a fifth certificate kind, `doc`" in text
    abstract = text.index("## خلاصه")
    assert abstract < text.index("## 1 Scope")
    assert re.search(r"[\u0600-\u06FF]{20,}", text[abstract : abstract + 3000].replace(" ", ""))
    for word in ("MUST", "MUST NOT", "SHOULD", "MAY", "RFC 2119"):
        assert word in text


def test_policy_oid_is_documented() -> None:
    assert f"`{TSA_POLICY_OID}`" in standard_text()
    assert TSA_POLICY_OID.startswith("2.25.")
    assert int(TSA_POLICY_OID.removeprefix("2.25.")) < 2**128  # a UUID's integer value


def test_no_private_key_in_the_document() -> None:
    assert "PRIVATE KEY-----" not in standard_text()


# --- certificates and the profile table ---------------------------------------------------------


KEY_USAGE_NAMES = {
    "digitalSignature": "digital_signature",
    "contentCommitment": "content_commitment",
    "keyEncipherment": "key_encipherment",
    "dataEncipherment": "data_encipherment",
    "keyAgreement": "key_agreement",
    "keyCertSign": "key_cert_sign",
    "cRLSign": "crl_sign",
}
EKU_NAMES = {
    "serverAuth": ExtendedKeyUsageOID.SERVER_AUTH,
    "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "documentSigning": DOCUMENT_SIGNING,
    "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
}


def profile_table() -> dict[str, dict[str, str]]:
    """The rows of §5.2's table, by kind, keyed by column heading."""
    text = standard_text()
    section = text[text.index("### 5.2 Profiles") : text.index("### 5.3 Subjects")]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = dict(
            zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True)
        )
        rows[cells["Kind"].strip("`")] = cells
    return rows


def backticked(cell: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", cell))


EXAMPLE_KINDS = ("ca", "auth", "sign", "tsa")
ALL_KINDS = (*EXAMPLE_KINDS, "doc")


def certificates() -> dict[str, x509.Certificate]:
    return {kind: example_certificate(f"{kind}-certificate") for kind in EXAMPLE_KINDS}


def issued_now() -> dict[str, x509.Certificate]:
    """One certificate of every kind from the reference implementation, under a fresh CA.

    The examples' CA key was discarded, so the kind added in 1.1 (``doc``) has no example
    certificate; its row is checked against what the code issues, as every other row is too.
    """
    now = datetime.now(UTC).replace(microsecond=0)
    ca_key = generate_private_key()
    ca = create_ca_certificate(ca_key, common_name="IR-DEMO Instance CA", now=now)
    member = subject_name(
        common_name="10380284790", organization="Demo Ministry", serial_number=MEMBER
    )
    subjects = {
        "auth": subject_name(
            common_name="gw1", organization="10380284790", serial_number=f"{MEMBER}/gw1"
        ),
        "sign": member,
        "doc": member,
        "tsa": subject_name(common_name="IR-DEMO Timestamping Authority"),
    }
    issued: dict[str, x509.Certificate] = {"ca": ca}
    for kind, subject in subjects.items():
        issued[kind] = issue_certificate(
            ca_key=ca_key,
            ca_cert=ca,
            public_key=generate_private_key().public_key(),
            subject=subject,
            kind=kind,  # type: ignore[arg-type]
            serial=random_serial(),
            not_before=now,
            not_after=now + timedelta(days=90),
            dns_names=["gw1.demo.zistboom.ir"] if kind == "auth" else [],
        )
    return issued


def test_profile_table_lists_the_five_kinds() -> None:
    assert set(profile_table()) == set(ALL_KINDS)


def _cases() -> list[tuple[str, str]]:
    return [(kind, "example") for kind in EXAMPLE_KINDS] + [(kind, "issued") for kind in ALL_KINDS]


@pytest.mark.parametrize(("kind", "source"), _cases())
def test_certificates_follow_the_profile_table(kind: CertificateKind, source: str) -> None:
    row = profile_table()[kind]
    cert = (certificates() if source == "example" else issued_now())[kind]
    assert certificate_kind(cert) == kind

    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical
    assert row["basicConstraints"].startswith("critical")
    assert basic.value.ca == ("`cA` TRUE" in row["basicConstraints"])
    if basic.value.ca:
        assert f"pathLen {basic.value.path_length}" in row["basicConstraints"]

    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical == row["keyUsage"].startswith("critical")
    documented = backticked(row["keyUsage"])
    # keyAgreement is documented for P-256 keys only; the examples are P-256.
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    for name, attribute in KEY_USAGE_NAMES.items():
        assert getattr(usage.value, attribute) == (name in documented), (kind, name)

    eku_cell = row["extendedKeyUsage"]
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        assert eku_cell == "absent"
    else:
        assert eku.critical == eku_cell.startswith("critical")
        assert set(eku.value) == {EKU_NAMES[name] for name in backticked(eku_cell)}

    try:
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        has_san = False
    else:
        has_san = True
    assert has_san == (row["subjectAltName"] != "absent")

    # No extension outside the table and the common rules (SKI, AKI).
    allowed = {
        x509.BasicConstraints,
        x509.KeyUsage,
        x509.ExtendedKeyUsage,
        x509.SubjectAlternativeName,
        x509.SubjectKeyIdentifier,
        x509.AuthorityKeyIdentifier,
    }
    assert {type(ext.value) for ext in cert.extensions} <= allowed
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def test_example_certificates_chain_to_the_example_ca(tmp_path: Path) -> None:
    certs = certificates()
    ca = certs["ca"]
    assert ca.subject == ca.issuer
    ca.verify_directly_issued_by(ca)
    assert ca.subject.rfc4514_string() == "CN=IR-DEMO Instance CA,C=IR"
    assert ca.not_valid_after_utc - ca.not_valid_before_utc == timedelta(days=3650)
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    (tmp_path / "ca.pem").write_text(certificate_pem(ca))
    purposes = {"auth": ["sslclient", "sslserver"], "sign": ["any"], "tsa": ["timestampsign"]}
    for kind in ("auth", "sign", "tsa"):
        cert = certs[kind]
        at = cert.not_valid_before_utc + timedelta(days=1)
        verify_certificate(cert, ca, at=at, kind=kind)
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        assert aki.key_identifier == ca_ski.digest
        (tmp_path / "leaf.pem").write_text(certificate_pem(cert))
        for purpose in purposes[kind]:
            result = openssl(
                "verify", "-CAfile", str(tmp_path / "ca.pem"), "-purpose", purpose,
                "-attime", str(int(at.timestamp())), str(tmp_path / "leaf.pem"),
            )  # fmt: skip
            assert result.returncode == 0, (kind, purpose, result.stderr)
            assert result.stdout.strip().endswith("OK")


def subject_value(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    values = cert.subject.get_attributes_for_oid(oid)
    assert len(values) == 1, oid
    value = values[0].value
    assert isinstance(value, str)
    return value


def test_subject_conventions() -> None:
    certs = certificates()
    sign, auth, tsa = certs["sign"], certs["auth"], certs["tsa"]

    member = MemberId.parse(certificate_identity(sign) or "")
    assert str(member) == MEMBER
    assert subject_value(sign, NameOID.COMMON_NAME) == member.member_code
    assert subject_value(sign, NameOID.ORGANIZATION_NAME)
    assert subject_value(sign, NameOID.COUNTRY_NAME) == "IR"

    gateway = GatewayId.parse(certificate_identity(auth) or "")
    assert str(gateway) == f"{MEMBER}/gw1"
    assert subject_value(auth, NameOID.COMMON_NAME) == gateway.gateway_code
    assert subject_value(auth, NameOID.ORGANIZATION_NAME) == gateway.member.member_code
    assert subject_value(auth, NameOID.COUNTRY_NAME) == "IR"

    assert certificate_identity(tsa) is None
    assert tsa.subject.rfc4514_string() == "CN=IR-DEMO Timestamping Authority,C=IR"
    # Attribute order in DER: C, O, CN, serialNumber (RFC 4514 shows it reversed).
    assert [attr.oid for attr in auth.subject] == [
        NameOID.COUNTRY_NAME,
        NameOID.ORGANIZATION_NAME,
        NameOID.COMMON_NAME,
        NameOID.SERIAL_NUMBER,
    ]
    # The subjects instantiate the patterns of the §5.3 table.
    text = standard_text()
    assert "`2.5.4.5=<INSTANCE>/<CLASS>/<CODE>/<GATEWAY>,CN=<GATEWAY>,O=<CODE>,C=IR`" in text
    assert auth.subject.rfc4514_string() == (
        f"2.5.4.5={gateway},CN={gateway.gateway_code},O={gateway.member.member_code},C=IR"
    )
    assert (
        "`2.5.4.5=<INSTANCE>/<CLASS>/<CODE>,CN=<CODE>,O=<member name, or INSTANCE/CLASS>,C=IR`"
        in text
    )
    organization = subject_value(sign, NameOID.ORGANIZATION_NAME)
    assert sign.subject.rfc4514_string() == (
        f"2.5.4.5={member},CN={member.member_code},O={organization},C=IR"
    )


def test_lifetimes() -> None:
    certs = certificates()
    for kind in ("auth", "sign"):
        cert = certs[kind]
        assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=90)
    tsa = certs["tsa"]
    assert tsa.not_valid_after_utc - tsa.not_valid_before_utc == timedelta(days=5 * 365)
    for cert in certs.values():
        assert cert.not_valid_after_utc <= certs["ca"].not_valid_after_utc


# --- enrolment -----------------------------------------------------------------------------------


def test_enrolment_token_request() -> None:
    request = example_json("enrolment-token-request")
    assert set(request) == {"member_id", "kind", "gateway_code", "expires_in_minutes"}
    assert str(MemberId.parse(request["member_id"])) == MEMBER
    assert request["kind"] in {"auth", "sign"}
    assert str(GatewayId.parse(f"{request['member_id']}/{request['gateway_code']}"))
    assert request["expires_in_minutes"] == 1440


def test_enrolment_token_response() -> None:
    response = example_json("enrolment-token-response")
    request = example_json("enrolment-token-request")
    assert set(response) == {"token", "member_id", "kind", "gateway_code", "expires_at"}
    assert re.fullmatch(r"zbe_[A-Za-z0-9_-]{43}", response["token"])
    for field in ("member_id", "kind", "gateway_code"):
        assert response[field] == request[field]
    datetime.fromisoformat(response["expires_at"])


def test_enrol_request_and_response_fit_together() -> None:
    request = example_json("enrol-request")
    assert set(request) == {"token", "csr"}
    assert request["token"] == example_json("enrolment-token-response")["token"]
    csr = load_csr(request["csr"])

    response = example_json("enrol-response")
    assert {"certificate", "ca_certificate", "serial", "not_after", "fingerprint"} <= set(response)
    cert = load_certificate(response["certificate"])
    assert response["certificate"] == example("auth-certificate")
    assert response["ca_certificate"] == example("ca-certificate")
    assert response["serial"] == format(cert.serial_number, "x")
    assert response["fingerprint"] == certificate_fingerprint(cert)
    assert re.fullmatch(r"[0-9a-f]{64}", response["fingerprint"])
    assert datetime.fromisoformat(response["not_after"]) == cert.not_valid_after_utc
    assert datetime.fromisoformat(response["not_before"]) == cert.not_valid_before_utc
    assert response["identity"] == certificate_identity(cert)
    assert response["kind"] == certificate_kind(cert) == "auth"
    assert response["revoked_at"] is None
    # The CA took the CSR's key and nothing else: the CSR's subject is not the certificate's.
    assert public_key_der(cert.public_key()) == public_key_der(csr.public_key())  # type: ignore[arg-type]
    assert csr.subject != cert.subject


def test_renew_request_is_signed_by_the_current_key() -> None:
    token = "".join(example("renew-request").split())
    header = jws.unverified_header(token)
    assert header["alg"] == "ES256"
    current = load_certificate(base64.b64decode(header["x5c"][0], validate=True))
    assert current == example_certificate("auth-certificate")
    _, payload_bytes = jws.verify_jws(token, current.public_key())  # type: ignore[arg-type]
    payload = json.loads(payload_bytes)
    assert set(payload) == {"csr", "iat"}
    new_csr = load_csr(payload["csr"])
    assert public_key_der(new_csr.public_key()) != public_key_der(current.public_key())  # type: ignore[arg-type]
    issued_at = datetime.fromtimestamp(payload["iat"], tz=UTC)
    lifetime = current.not_valid_after_utc - current.not_valid_before_utc
    assert current.not_valid_before_utc + lifetime * 2 / 3 <= issued_at
    assert issued_at < current.not_valid_after_utc
    # The same JWS with its payload swapped does not verify.
    forged = token.split(".")
    forged[1] = base64.urlsafe_b64encode(b'{"csr":"x","iat":0}').rstrip(b"=").decode()
    with pytest.raises(CryptoError):
        jws.verify_jws(".".join(forged), current.public_key())  # type: ignore[arg-type]


def test_revoke_request() -> None:
    request = example_json("revoke-request")
    assert set(request) == {"reason"}
    assert request["reason"] in REVOCATION_REASONS
    text = standard_text()
    for reason in REVOCATION_REASONS:
        assert f"`{reason}`" in text


# --- timestamps ----------------------------------------------------------------------------------


def test_timestamp_query() -> None:
    query = tsp.TimeStampReq.load(example_base64("timestamp-query"), strict=True)
    assert query["version"].native == "v1"
    imprint = query["message_imprint"]
    assert imprint["hash_algorithm"]["algorithm"].native == "sha256"
    assert imprint["hashed_message"].native == hashlib.sha256(TIMESTAMPED_DATA).digest()
    assert query["nonce"].native is not None
    assert query["nonce"].native.bit_length() > 32
    assert query["cert_req"].native is True
    assert query["req_policy"].native is None
    assert "`Zistboom timestamp example` followed by a line\nfeed" in standard_text()


def test_timestamp_reply_verifies() -> None:
    reply = example_base64("timestamp-reply")
    ca = example_certificate("ca-certificate")
    digest = hashlib.sha256(TIMESTAMPED_DATA).digest()
    assert verify_timestamp_token(reply, digest=digest, ca_cert=ca) == GRANTED_AT
    assert GRANTED_AT.isoformat(timespec="milliseconds").replace("+00:00", "Z") in standard_text()

    token = tsp.TimeStampResp.load(reply)["time_stamp_token"]
    signed_data = token["content"]
    tst_info = signed_data["encap_content_info"]["content"].parsed
    query = tsp.TimeStampReq.load(example_base64("timestamp-query"))
    assert tst_info["nonce"].native == query["nonce"].native
    assert tst_info["policy"].dotted == TSA_POLICY_OID
    embedded = [c.chosen.dump() for c in signed_data["certificates"]]
    assert embedded == [example_certificate("tsa-certificate").public_bytes(Encoding.DER)]

    with pytest.raises(CryptoError, match="message imprint"):
        verify_timestamp_token(reply, digest=hashlib.sha256(b"other").digest(), ca_cert=ca)


def test_openssl_verifies_the_timestamp_reply(tmp_path: Path) -> None:
    (tmp_path / "req.tsq").write_bytes(example_base64("timestamp-query"))
    (tmp_path / "resp.tsr").write_bytes(example_base64("timestamp-reply"))
    (tmp_path / "data.txt").write_bytes(TIMESTAMPED_DATA)
    (tmp_path / "ca.pem").write_text(example("ca-certificate"))
    (tmp_path / "tsa.pem").write_text(example("tsa-certificate"))
    at = str(int((GRANTED_AT + timedelta(minutes=1)).timestamp()))
    for source in ("-queryfile", "-data"):
        path = tmp_path / ("req.tsq" if source == "-queryfile" else "data.txt")
        result = openssl(
            "ts", "-verify", source, str(path), "-in", str(tmp_path / "resp.tsr"),
            "-CAfile", str(tmp_path / "ca.pem"), "-untrusted", str(tmp_path / "tsa.pem"),
            "-attime", at,
        )  # fmt: skip
        assert "Verification: OK" in result.stdout + result.stderr, result.stderr
    shown = openssl("ts", "-reply", "-in", str(tmp_path / "resp.tsr"), "-text").stdout
    assert f"Policy OID: {TSA_POLICY_OID}" in shown


def test_timestamp_rejection(tmp_path: Path) -> None:
    rejection = example_base64("timestamp-rejection")
    with pytest.raises(CryptoError, match=r"status rejection.*1\.2\.3\.4.*unaccepted_policy"):
        timestamp_token_from_response(rejection)
    (tmp_path / "rej.tsr").write_bytes(rejection)
    shown = openssl("ts", "-reply", "-in", str(tmp_path / "rej.tsr"), "-text").stdout
    assert "Status: Rejected." in shown
    assert "the requested TSA policy is not supported by the TSA" in shown
    assert "| `reqPolicy` other than the policy of §10.3 | `unacceptedPolicy` (15) |" in (
        standard_text()
    )


EXTENSION_COLUMNS = {
    "basicConstraints": x509.BasicConstraints,
    "keyUsage": x509.KeyUsage,
    "extendedKeyUsage": x509.ExtendedKeyUsage,
    "subjectAltName": x509.SubjectAlternativeName,
    "subjectKeyIdentifier": x509.SubjectKeyIdentifier,
    "authorityKeyIdentifier": x509.AuthorityKeyIdentifier,
}


@pytest.mark.parametrize(("kind", "source"), _cases())
def test_the_profile_table_lists_every_extension_with_its_criticality(
    kind: CertificateKind, source: str
) -> None:
    # "The extensions of each kind are exactly these": the table has a column for every one,
    # the Subject and Authority Key Identifiers of §5.1 rule 4 included.
    row = profile_table()[kind]
    assert set(row) - {"Kind", "Purpose"} == set(EXTENSION_COLUMNS)
    issued = certificates() if source == "example" else issued_now()
    cert = issued[kind]
    present = {type(ext.value): ext for ext in cert.extensions}
    assert set(present) <= set(EXTENSION_COLUMNS.values())
    for column, extension in EXTENSION_COLUMNS.items():
        cell = row[column]
        if cell == "absent":
            assert extension not in present, (kind, column)
        else:
            assert extension in present, (kind, column)
            assert present[extension].critical == cell.startswith("critical"), (kind, column)
    if x509.AuthorityKeyIdentifier in present:
        ca = issued["ca"].extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        aki = present[x509.AuthorityKeyIdentifier].value
        assert isinstance(aki, x509.AuthorityKeyIdentifier)
        assert aki.key_identifier == ca.value.digest


def test_an_issued_doc_certificate_has_the_subject_and_purposes_of_the_standard(
    tmp_path: Path,
) -> None:
    issued = issued_now()
    doc, ca = issued["doc"], issued["ca"]
    assert certificate_identity(doc) == MEMBER
    assert doc.subject.rfc4514_string() == f"2.5.4.5={MEMBER},CN=10380284790,O=Demo Ministry,C=IR"
    assert (
        "| `doc` | as `sign`: `2.5.4.5=<INSTANCE>/<CLASS>/<CODE>,CN=<CODE>,O=<member name, or "
        "INSTANCE/CLASS>,C=IR` | the member id (ZB-STD-001 §7) |" in standard_text()
    )
    assert "1.3.6.1.5.5.7.3.36" in profile_table()["doc"]["extendedKeyUsage"]
    assert DOCUMENT_SIGNING.dotted_string == "1.3.6.1.5.5.7.3.36"
    (tmp_path / "ca.pem").write_text(certificate_pem(ca))
    (tmp_path / "doc.pem").write_text(certificate_pem(doc))
    verify = ("verify", "-CAfile", str(tmp_path / "ca.pem"), "-purpose")
    accepted = openssl(*verify, "smimesign", str(tmp_path / "doc.pem"))
    assert accepted.returncode == 0, accepted.stderr
    for purpose in ("sslclient", "sslserver", "timestampsign"):
        assert openssl(*verify, purpose, str(tmp_path / "doc.pem")).returncode != 0, purpose
