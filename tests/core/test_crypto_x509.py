"""The instance PKI profile: CSRs, the CA, certificate kinds, verification; checked by openssl."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from zistboom.core.crypto.keys import (
    KeyType,
    PrivateKey,
    generate_private_key,
    public_key_der,
)
from zistboom.core.crypto.x509 import (
    CertificateKind,
    certificate_fingerprint,
    certificate_identity,
    certificate_kind,
    certificate_pem,
    chain_pem,
    create_ca_certificate,
    create_csr,
    issue_certificate,
    load_certificate,
    load_csr,
    random_serial,
    subject_name,
    verify_certificate,
)
from zistboom.core.errors import CryptoError, ValidationError

OPENSSL = "/usr/bin/openssl"
NOW = datetime.now(UTC).replace(microsecond=0)
MEMBER = "IR-DEMO/GOV/10380284790"
GATEWAY = "IR-DEMO/GOV/10380284790/gw1"
KEY_TYPES: list[KeyType] = ["ec-p256", "ed25519"]


def openssl(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([OPENSSL, *args], input=input, capture_output=True, check=False)
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
    )


class Instance:
    """A throwaway instance CA."""

    def __init__(self, key_type: KeyType = "ec-p256", name: str = "IR-DEMO Instance CA") -> None:
        self.key = generate_private_key(key_type)
        self.cert = create_ca_certificate(self.key, common_name=name, now=NOW - timedelta(days=1))

    def issue(
        self,
        kind: CertificateKind,
        *,
        key_type: KeyType = "ec-p256",
        not_before: datetime = NOW - timedelta(hours=1),
        not_after: datetime = NOW + timedelta(days=90),
        dns_names: tuple[str, ...] = (),
        ip_addresses: tuple[str, ...] = (),
    ) -> tuple[PrivateKey, x509.Certificate]:
        holder = generate_private_key(key_type)
        # The holder's CSR; the CA takes only its public key.
        csr = load_csr(create_csr(holder, common_name="whatever the holder says"))
        public_key = csr.public_key()
        assert public_key_der(public_key) == public_key_der(holder.public_key())  # type: ignore[arg-type]
        subject = {
            "auth": subject_name(
                common_name="gw1", organization="10380284790", serial_number=GATEWAY
            ),
            "sign": subject_name(
                common_name="10380284790", organization="Demo Ministry", serial_number=MEMBER
            ),
            "doc": subject_name(
                common_name="10380284790", organization="Demo Ministry", serial_number=MEMBER
            ),
            "tsa": subject_name(common_name="IR-DEMO Timestamping Authority"),
            "ca": subject_name(common_name="unused"),
        }[kind]
        cert = issue_certificate(
            ca_key=self.key,
            ca_cert=self.cert,
            public_key=public_key,  # type: ignore[arg-type]
            subject=subject,
            kind=kind,
            serial=random_serial(),
            not_before=not_before,
            not_after=not_after,
            dns_names=dns_names,
            ip_addresses=ip_addresses,
        )
        return holder, cert


@pytest.fixture(scope="module")
def instance() -> Instance:
    return Instance()


def write(path: Path, cert: x509.Certificate) -> str:
    path.write_text(certificate_pem(cert))
    return str(path)


def openssl_verify(
    tmp_path: Path, ca: x509.Certificate, leaf: x509.Certificate, *extra: str
) -> subprocess.CompletedProcess[str]:
    return openssl(
        "verify",
        "-CAfile",
        write(tmp_path / "ca.pem", ca),
        *extra,
        write(tmp_path / "leaf.pem", leaf),
    )


# --- CSRs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_csr_round_trip(key_type: KeyType) -> None:
    key = generate_private_key(key_type)
    pem = create_csr(
        key,
        common_name="gw1",
        organization="10380284790",
        dns_names=["gw1.demo.example"],
        ip_addresses=["192.0.2.10", "2001:db8::1"],
    )
    assert pem.startswith(b"-----BEGIN CERTIFICATE REQUEST-----")
    csr = load_csr(pem)
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "gw1"
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["gw1.demo.example"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == [
        "192.0.2.10",
        "2001:db8::1",
    ]
    # openssl agrees the self-signature is good.
    checked = openssl("req", "-verify", "-noout", input=pem)
    assert checked.returncode == 0, checked.stderr
    assert "verify OK" in checked.stdout + checked.stderr
    # DER and str input are accepted too.
    der = csr.public_bytes(serialization.Encoding.DER)
    assert load_csr(der).public_bytes(serialization.Encoding.DER) == der
    assert load_csr(pem.decode()).public_bytes(serialization.Encoding.DER) == der


def test_csr_refuses_bad_ip() -> None:
    with pytest.raises(ValidationError, match="not an IPv4 or IPv6 address"):
        create_csr(generate_private_key(), common_name="gw1", ip_addresses=["300.1.1.1"])


@pytest.mark.parametrize(
    "data",
    [
        b"garbage",
        "",
        b"\x30\x03\x02\x01\x01",
        "-----BEGIN CERTIFICATE REQUEST-----\nMIIBDzCBtgIBADAm\n"
        "-----END CERTIFICATE REQUEST-----\n",
    ],
)
def test_load_csr_refuses_garbage(data: str | bytes) -> None:
    with pytest.raises(ValidationError, match="not a PKCS#10 certificate request") as caught:
        load_csr(data, field="enrol.csr")
    assert caught.value.field == "enrol.csr"


def test_load_csr_refuses_truncated_pem() -> None:
    pem = create_csr(generate_private_key(), common_name="gw1")
    with pytest.raises(ValidationError) as caught:
        load_csr(pem[: len(pem) // 2])
    assert caught.value.field == "csr"
    lines = pem.decode().splitlines()
    without_body_line = "\n".join([*lines[:2], *lines[3:]])
    with pytest.raises(ValidationError):
        load_csr(without_body_line)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_load_csr_refuses_tampered_signature(key_type: KeyType) -> None:
    csr = load_csr(create_csr(generate_private_key(key_type), common_name="gw1"))
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # the last byte belongs to the signature BIT STRING
    with pytest.raises(ValidationError, match="does not prove possession") as caught:
        load_csr(bytes(der))
    assert caught.value.field == "csr"
    pem = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(ValidationError, match="does not prove possession"):
        load_csr(pem)


def test_load_csr_refuses_tampered_subject() -> None:
    pem = create_csr(generate_private_key(), common_name="gw1")
    der = bytearray(load_csr(pem).public_bytes(serialization.Encoding.DER))
    where = der.find(b"gw1")
    der[where] = ord("x")
    with pytest.raises(ValidationError, match="does not prove possession"):
        load_csr(bytes(der))


def test_load_csr_refuses_rsa(tmp_path: Path) -> None:
    made = openssl(
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(tmp_path / "rsa.key"),
        "-subj",
        "/CN=gw1",
    )
    assert made.returncode == 0, made.stderr
    with pytest.raises(ValidationError, match=r"RSAPublicKey.*RSA is not") as caught:
        load_csr(made.stdout)
    assert caught.value.field == "csr"


def test_load_csr_refuses_p384(tmp_path: Path) -> None:
    made = openssl(
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-nodes",
        "-keyout",
        str(tmp_path / "ec.key"),
        "-subj",
        "/CN=gw1",
    )
    assert made.returncode == 0, made.stderr
    with pytest.raises(ValidationError, match="secp384r1"):
        load_csr(made.stdout)


def test_load_csr_accepts_openssl_p256_request(tmp_path: Path) -> None:
    made = openssl(
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        str(tmp_path / "ec.key"),
        "-subj",
        "/CN=gw1",
    )
    assert made.returncode == 0, made.stderr
    assert load_csr(made.stdout).is_signature_valid


# --- the CA ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_ca_certificate_profile(tmp_path: Path, key_type: KeyType) -> None:
    ca = Instance(key_type)
    cert = ca.cert
    assert cert.subject == cert.issuer
    assert cert.subject.rfc4514_string() == "CN=IR-DEMO Instance CA,C=IR"
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical
    assert basic.value.ca
    assert basic.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.key_cert_sign
    assert usage.value.crl_sign
    assert not usage.value.digital_signature
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=3650)
    assert certificate_kind(cert) == "ca"
    assert certificate_identity(cert) is None
    result = openssl(
        "verify", "-CAfile", write(tmp_path / "ca.pem", cert), str(tmp_path / "ca.pem")
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout


def test_ca_validity_and_now_are_honoured() -> None:
    start = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    cert = create_ca_certificate(
        generate_private_key(), common_name="X Instance CA", validity=timedelta(days=10), now=start
    )
    assert cert.not_valid_before_utc == start
    assert cert.not_valid_after_utc == start + timedelta(days=10)


# --- issued certificates ----------------------------------------------------------------------


@pytest.mark.parametrize("ca_type", KEY_TYPES)
@pytest.mark.parametrize("leaf_type", KEY_TYPES)
@pytest.mark.parametrize(
    ("kind", "purposes"),
    [
        ("auth", ["sslclient", "sslserver"]),
        ("sign", ["any"]),
        ("tsa", ["timestampsign"]),
        ("doc", ["smimesign"]),
    ],
)
def test_openssl_verifies_issued_certificates(
    tmp_path: Path, ca_type: KeyType, leaf_type: KeyType, kind: CertificateKind, purposes: list[str]
) -> None:
    ca = Instance(ca_type)
    _, cert = ca.issue(kind, key_type=leaf_type)
    plain = openssl_verify(tmp_path, ca.cert, cert)
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.strip().endswith("OK")
    for purpose in purposes:
        result = openssl_verify(tmp_path, ca.cert, cert, "-purpose", purpose)
        assert result.returncode == 0, (purpose, result.stderr)
        assert "OK" in result.stdout
    assert certificate_kind(cert) == kind
    verify_certificate(cert, ca.cert, at=NOW, kind=kind)


def test_openssl_refuses_wrong_purpose(tmp_path: Path, instance: Instance) -> None:
    # (A sign certificate has no EKU, which openssl reads as "any TLS purpose"; the profile
    # keeps it out of TLS through certificate_kind instead.)
    _, sign = instance.issue("sign")
    assert (
        openssl_verify(tmp_path, instance.cert, sign, "-purpose", "timestampsign").returncode != 0
    )
    _, tsa = instance.issue("tsa")
    assert openssl_verify(tmp_path, instance.cert, tsa, "-purpose", "sslclient").returncode != 0
    _, auth = instance.issue("auth")
    assert (
        openssl_verify(tmp_path, instance.cert, auth, "-purpose", "timestampsign").returncode != 0
    )
    # A document-signing key is no TLS identity, for openssl as for the profile.
    _, doc = instance.issue("doc")
    for purpose in ("sslclient", "sslserver", "timestampsign"):
        assert openssl_verify(tmp_path, instance.cert, doc, "-purpose", purpose).returncode != 0


def extension(
    cert: x509.Certificate, cls: type[x509.ExtensionType]
) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_class(cls)


def test_auth_profile(instance: Instance) -> None:
    _, cert = instance.issue("auth", dns_names=("gw1.demo.example",), ip_addresses=("192.0.2.10",))
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert usage.value.key_agreement
    assert not usage.value.content_commitment
    assert not usage.value.key_encipherment
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert set(eku.value) == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["gw1.demo.example"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["192.0.2.10"]
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical
    assert not basic.value.ca
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = instance.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha256"
    assert cert.issuer == instance.cert.subject
    assert cert.subject.rfc4514_string() == f"2.5.4.5={GATEWAY},CN=gw1,O=10380284790,C=IR"
    assert certificate_identity(cert) == GATEWAY


def test_ed25519_auth_has_no_key_agreement(instance: Instance) -> None:
    _, cert = instance.issue("auth", key_type="ed25519")
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert not usage.key_agreement


def test_sign_profile(instance: Instance) -> None:
    _, cert = instance.issue("sign")
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert usage.value.content_commitment
    assert not usage.value.key_agreement
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert certificate_identity(cert) == MEMBER


def test_doc_profile(instance: Instance) -> None:
    _, cert = instance.issue("doc")
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert usage.value.content_commitment
    assert not usage.value.key_agreement
    assert not usage.value.key_encipherment
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert not eku.critical
    assert list(eku.value) == [
        x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
    ]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert cert.subject.rfc4514_string() == f"2.5.4.5={MEMBER},CN=10380284790,O=Demo Ministry,C=IR"
    assert certificate_identity(cert) == MEMBER
    assert certificate_kind(cert) == "doc"
    verify_certificate(cert, instance.cert, at=NOW, kind="doc", identity=MEMBER)


def test_doc_and_sign_certificates_are_not_interchangeable(instance: Instance) -> None:
    _, doc = instance.issue("doc")
    _, sign = instance.issue("sign")
    with pytest.raises(CryptoError, match=r"not a sign certificate \(its profile is doc\)"):
        verify_certificate(doc, instance.cert, at=NOW, kind="sign")
    with pytest.raises(CryptoError, match=r"not a doc certificate \(its profile is sign\)"):
        verify_certificate(sign, instance.cert, at=NOW, kind="doc")
    with pytest.raises(ValidationError, match="auth certificates only"):
        instance.issue("doc", dns_names=("doc.example",))


def test_tsa_profile(instance: Instance) -> None:
    _, cert = instance.issue("tsa")
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical
    assert list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert not usage.value.content_commitment
    assert certificate_identity(cert) is None


def test_ed25519_ca_signs_without_hash(tmp_path: Path) -> None:
    ca = Instance("ed25519")
    _, cert = ca.issue("sign")
    assert cert.signature_hash_algorithm is None
    assert cert.signature_algorithm_oid.dotted_string == "1.3.101.112"


def test_issue_refuses_misuse(instance: Instance) -> None:
    holder = generate_private_key().public_key()
    base = {
        "ca_key": instance.key,
        "ca_cert": instance.cert,
        "public_key": holder,
        "subject": subject_name(common_name="x", serial_number=MEMBER),
        "serial": random_serial(),
        "not_before": NOW,
        "not_after": NOW + timedelta(days=90),
    }
    with pytest.raises(CryptoError, match="CA key does not belong"):
        issue_certificate(**{**base, "ca_key": generate_private_key()}, kind="sign")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not after not_before"):
        issue_certificate(**{**base, "not_after": NOW - timedelta(days=1)}, kind="sign")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="past the CA certificate's expiry"):
        issue_certificate(**{**base, "not_after": NOW + timedelta(days=4000)}, kind="sign")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="auth certificates only"):
        issue_certificate(**base, kind="sign", dns_names=["a.example"])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="cannot issue a 'ca'"):
        issue_certificate(**base, kind="ca")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="serial"):
        issue_certificate(**{**base, "serial": 0}, kind="sign")  # type: ignore[arg-type]
    leaf_key, leaf = instance.issue("sign")
    with pytest.raises(CryptoError, match="not a CA certificate"):
        issue_certificate(**{**base, "ca_key": leaf_key, "ca_cert": leaf}, kind="sign")  # type: ignore[arg-type]


def test_random_serial_is_positive_and_fits_159_bits() -> None:
    serials = {random_serial() for _ in range(50)}
    assert len(serials) == 50
    assert all(0 < s < 2**159 for s in serials)


# --- verification --------------------------------------------------------------------------------


def test_certificate_from_another_ca_is_refused(tmp_path: Path, instance: Instance) -> None:
    # Same CA name, different key: only the signature check can tell.
    impostor = Instance(name="IR-DEMO Instance CA")
    _, foreign = impostor.issue("sign")
    result = openssl_verify(tmp_path, instance.cert, foreign)
    assert result.returncode != 0
    with pytest.raises(CryptoError, match="not issued by the instance CA: its signature"):
        verify_certificate(foreign, instance.cert, at=NOW)
    # A different CA name fails on the issuer.
    other = Instance(name="OTHER Instance CA")
    _, stranger = other.issue("sign")
    assert openssl_verify(tmp_path, instance.cert, stranger).returncode != 0
    with pytest.raises(CryptoError, match="not issued by the instance CA: issuer CN=OTHER"):
        verify_certificate(stranger, instance.cert, at=NOW)


def test_verify_certificate_failures_name_the_check(instance: Instance) -> None:
    _, cert = instance.issue("sign", not_before=NOW, not_after=NOW + timedelta(days=90))
    verify_certificate(
        cert, instance.cert, at=NOW + timedelta(days=1), kind="sign", identity=MEMBER
    )

    with pytest.raises(
        CryptoError, match=r"not yet valid .*valid from " + re.escape(NOW.isoformat())
    ):
        verify_certificate(cert, instance.cert, at=NOW - timedelta(seconds=1))
    expiry = (NOW + timedelta(days=90)).isoformat()
    with pytest.raises(CryptoError, match=r"expired at " + re.escape(expiry)):
        verify_certificate(cert, instance.cert, at=NOW + timedelta(days=91))
    with pytest.raises(CryptoError, match=rf"revoked \(serial {cert.serial_number:x}\)"):
        verify_certificate(cert, instance.cert, at=NOW, revoked_serials={1, cert.serial_number})
    with pytest.raises(CryptoError, match=r"not a auth certificate \(its profile is sign\)"):
        verify_certificate(cert, instance.cert, at=NOW, kind="auth")
    with pytest.raises(CryptoError, match=rf"issued to {MEMBER}, expected IR-DEMO/GOV/1"):
        verify_certificate(cert, instance.cert, at=NOW, identity="IR-DEMO/GOV/1")
    # Other serials revoked: still fine.
    verify_certificate(cert, instance.cert, at=NOW, revoked_serials=[1, 2, 3])


def test_verify_accepts_naive_utc(instance: Instance) -> None:
    _, cert = instance.issue("auth")
    verify_certificate(
        cert, instance.cert, at=NOW.replace(tzinfo=None), kind="auth", identity=GATEWAY
    )


def test_verify_refuses_ca_as_end_entity(instance: Instance) -> None:
    with pytest.raises(CryptoError, match="not an end-entity certificate"):
        verify_certificate(instance.cert, instance.cert, at=NOW)


def test_certificate_kind_rejects_unprofiled_certificates(tmp_path: Path) -> None:
    key_path = tmp_path / "k.pem"
    made = openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        str(key_path),
        "-subj",
        "/CN=plain",
        "-days",
        "1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "keyUsage=critical,digitalSignature",
        "-addext",
        "extendedKeyUsage=serverAuth",
    )
    assert made.returncode == 0, made.stderr
    assert certificate_kind(load_certificate(made.stdout)) is None


@pytest.mark.parametrize(
    ("eku", "commitment", "expected"),
    [
        ("1.3.6.1.5.5.7.3.36,emailProtection", True, "doc"),
        ("critical,1.3.6.1.5.5.7.3.36,emailProtection", True, None),
        ("1.3.6.1.5.5.7.3.36,emailProtection", False, None),
        ("1.3.6.1.5.5.7.3.36", True, None),
        ("emailProtection", True, None),
        ("1.3.6.1.5.5.7.3.36,emailProtection,clientAuth", True, None),
    ],
)
def test_certificate_kind_recognises_doc_exactly(
    tmp_path: Path, eku: str, commitment: bool, expected: str | None
) -> None:
    # Certificates made by openssl, not by our issuer: only the exact doc profile is "doc".
    usage = "digitalSignature,nonRepudiation" if commitment else "digitalSignature"
    made = openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(tmp_path / "k.pem"), "-subj", "/CN=doc", "-days", "1",
        "-addext", "basicConstraints=critical,CA:FALSE",
        "-addext", f"keyUsage=critical,{usage}",
        "-addext", f"extendedKeyUsage={eku}",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert certificate_kind(load_certificate(made.stdout)) == expected


# --- encoding ------------------------------------------------------------------------------------


def test_pem_der_and_fingerprint(tmp_path: Path, instance: Instance) -> None:
    _, cert = instance.issue("sign")
    pem = certificate_pem(cert)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert load_certificate(pem) == cert
    assert load_certificate(pem.encode()) == cert
    assert load_certificate(der) == cert
    result = openssl(
        "x509", "-noout", "-fingerprint", "-sha256", "-in", write(tmp_path / "c.pem", cert)
    )
    openssl_fp = result.stdout.strip().split("=", 1)[1].replace(":", "").lower()
    assert certificate_fingerprint(cert) == openssl_fp
    assert len(openssl_fp) == 64


@pytest.mark.parametrize(
    "data", [b"junk", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", b""]
)
def test_load_certificate_refuses_garbage(data: str | bytes) -> None:
    with pytest.raises(ValidationError, match=r"not an X\.509 certificate") as caught:
        load_certificate(data)
    assert caught.value.field == "certificate"


def test_chain_pem(tmp_path: Path, instance: Instance) -> None:
    _, leaf = instance.issue("auth")
    chain = chain_pem([leaf, instance.cert])
    assert chain == certificate_pem(leaf) + certificate_pem(instance.cert)
    assert x509.load_pem_x509_certificates(chain.encode()) == [leaf, instance.cert]
    (tmp_path / "chain.pem").write_text(chain)
    result = openssl(
        "verify", "-CAfile", write(tmp_path / "ca.pem", instance.cert), str(tmp_path / "chain.pem")
    )
    assert result.returncode == 0


# --- any single changed byte --------------------------------------------------------------------


def flipped(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_every_single_byte_change_of_a_certificate_is_refused(key_type: KeyType) -> None:
    ca = Instance(key_type)
    _, cert = ca.issue("auth", key_type=key_type)
    der = cert.public_bytes(serialization.Encoding.DER)
    for index in range(len(der)):
        try:
            changed = load_certificate(flipped(der, index))
        except ValidationError:
            continue
        with pytest.raises(CryptoError):
            verify_certificate(changed, ca.cert, at=NOW, kind="auth")


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_every_single_byte_change_of_a_csr_is_refused(key_type: KeyType) -> None:
    csr = load_csr(create_csr(generate_private_key(key_type), common_name="gw1"))
    der = csr.public_bytes(serialization.Encoding.DER)
    for index in range(len(der)):
        with pytest.raises(ValidationError):
            load_csr(flipped(der, index))


def test_identity_outside_printable_string_is_issued(tmp_path: Path, instance: Instance) -> None:
    # ZB-STD-001 codes may contain "_" and be 64 characters long; PrintableString allows neither
    # "_" nor (per X.520) more than 64 characters, so such identities go into a UTF8String.
    code = "gw_" + "x" * 61
    identity = f"{MEMBER}/{code}"
    cert = issue_certificate(
        ca_key=instance.key,
        ca_cert=instance.cert,
        public_key=generate_private_key().public_key(),
        subject=subject_name(common_name=code, organization="10380284790", serial_number=identity),
        kind="auth",
        serial=random_serial(),
        not_before=NOW,
        not_after=NOW + timedelta(days=1),
    )
    assert certificate_identity(load_certificate(certificate_pem(cert))) == identity
    verify_certificate(cert, instance.cert, at=NOW, kind="auth", identity=identity)
    result = openssl_verify(tmp_path, instance.cert, cert, "-purpose", "sslclient")
    assert result.returncode == 0, result.stderr
    printable = subject_name(common_name="gw1", serial_number=GATEWAY)
    attribute = printable.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0]
    assert attribute._type.name == "PrintableString"
