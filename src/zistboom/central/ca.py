"""The instance CA and timestamping authority: central's keys, enrolment tokens, certificate
issuance from CSRs, renewal, revocation and RFC 3161 timestamps.

The CA decides every certificate's subject itself from the enrolment token's binding; it never
trusts the subject a CSR asks for. The CSR contributes its public key and proof of possession.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from cryptography import x509 as cx509
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.central import audit
from zistboom.central.models import Certificate, EnrolmentToken, Gateway, Member
from zistboom.central.operators import Operator
from zistboom.central.service import find_gateway
from zistboom.central.settings import CentralSettings
from zistboom.core.crypto import jws, keys, timestamp, x509
from zistboom.core.database import utc_now
from zistboom.core.errors import (
    AuthenticationError,
    ConflictError,
    CryptoError,
    NotFoundError,
    ValidationError,
)

ENROLMENT_KINDS = ("auth", "sign", "doc", "gateway")
# What each token kind grants: a "gateway" token sets up a gateway in one step (its TLS
# certificate and its member's signing certificate), each usable once. A "doc" token is for a
# member's document-signing service (an issuer), which holds its own key apart from its gateway.
TOKEN_GRANTS: dict[str, tuple[x509.CertificateKind, ...]] = {
    "auth": ("auth",),
    "sign": ("sign",),
    "doc": ("doc",),
    "gateway": ("auth", "sign"),
}
ISSUED_KINDS: tuple[x509.CertificateKind, ...] = ("auth", "sign", "doc")
"""The kinds the CA issues from CSRs (kept in ``certificates.kind``)."""
REVOCATION_REASONS = (
    "unspecified",
    "keyCompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
)


@dataclass(frozen=True, slots=True)
class InstanceKeys:
    """Central's keys: the instance CA, the TSA, the global configuration signing key and the
    trust-list signing key (ZB-STD-007), which also signs recognitions and TRQP answers."""

    ca_key: keys.PrivateKey
    ca_cert: cx509.Certificate
    tsa_key: keys.PrivateKey
    tsa_cert: cx509.Certificate
    conf_key: keys.PrivateKey
    trust_list_key: keys.PrivateKey


def ensure_instance_keys(data_dir: Path, instance: str) -> InstanceKeys:
    """Load central's keys, creating them (0600 files in a 0700 folder) on first start."""
    folder = data_dir / "keys"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_key_path, ca_cert_path = folder / "ca.key", folder / "ca.pem"
    if not ca_key_path.exists():
        ca_key = keys.generate_private_key()
        keys.save_private_key(ca_key, ca_key_path)
        ca_cert = x509.create_ca_certificate(ca_key, common_name=f"{instance} Instance CA")
        ca_cert_path.write_text(x509.certificate_pem(ca_cert))
    ca_key = keys.load_private_key(ca_key_path)
    ca_cert = x509.load_certificate(ca_cert_path.read_bytes())

    tsa_key_path, tsa_cert_path = folder / "tsa.key", folder / "tsa.pem"
    if not tsa_key_path.exists():
        tsa_key = keys.generate_private_key()
        keys.save_private_key(tsa_key, tsa_key_path)
        now = utc_now()
        tsa_cert = x509.issue_certificate(
            ca_key=ca_key,
            ca_cert=ca_cert,
            public_key=tsa_key.public_key(),
            subject=x509.subject_name(common_name=f"{instance} Timestamping Authority"),
            kind="tsa",
            serial=x509.random_serial(),
            not_before=now - timedelta(minutes=5),
            not_after=min(now + timedelta(days=5 * 365), ca_cert.not_valid_after_utc),
        )
        tsa_cert_path.write_text(x509.certificate_pem(tsa_cert))
    tsa_key = keys.load_private_key(tsa_key_path)
    tsa_cert = x509.load_certificate(tsa_cert_path.read_bytes())

    conf_key_path = folder / "global-conf.key"
    if not conf_key_path.exists():
        keys.save_private_key(keys.generate_private_key(), conf_key_path)
    conf_key = keys.load_private_key(conf_key_path)

    trust_list_key_path = folder / "trust-list.key"
    if not trust_list_key_path.exists():
        keys.save_private_key(keys.generate_private_key(), trust_list_key_path)
    trust_list_key = keys.load_private_key(trust_list_key_path)
    return InstanceKeys(ca_key, ca_cert, tsa_key, tsa_cert, conf_key, trust_list_key)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def serial_hex(serial: int) -> str:
    return format(serial, "x")


# --- enrolment ---------------------------------------------------------------------------------


async def create_enrolment_token(
    session: AsyncSession,
    settings: CentralSettings,
    *,
    member: Member,
    kind: str,
    gateway_code: str | None,
    expires_in_minutes: int | None,
    actor: Operator,
) -> tuple[EnrolmentToken, str]:
    """An operator's approval for one certificate; returns the row and the one-time token."""
    actor.require("admin", "registrar")
    if kind not in ENROLMENT_KINDS:
        raise ValidationError(
            f"unknown certificate kind {kind!r}: use 'auth' (gateway TLS), 'sign' (member "
            "signatures), 'doc' (document signing) or 'gateway' (auth and sign)",
            field="kind",
        )
    gateway: Gateway | None = None
    if "auth" in TOKEN_GRANTS[kind]:
        if not gateway_code:
            raise ValidationError(
                "an authentication certificate is for one gateway: name its gateway_code",
                field="gateway_code",
            )
        gateway = find_gateway(member, gateway_code)
    minutes = expires_in_minutes or settings.enrolment_token_minutes
    if not 1 <= minutes <= 7 * 24 * 60:
        raise ValidationError(
            "expires_in_minutes must be between 1 and 10080 (a week)", field="expires_in_minutes"
        )
    token = "zbe_" + secrets.token_urlsafe(32)
    now = utc_now()
    row = EnrolmentToken(
        token_hash=_token_hash(token),
        member_id=member.id,
        gateway_id=gateway.id if gateway else None,
        kind=kind,
        expires_at=now + timedelta(minutes=minutes),
        used_kinds="",
        created_at=now,
        created_by=actor.actor,
    )
    session.add(row)
    await session.flush()
    await audit.append(
        session,
        actor=actor.actor,
        action="enrolment-token.create",
        target=member.identifier + (f"/{gateway.code}" if gateway else ""),
        details={"kind": kind, "expires_at": row.expires_at.isoformat()},
    )
    return row, token


def _subject_for(
    member: Member, kind: x509.CertificateKind, gateway: Gateway | None
) -> tuple[cx509.Name, str]:
    # auth names the gateway; sign and doc name the member (ZB-STD-002 §5.3).
    if kind == "auth":
        assert gateway is not None
        identity = f"{member.identifier}/{gateway.code}"
        name = x509.subject_name(
            common_name=gateway.code, organization=member.code, serial_number=identity
        )
        return name, identity
    name = x509.subject_name(
        common_name=member.code, organization=member.name_en, serial_number=member.identifier
    )
    return name, member.identifier


def _gateway_names(gateway: Gateway) -> tuple[list[str], list[str]]:
    host = gateway.address.rsplit(":", 1)[0].strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return [host], []
    return [], [host]


async def _issue(
    session: AsyncSession,
    settings: CentralSettings,
    instance_keys: InstanceKeys,
    *,
    public_key: keys.PublicKey,
    member: Member,
    kind: x509.CertificateKind,
    gateway: Gateway | None,
) -> Certificate:
    now = utc_now()
    subject, identity = _subject_for(member, kind, gateway)
    dns_names, ip_addresses = _gateway_names(gateway) if gateway else ([], [])
    serial = x509.random_serial()
    not_after = min(
        now + timedelta(days=settings.certificate_validity_days),
        instance_keys.ca_cert.not_valid_after_utc,
    )
    cert = x509.issue_certificate(
        ca_key=instance_keys.ca_key,
        ca_cert=instance_keys.ca_cert,
        public_key=public_key,
        subject=subject,
        kind=kind,
        serial=serial,
        not_before=now - timedelta(minutes=5),
        not_after=not_after,
        dns_names=dns_names,
        ip_addresses=ip_addresses,
    )
    row = Certificate(
        serial=serial_hex(serial),
        kind=kind,
        member_id=member.id,
        gateway_id=gateway.id if gateway else None,
        identity=identity,
        fingerprint=x509.certificate_fingerprint(cert),
        pem=x509.certificate_pem(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        issued_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def enrol(
    session: AsyncSession,
    settings: CentralSettings,
    instance_keys: InstanceKeys,
    *,
    token: str,
    csr_pem: str,
    kind: str | None = None,
) -> Certificate:
    """Exchange a one-time token and a CSR for a certificate (of ``kind``, when the token
    grants more than one)."""
    token_row = (
        await session.execute(
            select(EnrolmentToken).where(EnrolmentToken.token_hash == _token_hash(token))
        )
    ).scalar_one_or_none()
    if token_row is None:
        raise AuthenticationError("unknown enrolment token", field="token")
    if token_row.used_at is not None:
        raise ConflictError(
            "this enrolment token was already used; ask the operator for a new one", field="token"
        )
    if token_row.expires_at <= utc_now():
        raise ConflictError(
            f"this enrolment token expired at {token_row.expires_at.isoformat()}", field="token"
        )
    grants = TOKEN_GRANTS[token_row.kind]
    if kind is None and len(grants) > 1:
        raise ValidationError(
            f"this token grants {' and '.join(grants)} certificates: say which (kind)",
            field="kind",
        )
    granted = grants[0] if kind is None else next((g for g in grants if g == kind), None)
    if granted is None:
        raise ValidationError(
            f"this token grants {' and '.join(grants)} certificates, not {kind!r}", field="kind"
        )
    used = [k for k in token_row.used_kinds.split(",") if k]
    if granted in used:
        raise ConflictError(
            f"this token's {granted} certificate was already issued; ask the operator for a new "
            "token",
            field="token",
        )
    csr = x509.load_csr(csr_pem, field="csr")
    member = await session.get(Member, token_row.member_id)
    assert member is not None
    gateway = await session.get(Gateway, token_row.gateway_id) if token_row.gateway_id else None
    row = await _issue(
        session,
        settings,
        instance_keys,
        public_key=csr.public_key(),  # type: ignore[arg-type]  # load_csr admits only our key types
        member=member,
        kind=granted,
        gateway=gateway if granted == "auth" else None,
    )
    used.append(granted)
    token_row.used_kinds = ",".join(used)
    if set(used) >= set(grants):
        token_row.used_at = utc_now()
    token_row.certificate_serial = row.serial
    await audit.append(
        session,
        actor=f"token:{token_row.id}",
        action="certificate.issue",
        target=row.identity,
        details={"kind": row.kind, "serial": row.serial, "fingerprint": row.fingerprint},
    )
    return row


def _issued_kind(recorded: str) -> x509.CertificateKind:
    """The kind of a certificate row; a renewal issues the same kind again."""
    for kind in ISSUED_KINDS:
        if kind == recorded:
            return kind
    raise ConflictError(f"certificates of kind {recorded!r} are not renewed", field="request")


async def renew(
    session: AsyncSession,
    settings: CentralSettings,
    instance_keys: InstanceKeys,
    *,
    request_jws: str,
) -> Certificate:
    """Issue a successor certificate to a holder proving possession of its current key."""
    try:
        header = jws.unverified_header(request_jws)
        chain = header["x5c"]
        current = x509.load_certificate(base64.b64decode(chain[0], validate=True))
    except (KeyError, IndexError, TypeError, binascii.Error, ValidationError, CryptoError) as error:
        raise ValidationError(
            "the renewal request must be a JWS whose protected header carries x5c with the "
            "current certificate",
            field="request",
        ) from error
    row = await session.get(Certificate, serial_hex(current.serial_number))
    if row is None or row.fingerprint != x509.certificate_fingerprint(current):
        raise AuthenticationError("this certificate was not issued by this CA", field="request")
    now = utc_now()
    revoked = await revoked_serials(session)
    x509.verify_certificate(
        current, instance_keys.ca_cert, at=now, revoked_serials=revoked, identity=row.identity
    )
    _, payload_bytes = jws.verify_jws(request_jws, current.public_key())  # type: ignore[arg-type]
    try:
        payload: dict[str, Any] = orjson.loads(payload_bytes)
        issued_at = datetime.fromtimestamp(int(payload["iat"]), tz=now.tzinfo)
        csr_pem = str(payload["csr"])
    except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as error:
        raise ValidationError(
            "the renewal payload must be JSON with 'csr' and 'iat'", field="request"
        ) from error
    if abs((now - issued_at).total_seconds()) > settings.renewal_max_clock_skew_seconds:
        raise ValidationError(
            "the renewal request's iat is too far from central's clock", field="request"
        )
    csr = x509.load_csr(csr_pem, field="csr")
    member = await session.get(Member, row.member_id) if row.member_id else None
    gateway = await session.get(Gateway, row.gateway_id) if row.gateway_id else None
    if member is None:
        raise NotFoundError("the certificate's member no longer exists", field="request")
    new_row = await _issue(
        session,
        settings,
        instance_keys,
        public_key=csr.public_key(),  # type: ignore[arg-type]
        member=member,
        kind=_issued_kind(row.kind),
        gateway=gateway,
    )
    await audit.append(
        session,
        actor=f"cert:{row.serial}",
        action="certificate.renew",
        target=new_row.identity,
        details={"previous": row.serial, "serial": new_row.serial},
    )
    return new_row


async def revoke(
    session: AsyncSession, serial: str, reason: str, *, actor: Operator
) -> Certificate:
    actor.require("admin")
    if reason not in REVOCATION_REASONS:
        raise ValidationError(
            f"unknown revocation reason {reason!r}: use one of {', '.join(REVOCATION_REASONS)}",
            field="reason",
        )
    row = await session.get(Certificate, serial.lower())
    if row is None:
        raise NotFoundError(f"no certificate with serial {serial}", field="serial")
    if row.revoked_at is not None:
        raise ConflictError(f"certificate {serial} is already revoked", field="serial")
    # Whole seconds, as the global configuration publishes it (ZB-STD-003 §5.11).
    row.revoked_at = utc_now().replace(microsecond=0)
    row.revocation_reason = reason
    await audit.append(
        session,
        actor=actor.actor,
        action="certificate.revoke",
        target=row.identity,
        details={"serial": row.serial, "reason": reason},
    )
    return row


async def revoked_serials(session: AsyncSession) -> set[int]:
    result = await session.execute(
        select(Certificate.serial).where(Certificate.revoked_at.is_not(None))
    )
    return {int(serial, 16) for serial in result.scalars()}


async def list_certificates(
    session: AsyncSession, *, member: Member | None, actor: Operator
) -> list[Certificate]:
    query = select(Certificate).order_by(Certificate.issued_at)
    if member is not None:
        actor.require_member(member, "admin", "registrar", "auditor")
        query = query.where(Certificate.member_id == member.id)
    else:
        actor.require("admin", "registrar", "auditor")
    return list((await session.execute(query)).scalars())


# --- timestamping ------------------------------------------------------------------------------


def timestamp_reply(instance_keys: InstanceKeys, query_der: bytes) -> bytes:
    """Answer an RFC 3161 query with a token signed by the TSA certificate."""
    return timestamp.create_timestamp_response(
        query_der,
        tsa_key=instance_keys.tsa_key,
        tsa_cert=instance_keys.tsa_cert,
        serial=x509.random_serial(),
        now=utc_now(),
    )
