"""The instance PKI profile (ZB-STD-002): certificate requests, the instance CA, the five
certificate kinds it issues (``ca``, ``auth``, ``sign``, ``tsa``, ``doc``) and their
verification.

The CA never copies anything from a CSR but its public key: callers build the subject with
:func:`subject_name` from what the enrolment token says. Every check of a certificate against the
instance CA goes through :func:`verify_certificate`, whose error names the check that failed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from zistboom.core.crypto.keys import (
    PrivateKey,
    PublicKey,
    key_type_of,
    public_key_der,
    sha256_hex,
)
from zistboom.core.errors import CryptoError, ValidationError

CertificateKind = Literal["ca", "auth", "sign", "tsa", "doc"]

_LEAF_KINDS: tuple[CertificateKind, ...] = ("auth", "sign", "tsa", "doc")
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning (RFC 9336): the purpose of a ``doc`` certificate."""
_DOC_PURPOSES = frozenset({DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION})
_PRINTABLE = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]+")


def subject_name(
    *,
    common_name: str,
    organization: str | None = None,
    serial_number: str | None = None,
    country: str = "IR",
) -> x509.Name:
    """A subject DN in the profile's attribute order: C, O, CN, serialNumber."""
    if not common_name.strip():
        raise ValidationError("common name must not be empty", field="common_name")
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, country)]
    if organization is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if serial_number is not None:
        # X.520 wants PrintableString, which has no "_" (allowed in ZB-STD-001 codes): fall back
        # to UTF8String for such identities rather than failing to issue.
        string_type = (
            _ASN1Type.PrintableString
            if _PRINTABLE.fullmatch(serial_number)
            else _ASN1Type.UTF8String
        )
        attributes.append(
            x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number, _type=string_type)
        )
    try:
        return x509.Name(attributes)
    except ValueError as exc:
        raise ValidationError(f"invalid subject name: {exc}", field="subject") from None


def _signature_hash(key: PrivateKey) -> hashes.SHA256 | None:
    # cryptography wants no hash for Ed25519 (the algorithm hashes internally).
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _subject_alt_names(
    dns_names: Sequence[str], ip_addresses: Sequence[str]
) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    for address in ip_addresses:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(address)))
        except ValueError:
            raise ValidationError(
                f"{address!r} is not an IPv4 or IPv6 address", field="ip_addresses"
            ) from None
    return names


def create_csr(
    key: PrivateKey,
    *,
    common_name: str,
    organization: str | None = None,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
) -> bytes:
    """A PEM PKCS#10 request signed by ``key`` (its self-signature proves possession)."""
    key_type_of(key)
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        subject_name(common_name=common_name, organization=organization)
    )
    alt_names = _subject_alt_names(dns_names, ip_addresses)
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    csr = builder.sign(key, _signature_hash(key))
    return csr.public_bytes(serialization.Encoding.PEM)


def _pem_or_der(data: str | bytes) -> tuple[bytes, bool]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return raw, raw.lstrip().startswith(b"-----BEGIN")


def load_csr(data: str | bytes, *, field: str = "csr") -> x509.CertificateSigningRequest:
    """Parse a PEM or DER CSR and check it: a P-256 or Ed25519 key and a valid self-signature.

    :class:`ValidationError` naming ``field`` otherwise.
    """
    raw, is_pem = _pem_or_der(data)
    try:
        csr = x509.load_pem_x509_csr(raw) if is_pem else x509.load_der_x509_csr(raw)
    except (ValueError, x509.InvalidVersion) as exc:
        raise ValidationError(
            f"not a PKCS#10 certificate request in PEM or DER: {exc}", field=field
        ) from None
    try:
        public_key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValidationError(
            f"the request's public key cannot be read: {exc}", field=field
        ) from None
    if not isinstance(public_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise ValidationError(
            f"the request carries a {type(public_key).__name__}; only ECDSA P-256 and Ed25519 "
            "keys are accepted (RSA is not)",
            field=field,
        )
    try:
        key_type_of(public_key)
    except CryptoError as exc:
        raise ValidationError(f"the request's key is refused: {exc.detail}", field=field) from None
    try:
        valid = csr.is_signature_valid
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValidationError(
            f"the request's signature cannot be checked: {exc}", field=field
        ) from None
    # The unused-bits octet of the signature BIT STRING is not signed; only 0 is DER.
    if valid and csr.public_bytes(serialization.Encoding.DER)[-len(csr.signature) - 1] != 0:
        raise ValidationError(
            "the request's signature is not DER-encoded (unused bits in BIT STRING)", field=field
        )
    if not valid:
        raise ValidationError(
            "the request's self-signature does not verify, so it does not prove possession of "
            "the private key",
            field=field,
        )
    return csr


def _utc(moment: datetime) -> datetime:
    # Naive datetimes are taken as UTC, as cryptography itself does.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def random_serial() -> int:
    """A positive random serial number of at most 159 bits."""
    return x509.random_serial_number()


def create_ca_certificate(
    key: PrivateKey,
    *,
    common_name: str,
    validity: timedelta = timedelta(days=3650),
    now: datetime | None = None,
) -> x509.Certificate:
    """The self-signed root of an instance: CA:true pathlen 0, keyCertSign and cRLSign."""
    key_type_of(key)
    if validity <= timedelta(0):
        raise ValidationError("CA validity must be positive", field="validity")
    start = _utc(now if now is not None else datetime.now(UTC)).replace(microsecond=0)
    name = subject_name(common_name=common_name)
    public_key = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(random_serial())
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    return builder.sign(key, _signature_hash(key))


def _key_usage(
    *, digital_signature: bool, content_commitment: bool, key_agreement: bool
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=key_agreement,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _authority_key_identifier(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(certificate_public_key(ca_cert))
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def certificate_public_key(cert: x509.Certificate) -> PublicKey:
    """The certificate's key, if it is a key type we accept (CryptoError otherwise)."""
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CryptoError(f"certificate public key cannot be read: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise CryptoError(
            f"certificate carries a {type(key).__name__}; only ECDSA P-256 and Ed25519 keys "
            "are accepted"
        )
    key_type_of(key)
    return key


def issue_certificate(
    *,
    ca_key: PrivateKey,
    ca_cert: x509.Certificate,
    public_key: PublicKey,
    subject: x509.Name,
    kind: CertificateKind,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
) -> x509.Certificate:
    """Issue an end-entity certificate of ``kind`` under the instance CA (profiles in ZB-STD-002).

    ``subject`` is set by the CA (see :func:`subject_name`); only ``public_key`` comes from the
    holder. DNS names and IP addresses are allowed on ``auth`` certificates only.
    """
    if kind not in _LEAF_KINDS:
        raise ValidationError(
            f"cannot issue a {kind!r} certificate; use one of {', '.join(_LEAF_KINDS)}",
            field="kind",
        )
    key_type = key_type_of(public_key)
    key_type_of(ca_key)
    if public_key_der(ca_key.public_key()) != public_key_der(certificate_public_key(ca_cert)):
        raise CryptoError("the CA key does not belong to the CA certificate")
    if certificate_kind(ca_cert) != "ca":
        raise CryptoError("the issuing certificate is not a CA certificate of this profile")
    if not 0 < serial < 2**159:
        raise ValidationError("serial must be a positive integer below 2**159", field="serial")
    start, end = _utc(not_before), _utc(not_after)
    if end <= start:
        raise ValidationError(
            f"not_after {end.isoformat()} is not after not_before {start.isoformat()}",
            field="not_after",
        )
    if end > ca_cert.not_valid_after_utc:
        raise ValidationError(
            f"not_after {end.isoformat()} is past the CA certificate's expiry "
            f"{ca_cert.not_valid_after_utc.isoformat()}",
            field="not_after",
        )
    alt_names = _subject_alt_names(dns_names, ip_addresses)
    if alt_names and kind != "auth":
        raise ValidationError(
            "DNS names and IP addresses belong on auth certificates only", field="dns_names"
        )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_authority_key_identifier(ca_cert), critical=False)
    )
    if kind == "auth":
        builder = builder.add_extension(
            _key_usage(
                digital_signature=True,
                content_commitment=False,
                key_agreement=key_type == "ec-p256",
            ),
            critical=True,
        ).add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    elif kind == "sign":
        builder = builder.add_extension(
            _key_usage(digital_signature=True, content_commitment=True, key_agreement=False),
            critical=True,
        )
    elif kind == "doc":
        builder = builder.add_extension(
            _key_usage(digital_signature=True, content_commitment=True, key_agreement=False),
            critical=True,
        ).add_extension(
            # emailProtection beside documentSigning: NSS (pdfsig) trusts a PDF signer only for
            # it, and a purpose list keeps a doc key out of TLS and message signatures.
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
    else:
        builder = builder.add_extension(
            _key_usage(digital_signature=True, content_commitment=False, key_agreement=False),
            critical=True,
        ).add_extension(
            # RFC 3161 §2.3: the only EKU of a TSA certificate, and critical.
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
            critical=True,
        )
    return builder.sign(ca_key, _signature_hash(ca_key))


def certificate_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def certificate_der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def load_certificate(data: str | bytes) -> x509.Certificate:
    """Parse one PEM or DER certificate; :class:`ValidationError` on anything else."""
    raw, is_pem = _pem_or_der(data)
    try:
        if is_pem:
            return x509.load_pem_x509_certificate(raw)
        return x509.load_der_x509_certificate(raw)
    except (ValueError, x509.InvalidVersion) as exc:
        raise ValidationError(
            f"not an X.509 certificate in PEM or DER: {exc}", field="certificate"
        ) from None


def certificate_fingerprint(cert: x509.Certificate) -> str:
    """Lowercase hex SHA-256 of the certificate's DER."""
    return sha256_hex(certificate_der(cert))


def certificate_identity(cert: x509.Certificate) -> str | None:
    """The subject serialNumber (2.5.4.5): the member or gateway id the certificate is for."""
    values = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def certificate_kind(cert: x509.Certificate) -> CertificateKind | None:
    """Recognise which profile ``cert`` follows from its extensions; ``None`` if none fits."""
    try:
        extensions = cert.extensions
    except ValueError:  # malformed or duplicated extensions fit no profile
        return None
    try:
        basic = extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    try:
        eku_ext: x509.Extension[x509.ExtendedKeyUsage] | None = extensions.get_extension_for_class(
            x509.ExtendedKeyUsage
        )
    except x509.ExtensionNotFound:
        eku_ext = None
    if basic.ca:
        return "ca" if usage.key_cert_sign and eku_ext is None else None
    if usage.key_cert_sign or not usage.digital_signature:
        return None
    if eku_ext is None:
        return "sign" if usage.content_commitment else None
    purposes = set(eku_ext.value)
    if purposes == {ExtendedKeyUsageOID.TIME_STAMPING}:
        return "tsa" if eku_ext.critical and not usage.content_commitment else None
    if purposes == {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}:
        return "auth" if not usage.content_commitment else None
    if purposes == _DOC_PURPOSES:
        return "doc" if usage.content_commitment and not eku_ext.critical else None
    return None


def verify_certificate(
    cert: x509.Certificate,
    ca_cert: x509.Certificate,
    *,
    at: datetime,
    revoked_serials: Collection[int] = (),
    kind: CertificateKind | None = None,
    identity: str | None = None,
) -> None:
    """Check that ``cert`` was issued by the instance CA and may be relied on at ``at``.

    Checks in order: issuer name and signature, the CA's own validity, the certificate's
    validity period, revocation, the profile (``kind``) and the holder (``identity``). Raises
    :class:`CryptoError` naming the first check that failed.
    """
    try:
        _verify_certificate(cert, ca_cert, _utc(at), revoked_serials, kind, identity)
    except ValueError as exc:  # cryptography parses some fields lazily
        raise CryptoError(f"certificate is malformed: {exc}") from None


def _verify_certificate(
    cert: x509.Certificate,
    ca_cert: x509.Certificate,
    moment: datetime,
    revoked_serials: Collection[int],
    kind: CertificateKind | None,
    identity: str | None,
) -> None:
    if cert.issuer != ca_cert.subject:
        raise CryptoError(
            f"certificate is not issued by the instance CA: issuer {cert.issuer.rfc4514_string()}, "
            f"expected {ca_cert.subject.rfc4514_string()}"
        )
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        raise CryptoError(
            "certificate is not issued by the instance CA: its signature does not verify with "
            "the instance CA key"
        ) from None
    # The unused-bits octet of the signature BIT STRING is outside the signed part; anything but
    # 0 is not DER and would give one certificate two fingerprints.
    if certificate_der(cert)[-len(cert.signature) - 1] != 0:
        raise CryptoError("certificate signature is not DER-encoded (unused bits in BIT STRING)")
    if not ca_cert.not_valid_before_utc <= moment <= ca_cert.not_valid_after_utc:
        raise CryptoError(
            f"the instance CA certificate is not valid at {moment.isoformat()} (valid "
            f"{ca_cert.not_valid_before_utc.isoformat()} to "
            f"{ca_cert.not_valid_after_utc.isoformat()})"
        )
    if moment < cert.not_valid_before_utc:
        raise CryptoError(
            f"certificate is not yet valid at {moment.isoformat()}: valid from "
            f"{cert.not_valid_before_utc.isoformat()}"
        )
    if moment > cert.not_valid_after_utc:
        raise CryptoError(
            f"certificate expired at {cert.not_valid_after_utc.isoformat()}; checked at "
            f"{moment.isoformat()}"
        )
    if cert.serial_number in revoked_serials:
        raise CryptoError(f"certificate is revoked (serial {cert.serial_number:x})")
    actual_kind = certificate_kind(cert)
    if kind is not None and actual_kind != kind:
        raise CryptoError(
            f"certificate is not a {kind} certificate (its profile is {actual_kind or 'unknown'})"
        )
    if kind is None and actual_kind not in _LEAF_KINDS:
        raise CryptoError(
            f"certificate is not an end-entity certificate of this profile "
            f"(its profile is {actual_kind or 'unknown'})"
        )
    if identity is not None:
        holder = certificate_identity(cert)
        if holder != identity:
            raise CryptoError(f"certificate is issued to {holder or 'nobody'}, expected {identity}")


def chain_pem(certs: Iterable[x509.Certificate]) -> str:
    """Concatenated PEM of ``certs``, in the order given (leaf first)."""
    return "".join(certificate_pem(cert) for cert in certs)
