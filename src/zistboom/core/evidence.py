"""Evidence bundles (ZB-STD-005): the canonical form and hash of a message-log record, the bundle
document a gateway exports, and its offline verification.

This module is the contract between the gateway that writes the message log and anybody who later
has to prove what was exchanged: it depends on the core crypto functions and nothing of the
gateway. A bundle (media type ``application/vnd.zistboom.evidence+json``) carries records, the
Merkle batches that seal them with their RFC 3161 timestamp tokens, an inclusion proof for every
sealed record, the certificates a verifier needs, and the statement of what it covers
(:mod:`zistboom.core.evidence_coverage`). :func:`verify_bundle` re-checks every record (hash,
body, chain link, inclusion, timestamp, HTTP message signature and what the signature vouches
for), that the bundle holds everything it says it covers, and names every check that fails.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

import orjson
from asn1crypto import cms
from cryptography import x509

from zistboom.core.crypto import httpsig
from zistboom.core.crypto.keys import PublicKey, key_type_of, sha256, sha256_hex
from zistboom.core.crypto.merkle import verify_inclusion
from zistboom.core.crypto.timestamp import verify_timestamp_token
from zistboom.core.crypto.x509 import (
    certificate_der,
    certificate_fingerprint,
    certificate_identity,
    certificate_kind,
    certificate_pem,
    load_certificate,
    verify_certificate,
)
from zistboom.core.errors import CryptoError, ValidationError
from zistboom.core.evidence_coverage import (
    Coverage,
    CoveredRecord,
    RecordKey,
    coverage_problems,
    order_problems,
    parse_coverage,
)
from zistboom.core.exchange import request_hash
from zistboom.core.identifiers import GatewayId, ServiceId, SubsystemId, parse_client_header

FORMAT: Final = "zistboom-evidence/2"
MEDIA_TYPE: Final = "application/vnd.zistboom.evidence+json"
GENESIS_HASH: Final = "0" * 64
# The headers a record keeps for the signature check, beside the X-Road ones (ZB-STD-005 §4).
TARGET_URI_KEY: Final = "@target-uri"
SIGNER_CERTIFICATE_HEADER: Final = "zb-signer-certificate"
SIGNATURE_LABEL: Final = "zb"
# What a logged signature must cover, as a gateway requires it (ZB-STD-004 §5.4 rows 1-7 and
# §5.5 rows 1-8), and the headers it must also cover when the message carries them (§5.4 rows
# 8-12, §5.5 row 9): a signature a gateway would refuse is no evidence either.
REQUIRED_REQUEST_COMPONENTS: Final = (
    "@method",
    "@path",
    "@query",
    "content-digest",
    "x-road-client",
    "x-road-id",
    "zb-signer-certificate",
)
REQUEST_COMPONENTS_WHEN_PRESENT: Final = (
    "x-road-userid",
    "x-road-issue",
    "x-road-represented-party",
    "x-road-purpose",
    "content-type",
)
REQUIRED_RESPONSE_COMPONENTS: Final = (
    "@status",
    "content-digest",
    "x-road-id",
    "x-road-service",
    "x-road-request-id",
    "x-road-request-hash",
    "zb-signer-certificate",
    '"signature";req;key="zb"',
)
RESPONSE_COMPONENTS_WHEN_PRESENT: Final = ("x-road-error",)
# Signatures are checked after the fact: ``created`` is compared with the record's time, which
# the logging gateway took from its own clock (a provider logs the request after its backend
# answered).
SIGNATURE_MAX_SKEW: Final = 3600
# The RFC 9530 digest of the empty body: a request hash needs the body only when it is not empty.
EMPTY_BODY_DIGEST: Final = "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"

Kind = Literal["request", "response"]
Side = Literal["client", "server"]
CheckStatus = Literal["ok", "failed", "not applicable"]

CHECKS: Final = (
    "format",
    "record_hash",
    "body",
    "chain",
    "inclusion",
    "timestamp",
    "signature",
    "receipt",
)
_KINDS: Final = get_args(Kind)
_SIDES: Final = get_args(Side)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


# --------------------------------------------------------------------------------------------
# Records: the canonical form and its hash


def format_time(moment: datetime) -> str:
    """The canonical time of ZB-STD-005: UTC with microseconds and ``Z``, as in
    ``2026-11-28T10:15:30.250000Z``."""
    if moment.tzinfo is None:
        raise ValidationError("a record time must carry its time zone", field="at")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: object, *, field: str = "at") -> datetime:
    """Parse the canonical time; anything else (other precision, offsets) is refused."""
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise ValidationError(
            f"{field} must be a UTC time like 2026-11-28T10:15:30.250000Z, got {text!r}",
            field=field,
        )
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError(f"{field} {text!r} is not a valid time", field=field) from None


@dataclass(frozen=True, slots=True)
class RecordContent:
    """The hashed content of one message-log record (ZB-STD-005 §3).

    The body itself is not hashed: ``body_digest`` (the RFC 9530 ``Content-Digest`` of the body)
    is, and a body, when kept, must match it. A record therefore stays verifiable when its body
    is withheld from a bundle.

    ``gateway`` is the id of the gateway that logged the record (``INSTANCE/CLASS/CODE/GATEWAY``);
    ``None`` only for records logged before records carried it (ZB-STD-005 1.0), whose canonical
    form then lacks the member.
    """

    gateway: str | None
    instance: str
    seq: int
    at: datetime
    message_id: str
    kind: Kind
    side: Side
    client: str | None
    service: str | None
    method: str | None
    target: str | None
    status: int | None
    headers: Mapping[str, str]
    body_digest: str
    prev_hash: str

    def __post_init__(self) -> None:
        check_record_content(self)

    def canonical(self) -> dict[str, Any]:
        document: dict[str, Any] = {} if self.gateway is None else {"gateway": self.gateway}
        return document | {
            "instance": self.instance,
            "seq": self.seq,
            "at": format_time(self.at),
            "message_id": self.message_id,
            "kind": self.kind,
            "side": self.side,
            "client": self.client,
            "service": self.service,
            "method": self.method,
            "target": self.target,
            "status": self.status,
            "headers": dict(self.headers),
            "body_digest": self.body_digest,
            "prev_hash": self.prev_hash,
        }

    def canonical_json(self) -> bytes:
        """Sorted keys, no whitespace, UTF-8: identical to RFC 8785 JCS for these values."""
        return orjson.dumps(self.canonical(), option=orjson.OPT_SORT_KEYS)

    def record_hash(self) -> str:
        """Lower-case hex SHA-256 of :meth:`canonical_json`."""
        return sha256_hex(self.canonical_json())

    @property
    def key(self) -> RecordKey:
        """Where the record sits: (gateway, instance, seq)."""
        return RecordKey(self.gateway, self.instance, self.seq)


def _text(value: object, name: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{name} must be a non-empty string", field=name)
    if "\x00" in value:
        raise ValidationError(f"{name} holds a NUL character", field=name)


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an integer, got {value!r}", field=name)
    return value


def check_record_content(content: RecordContent) -> None:
    """:class:`ValidationError` naming the first field of ``content`` that breaks ZB-STD-005 §3."""
    if content.gateway is not None:
        _text(content.gateway, "gateway")
        GatewayId.parse(content.gateway, field="gateway")
    _text(content.instance, "instance")
    if _integer(content.seq, "seq") < 1:
        raise ValidationError("seq starts at 1", field="seq")
    if not isinstance(content.at, datetime) or content.at.tzinfo is None:
        raise ValidationError("at must be a time-zone aware datetime", field="at")
    _text(content.message_id, "message_id")
    if content.kind not in _KINDS:
        raise ValidationError(
            f"kind must be request or response, got {content.kind!r}", field="kind"
        )
    if content.side not in _SIDES:
        raise ValidationError(f"side must be client or server, got {content.side!r}", field="side")
    for name in ("client", "service", "method", "target"):
        _text(getattr(content, name), name, optional=True)
    if content.status is not None and not 100 <= _integer(content.status, "status") <= 999:
        raise ValidationError(f"status {content.status} is not a three-digit code", field="status")
    if content.kind == "request":
        if content.method is None or content.target is None:
            raise ValidationError("a request record needs method and target", field="method")
        if content.status is not None:
            raise ValidationError("a request record has no status", field="status")
    else:
        if content.status is None:
            raise ValidationError("a response record needs its status", field="status")
        if content.target is not None:
            raise ValidationError("a response record has no target", field="target")
        if content.method is None and content.gateway is not None:
            raise ValidationError(
                "a response record repeats the method of its request", field="method"
            )
    if not isinstance(content.headers, Mapping):
        raise ValidationError("headers must be an object of strings", field="headers")
    for name, value in content.headers.items():
        if not isinstance(name, str) or not (
            name == TARGET_URI_KEY or _HEADER_NAME.fullmatch(name)
        ):
            raise ValidationError(
                f"header name {name!r} is not a lower-case HTTP field name", field="headers"
            )
        if not isinstance(value, str) or "\x00" in value:
            raise ValidationError(
                f"header {name} must have a string value without NUL", field="headers"
            )
    _text(content.body_digest, "body_digest")
    if not isinstance(content.prev_hash, str) or not _HEX64.fullmatch(content.prev_hash):
        raise ValidationError("prev_hash must be 64 lower-case hex digits", field="prev_hash")


# --------------------------------------------------------------------------------------------
# Bundles: building


@dataclass(frozen=True, slots=True)
class BundleBatch:
    """A sealed Merkle batch of one instance's records and its timestamp."""

    id: int
    instance: str
    first_seq: int
    last_seq: int
    size: int
    root: bytes
    timestamp_token: bytes
    timestamped_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "instance": self.instance,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "size": self.size,
            "root": self.root.hex(),
            "timestamp_token": base64.b64encode(self.timestamp_token).decode("ascii"),
            "timestamped_at": format_time(self.timestamped_at),
        }


@dataclass(frozen=True, slots=True)
class BundleRecord:
    """One record as it travels in a bundle: content, stated hash, body and inclusion proof."""

    content: RecordContent
    record_hash: str
    body: bytes | None = None
    batch: int | None = None
    index: int | None = None
    proof: Sequence[bytes] | None = None

    def to_json(self) -> dict[str, Any]:
        document = self.content.canonical()
        document["body"] = None if self.body is None else base64.b64encode(self.body).decode()
        document["record_hash"] = self.record_hash
        document["batch"] = self.batch
        document["index"] = self.index
        document["proof"] = None if self.proof is None else [node.hex() for node in self.proof]
        return document


def timestamp_certificates(token_der: bytes) -> list[x509.Certificate]:
    """The certificates embedded in a timestamp token (the TSA's, when it was asked for)."""
    try:
        signed_data = cms.ContentInfo.load(token_der)["content"]
        choices = signed_data["certificates"]
        return [
            x509.load_der_x509_certificate(choice.chosen.dump())
            for choice in (choices or [])
            if choice.name == "certificate"
        ]
    except (ValueError, TypeError, KeyError) as exc:
        raise CryptoError(f"timestamp token is malformed: {exc}") from None


def signer_certificate(headers: Mapping[str, str]) -> x509.Certificate | None:
    """The certificate in a record's ``zb-signer-certificate`` header (base64 DER), if any."""
    value = headers.get(SIGNER_CERTIFICATE_HEADER)
    if value is None:
        return None
    try:
        der = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(
            f"{SIGNER_CERTIFICATE_HEADER} is not base64", field=SIGNER_CERTIFICATE_HEADER
        ) from None
    return load_certificate(der)


def build_bundle(
    records: Sequence[BundleRecord],
    batches: Sequence[BundleBatch],
    *,
    covers: Coverage,
    certificates: Sequence[x509.Certificate],
    exported_at: datetime,
    gateway_id: str | None = None,
) -> bytes:
    """The bundle document (UTF-8 JSON). ``covers`` states what the bundle covers (see
    :func:`~zistboom.core.evidence_coverage.message_coverage` and ``range_coverage``).
    ``certificates`` should hold the instance CA; the signer certificates of the records and the
    TSA certificates of the tokens are added here."""
    collected: dict[bytes, x509.Certificate] = {}

    def add(cert: x509.Certificate) -> None:
        collected.setdefault(certificate_der(cert), cert)

    for cert in certificates:
        add(cert)
    for record in records:
        try:
            signer = signer_certificate(record.content.headers)
        except ValidationError:
            signer = None  # the verifier reports it against the record
        if signer is not None:
            add(signer)
    for batch in batches:
        for cert in timestamp_certificates(batch.timestamp_token):
            add(cert)
    ordered = sorted(records, key=lambda r: r.content.key.sort_key())
    gateway: dict[str, Any] = {"instances": sorted({r.content.instance for r in records})}
    if gateway_id is not None:
        gateway["id"] = gateway_id
    document = {
        "format": FORMAT,
        "exported_at": format_time(exported_at),
        "gateway": gateway,
        "covers": covers.to_json(),
        "records": [record.to_json() for record in ordered],
        "batches": [batch.to_json() for batch in sorted(batches, key=lambda b: b.id)],
        "certificates": [certificate_pem(cert) for cert in collected.values()],
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


# --------------------------------------------------------------------------------------------
# Bundles: verification


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    status: CheckStatus
    detail: str = ""


@dataclass(slots=True)
class RecordResult:
    """The checks of one record; ``instance``/``seq``/``message_id`` may be ``None`` when the
    record is too malformed to tell."""

    position: int
    gateway: str | None
    instance: str | None
    seq: int | None
    message_id: str | None
    kind: str | None
    side: str | None
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [check.name for check in self.checks if check.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    def label(self) -> str:
        gateway = "" if self.gateway is None else f"gateway {self.gateway}, "
        return (
            f"records[{self.position}] (message id {self.message_id}, {gateway}instance "
            f"{self.instance}, seq {self.seq})"
        )


@dataclass(slots=True)
class EvidenceReport:
    checked_at: datetime
    records: list[RecordResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.records) and all(r.ok for r in self.records)

    def failures(self) -> list[str]:
        """One line per bundle problem and per failed check of a record."""
        lines = [f"bundle: {problem}" for problem in self.problems]
        if not self.records and not self.problems:
            lines.append("bundle: it holds no records, so it proves nothing")
        for record in self.records:
            for check in record.checks:
                if check.status == "failed":
                    lines.append(f"{record.label()}: {check.name}: {check.detail}")
        return lines


class _Malformed(Exception):
    """Internal: a part of the bundle that does not have the shape of ZB-STD-005 §8."""


_RECORD_KEYS: Final = frozenset(
    {
        "gateway",
        "instance",
        "seq",
        "at",
        "message_id",
        "kind",
        "side",
        "client",
        "service",
        "method",
        "target",
        "status",
        "headers",
        "body_digest",
        "body",
        "prev_hash",
        "record_hash",
        "batch",
        "index",
        "proof",
    }
)
_BATCH_KEYS: Final = frozenset(
    {
        "id",
        "instance",
        "first_seq",
        "last_seq",
        "size",
        "root",
        "timestamp_token",
        "timestamped_at",
    }
)
_BUNDLE_KEYS: Final = frozenset(
    {"format", "exported_at", "gateway", "covers", "records", "batches", "certificates"}
)


def _keys(value: object, expected: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{what} is not a JSON object")
    missing = sorted(expected - value.keys())
    unknown = sorted(value.keys() - expected)
    if missing:
        raise _Malformed(f"{what} lacks {', '.join(missing)}")
    if unknown:
        raise _Malformed(f"{what} has unknown members {', '.join(unknown)}")
    return value


def _int_field(value: object, name: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Malformed(f"{name} must be an integer")
    return value


def _base64_field(value: object, name: str) -> bytes:
    if not isinstance(value, str) or not _BASE64.fullmatch(value):
        raise _Malformed(f"{name} is not standard padded base64")
    decoded = base64.b64decode(value)
    # One byte string, one text: unused bits before the padding must be zero.
    if base64.b64encode(decoded).decode("ascii") != value:
        raise _Malformed(f"{name} is not canonical base64 (non-zero padding bits)")
    return decoded


def _hex_field(value: object, name: str) -> bytes:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise _Malformed(f"{name} must be 64 lower-case hex digits")
    return bytes.fromhex(value)


def _parse_record(value: object) -> BundleRecord:
    data = _keys(value, _RECORD_KEYS, "the record")
    headers = data["headers"]
    if not isinstance(headers, dict):
        raise _Malformed("headers is not a JSON object")
    for name in ("instance", "message_id", "kind", "side", "body_digest", "prev_hash", "at"):
        if not isinstance(data[name], str):
            raise _Malformed(f"{name} must be a string")
    for name in ("gateway", "client", "service", "method", "target"):
        if data[name] is not None and not isinstance(data[name], str):
            raise _Malformed(f"{name} must be a string or null")
    try:
        content = RecordContent(
            gateway=data["gateway"],
            instance=data["instance"],
            seq=_int_field(data["seq"], "seq") or 0,
            at=parse_time(data["at"]),
            message_id=data["message_id"],
            kind=data["kind"],
            side=data["side"],
            client=data["client"],
            service=data["service"],
            method=data["method"],
            target=data["target"],
            status=_int_field(data["status"], "status", optional=True),
            headers=headers,
            body_digest=data["body_digest"],
            prev_hash=data["prev_hash"],
        )
    except ValidationError as exc:
        raise _Malformed(exc.detail) from None
    if not isinstance(data["record_hash"], str) or not _HEX64.fullmatch(data["record_hash"]):
        raise _Malformed("record_hash must be 64 lower-case hex digits")
    body = None if data["body"] is None else _base64_field(data["body"], "body")
    batch = _int_field(data["batch"], "batch", optional=True)
    index = _int_field(data["index"], "index", optional=True)
    proof_value = data["proof"]
    if batch is None:
        if index is not None or proof_value is not None:
            raise _Malformed("a record outside any batch has no index and no proof")
        proof = None
    else:
        if index is None or not isinstance(proof_value, list):
            raise _Malformed("a record in a batch needs its index and proof")
        proof = [_hex_field(node, "proof") for node in proof_value]
    return BundleRecord(content, data["record_hash"], body, batch, index, proof)


def _parse_batch(value: object) -> BundleBatch:
    data = _keys(value, _BATCH_KEYS, "the batch")
    if not isinstance(data["instance"], str) or not data["instance"]:
        raise _Malformed("the batch's instance must be a non-empty string")
    batch = BundleBatch(
        id=_int_field(data["id"], "id") or 0,
        instance=data["instance"],
        first_seq=_int_field(data["first_seq"], "first_seq") or 0,
        last_seq=_int_field(data["last_seq"], "last_seq") or 0,
        size=_int_field(data["size"], "size") or 0,
        root=_hex_field(data["root"], "root"),
        timestamp_token=_base64_field(data["timestamp_token"], "timestamp_token"),
        timestamped_at=_parse_batch_time(data["timestamped_at"]),
    )
    if batch.first_seq < 1 or batch.size != batch.last_seq - batch.first_seq + 1:
        raise _Malformed(
            f"first_seq {batch.first_seq}, last_seq {batch.last_seq} and size {batch.size} "
            "do not describe a run of consecutive records"
        )
    return batch


def _parse_batch_time(value: object) -> datetime:
    try:
        return parse_time(value, field="timestamped_at")
    except ValidationError as exc:
        raise _Malformed(exc.detail) from None


def _bundle_anchor(
    certificates: Sequence[x509.Certificate], report: EvidenceReport
) -> x509.Certificate | None:
    authorities = [cert for cert in certificates if certificate_kind(cert) == "ca"]
    if len(authorities) != 1:
        report.problems.append(
            f"no trust anchor: none was given and the bundle holds {len(authorities)} CA "
            "certificates, not exactly one"
        )
        return None
    report.warnings.append(
        "trust anchor taken from the bundle: the result only shows the bundle is consistent; "
        "pass the instance CA certificate you trust to prove more"
    )
    return authorities[0]


def _ok(name: str, detail: str = "") -> CheckResult:
    return CheckResult(name, "ok", detail)


def _failed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, "failed", detail)


def _not_applicable(name: str, detail: str) -> CheckResult:
    return CheckResult(name, "not applicable", detail)


def verify_bundle(
    data: bytes,
    *,
    trust_anchor: x509.Certificate | None = None,
    now: datetime | None = None,
) -> EvidenceReport:
    """Check an evidence bundle offline (ZB-STD-005 §9) and report every check of every record.

    ``trust_anchor`` is the instance CA certificate the verifier trusts; without it the bundle's
    own CA certificate is used and the report carries a warning saying so. Nothing raises for a
    bad bundle: malformed parts are reported as problems or as failed ``format`` checks.
    """
    report = EvidenceReport(checked_at=now or datetime.now(UTC))
    try:
        document = orjson.loads(data)
        document = _keys(document, _BUNDLE_KEYS, "the bundle")
    except orjson.JSONDecodeError as exc:
        report.problems.append(f"format: the bundle is not UTF-8 JSON: {exc}")
        return report
    except _Malformed as exc:
        report.problems.append(f"format: {exc}")
        return report
    if document["format"] != FORMAT:
        report.problems.append(f"format: {document['format']!r} is not {FORMAT!r}")
        return report
    for name in ("records", "batches", "certificates"):
        if not isinstance(document[name], list):
            report.problems.append(f"format: {name} is not a JSON array")
            return report

    certificates = []
    for position, pem in enumerate(document["certificates"]):
        try:
            if not isinstance(pem, str):
                raise ValidationError("not a string")
            certificates.append(load_certificate(pem))
        except ValidationError as exc:
            report.problems.append(f"format: certificate {position} cannot be read: {exc.detail}")
    anchor = trust_anchor if trust_anchor is not None else _bundle_anchor(certificates, report)
    if anchor is not None and not anchor.not_valid_before_utc <= report.checked_at <= (
        anchor.not_valid_after_utc
    ):
        report.warnings.append("the trust anchor is not valid now (checks use historical times)")

    batches: dict[int, BundleBatch | str] = {}
    for position, value in enumerate(document["batches"]):
        try:
            batch = _parse_batch(value)
        except _Malformed as exc:
            report.problems.append(f"format: batch {position}: {exc}")
            batch_id = value.get("id") if isinstance(value, dict) else None
            if isinstance(batch_id, int) and not isinstance(batch_id, bool):
                batches[batch_id] = f"batch {batch_id} is malformed: {exc}"
            continue
        if batch.id in batches:
            report.problems.append(f"format: batch id {batch.id} appears more than once")
            batches[batch.id] = f"batch {batch.id} appears more than once in the bundle"
            continue
        batches[batch.id] = batch
    timestamps = {
        batch_id: _verify_timestamp(batch, anchor)
        for batch_id, batch in batches.items()
        if isinstance(batch, BundleBatch)
    }

    parsed: list[BundleRecord | None] = []
    for position, value in enumerate(document["records"]):
        result = RecordResult(
            position=position,
            gateway=_peek(value, "gateway", str),
            instance=_peek(value, "instance", str),
            seq=_peek(value, "seq", int),
            message_id=_peek(value, "message_id", str),
            kind=_peek(value, "kind", str),
            side=_peek(value, "side", str),
        )
        report.records.append(result)
        try:
            parsed.append(_parse_record(value))
            result.checks.append(_ok("format"))
        except _Malformed as exc:
            parsed.append(None)
            result.checks.append(_failed("format", str(exc)))

    by_key: dict[RecordKey, BundleRecord] = {}
    # A client gateway that retried another provider gateway logged several requests for one
    # message id; the response is bound to one of them.
    requests: dict[_ExchangeKey, list[BundleRecord]] = {}
    seen: dict[RecordKey, int] = {}
    for position, record in enumerate(parsed):
        if record is None:
            continue
        content = record.content
        key = content.key
        if key in seen:
            report.problems.append(
                f"format: records {seen[key]} and {position} are both {key.describe()}"
            )
            continue
        seen[key] = position
        by_key[key] = record
        if content.kind == "request":
            requests.setdefault(_exchange_key(content), []).append(record)

    report.problems.extend(
        order_problems([None if record is None else record.content.key for record in parsed])
    )
    try:
        coverage = parse_coverage(document["covers"])
    except ValidationError as exc:
        report.problems.append(f"format: {exc.detail}")
    else:
        report.problems.extend(
            coverage_problems(
                coverage,
                [
                    CoveredRecord(
                        r.content.key, r.content.message_id, r.content.kind, r.content.side
                    )
                    for r in by_key.values()
                ],
            )
        )

    context = _Context(by_key, requests, batches, timestamps, anchor, report.checked_at)
    for result, record in zip(report.records, parsed, strict=True):
        if record is None:
            continue
        result.checks.extend(_record_checks(record, context))
    return report


_ExchangeKey = tuple[str | None, str, str, str]


def _exchange_key(content: RecordContent) -> _ExchangeKey:
    """The records of one exchange as one gateway instance logged it on one side."""
    return (content.gateway, content.instance, content.side, content.message_id)


@dataclass(frozen=True, slots=True)
class _Context:
    """What the checks of one record may consult of the rest of the bundle."""

    records: Mapping[RecordKey, BundleRecord]
    requests: Mapping[_ExchangeKey, Sequence[BundleRecord]]
    batches: Mapping[int, BundleBatch | str]
    timestamps: Mapping[int, datetime | str]
    anchor: x509.Certificate | None
    checked_at: datetime


def _peek(value: object, name: str, kind: type[Any]) -> Any:
    if isinstance(value, dict):
        item = value.get(name)
        if isinstance(item, kind) and not isinstance(item, bool):
            return item
    return None


def _verify_timestamp(batch: BundleBatch, anchor: x509.Certificate | None) -> datetime | str:
    """The verified genTime of a batch's token, or why it does not verify."""
    if anchor is None:
        return "no trust anchor to check the timestamp against"
    try:
        gen_time = verify_timestamp_token(
            batch.timestamp_token, digest=sha256(batch.root), ca_cert=anchor
        )
    except CryptoError as exc:
        return f"the timestamp token of batch {batch.id} does not verify: {exc.detail}"
    if gen_time != batch.timestamped_at:
        return (
            f"batch {batch.id} states timestamped_at {format_time(batch.timestamped_at)} but its "
            f"token says {format_time(gen_time)}"
        )
    return gen_time


def _record_checks(record: BundleRecord, context: _Context) -> Iterable[CheckResult]:
    content = record.content
    actual_hash = content.record_hash()
    if actual_hash == record.record_hash:
        yield _ok("record_hash")
    else:
        yield _failed(
            "record_hash",
            f"the record's content hashes to {actual_hash}, not the stated {record.record_hash}",
        )
    yield _body_check(record)
    yield _chain_check(record, context.records)
    sealing = list(_batch_checks(record, actual_hash, context.batches, context.timestamps))
    yield from sealing
    trusted_at = None
    if record.batch is not None and all(check.status == "ok" for check in sealing):
        verified = context.timestamps.get(record.batch)
        trusted_at = verified if isinstance(verified, datetime) else None
    yield _signature_check(record, context, trusted_at)
    if content.kind == "response" and (content.headers.get("content-type") or "").startswith(
        RECEIPT_MEDIA_TYPE
    ):
        yield _receipt_check(record, context)


def _receipt_check(record: BundleRecord, context: _Context) -> CheckResult:
    """A receipt an asynchronous delivery was answered with (ZB-STD-009 §6): signed by the
    member the response is signed by, for this message, naming the digests of the delivery the
    response answers (ZB-STD-005 §9 step 11)."""
    from zistboom.core.messaging import receipt_digest, verify_receipt

    content = record.content
    if record.body is None:
        return _not_applicable("receipt", "the receipt (the response's body) is not in the bundle")
    try:
        receipt = verify_receipt(
            record.body.decode("ascii"),
            ca_certificate=context.anchor,
            expected_member=_expected_signer(content),
        )
    except (CryptoError, ValidationError, UnicodeDecodeError) as exc:
        return _failed("receipt", getattr(exc, "detail", str(exc)))
    if receipt.message_id != content.message_id:
        return _failed("receipt", f"the receipt is for message {receipt.message_id}")
    digests = []
    for request in context.requests.get(_exchange_key(content), ()):
        asked = request.content
        if request.body is None and asked.body_digest != EMPTY_BODY_DIGEST:
            continue
        signer = signer_certificate(asked.headers)
        if signer is None:
            continue
        try:
            verified = httpsig.verify_request(
                _request_parts(asked, own_check=False),
                resolve_key=_key_of(signer),
                required=(),
                now=int(asked.at.timestamp()),
                max_skew=SIGNATURE_MAX_SKEW,
                label=SIGNATURE_LABEL,
            )
        except CryptoError:
            continue
        digests.append(receipt_digest(verified.signature_base, request.body or b""))
    if not digests:
        return _not_applicable("receipt", "no delivery with its body in the bundle to bind it to")
    if receipt.delivery_digest not in digests:
        return _failed("receipt", "the receipt names the digest of another delivery")
    return _ok(
        "receipt",
        f"received by {receipt.receiver} at {format_time(receipt.received_at)}",
    )


def _body_check(record: BundleRecord) -> CheckResult:
    content = record.content
    header = content.headers.get("content-digest")
    if header is not None and header != content.body_digest:
        return _failed("body", "body_digest differs from the message's Content-Digest header")
    if record.body is None:
        return _not_applicable("body", "the body is not in the bundle (body_digest is hashed)")
    try:
        httpsig.verify_content_digest(content.body_digest, record.body)
    except CryptoError as exc:
        return _failed("body", exc.detail)
    return _ok("body")


def _chain_check(record: BundleRecord, records: Mapping[RecordKey, BundleRecord]) -> CheckResult:
    content = record.content
    if content.seq == 1:
        if content.prev_hash == GENESIS_HASH:
            return _ok("chain", "the first record of its chain")
        return _failed("chain", "the first record of a chain must have the all-zero prev_hash")
    previous = records.get(RecordKey(content.gateway, content.instance, content.seq - 1))
    if previous is None and content.gateway is not None:
        # The chain may continue a record logged before records named their gateway.
        previous = records.get(RecordKey(None, content.instance, content.seq - 1))
    if previous is None:
        return _not_applicable("chain", f"record {content.seq - 1} is not in the bundle")
    if previous.record_hash != content.prev_hash:
        return _failed(
            "chain",
            f"prev_hash does not equal the record_hash of record {content.seq - 1}",
        )
    return _ok("chain", f"links to record {content.seq - 1}")


def _batch_checks(
    record: BundleRecord,
    actual_hash: str,
    batches: Mapping[int, BundleBatch | str],
    timestamps: Mapping[int, datetime | str],
) -> Iterable[CheckResult]:
    content = record.content
    if record.batch is None:
        detail = "not timestamped: the record is not yet sealed into a batch"
        yield _failed("inclusion", detail)
        yield _failed("timestamp", detail)
        return
    batch = batches.get(record.batch)
    if not isinstance(batch, BundleBatch):
        detail = batch if isinstance(batch, str) else f"batch {record.batch} is not in the bundle"
        yield _failed("inclusion", detail)
        yield _failed("timestamp", detail)
        return
    # _parse_record made sure a record in a batch has both.
    assert record.index is not None
    assert record.proof is not None
    if batch.instance != content.instance:
        yield _failed("inclusion", f"batch {batch.id} seals instance {batch.instance}")
    elif record.index != content.seq - batch.first_seq or not (
        batch.first_seq <= content.seq <= batch.last_seq
    ):
        yield _failed(
            "inclusion",
            f"seq {content.seq} is not leaf {record.index} of batch {batch.id} "
            f"(seqs {batch.first_seq} to {batch.last_seq})",
        )
    elif verify_inclusion(
        bytes.fromhex(actual_hash), record.index, batch.size, record.proof, batch.root
    ):
        yield _ok("inclusion", f"leaf {record.index} of batch {batch.id}")
    else:
        yield _failed(
            "inclusion", f"the proof does not lead from the record to the root of batch {batch.id}"
        )
    verified = timestamps[batch.id]
    if isinstance(verified, str):
        yield _failed("timestamp", verified)
    else:
        yield _ok("timestamp", f"batch {batch.id} existed at {format_time(verified)}")


def _signature_check(
    record: BundleRecord, context: _Context, trusted_at: datetime | None
) -> CheckResult:
    """ZB-STD-005 §9 step 10: the signature as a gateway checks it (ZB-STD-004 §5.1, §5.3),
    and every record field it covers bound to the signed value."""
    content = record.content
    headers = content.headers
    if "signature" not in headers and "signature-input" not in headers:
        return _not_applicable("signature", "the logged message carries no signature")
    # The signer certificate is checked at the genTime of the record's timestamp, the time a
    # third party vouches for; a record without one at the present time (ZB-STD-002 §8 item 3).
    at = context.checked_at if trusted_at is None else trusted_at
    note = ""
    try:
        signer = _checked_signer(content, context.anchor, at)
        if content.kind == "request":
            _verify_request_record(content, signer)
            _bind_request(content)
        else:
            candidates = context.requests.get(_exchange_key(content))
            if not candidates:
                return _failed(
                    "signature",
                    "the request this response answers is not in the bundle, so the response's "
                    "binding to it cannot be checked",
                )
            request = _verify_response(content, candidates, _key_of(signer))
            note = _bind_response(content, request)
    except (CryptoError, ValidationError) as exc:
        return _failed("signature", exc.detail)
    return _ok("signature", f"signed by {certificate_identity(signer)}{note}")


def _required(
    base: tuple[str, ...], when_present: tuple[str, ...], headers: Mapping[str, str]
) -> tuple[str, ...]:
    """What a signature must cover: ``base``, and each of ``when_present`` the message has."""
    return base + tuple(name for name in when_present if name in headers)


def _verify_request_record(content: RecordContent, signer: x509.Certificate) -> bytes:
    """Verify a request record's signature; its signature base."""
    verified = httpsig.verify_request(
        _request_parts(content),
        resolve_key=_key_of(signer),
        required=_required(
            REQUIRED_REQUEST_COMPONENTS, REQUEST_COMPONENTS_WHEN_PRESENT, content.headers
        ),
        now=int(content.at.timestamp()),
        max_skew=SIGNATURE_MAX_SKEW,
        label=SIGNATURE_LABEL,
    )
    nonce = verified.params.nonce
    if nonce is None:
        raise CryptoError("the request signature has no nonce (ZB-STD-004 §5.1: the message id)")
    if nonce != content.headers.get("x-road-id"):
        raise CryptoError(f"the request signature's nonce {nonce!r} is not its X-Road-Id")
    return verified.signature_base


def _verify_response(
    content: RecordContent,
    candidates: Sequence[BundleRecord],
    resolve: Callable[[httpsig.SignatureParams], PublicKey],
) -> BundleRecord:
    """Verify a response against the requests it may answer, the latest before it first; the
    request it is bound to."""
    ordered = sorted(candidates, key=lambda r: (r.content.seq > content.seq, -r.content.seq))
    required = _required(
        REQUIRED_RESPONSE_COMPONENTS, RESPONSE_COMPONENTS_WHEN_PRESENT, content.headers
    )
    if _early_refusal(content.headers):
        required = tuple(name for name in required if name != "x-road-request-hash")
    first_error: CryptoError | None = None
    for request in ordered:
        try:
            httpsig.verify_response(
                httpsig.ResponseParts(
                    status=_status(content), headers=_signed_fields(content.headers)
                ),
                request=_request_parts(request.content, own_check=False),
                resolve_key=resolve,
                required=required,
                now=int(content.at.timestamp()),
                max_skew=SIGNATURE_MAX_SKEW,
                label=SIGNATURE_LABEL,
            )
        except CryptoError as exc:
            first_error = first_error or exc
            continue
        return request
    assert first_error is not None
    raise first_error


def _bind_request(content: RecordContent) -> None:
    """The record's fields against what the request signature covers: ``message_id`` and
    ``client`` against the signed ``X-Road-Id`` and ``X-Road-Client``, ``service`` against the
    signed target (``method`` and ``target`` are checked by the verification itself)."""
    headers = content.headers
    _bind(content.message_id, headers.get("x-road-id"), "message_id", "X-Road-Id")
    signed_client = headers.get("x-road-client")
    client = None if signed_client is None else str(parse_client_header(signed_client))
    _bind(content.client, client, "client", "X-Road-Client")
    _bind(content.service, _service_of_target(content.target or ""), "service", "target")


def _bind_response(content: RecordContent, request: BundleRecord) -> str:
    """The response record's fields against its signature and the request it is bound to,
    and the signed ``X-Road-Request-Hash`` against that request (ZB-STD-004 §6). A note for the
    report when the hash cannot be recomputed."""
    headers = content.headers
    asked = request.content
    _bind(content.message_id, headers.get("x-road-id"), "message_id", "X-Road-Id")
    signed_service = headers.get("x-road-service")
    service = None if signed_service is None else str(ServiceId.parse(signed_service.strip()))
    _bind(content.service, service, "service", "X-Road-Service")
    _bind(content.client, asked.client, "client", "client of the request it answers")
    if content.method is not None:
        _bind(content.method, asked.method, "method", "method of the request it answers")
    if _early_refusal(headers):
        return "; a refusal without X-Road-Request-Hash, bound to its request by its signature"
    expected = _request_hash_of(request)
    if expected is None:
        return "; X-Road-Request-Hash not recomputed: the request's body is not in the bundle"
    stated = headers.get("x-road-request-hash")
    if stated != expected:
        raise CryptoError(
            f"the signed X-Road-Request-Hash {stated!r} is not the hash of request seq "
            f"{asked.seq} ({expected})"
        )
    return ""


MESSAGES_PREFIX = "/messages/v1/"
RECEIPT_MEDIA_TYPE = "application/zb-receipt+jws"


def _early_refusal(headers: Mapping[str, str]) -> bool:
    """A provider's refusal made before it read the body carries no request hash (ZB-STD-004
    §5.5 row 6); every other signed response does."""
    return "x-road-error" in headers and "x-road-request-hash" not in headers


def _bind(value: str | None, signed: str | None, name: str, where: str) -> None:
    if value != signed:
        raise CryptoError(f"the record's {name} {value!r} is not the signed {where} {signed!r}")


def _service_of_target(target: str) -> str | None:
    """The service id at the head of an ``r1`` request target (``/r1/{service}/...``)."""
    path = target.split("?", 1)[0]
    if path.startswith(MESSAGES_PREFIX):
        # An asynchronous delivery (ZB-STD-009 §4): the target is the service id itself.
        segments = path[len(MESSAGES_PREFIX) :].split("/")
        if len(segments) != 5:
            return None
    elif path.startswith("/r1/"):
        segments = path[len("/r1/") :].split("/")
    else:
        return None
    if len(segments) < 5:
        return None
    try:
        return str(ServiceId.parse_path("/".join(segments[:5]), field="target"))
    except ValidationError:
        return None


def _request_hash_of(request: BundleRecord) -> str | None:
    """ZB-STD-004 §6 for a request record: from the signature base of its own signature and
    its body; ``None`` when the body is withheld and not empty."""
    content = request.content
    if request.body is not None:
        body = request.body
    elif content.body_digest == EMPTY_BODY_DIGEST:
        body = b""
    else:
        return None
    signer = signer_certificate(content.headers)
    if signer is None:
        raise CryptoError(
            f"request seq {content.seq} has no {SIGNER_CERTIFICATE_HEADER}, so the request hash "
            "cannot be recomputed"
        )
    try:
        verified = httpsig.verify_request(
            _request_parts(content, own_check=False),
            resolve_key=_key_of(signer),
            required=(),
            now=int(content.at.timestamp()),
            max_skew=SIGNATURE_MAX_SKEW,
            label=SIGNATURE_LABEL,
        )
    except CryptoError as exc:
        raise CryptoError(
            f"the signature of request seq {content.seq} does not verify, so the request hash "
            f"cannot be recomputed: {exc.detail}"
        ) from None
    return request_hash(verified.signature_base, body)


def _status(content: RecordContent) -> int:
    assert content.status is not None  # check_record_content: every response has one
    return content.status


def _signed_fields(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name != TARGET_URI_KEY}


def _request_parts(content: RecordContent, *, own_check: bool = True) -> httpsig.RequestParts:
    """The request as signed. ``own_check`` also holds the record's target against the signed
    URI; a response's check leaves that to the request's own record."""
    target_uri = content.headers.get(TARGET_URI_KEY)
    if target_uri is None:
        raise CryptoError(f"the request record keeps no {TARGET_URI_KEY}, so it cannot be checked")
    if own_check and (content.target is None or not _ends_with_target(target_uri, content.target)):
        raise CryptoError(
            f"the record's target {content.target!r} is not the path and query of the signed "
            f"{TARGET_URI_KEY}"
        )
    return httpsig.RequestParts(
        method=content.method or "", target_uri=target_uri, headers=_signed_fields(content.headers)
    )


def _ends_with_target(target_uri: str, target: str) -> bool:
    scheme_end = target_uri.find("://")
    if scheme_end < 0:
        return False
    path_start = target_uri.find("/", scheme_end + 3)
    return path_start >= 0 and target_uri[path_start:] == target


def _checked_signer(
    content: RecordContent, anchor: x509.Certificate | None, at: datetime
) -> x509.Certificate:
    signer = signer_certificate(content.headers)
    if signer is None:
        raise CryptoError(f"the message is signed but has no {SIGNER_CERTIFICATE_HEADER} header")
    if anchor is None:
        raise CryptoError("no trust anchor to check the signer certificate against")
    try:
        verify_certificate(signer, anchor, at=at, kind="sign")
    except CryptoError as exc:
        raise CryptoError(
            f"signer certificate refused at {format_time(at)}: {exc.detail}"
        ) from None
    expected = _expected_signer(content)
    holder = certificate_identity(signer)
    if holder != expected:
        raise CryptoError(
            f"the {content.kind} must be signed by member {expected}, but the signer "
            f"certificate is issued to {holder or 'nobody'}"
        )
    return signer


def _expected_signer(content: RecordContent) -> str:
    """The member that signs: the client's for a request, the service provider's for a response."""
    if content.kind == "request":
        if content.client is None:
            raise CryptoError("the request record names no client, so its signer is unknown")
        client = parse_client_header(content.client, field="client")
        return str(client.member if isinstance(client, SubsystemId) else client)
    if content.service is None:
        raise CryptoError("the response record names no service, so its signer is unknown")
    return str(ServiceId.parse(content.service, field="service").member)


def _key_of(cert: x509.Certificate) -> Callable[[httpsig.SignatureParams], PublicKey]:
    """The key of the (checked) signer certificate, for a signature whose ``keyid`` is that
    certificate's fingerprint (ZB-STD-004 §5.3)."""
    key = cert.public_key()
    if not isinstance(key, PublicKey):
        raise CryptoError("the signer certificate's key is neither P-256 nor Ed25519")
    key_type_of(key)
    fingerprint = certificate_fingerprint(cert)

    def resolve(params: httpsig.SignatureParams) -> PublicKey:
        if params.key_id != fingerprint:
            raise CryptoError(
                f"the signature's keyid {params.key_id!r} is not the fingerprint of its "
                f"{SIGNER_CERTIFICATE_HEADER} ({fingerprint})"
            )
        return key

    return resolve
