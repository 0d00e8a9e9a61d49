"""RFC 3161 timestamps of the instance TSA: queries, responses (granted and rejected) and offline
verification of timestamp tokens against the instance CA.

The ASN.1 is asn1crypto's (``tsp``, ``cms``); the CMS SignedData is assembled here because
pyca/cryptography's PKCS#7 builder cannot sign a non-``data`` eContent (id-ct-TSTInfo) nor add
the ESS signing-certificate-v2 attribute that RFC 3161 clients such as ``openssl ts`` require.
The profile is ZB-STD-002 §10.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

from asn1crypto import cms, core, parser, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from zistboom.core.crypto.keys import PrivateKey, PublicKey, key_type_of, public_key_der
from zistboom.core.crypto.x509 import (
    certificate_der,
    certificate_kind,
    verify_certificate,
)
from zistboom.core.errors import ConfigurationError, CryptoError, ValidationError

# UUID-derived OID (ITU-T X.667, arc 2.25): ours without registering an enterprise number.
TSA_POLICY_OID: Final = "2.25.213833210474782757165441878761109040831"

HashAlgorithm = Literal["sha256", "sha384", "sha512"]
FailInfo = Literal[
    "bad_alg", "bad_request", "bad_data_format", "unaccepted_policy", "system_failure"
]

_DIGEST_SIZES: Final[dict[str, int]] = {"sha256": 32, "sha384": 48, "sha512": 64}
_ECDSA_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "sha256_ecdsa": hashes.SHA256,
    "sha384_ecdsa": hashes.SHA384,
    "sha512_ecdsa": hashes.SHA512,
}
# asn1crypto raises these on malformed or unexpected DER; cryptography adds the last two for
# certificates it cannot read.
_ASN1_ERRORS = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    x509.InvalidVersion,
    UnsupportedAlgorithm,
)


def create_timestamp_request(
    digest: bytes,
    *,
    hash_algorithm: HashAlgorithm = "sha256",
    nonce: int | None = None,
    cert_req: bool = True,
) -> bytes:
    """A DER TimeStampReq for ``digest`` (the hash of the data, not the data)."""
    _check_digest(digest, hash_algorithm, field="digest")
    if nonce is not None and nonce < 0:
        raise ValidationError("nonce must not be negative", field="nonce")
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": hash_algorithm},
                "hashed_message": digest,
            },
            "cert_req": cert_req,
        }
    )
    if nonce is not None:
        request["nonce"] = nonce
    return bytes(request.dump())


def _check_digest(digest: bytes, hash_algorithm: str, *, field: str, **extra: Any) -> None:
    size = _DIGEST_SIZES.get(hash_algorithm)
    if size is None:
        raise ValidationError(
            f"unsupported hash algorithm {hash_algorithm}; use sha256, sha384 or sha512",
            field=field,
            **extra,
        )
    if len(digest) != size:
        raise ValidationError(
            f"a {hash_algorithm} digest is {size} bytes, got {len(digest)}", field=field, **extra
        )


def _query_error(detail: str, fail_info: FailInfo) -> ValidationError:
    # fail_info tells the HTTP route which PKIFailureInfo bit to answer with.
    return ValidationError(detail, field="timestamp_query", fail_info=fail_info)


def create_timestamp_response(
    request_der: bytes,
    *,
    tsa_key: PrivateKey,
    tsa_cert: x509.Certificate,
    serial: int,
    now: datetime,
    extra_certs: Sequence[x509.Certificate] = (),
) -> bytes:
    """Answer a DER TimeStampReq with a granted DER TimeStampResp signed by the TSA.

    :class:`ValidationError` (``field="timestamp_query"``, ``extra["fail_info"]`` naming the
    RFC 3161 failure bit) for a malformed request, an unsupported hash algorithm, a digest of the
    wrong length, a foreign policy or request extensions. :class:`ConfigurationError` if the TSA
    key and certificate do not fit together or cannot sign at ``now``.
    """
    try:
        request = tsp.TimeStampReq.load(request_der, strict=True)
        version = request["version"].native
        imprint = request["message_imprint"]
        hash_algorithm = imprint["hash_algorithm"]["algorithm"].dotted
        hash_name = imprint["hash_algorithm"]["algorithm"].native
        hashed_message = imprint["hashed_message"].native
        policy = request["req_policy"]
        requested_policy = None if isinstance(policy, core.Void) else policy.dotted
        nonce = request["nonce"].native
        cert_req = bool(request["cert_req"].native)
        has_extensions = not isinstance(request["extensions"], core.Void)
        imprint_der = imprint.dump()
    except _ASN1_ERRORS as exc:
        raise _query_error(f"not a DER RFC 3161 TimeStampReq: {exc}", "bad_data_format") from None
    if version != "v1":
        raise _query_error(f"unsupported TimeStampReq version {version}; use 1", "bad_request")
    if hash_name not in _DIGEST_SIZES:
        raise _query_error(
            f"unsupported hash algorithm {hash_algorithm} ({hash_name}); use sha256, sha384 or "
            "sha512",
            "bad_alg",
        )
    if len(hashed_message) != _DIGEST_SIZES[hash_name]:
        raise _query_error(
            f"a {hash_name} message imprint is {_DIGEST_SIZES[hash_name]} bytes, got "
            f"{len(hashed_message)}",
            "bad_data_format",
        )
    if requested_policy is not None and requested_policy != TSA_POLICY_OID:
        raise _query_error(
            f"policy {requested_policy} is not offered; this TSA issues under {TSA_POLICY_OID} "
            "(or omit reqPolicy)",
            "unaccepted_policy",
        )
    if has_extensions:
        raise _query_error("request extensions are not supported; omit them", "bad_request")

    _check_tsa(tsa_key, tsa_cert, now)
    if not 0 < serial < 2**159:
        raise ValidationError("timestamp serial must be a positive integer below 2**159")
    gen_time = _utc(now)
    gen_time = gen_time.replace(microsecond=gen_time.microsecond // 1000 * 1000)
    tsa_name = asn1_x509.Name.load(tsa_cert.subject.public_bytes())
    tst_info = tsp.TSTInfo(
        {
            "version": "v1",
            "policy": TSA_POLICY_OID,
            "message_imprint": tsp.MessageImprint.load(imprint_der),
            "serial_number": serial,
            "gen_time": gen_time,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=tsa_name),
        }
    )
    if nonce is not None:
        tst_info["nonce"] = nonce
    token = _signed_token(
        tst_info.dump(),
        tsa_key=tsa_key,
        tsa_cert=tsa_cert,
        signing_time=gen_time,
        certificates=[tsa_cert, *extra_certs] if cert_req else [],
    )
    response = tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})
    return bytes(response.dump())


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _check_tsa(tsa_key: PrivateKey, tsa_cert: x509.Certificate, now: datetime) -> None:
    if certificate_kind(tsa_cert) != "tsa":
        raise ConfigurationError("the TSA certificate does not follow the tsa profile")
    if public_key_der(tsa_key.public_key()) != public_key_der(_certificate_key(tsa_cert)):
        raise ConfigurationError("the TSA key does not belong to the TSA certificate")
    moment = _utc(now)
    if not tsa_cert.not_valid_before_utc <= moment <= tsa_cert.not_valid_after_utc:
        raise ConfigurationError(
            f"the TSA certificate is not valid at {moment.isoformat()} (valid "
            f"{tsa_cert.not_valid_before_utc.isoformat()} to "
            f"{tsa_cert.not_valid_after_utc.isoformat()}); renew it"
        )


def _certificate_key(cert: x509.Certificate) -> PublicKey:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CryptoError(f"TSA certificate public key cannot be read: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise CryptoError(
            f"TSA certificate carries a {type(key).__name__}; only P-256 and Ed25519 are accepted"
        )
    key_type_of(key)
    return key


def _signed_token(
    tst_der: bytes,
    *,
    tsa_key: PrivateKey,
    tsa_cert: x509.Certificate,
    signing_time: datetime,
    certificates: Sequence[x509.Certificate],
) -> cms.ContentInfo:
    # RFC 8419 §3: Ed25519 signers digest the content with SHA-512.
    digest_name = "sha512" if isinstance(tsa_key, ed25519.Ed25519PrivateKey) else "sha256"
    issuer = asn1_x509.Name.load(tsa_cert.issuer.public_bytes())
    ess_cert_id = {
        "cert_hash": hashlib.sha256(certificate_der(tsa_cert)).digest(),
        "issuer_serial": {
            "issuer": [asn1_x509.GeneralName(name="directory_name", value=issuer)],
            "serial_number": tsa_cert.serial_number,
        },
    }
    signed_attrs = cms.CMSAttributes(
        [
            {"type": "content_type", "values": ["tst_info"]},
            {
                "type": "signing_time",
                "values": [_cms_time(signing_time.replace(microsecond=0))],
            },
            {
                "type": "message_digest",
                "values": [hashlib.new(digest_name, tst_der).digest()],
            },
            {
                "type": "signing_certificate_v2",
                "values": [tsp.SigningCertificateV2({"certs": [ess_cert_id]})],
            },
        ]
    )
    # The signature covers the DER SET OF encoding (asn1crypto sorts SET OF members).
    signed_bytes = signed_attrs.dump()
    if isinstance(tsa_key, ed25519.Ed25519PrivateKey):
        signature = tsa_key.sign(signed_bytes)
        signature_algorithm = "ed25519"
    else:
        signature = tsa_key.sign(signed_bytes, ec.ECDSA(hashes.SHA256()))
        signature_algorithm = "sha256_ecdsa"
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": issuer, "serial_number": tsa_cert.serial_number},
            ),
            "digest_algorithm": {"algorithm": digest_name},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": signature_algorithm},
            "signature": signature,
        }
    )
    signed_data: dict[str, Any] = {
        "version": "v3",
        "digest_algorithms": [{"algorithm": digest_name}],
        "encap_content_info": {
            "content_type": "tst_info",
            "content": core.ParsableOctetString(tst_der),
        },
        "signer_infos": [signer_info],
    }
    if certificates:
        signed_data["certificates"] = [
            cms.CertificateChoices(
                name="certificate", value=asn1_x509.Certificate.load(certificate_der(cert))
            )
            for cert in certificates
        ]
    return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(signed_data)})


def _cms_time(moment: datetime) -> cms.Time:
    # RFC 5652 §11.3: UTCTime for 1950-2049, GeneralizedTime otherwise.
    name = "utc_time" if 1950 <= moment.year < 2050 else "general_time"
    return cms.Time(name=name, value=moment)


def create_rejection_response(fail_info: FailInfo, text: str) -> bytes:
    """A DER TimeStampResp with status ``rejection``, ``text`` and the ``fail_info`` bit."""
    if fail_info not in get_args(FailInfo):
        raise ValidationError(f"unknown RFC 3161 failure info {fail_info!r}", field="fail_info")
    status = tsp.PKIStatusInfo(
        {
            "status": "rejection",
            "status_string": [text],
            "fail_info": tsp.PKIFailureInfo({fail_info}),
        }
    )
    # asn1crypto's TimeStampResp wrongly requires the token, so the SEQUENCE is built directly.
    return bytes(core.Sequence(contents=status.dump()).dump())


@dataclass(frozen=True, slots=True)
class ResponseStatus:
    """The PKIStatusInfo of a TimeStampResp, and its token when there is one."""

    status: str
    """``granted``, ``granted_with_mods``, ``rejection``, ``waiting``, ``revocation_warning``…"""
    texts: tuple[str, ...]
    fail_info: tuple[str, ...]
    token: bytes | None

    @property
    def granted(self) -> bool:
        return self.status in ("granted", "granted_with_mods")

    def describe(self) -> str:
        reasons = ", ".join(self.fail_info) if self.fail_info else "none given"
        return (
            f"status {self.status}, text {'; '.join(self.texts) or '(none)'}, "
            f"failure info {reasons}"
        )


def timestamp_response_status(response_der: bytes) -> ResponseStatus:
    """Read a DER TimeStampResp (nothing verified); :class:`CryptoError` if it is not one."""
    try:
        status_der, token_der = _response_parts(response_der)
        status_info = tsp.PKIStatusInfo.load(status_der, strict=True)
        status = str(status_info["status"].native)
        texts = tuple(status_info["status_string"].native or [])
        fail_info = tuple(sorted(status_info["fail_info"].native or ()))
        if token_der is not None:
            _ = cms.ContentInfo.load(token_der, strict=True)["content_type"].native
    except _ASN1_ERRORS as exc:
        raise CryptoError(f"not a DER RFC 3161 TimeStampResp: {exc}") from None
    return ResponseStatus(status, texts, fail_info, token_der)


def timestamp_token_from_response(response_der: bytes) -> bytes:
    """The TimeStampToken (DER ContentInfo) of a granted response, else :class:`CryptoError`."""
    answer = timestamp_response_status(response_der)
    if not answer.granted:
        raise CryptoError(f"timestamp not granted: {answer.describe()}")
    if answer.token is None:
        raise CryptoError("timestamp response is granted but carries no token")
    return answer.token


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a TimeStampToken's TSTInfo says, read without verifying anything: for a client's
    checks of the answer to its own query (RFC 3161 §2.4.2), never for trusting a time."""

    hash_algorithm: str
    imprint: bytes
    nonce: int | None
    policy: str
    gen_time: datetime
    carries_certificates: bool


def timestamp_token_info(token_der: bytes) -> TokenInfo:
    """Read a TimeStampToken's TSTInfo; :class:`CryptoError` if it is not one."""
    try:
        content_info = cms.ContentInfo.load(token_der, strict=True)
        signed_data = content_info["content"]
        encap = signed_data["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise CryptoError("timestamp token does not encapsulate a TSTInfo")
        tst_info = tsp.TSTInfo.load(bytes(encap["content"].contents), strict=True)
        imprint = tst_info["message_imprint"]
        return TokenInfo(
            hash_algorithm=str(imprint["hash_algorithm"]["algorithm"].native),
            imprint=bytes(imprint["hashed_message"].native),
            nonce=tst_info["nonce"].native,
            policy=str(tst_info["policy"].dotted),
            gen_time=_utc(tst_info["gen_time"].native),
            carries_certificates=not isinstance(signed_data["certificates"], core.Void)
            and len(signed_data["certificates"]) > 0,
        )
    except CryptoError:
        raise
    except _ASN1_ERRORS as exc:
        raise CryptoError(f"timestamp token is malformed: {exc}") from None


def _response_parts(response_der: bytes) -> tuple[bytes, bytes | None]:
    """Split a DER TimeStampResp into its PKIStatusInfo and optional token encodings."""
    _, _, tag, _, contents, _ = parser.parse(response_der, strict=True)
    if tag != 16:
        raise ValueError("TimeStampResp is not a SEQUENCE")
    status = parser.parse(contents)
    status_der = b"".join((status[3], status[4], status[5]))
    rest = contents[len(status_der) :]
    if not rest:
        return status_der, None
    token = parser.parse(rest, strict=True)
    return status_der, b"".join((token[3], token[4], token[5]))


def _token_der(token_der: bytes) -> bytes:
    """Accept a TimeStampToken or a whole TimeStampResp and return the token."""
    try:
        outer = parser.parse(token_der, strict=True)
        first = parser.parse(outer[4])
    except _ASN1_ERRORS as exc:
        raise CryptoError(f"timestamp token is not DER: {exc}") from None
    # A ContentInfo starts with an OBJECT IDENTIFIER, a TimeStampResp with PKIStatusInfo.
    if first[2] == 16:
        return timestamp_token_from_response(token_der)
    return token_der


def verify_timestamp_token(
    token_der: bytes,
    *,
    digest: bytes,
    ca_cert: x509.Certificate,
    hash_algorithm: str = "sha256",
    tsa_certificates: Sequence[x509.Certificate] = (),
) -> datetime:
    """Verify a timestamp token (or full response) offline and return its genTime (UTC).

    Checks that the token imprints ``digest`` under our policy, that the messageDigest attribute
    matches the TSTInfo, that the signature over the signed attributes verifies with the TSA
    certificate (the one embedded, or for a token made without ``certReq`` the one of
    ``tsa_certificates`` that the signer identifier names, ZB-STD-002 §10.5), that the ESS
    signing-certificate-v2 names that certificate, and that the certificate is a ``tsa``
    certificate of the instance CA valid at genTime. :class:`CryptoError` names the first failed
    check.
    """
    _check_crypto_digest(digest, hash_algorithm)
    token = _token_der(token_der)
    try:
        content_info = cms.ContentInfo.load(token, strict=True)
        if content_info["content_type"].native != "signed_data":
            raise CryptoError("timestamp token is not a CMS SignedData")
        signed_data = content_info["content"]
        if signed_data["version"].native != "v3":
            raise CryptoError("timestamp SignedData version is not 3 (RFC 5652 §5.1)")
        encap = signed_data["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise CryptoError("timestamp token does not encapsulate a TSTInfo")
        tst_der = bytes(encap["content"].contents)
        tst_info = tsp.TSTInfo.load(tst_der, strict=True)
        imprint_algorithm = tst_info["message_imprint"]["hash_algorithm"]["algorithm"].native
        imprint = tst_info["message_imprint"]["hashed_message"].native
        policy = tst_info["policy"].dotted
        gen_time = tst_info["gen_time"].native
        signer_infos = list(signed_data["signer_infos"])
        if len(signer_infos) != 1:
            raise CryptoError(f"timestamp token has {len(signer_infos)} signers, expected 1")
        signer_info = signer_infos[0]
        signed_attrs = signer_info["signed_attrs"]
        if isinstance(signed_attrs, core.Void):
            raise CryptoError("timestamp token has no signed attributes")
        attributes = {attr["type"].native: attr["values"] for attr in signed_attrs}
        if signer_info["version"].native != "v1":
            raise CryptoError("timestamp SignerInfo version is not 1 (issuerAndSerialNumber)")
        signer_digest = _digest_name(signer_info["digest_algorithm"])
        if [_digest_name(algorithm) for algorithm in signed_data["digest_algorithms"]] != [
            signer_digest
        ]:
            raise CryptoError("timestamp digestAlgorithms do not match the signer's")
        signature_algorithm = signer_info["signature_algorithm"]["algorithm"].native
        signature = bytes(signer_info["signature"].native)
        # The signature covers the attributes as a SET OF, i.e. the [0] IMPLICIT tag as 0x31.
        signed_bytes = b"\x31" + bytes(signed_attrs.dump())[1:]
        sid = signer_info["sid"]
        embedded = [
            x509.load_der_x509_certificate(choice.chosen.dump())
            for choice in (
                []
                if isinstance(signed_data["certificates"], core.Void)
                else signed_data["certificates"]
            )
            if choice.name == "certificate"
        ]
        tsa_cert = _find_signer(sid, [*embedded, *tsa_certificates])
        content_types = [value.native for value in attributes.get("content_type", [])]
        message_digests = [bytes(value.native) for value in attributes.get("message_digest", [])]
        ess_values = list(attributes.get("signing_certificate_v2", []))
        ess_ids = list(ess_values[0]["certs"]) if len(ess_values) == 1 else []
        ess_algorithm = ess_ids[0]["hash_algorithm"]["algorithm"].native if ess_ids else None
        ess_hash = bytes(ess_ids[0]["cert_hash"].native) if ess_ids else None
        ess_issuer_serial = ess_ids[0]["issuer_serial"] if ess_ids else None
        ess_serial = (
            None
            if ess_issuer_serial is None or isinstance(ess_issuer_serial, core.Void)
            else ess_issuer_serial["serial_number"].native
        )
    except CryptoError:
        raise
    except _ASN1_ERRORS as exc:
        raise CryptoError(f"timestamp token is malformed: {exc}") from None

    if imprint_algorithm != hash_algorithm or imprint != digest:
        raise CryptoError(
            f"timestamp message imprint ({imprint_algorithm}) does not match the {hash_algorithm} "
            "digest of the data"
        )
    if policy != TSA_POLICY_OID:
        raise CryptoError(f"timestamp policy {policy} is not this instance's {TSA_POLICY_OID}")
    if content_types != ["tst_info"]:
        raise CryptoError("timestamp contentType attribute is missing or not id-ct-TSTInfo")
    if signer_digest not in _DIGEST_SIZES:
        raise CryptoError(f"timestamp signer digest algorithm {signer_digest} is not accepted")
    if message_digests != [hashlib.new(signer_digest, tst_der).digest()]:
        raise CryptoError("timestamp messageDigest attribute does not match the TSTInfo")
    _verify_signature(_certificate_key(tsa_cert), signature_algorithm, signature, signed_bytes)
    if ess_algorithm is None or ess_hash is None:
        raise CryptoError("timestamp has no ESS signing-certificate-v2 attribute")
    if ess_algorithm not in _DIGEST_SIZES:
        raise CryptoError(f"ESS certificate hash algorithm {ess_algorithm} is not accepted")
    if ess_hash != hashlib.new(ess_algorithm, certificate_der(tsa_cert)).digest() or (
        ess_serial is not None and ess_serial != tsa_cert.serial_number
    ):
        raise CryptoError("timestamp ESS signing-certificate-v2 does not name the TSA certificate")
    gen_time = _utc(gen_time)
    try:
        verify_certificate(tsa_cert, ca_cert, at=gen_time, kind="tsa")
    except CryptoError as exc:
        raise CryptoError(f"timestamp TSA certificate refused: {exc.detail}") from None
    return gen_time


def _digest_name(algorithm: Any) -> str:
    """The name of a DigestAlgorithm whose parameters are absent or NULL (RFC 5754 §2)."""
    parameters = algorithm["parameters"]  # asn1crypto raises ValueError unless NULL or absent
    if not isinstance(parameters, core.Void | core.Null):
        raise ValueError("digest algorithm parameters must be absent or NULL")
    return str(algorithm["algorithm"].native)


def _check_crypto_digest(digest: bytes, hash_algorithm: str) -> None:
    try:
        _check_digest(digest, hash_algorithm, field="digest")
    except ValidationError as exc:
        raise CryptoError(exc.detail) from None


def _find_signer(
    sid: cms.SignerIdentifier, certificates: list[x509.Certificate]
) -> x509.Certificate:
    if not certificates:
        raise CryptoError(
            "timestamp token carries no TSA certificate and none was given (request it with "
            "certReq, or pass the global configuration's tsa_certificates)"
        )
    for cert in certificates:
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if wanted["serial_number"].native == cert.serial_number and wanted[
                "issuer"
            ] == asn1_x509.Name.load(cert.issuer.public_bytes()):
                return cert
        elif sid.name == "subject_key_identifier":
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
            except x509.ExtensionNotFound:
                continue
            if ski.value.digest == sid.chosen.native:
                return cert
    raise CryptoError("timestamp token does not carry the certificate of its signer")


def _verify_signature(key: PublicKey, algorithm: str, signature: bytes, data: bytes) -> None:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey) and algorithm == "ed25519":
            key.verify(signature, data)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm in _ECDSA_HASHES:
            key.verify(signature, data, ec.ECDSA(_ECDSA_HASHES[algorithm]()))
        else:
            raise CryptoError(
                f"timestamp signature algorithm {algorithm} does not fit the TSA certificate key"
            )
    except InvalidSignature:
        raise CryptoError(
            "timestamp signature does not verify with the TSA certificate key"
        ) from None
