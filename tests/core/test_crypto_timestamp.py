"""RFC 3161 timestamps: our queries and responses against openssl ts, in both directions."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from zistboom.core.crypto.keys import KeyType, PrivateKey, generate_private_key
from zistboom.core.crypto.timestamp import (
    TSA_POLICY_OID,
    FailInfo,
    HashAlgorithm,
    create_rejection_response,
    create_timestamp_request,
    create_timestamp_response,
    timestamp_response_status,
    timestamp_token_from_response,
    timestamp_token_info,
    verify_timestamp_token,
)
from zistboom.core.crypto.x509 import (
    CertificateKind,
    certificate_pem,
    create_ca_certificate,
    issue_certificate,
    random_serial,
    subject_name,
)
from zistboom.core.errors import ConfigurationError, CryptoError, ValidationError

OPENSSL = "/usr/bin/openssl"
NOW = datetime.now(UTC)
DATA = b"Zistboom evidence bundle\n" * 1000
SERIAL = 0x0102030405060708


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([OPENSSL, *args], capture_output=True, check=False)
    return subprocess.CompletedProcess(
        result.args,
        result.returncode,
        result.stdout.decode(errors="replace"),
        result.stderr.decode(errors="replace"),
    )


class Authority:
    """A throwaway instance CA with its TSA."""

    def __init__(self, key_type: KeyType = "ec-p256", kind: CertificateKind = "tsa") -> None:
        self.ca_key = generate_private_key(key_type)
        self.ca_cert = create_ca_certificate(
            self.ca_key, common_name="IR-DEMO Instance CA", now=NOW - timedelta(days=1)
        )
        self.tsa_key: PrivateKey = generate_private_key(key_type)
        self.tsa_cert = issue_certificate(
            ca_key=self.ca_key,
            ca_cert=self.ca_cert,
            public_key=self.tsa_key.public_key(),
            subject=subject_name(common_name="IR-DEMO Timestamping Authority"),
            kind=kind,
            serial=random_serial(),
            not_before=NOW - timedelta(hours=1),
            not_after=NOW + timedelta(days=365),
        )

    def respond(self, request: bytes, *, now: datetime = NOW, **extra: object) -> bytes:
        return create_timestamp_response(
            request,
            tsa_key=self.tsa_key,
            tsa_cert=self.tsa_cert,
            serial=SERIAL,
            now=now,
            **extra,  # type: ignore[arg-type]
        )

    def write(self, folder: Path) -> tuple[str, str]:
        ca, tsa = folder / "ca.pem", folder / "tsa.pem"
        ca.write_text(certificate_pem(self.ca_cert))
        tsa.write_text(certificate_pem(self.tsa_cert))
        return str(ca), str(tsa)


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority()


def openssl_ts_verify(folder: Path, authority: Authority, response: bytes, *source: str) -> str:
    ca, tsa = authority.write(folder)
    (folder / "resp.tsr").write_bytes(response)
    result = openssl(
        "ts", "-verify", *source, "-in", str(folder / "resp.tsr"), "-CAfile", ca, "-untrusted", tsa
    )
    return result.stdout + result.stderr


def test_openssl_verifies_our_response_to_our_query(tmp_path: Path, authority: Authority) -> None:
    digest = hashlib.sha256(DATA).digest()
    request = create_timestamp_request(digest, nonce=0x1234567890ABCDEF)
    response = authority.respond(request)
    (tmp_path / "req.tsq").write_bytes(request)
    (tmp_path / "file.bin").write_bytes(DATA)

    by_query = openssl_ts_verify(
        tmp_path, authority, response, "-queryfile", str(tmp_path / "req.tsq")
    )
    assert "Verification: OK" in by_query, by_query
    by_data = openssl_ts_verify(tmp_path, authority, response, "-data", str(tmp_path / "file.bin"))
    assert "Verification: OK" in by_data, by_data

    shown = openssl("ts", "-reply", "-in", str(tmp_path / "resp.tsr"), "-text").stdout
    assert "Status: Granted." in shown
    assert f"Policy OID: {TSA_POLICY_OID}" in shown
    assert "Nonce: 0x1234567890ABCDEF" in shown
    assert "Serial number: 0x0102030405060708" in shown
    assert "Hash Algorithm: sha256" in shown
    assert "Ordering: no" in shown
    assert "TSA: DirName:/C=IR/CN=IR-DEMO Timestamping Authority" in shown

    assert verify_timestamp_token(response, digest=digest, ca_cert=authority.ca_cert) == (
        NOW.replace(microsecond=NOW.microsecond // 1000 * 1000)
    )


def test_openssl_catches_a_wrong_data_file(tmp_path: Path, authority: Authority) -> None:
    response = authority.respond(create_timestamp_request(hashlib.sha256(DATA).digest()))
    (tmp_path / "other.bin").write_bytes(DATA + b"!")
    output = openssl_ts_verify(tmp_path, authority, response, "-data", str(tmp_path / "other.bin"))
    assert "Verification: FAILED" in output


@pytest.mark.parametrize("hash_algorithm", get_args(HashAlgorithm))
def test_we_answer_openssl_queries(
    tmp_path: Path, authority: Authority, hash_algorithm: HashAlgorithm
) -> None:
    (tmp_path / "file.bin").write_bytes(DATA)
    made = openssl(
        "ts", "-query", "-data", str(tmp_path / "file.bin"), f"-{hash_algorithm}", "-cert",
        "-out", str(tmp_path / "req.tsq"),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    response = authority.respond((tmp_path / "req.tsq").read_bytes())
    for source in (
        ["-queryfile", str(tmp_path / "req.tsq")],
        ["-data", str(tmp_path / "file.bin")],
    ):
        output = openssl_ts_verify(tmp_path, authority, response, *source)
        assert "Verification: OK" in output, output
    digest = hashlib.new(hash_algorithm, DATA).digest()
    verify_timestamp_token(
        response, digest=digest, ca_cert=authority.ca_cert, hash_algorithm=hash_algorithm
    )


def test_without_cert_req_the_certificate_is_left_out(tmp_path: Path, authority: Authority) -> None:
    digest = hashlib.sha256(DATA).digest()
    request = create_timestamp_request(digest, cert_req=False, nonce=7)
    response = authority.respond(request)
    (tmp_path / "req.tsq").write_bytes(request)
    # openssl finds the signer among the -untrusted certificates.
    output = openssl_ts_verify(
        tmp_path, authority, response, "-queryfile", str(tmp_path / "req.tsq")
    )
    assert "Verification: OK" in output, output
    with pytest.raises(CryptoError, match="carries no TSA certificate and none was given"):
        verify_timestamp_token(response, digest=digest, ca_cert=authority.ca_cert)
    # Given the TSA certificate (as the global configuration lists it), the token verifies.
    assert verify_timestamp_token(
        response, digest=digest, ca_cert=authority.ca_cert, tsa_certificates=[authority.tsa_cert]
    ) == NOW.replace(microsecond=NOW.microsecond // 1000 * 1000)
    # Another TSA's certificate is not its signer.
    with pytest.raises(CryptoError, match="does not carry the certificate of its signer"):
        verify_timestamp_token(
            response,
            digest=digest,
            ca_cert=authority.ca_cert,
            tsa_certificates=[Authority().tsa_cert],
        )


def test_status_and_token_info_are_read_without_trusting_them(authority: Authority) -> None:
    digest = hashlib.sha256(DATA).digest()
    response = authority.respond(create_timestamp_request(digest, nonce=99, cert_req=False))
    answer = timestamp_response_status(response)
    assert answer.granted and answer.status == "granted" and answer.token is not None
    info = timestamp_token_info(answer.token)
    assert (info.hash_algorithm, info.imprint, info.nonce) == ("sha256", digest, 99)
    assert info.policy == TSA_POLICY_OID and not info.carries_certificates
    assert timestamp_token_info(
        timestamp_token_from_response(authority.respond(create_timestamp_request(digest)))
    ).carries_certificates
    rejected = timestamp_response_status(create_rejection_response("bad_alg", "no MD5 here"))
    assert not rejected.granted and rejected.token is None
    assert rejected.describe() == "status rejection, text no MD5 here, failure info bad_alg"
    with pytest.raises(CryptoError, match="not a DER RFC 3161 TimeStampResp"):
        timestamp_response_status(b"\x30\x03junk")
    with pytest.raises(CryptoError, match="timestamp token is malformed"):
        timestamp_token_info(response)  # a whole response is not a token


def test_extra_certs_are_included(authority: Authority) -> None:
    digest = hashlib.sha256(DATA).digest()
    response = authority.respond(create_timestamp_request(digest), extra_certs=[authority.ca_cert])
    token = tsp.TimeStampResp.load(response)["time_stamp_token"]
    assert len(token["content"]["certificates"]) == 2
    verify_timestamp_token(response, digest=digest, ca_cert=authority.ca_cert)


def test_verify_accepts_token_and_response(authority: Authority) -> None:
    digest = hashlib.sha256(DATA).digest()
    response = authority.respond(create_timestamp_request(digest))
    token = timestamp_token_from_response(response)
    assert token != response
    assert verify_timestamp_token(token, digest=digest, ca_cert=authority.ca_cert) == (
        verify_timestamp_token(response, digest=digest, ca_cert=authority.ca_cert)
    )


def test_ed25519_tsa_tokens_verify() -> None:
    # OpenSSL 3.0 cannot verify Ed25519 CMS signatures, so this one is checked by us alone.
    authority = Authority("ed25519")
    digest = hashlib.sha256(DATA).digest()
    response = authority.respond(create_timestamp_request(digest, nonce=1))
    verify_timestamp_token(response, digest=digest, ca_cert=authority.ca_cert)
    token = timestamp_token_from_response(response)
    signer = tsp.TimeStampResp.load(response)["time_stamp_token"]["content"]["signer_infos"][0]
    assert signer["digest_algorithm"]["algorithm"].native == "sha512"
    assert signer["signature_algorithm"]["algorithm"].native == "ed25519"
    tampered = bytearray(token)
    tampered[-1] ^= 0x01
    with pytest.raises(CryptoError, match="signature does not verify"):
        verify_timestamp_token(bytes(tampered), digest=digest, ca_cert=authority.ca_cert)


def test_signed_attributes(authority: Authority) -> None:
    response = authority.respond(create_timestamp_request(hashlib.sha256(DATA).digest()))
    signed_data = tsp.TimeStampResp.load(response)["time_stamp_token"]["content"]
    assert signed_data["version"].native == "v3"
    assert signed_data["encap_content_info"]["content_type"].native == "tst_info"
    attrs = {a["type"].native: a["values"] for a in signed_data["signer_infos"][0]["signed_attrs"]}
    assert set(attrs) == {
        "content_type",
        "message_digest",
        "signing_time",
        "signing_certificate_v2",
    }
    ess = attrs["signing_certificate_v2"][0]["certs"][0]
    der = authority.tsa_cert.public_bytes(Encoding.DER)
    assert ess["cert_hash"].native == hashlib.sha256(der).digest()
    assert ess["issuer_serial"]["serial_number"].native == authority.tsa_cert.serial_number


# --- tampering -----------------------------------------------------------------------------------


def flip(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def test_tampered_signature_is_refused(tmp_path: Path, authority: Authority) -> None:
    digest = hashlib.sha256(DATA).digest()
    token = timestamp_token_from_response(authority.respond(create_timestamp_request(digest)))
    # The signature is the last field of the last SignerInfo: the token's last byte is in it.
    tampered = flip(token, len(token) - 1)
    with pytest.raises(CryptoError, match="signature does not verify"):
        verify_timestamp_token(tampered, digest=digest, ca_cert=authority.ca_cert)
    (tmp_path / "file.bin").write_bytes(DATA)
    (tmp_path / "tok.der").write_bytes(tampered)
    ca, tsa = authority.write(tmp_path)
    result = openssl(
        "ts", "-verify", "-token_in", "-in", str(tmp_path / "tok.der"), "-data",
        str(tmp_path / "file.bin"), "-CAfile", ca, "-untrusted", tsa,
    )  # fmt: skip
    assert "Verification: FAILED" in result.stdout + result.stderr


def test_tampered_tst_info_is_refused(tmp_path: Path, authority: Authority) -> None:
    digest = hashlib.sha256(DATA).digest()
    token = timestamp_token_from_response(authority.respond(create_timestamp_request(digest)))
    serial_der = bytes.fromhex("02080102030405060708")
    where = token.index(serial_der)
    tampered = flip(token, where + len(serial_der) - 1)  # serial 0x...08 becomes 0x...09
    with pytest.raises(CryptoError, match="messageDigest attribute does not match the TSTInfo"):
        verify_timestamp_token(tampered, digest=digest, ca_cert=authority.ca_cert)
    (tmp_path / "file.bin").write_bytes(DATA)
    (tmp_path / "tok.der").write_bytes(tampered)
    ca, tsa = authority.write(tmp_path)
    result = openssl(
        "ts", "-verify", "-token_in", "-in", str(tmp_path / "tok.der"), "-data",
        str(tmp_path / "file.bin"), "-CAfile", ca, "-untrusted", tsa,
    )  # fmt: skip
    assert "Verification: FAILED" in result.stdout + result.stderr


def test_every_single_byte_change_is_refused(authority: Authority) -> None:
    digest = hashlib.sha256(DATA).digest()
    token = timestamp_token_from_response(authority.respond(create_timestamp_request(digest)))
    # Whatever byte changes (structure, TSTInfo, attributes, signature, embedded certificate),
    # verification fails with a CryptoError and never with anything else.
    for index in range(len(token)):
        with pytest.raises(CryptoError):
            verify_timestamp_token(flip(token, index), digest=digest, ca_cert=authority.ca_cert)


def test_wrong_digest_is_refused(authority: Authority) -> None:
    digest = hashlib.sha256(DATA).digest()
    response = authority.respond(create_timestamp_request(digest))
    with pytest.raises(CryptoError, match=r"message imprint .* does not match"):
        verify_timestamp_token(
            response, digest=hashlib.sha256(b"other").digest(), ca_cert=authority.ca_cert
        )
    with pytest.raises(CryptoError, match="message imprint"):
        verify_timestamp_token(
            response,
            digest=hashlib.sha512(DATA).digest(),
            ca_cert=authority.ca_cert,
            hash_algorithm="sha512",
        )
    with pytest.raises(CryptoError, match="a sha256 digest is 32 bytes"):
        verify_timestamp_token(response, digest=b"short", ca_cert=authority.ca_cert)


def test_token_of_another_instance_is_refused(authority: Authority) -> None:
    other = Authority()
    digest = hashlib.sha256(DATA).digest()
    response = other.respond(create_timestamp_request(digest))
    with pytest.raises(
        CryptoError, match=r"TSA certificate refused: .*not issued by the instance CA"
    ):
        verify_timestamp_token(response, digest=digest, ca_cert=authority.ca_cert)


def test_token_signed_with_a_non_tsa_certificate_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="does not follow the tsa profile"):
        Authority(kind="sign").respond(create_timestamp_request(bytes(32)))


def test_tsa_key_must_match_certificate(authority: Authority) -> None:
    with pytest.raises(ConfigurationError, match="TSA key does not belong"):
        create_timestamp_response(
            create_timestamp_request(bytes(32)),
            tsa_key=generate_private_key(),
            tsa_cert=authority.tsa_cert,
            serial=1,
            now=NOW,
        )


def test_expired_tsa_certificate_cannot_sign(authority: Authority) -> None:
    with pytest.raises(ConfigurationError, match="TSA certificate is not valid at"):
        authority.respond(create_timestamp_request(bytes(32)), now=NOW + timedelta(days=400))


def test_garbage_token_is_refused(authority: Authority) -> None:
    for garbage in (b"", b"junk", b"\x30\x03\x02\x01\x01", b"\x30\x80"):
        with pytest.raises(CryptoError):
            verify_timestamp_token(garbage, digest=bytes(32), ca_cert=authority.ca_cert)


# --- bad queries ---------------------------------------------------------------------------------


def assert_query_refused(
    authority: Authority, request: bytes, fail_info: FailInfo, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        authority.respond(request)
    assert caught.value.field == "timestamp_query"
    assert caught.value.extra["fail_info"] == fail_info


def raw_request(hash_name: str, digest: bytes, **fields: object) -> bytes:
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": hash_name},
                "hashed_message": digest,
            },
            **fields,
        }
    )
    return bytes(request.dump())


def test_malformed_queries_are_refused(tmp_path: Path, authority: Authority) -> None:
    assert_query_refused(authority, b"junk", "bad_data_format", "not a DER RFC 3161 TimeStampReq")
    valid = create_timestamp_request(bytes(32))
    assert_query_refused(authority, valid + b"\x00", "bad_data_format", "not a DER")
    assert_query_refused(authority, valid[:-3], "bad_data_format", "not a DER")
    assert_query_refused(
        authority, raw_request("sha256", bytes(20)), "bad_data_format", "is 32 bytes, got 20"
    )
    assert_query_refused(
        authority, raw_request("sha256", bytes(32), version="v2"), "bad_request", "version v2"
    )
    (tmp_path / "f").write_bytes(DATA)
    made = openssl(
        "ts", "-query", "-data", str(tmp_path / "f"), "-sha1", "-out", str(tmp_path / "q")
    )
    assert made.returncode == 0
    assert_query_refused(
        authority, (tmp_path / "q").read_bytes(), "bad_alg", "unsupported hash algorithm .*sha1"
    )
    assert_query_refused(
        authority, raw_request("md5", bytes(16)), "bad_alg", "unsupported hash algorithm"
    )


def test_foreign_policy_is_refused_and_ours_accepted(tmp_path: Path, authority: Authority) -> None:
    (tmp_path / "f").write_bytes(DATA)
    for policy, accepted in (("1.2.3.4", False), (TSA_POLICY_OID, True)):
        made = openssl(
            "ts", "-query", "-data", str(tmp_path / "f"), "-sha256", "-tspolicy", policy,
            "-out", str(tmp_path / "q"),
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        request = (tmp_path / "q").read_bytes()
        if accepted:
            authority.respond(request)
        else:
            assert_query_refused(authority, request, "unaccepted_policy", "policy 1.2.3.4 is not")


def test_request_extensions_are_refused(authority: Authority) -> None:
    request = raw_request(
        "sha256",
        bytes(32),
        extensions=[{"extn_id": "1.2.3.4", "critical": False, "extn_value": b"x"}],
    )
    assert_query_refused(authority, request, "bad_request", "extensions are not supported")


def test_create_request_checks_its_input() -> None:
    with pytest.raises(ValidationError, match="a sha384 digest is 48 bytes, got 32") as caught:
        create_timestamp_request(bytes(32), hash_algorithm="sha384")
    assert caught.value.field == "digest"
    with pytest.raises(ValidationError, match="unsupported hash algorithm sha1"):
        create_timestamp_request(bytes(20), hash_algorithm="sha1")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="nonce"):
        create_timestamp_request(bytes(32), nonce=-1)


def test_request_encoding(tmp_path: Path) -> None:
    request = create_timestamp_request(bytes(range(32)), nonce=99)
    (tmp_path / "q.tsq").write_bytes(request)
    shown = openssl("ts", "-query", "-in", str(tmp_path / "q.tsq"), "-text").stdout
    assert "Hash Algorithm: sha256" in shown
    assert "Nonce: 0x63" in shown
    assert "Certificate required: yes" in shown
    assert "Policy OID: unspecified" in shown
    without = create_timestamp_request(bytes(32), cert_req=False)
    assert tsp.TimeStampReq.load(without)["nonce"].native is None
    assert tsp.TimeStampReq.load(without)["cert_req"].native is False


# --- rejections ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fail_info", get_args(FailInfo))
def test_rejection_response(tmp_path: Path, fail_info: FailInfo) -> None:
    rejection = create_rejection_response(fail_info, "the query could not be read")
    (tmp_path / "rej.tsr").write_bytes(rejection)
    result = openssl("ts", "-reply", "-in", str(tmp_path / "rej.tsr"), "-text")
    assert result.returncode == 0, result.stderr
    assert "Status: Rejected." in result.stdout
    assert "Status description: the query could not be read" in result.stdout
    assert "Failure info: unspecified" not in result.stdout
    assert "TST info:\nNot included." in result.stdout
    with pytest.raises(CryptoError, match=rf"status rejection, .*could not be read.*{fail_info}"):
        timestamp_token_from_response(rejection)
    with pytest.raises(CryptoError, match="not granted"):
        verify_timestamp_token(rejection, digest=bytes(32), ca_cert=_any_ca())


def _any_ca() -> x509.Certificate:
    return create_ca_certificate(generate_private_key(), common_name="X Instance CA")


def test_rejection_bits_match_rfc3161(tmp_path: Path) -> None:
    # RFC 3161 §2.4.2 bit numbers; openssl prints its own text for each.
    expected = {
        "bad_alg": "unrecognized or unsupported algorithm identifier",
        "bad_request": "transaction not permitted or supported",
        "bad_data_format": "the data submitted has the wrong format",
        "unaccepted_policy": "the requested TSA policy is not supported by the TSA",
        "system_failure": "the request cannot be handled due to system failure",
    }
    for fail_info, text in expected.items():
        (tmp_path / "rej.tsr").write_bytes(create_rejection_response(fail_info, "x"))  # type: ignore[arg-type]
        shown = openssl("ts", "-reply", "-in", str(tmp_path / "rej.tsr"), "-text").stdout
        assert f"Failure info: {text}" in shown, shown


def test_rejection_refuses_unknown_fail_info() -> None:
    with pytest.raises(ValidationError, match="unknown RFC 3161 failure info"):
        create_rejection_response("nonsense", "x")  # type: ignore[arg-type]


def test_token_from_garbage_response() -> None:
    with pytest.raises(CryptoError, match="not a DER RFC 3161 TimeStampResp"):
        timestamp_token_from_response(b"nope")
