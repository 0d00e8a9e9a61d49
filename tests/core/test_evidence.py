"""Evidence bundles (ZB-STD-005) built in-process from really signed messages and really
timestamped Merkle roots, then verified, tampered with field by field, and checked by openssl."""

from __future__ import annotations

import base64
import copy
import subprocess
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from zistboom.core.crypto import httpsig
from zistboom.core.crypto.keys import PrivateKey, generate_private_key, sha256
from zistboom.core.crypto.merkle import MerkleTree
from zistboom.core.crypto.timestamp import (
    create_timestamp_request,
    create_timestamp_response,
    timestamp_token_from_response,
)
from zistboom.core.crypto.x509 import (
    certificate_der,
    certificate_fingerprint,
    certificate_pem,
    create_ca_certificate,
    issue_certificate,
    random_serial,
    subject_name,
)
from zistboom.core.errors import ValidationError
from zistboom.core.evidence import (
    CHECKS,
    FORMAT,
    GENESIS_HASH,
    BundleBatch,
    BundleRecord,
    EvidenceReport,
    RecordContent,
    build_bundle,
    format_time,
    parse_time,
    verify_bundle,
)
from zistboom.core.evidence_coverage import (
    Coverage,
    CoveredRecord,
    message_coverage,
    range_coverage,
)
from zistboom.core.exchange import request_hash

OPENSSL = "/usr/bin/openssl"
NOW = datetime.now(UTC).replace(microsecond=0)
CLIENT = "IR-DEMO/GOV/10380284790/births"
CLIENT_MEMBER = "IR-DEMO/GOV/10380284790"
SERVICE = "IR-DEMO/COM/14007650912/registry/getPerson"
PROVIDER_MEMBER = "IR-DEMO/COM/14007650912"
TARGET = "/r1/IR-DEMO/COM/14007650912/registry/getPerson?id=7"
TARGET_URI = "https://gw-b.example:8443" + TARGET
GATEWAY = "IR-DEMO/GOV/10380284790/gw1"
# As the gateway signs (ZB-STD-004 §5.4 and §5.5).
REQUEST_COMPONENTS = [
    "@method",
    "@path",
    "@query",
    "content-digest",
    "x-road-client",
    "x-road-id",
    "zb-signer-certificate",
    "content-type",
]
TARGET_URI_COMPONENTS = [
    "@method",
    "@target-uri",
    "content-digest",
    "x-road-client",
    "x-road-id",
    "zb-signer-certificate",
    "content-type",
]
RESPONSE_COMPONENTS = [
    "@status",
    "content-digest",
    "x-road-id",
    "x-road-service",
    "x-road-request-id",
    "x-road-request-hash",
    "zb-signer-certificate",
    '"signature";req;key="zb"',
]


class Authority:
    """A throwaway instance CA with its TSA and the signing certificates of two members."""

    def __init__(self) -> None:
        self.ca_key = generate_private_key()
        self.ca_cert = create_ca_certificate(
            self.ca_key, common_name="IR-DEMO Instance CA", now=NOW - timedelta(days=1)
        )
        self.tsa_key = generate_private_key()
        self.tsa_cert = self.issue(self.tsa_key, "IR-DEMO Timestamping Authority", None, "tsa")
        self.client_key = generate_private_key()
        self.client_cert = self.issue(self.client_key, "Births", CLIENT_MEMBER, "sign")
        self.provider_key = generate_private_key()
        self.provider_cert = self.issue(self.provider_key, "Registry", PROVIDER_MEMBER, "sign")

    def issue(self, key: PrivateKey, name: str, member: str | None, kind: Any) -> Any:
        return issue_certificate(
            ca_key=self.ca_key,
            ca_cert=self.ca_cert,
            public_key=key.public_key(),
            subject=subject_name(common_name=name, serial_number=member),
            kind=kind,
            serial=random_serial(),
            not_before=NOW - timedelta(hours=1),
            not_after=NOW + timedelta(days=365),
        )

    def timestamp(self, root: bytes, at: datetime) -> bytes:
        query = create_timestamp_request(sha256(root), nonce=12345678901234567)
        reply = create_timestamp_response(
            query, tsa_key=self.tsa_key, tsa_cert=self.tsa_cert, serial=random_serial(), now=at
        )
        return timestamp_token_from_response(reply)


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority()


@dataclass
class Message:
    kind: str
    method: str | None
    target: str | None
    status: int | None
    headers: dict[str, str]
    body: bytes


def signer_header(cert: Any) -> str:
    return base64.b64encode(certificate_der(cert)).decode()


def exchange(
    authority: Authority,
    message_id: str,
    created: int,
    components: list[str] = REQUEST_COMPONENTS,
    *,
    key_id: str | None = None,
    nonce: str | None = "message id",
    body: bytes = b'{"national_code": "0499370899"}',
    response_components: list[str] = RESPONSE_COMPONENTS,
) -> tuple[Message, Message]:
    """A request signed by the client's member and the response signed by the provider's,
    bound to the request, as the two gateways put them on the wire."""
    headers = {
        "x-road-client": CLIENT,
        "x-road-id": message_id,
        "content-type": "application/json",
        "content-digest": httpsig.content_digest(body),
        "zb-signer-certificate": signer_header(authority.client_cert),
    }
    signed = httpsig.sign_request(
        httpsig.RequestParts("POST", TARGET_URI, headers),
        components=components,
        key=authority.client_key,
        key_id=key_id or certificate_fingerprint(authority.client_cert),
        created=created,
        nonce=message_id if nonce == "message id" else nonce,
    )
    headers |= {"signature-input": signed.signature_input, "signature": signed.signature}
    request = httpsig.RequestParts("POST", TARGET_URI, headers)
    response_body = b'{"name": "Zahra"}'
    response_headers = {
        "x-road-id": message_id,
        "x-road-service": SERVICE,
        "x-road-request-id": str(uuid.uuid4()),
        "x-road-request-hash": request_hash(signed.signature_base, body),
        "content-type": "application/json",
        "content-digest": httpsig.content_digest(response_body),
        "zb-signer-certificate": signer_header(authority.provider_cert),
    }
    signed = httpsig.sign_response(
        httpsig.ResponseParts(200, response_headers),
        request=request,
        components=response_components,
        key=authority.provider_key,
        key_id=certificate_fingerprint(authority.provider_cert),
        created=created,
    )
    response_headers |= {"signature-input": signed.signature_input, "signature": signed.signature}
    return (
        Message("request", "POST", TARGET, None, headers | {"@target-uri": TARGET_URI}, body),
        Message("response", "POST", None, 200, response_headers, response_body),
    )


class Chain:
    """One instance's records, built as the message log builds them."""

    def __init__(self, instance: str = "gw1", gateway: str | None = GATEWAY) -> None:
        self.gateway = gateway
        self.instance = instance
        self.contents: list[RecordContent] = []
        self.bodies: list[bytes | None] = []

    def add(self, message: Message, *, at: datetime, keep_body: bool = True) -> RecordContent:
        content = RecordContent(
            gateway=self.gateway,
            instance=self.instance,
            seq=len(self.contents) + 1,
            at=at,
            message_id=message.headers["x-road-id"],
            kind=message.kind,  # type: ignore[arg-type]
            side="client",
            client=CLIENT,
            service=SERVICE,
            method=message.method,
            target=message.target,
            status=message.status,
            headers=message.headers,
            body_digest=message.headers["content-digest"],
            prev_hash=self.contents[-1].record_hash() if self.contents else GENESIS_HASH,
        )
        self.contents.append(content)
        self.bodies.append(message.body if keep_body else None)
        return content

    def seal(
        self, authority: Authority, first: int, last: int, batch_id: int
    ) -> tuple[BundleBatch, MerkleTree]:
        leaves = [bytes.fromhex(c.record_hash()) for c in self.contents[first - 1 : last]]
        tree = MerkleTree(leaves)
        at = self.contents[last - 1].at + timedelta(seconds=30)
        token = authority.timestamp(tree.root, at)
        batch = BundleBatch(
            id=batch_id,
            instance=self.instance,
            first_seq=first,
            last_seq=last,
            size=last - first + 1,
            root=tree.root,
            timestamp_token=token,
            timestamped_at=at.replace(microsecond=at.microsecond // 1000 * 1000),
        )
        return batch, tree


def covered(records: Sequence[BundleRecord]) -> list[CoveredRecord]:
    return [
        CoveredRecord(r.content.key, r.content.message_id, r.content.kind, r.content.side)
        for r in records
    ]


def bundle_of(
    records: Sequence[BundleRecord],
    batches: Sequence[BundleBatch],
    *,
    covers: Coverage | None = None,
    **options: Any,
) -> bytes:
    """The bundle of ``records``, stating by default that it covers their whole run (the
    statement of a time range's export)."""
    if covers is None:
        covers = range_coverage(r.content.key for r in records)
    return build_bundle(records, batches, covers=covers, **options)


@pytest.fixture(scope="module")
def bundle(authority: Authority) -> bytes:
    """Two exchanges (records 1-4) sealed in batches 7 (1-3) and 8 (4), and a fifth record, a
    request whose body was not kept, not sealed yet."""
    return build_standard_bundle(authority)


def build_standard_bundle(authority: Authority, *, unsealed: bool = True) -> bytes:
    chain = Chain()
    created = int(NOW.timestamp()) - 600
    first = exchange(authority, "msg-1", created)
    second = exchange(authority, "msg-2", created + 60)
    chain.add(first[0], at=NOW - timedelta(seconds=600))
    chain.add(first[1], at=NOW - timedelta(seconds=599, microseconds=750000))
    chain.add(second[0], at=NOW - timedelta(seconds=540))
    chain.add(second[1], at=NOW - timedelta(seconds=539))
    third = exchange(authority, "msg-3", created + 120)
    if unsealed:
        chain.add(third[0], at=NOW - timedelta(seconds=480), keep_body=False)
    batch_a, tree_a = chain.seal(authority, 1, 3, 7)
    batch_b, tree_b = chain.seal(authority, 4, 4, 8)
    records = []
    for position, content in enumerate(chain.contents):
        seq = position + 1
        if seq <= 3:
            placement: tuple[int | None, int | None, list[bytes] | None] = (
                7,
                seq - 1,
                tree_a.inclusion_proof(seq - 1),
            )
        elif seq == 4:
            placement = (8, 0, tree_b.inclusion_proof(0))
        else:
            placement = (None, None, None)
        records.append(
            BundleRecord(
                content,
                content.record_hash(),
                chain.bodies[position],
                *placement,
            )
        )
    return bundle_of(
        records,
        [batch_a, batch_b],
        certificates=[authority.ca_cert],
        exported_at=NOW,
        gateway_id="IR-DEMO/GOV/10380284790/gw1",
    )


def statuses(report: EvidenceReport, seq: int) -> dict[str, str]:
    record = next(r for r in report.records if r.seq == seq)
    return {check.name: check.status for check in record.checks}


def failing(report: EvidenceReport) -> dict[int | None, list[str]]:
    return {r.seq: r.failed for r in report.records if r.failed}


def edit(bundle: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    document = orjson.loads(bundle)
    change(document)
    return orjson.dumps(document)


# --- the canonical form -----------------------------------------------------------------------


def test_canonical_json_is_sorted_compact_and_hashes_to_the_stated_value() -> None:
    # A record logged before records named their gateway (ZB-STD-005 1.0): no gateway member,
    # and a response without its method.
    content = RecordContent(
        gateway=None,
        instance="gw1",
        seq=1,
        at=datetime(2026, 11, 28, 10, 15, 30, 250000, tzinfo=UTC),
        message_id="m-1",
        kind="response",
        side="server",
        client=CLIENT,
        service=SERVICE,
        method=None,
        target=None,
        status=200,
        headers={"x-road-id": "m-1", "content-type": "text/plain; charset=utf-8"},
        body_digest="sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",
        prev_hash=GENESIS_HASH,
    )
    expected = (
        '{"at":"2026-11-28T10:15:30.250000Z",'
        '"body_digest":"sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:",'
        f'"client":"{CLIENT}",'
        '"headers":{"content-type":"text/plain; charset=utf-8","x-road-id":"m-1"},'
        '"instance":"gw1","kind":"response","message_id":"m-1","method":null,'
        f'"prev_hash":"{GENESIS_HASH}","seq":1,"service":"{SERVICE}","side":"server",'
        '"status":200,"target":null}'
    ).encode()
    assert content.canonical_json() == expected
    assert content.record_hash() == sha256(expected).hex()
    # Today's records name their gateway, first in the canonical order, inside the hash.
    named = RecordContent(**(_fields(content) | {"gateway": GATEWAY, "method": "GET"}))
    assert f',"gateway":"{GATEWAY}","headers":'.encode() in named.canonical_json()
    assert (
        named.canonical_json()
        .replace(f',"gateway":"{GATEWAY}"'.encode(), b"")
        .replace(b'"method":"GET"', b'"method":null')
        == expected
    )
    assert named.record_hash() != content.record_hash()
    with pytest.raises(ValidationError, match="repeats the method"):
        RecordContent(**(_fields(content) | {"gateway": GATEWAY}))
    with pytest.raises(ValidationError, match="gateway"):
        RecordContent(**(_fields(content) | {"gateway": "gw1", "method": "GET"}))


def test_times_have_one_form() -> None:
    moment = datetime(2026, 11, 28, 13, 45, 30, 250000, tzinfo=UTC)
    assert format_time(moment) == "2026-11-28T13:45:30.250000Z"
    assert parse_time("2026-11-28T13:45:30.250000Z") == moment
    for other in ("2026-11-28T13:45:30.25Z", "2026-11-28T13:45:30.250000+00:00", "2026-11-28"):
        with pytest.raises(ValidationError):
            parse_time(other)
    with pytest.raises(ValidationError, match="time zone"):
        format_time(datetime(2026, 11, 28))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "reply"}, "kind must be"),
        ({"seq": 0}, "seq starts at 1"),
        ({"headers": {"X-Road-Id": "m"}}, "lower-case"),
        ({"target": None}, "needs method and target"),
        ({"status": 200}, "has no status"),
        ({"prev_hash": "00"}, "prev_hash"),
        ({"message_id": "a\x00b"}, "NUL"),
    ],
)
def test_record_content_is_checked(change: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {
        "gateway": GATEWAY,
        "instance": "gw1",
        "seq": 1,
        "at": NOW,
        "message_id": "m",
        "kind": "request",
        "side": "client",
        "client": CLIENT,
        "service": SERVICE,
        "method": "GET",
        "target": "/r1/x",
        "status": None,
        "headers": {},
        "body_digest": "sha-256=:x:",
        "prev_hash": GENESIS_HASH,
    }
    with pytest.raises(ValidationError, match=message):
        RecordContent(**(fields | change))


# --- verification -----------------------------------------------------------------------------


def test_a_sound_bundle_verifies_except_the_unsealed_record(
    bundle: bytes, authority: Authority
) -> None:
    report = verify_bundle(bundle, trust_anchor=authority.ca_cert)
    assert not report.problems
    assert not report.warnings
    assert [r.seq for r in report.records] == [1, 2, 3, 4, 5]
    for seq in (1, 2, 3, 4):
        # Synchronous exchanges: no receipt to check (ZB-STD-005 §9 step 11).
        expected = dict.fromkeys((c for c in CHECKS if c != "receipt"), "ok")
        assert statuses(report, seq) == expected, seq
    # The fifth record: not yet sealed, body not kept; its signature and link still hold.
    assert statuses(report, 5) == {
        "format": "ok",
        "record_hash": "ok",
        "body": "not applicable",
        "chain": "ok",
        "inclusion": "failed",
        "timestamp": "failed",
        "signature": "ok",
    }
    assert not report.ok
    assert report.failures() == [
        f"records[4] (message id msg-3, gateway {GATEWAY}, instance gw1, seq 5): inclusion: not "
        "timestamped: the record is not yet sealed into a batch",
        f"records[4] (message id msg-3, gateway {GATEWAY}, instance gw1, seq 5): timestamp: not "
        "timestamped: the record is not yet sealed into a batch",
    ]
    signature = next(c for c in report.records[1].checks if c.name == "signature")
    assert signature.detail == f"signed by {PROVIDER_MEMBER}"
    assert report.records[0].checks[0].name == "format"


def test_a_fully_sealed_bundle_is_ok(authority: Authority) -> None:
    report = verify_bundle(
        build_standard_bundle(authority, unsealed=False), trust_anchor=(authority.ca_cert)
    )
    assert report.ok, report.failures()
    document = orjson.loads(build_standard_bundle(authority, unsealed=False))
    assert document["format"] == FORMAT
    assert document["gateway"] == {"instances": ["gw1"], "id": "IR-DEMO/GOV/10380284790/gw1"}
    # The CA given, then the two signers found in the records, then the TSA found in the tokens.
    assert document["certificates"] == [
        certificate_pem(authority.ca_cert),
        certificate_pem(authority.client_cert),
        certificate_pem(authority.provider_cert),
        certificate_pem(authority.tsa_cert),
    ]


def test_without_a_trust_anchor_the_bundle_ca_is_used_with_a_warning(bundle: bytes) -> None:
    report = verify_bundle(bundle)
    assert report.warnings and "trust anchor taken from the bundle" in report.warnings[0]
    assert statuses(report, 1)["timestamp"] == "ok"
    assert statuses(report, 1)["signature"] == "ok"


def test_another_instance_ca_proves_nothing(bundle: bytes) -> None:
    stranger = Authority()
    report = verify_bundle(bundle, trust_anchor=stranger.ca_cert)
    for seq in (1, 2, 3, 4):
        assert statuses(report, seq)["timestamp"] == "failed"
        assert statuses(report, seq)["signature"] == "failed"
        assert statuses(report, seq)["record_hash"] == "ok"


def mutate_text(value: str) -> str:
    """Change one character, keeping the character class so the field still parses."""
    for position in range(len(value) - 1, -1, -1):
        char = value[position]
        replacement = {"0": "1", "9": "8", "f": "e", "F": "E", "a": "b", "A": "B", "z": "y"}.get(
            char
        )
        if replacement is None and char.isalnum():
            replacement = "b" if char != "b" else "c"
        if replacement is not None:
            return value[:position] + replacement + value[position + 1 :]
    raise AssertionError(f"nothing to change in {value!r}")


def mutate(record: dict[str, Any], name: str) -> None:
    value = record[name]
    if name == "at":
        record[name] = value[:-2] + ("1" if value[-2] != "1" else "2") + "Z"  # one microsecond
    elif name == "body":
        raw = bytearray(base64.b64decode(value))
        raw[3] ^= 0x01
        record[name] = base64.b64encode(bytes(raw)).decode()
    elif name == "headers":
        record[name] = dict(value, **{"content-type": mutate_text(value["content-type"])})
    elif name == "proof":
        record[name] = [mutate_text(value[0]), *value[1:]]
    elif name in {"seq", "batch", "index", "status"}:
        record[name] = value + (10 if name == "seq" else 1)
    elif name == "kind":
        record[name] = "response" if value == "request" else "request"
    elif name == "side":
        record[name] = "server"
    elif name == "method":
        record[name] = "PUT"
    else:
        record[name] = mutate_text(value)


RECORD_FIELDS = [
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
]


@pytest.mark.parametrize("name", RECORD_FIELDS)
def test_changing_any_field_of_a_record_names_that_record(
    bundle: bytes, authority: Authority, name: str
) -> None:
    # The response of the first exchange (seq 2), or its request (seq 1) for the request-only
    # fields. Nothing but the next record's link depends on a response; a request's identity
    # (instance, side, message id) is how its response finds it, so those are changed on the
    # response.
    position = 0 if name in {"method", "target"} else 1
    seq = position + 1

    def change(document: dict[str, Any]) -> None:
        mutate(document["records"][position], name)

    report = verify_bundle(edit(bundle, change), trust_anchor=authority.ca_cert)
    bad = failing(report)
    assert bad.pop(5) == ["inclusion", "timestamp"]  # the unsealed record, as before
    named = seq + 10 if name == "seq" else seq
    # The next record links to a record's hash; a response repeats its request's method.
    expected = {named, seq + 1} if name in {"record_hash", "method"} else {named}
    assert set(bad) == expected, (name, bad)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("body", ["body"]),
        ("headers", ["record_hash", "inclusion"]),  # content-type is not signed
        ("status", ["record_hash", "inclusion", "signature"]),
        ("at", ["record_hash", "inclusion"]),
        ("prev_hash", ["record_hash", "chain", "inclusion"]),
        ("proof", ["inclusion"]),
        ("body_digest", ["record_hash", "body", "inclusion"]),
        ("method", ["record_hash", "inclusion", "signature"]),
        ("target", ["record_hash", "inclusion", "signature"]),
    ],
)
def test_the_report_names_the_failed_checks(
    bundle: bytes, authority: Authority, name: str, expected: list[str]
) -> None:
    position = 1 if name in {"status", "headers"} else 0

    def change(document: dict[str, Any]) -> None:
        mutate(document["records"][position], name)

    report = verify_bundle(edit(bundle, change), trust_anchor=authority.ca_cert)
    assert report.records[position].failed == expected


def test_a_changed_record_hash_breaks_the_next_link(bundle: bytes, authority: Authority) -> None:
    def change(document: dict[str, Any]) -> None:
        mutate(document["records"][1], "record_hash")

    report = verify_bundle(edit(bundle, change), trust_anchor=authority.ca_cert)
    assert report.records[1].failed == ["record_hash"]
    assert report.records[2].failed == ["chain"]


def test_a_withheld_body_still_verifies(bundle: bytes, authority: Authority) -> None:
    def change(document: dict[str, Any]) -> None:
        document["records"][0]["body"] = None

    report = verify_bundle(edit(bundle, change), trust_anchor=authority.ca_cert)
    assert statuses(report, 1)["body"] == "not applicable"
    assert report.records[0].ok


def test_a_response_without_its_request_cannot_show_its_binding(
    bundle: bytes, authority: Authority
) -> None:
    def change(document: dict[str, Any]) -> None:
        del document["records"][0]

    report = verify_bundle(edit(bundle, change), trust_anchor=authority.ca_cert)
    response = next(r for r in report.records if r.seq == 2)
    assert response.failed == ["signature"]
    check = next(c for c in response.checks if c.name == "signature")
    assert "request this response answers is not in the bundle" in check.detail
    assert statuses(report, 2)["chain"] == "not applicable"


def test_a_tampered_token_or_root_fails_the_batch(bundle: bytes, authority: Authority) -> None:
    def token(document: dict[str, Any]) -> None:
        raw = bytearray(base64.b64decode(document["batches"][0]["timestamp_token"]))
        raw[-5] ^= 1
        document["batches"][0]["timestamp_token"] = base64.b64encode(bytes(raw)).decode()

    def root(document: dict[str, Any]) -> None:
        document["batches"][1]["root"] = mutate_text(document["batches"][1]["root"])

    report = verify_bundle(edit(bundle, token), trust_anchor=authority.ca_cert)
    assert failing(report) == {
        1: ["timestamp"],
        2: ["timestamp"],
        3: ["timestamp"],
        5: ["inclusion", "timestamp"],
    }
    report = verify_bundle(edit(bundle, root), trust_anchor=authority.ca_cert)
    assert failing(report)[4] == ["inclusion", "timestamp"]
    assert 3 not in failing(report)


def test_signer_must_be_the_clients_member(authority: Authority) -> None:
    chain = Chain()
    request, _ = exchange(authority, "msg-x", int(NOW.timestamp()))
    content = chain.add(request, at=NOW)
    forged = RecordContent(**{**_fields(content), "client": "IR-DEMO/COM/10320894878/shop"})
    batch, tree = _single(authority, forged)
    document = bundle_of(
        [BundleRecord(forged, forged.record_hash(), request.body, 1, 0, tree.inclusion_proof(0))],
        [batch],
        certificates=[authority.ca_cert],
        exported_at=NOW,
    )
    report = verify_bundle(document, trust_anchor=authority.ca_cert)
    assert report.records[0].failed == ["signature"]
    detail = next(c.detail for c in report.records[0].checks if c.name == "signature")
    assert "must be signed by member IR-DEMO/COM/10320894878" in detail


def test_unsigned_messages_are_not_applicable(authority: Authority) -> None:
    chain = Chain()
    body = b"{}"
    message = Message(
        "request",
        "GET",
        "/r1/x",
        None,
        {"x-road-id": "m", "content-digest": httpsig.content_digest(body)},
        body,
    )
    content = chain.add(message, at=NOW)
    batch, tree = _single(authority, content)
    document = bundle_of(
        [BundleRecord(content, content.record_hash(), body, 1, 0, tree.inclusion_proof(0))],
        [batch],
        certificates=[authority.ca_cert],
        exported_at=NOW,
    )
    report = verify_bundle(document, trust_anchor=authority.ca_cert)
    assert report.ok, report.failures()
    assert statuses(report, 1)["signature"] == "not applicable"


def _fields(content: RecordContent) -> dict[str, Any]:
    return {name: getattr(content, name) for name in RecordContent.__dataclass_fields__}


def _single(authority: Authority, content: RecordContent) -> tuple[BundleBatch, MerkleTree]:
    chain = Chain()
    chain.contents.append(content)
    return chain.seal(authority, 1, 1, 1)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.update(format="zistboom-evidence/1"), "is not 'zistboom-evidence/2'"),
        (lambda d: d.pop("batches"), "the bundle lacks batches"),
        (lambda d: d.update(extra=1), "unknown members extra"),
        (lambda d: d["records"].append(copy.deepcopy(d["records"][0])), "are both seq 1"),
        (lambda d: d["certificates"].append("junk"), "certificate 4 cannot be read"),
        (lambda d: d["batches"].append(copy.deepcopy(d["batches"][0])), "appears more than once"),
    ],
)
def test_bundle_level_problems_are_named(
    bundle: bytes, authority: Authority, change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    report = verify_bundle(edit(bundle, change), trust_anchor=authority.ca_cert)
    assert not report.ok
    assert any(problem in line for line in report.problems), report.problems


def test_garbage_is_a_problem_not_a_crash() -> None:
    for data in (b"", b"[]", b"\xff\xfe", b'{"format": 1}'):
        report = verify_bundle(data)
        assert not report.ok
        assert report.problems[0].startswith("format:")


def test_a_malformed_record_fails_its_format_check_only(
    bundle: bytes, authority: Authority
) -> None:
    def change(document: dict[str, Any]) -> None:
        document["records"][2]["body"] = "not base64!"
        document["records"][3]["proof"] = None

    report = verify_bundle(edit(bundle, change), trust_anchor=authority.ca_cert)
    assert report.records[2].failed == ["format"]
    assert report.records[3].failed == ["format"]
    assert report.records[3].checks[0].detail == "a record in a batch needs its index and proof"
    assert report.records[0].ok
    assert report.records[2].seq == 3  # still identified for the reader


def test_the_first_record_must_start_from_genesis(authority: Authority) -> None:
    chain = Chain()
    body = b""
    message = Message(
        "request", "GET", "/r1/x", None, {"x-road-id": "m", "content-digest": "sha-256=:x:"}, body
    )
    content = chain.add(message, at=NOW)
    content = RecordContent(**{**_fields(content), "prev_hash": "1" * 64})
    batch, tree = _single(authority, content)
    document = bundle_of(
        [BundleRecord(content, content.record_hash(), None, 1, 0, tree.inclusion_proof(0))],
        [batch],
        certificates=[authority.ca_cert],
        exported_at=NOW,
    )
    report = verify_bundle(document, trust_anchor=authority.ca_cert)
    assert report.records[0].failed == ["chain"]


def openssl_ts_verify(folder: Path, *source: str) -> subprocess.CompletedProcess[str]:
    """The command of ZB-STD-005 §9: the token, the data (or digest), the CA and the TSA."""
    command = [OPENSSL, "ts", "-verify", "-token_in", "-in", "token.der", *source]
    command += ["-CAfile", "ca.pem", "-untrusted", "tsa.pem"]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)


def test_openssl_accepts_the_bundle_tokens(
    bundle: bytes, authority: Authority, tmp_path: Path
) -> None:
    document = orjson.loads(bundle)
    (tmp_path / "ca.pem").write_text(certificate_pem(authority.ca_cert))
    (tmp_path / "tsa.pem").write_text(certificate_pem(authority.tsa_cert))
    for batch in document["batches"]:
        root = bytes.fromhex(batch["root"])
        (tmp_path / "token.der").write_bytes(base64.b64decode(batch["timestamp_token"]))
        (tmp_path / "root.bin").write_bytes(root)
        for source in (("-data", "root.bin"), ("-digest", sha256(root).hex())):
            result = openssl_ts_verify(tmp_path, *source)
            assert result.returncode == 0, result.stderr
            assert "Verification: OK" in result.stdout
        # openssl really compares the imprint: other data is refused.
        (tmp_path / "root.bin").write_bytes(bytes(32))
        assert openssl_ts_verify(tmp_path, "-data", "root.bin").returncode != 0


def test_a_changed_signed_header_breaks_the_signature(bundle: bytes, authority: Authority) -> None:
    def change(document: dict[str, Any]) -> None:
        headers = document["records"][0]["headers"]
        headers["x-road-client"] = "IR-DEMO/GOV/10380284790/deaths"

    report = verify_bundle(edit(bundle, change), trust_anchor=authority.ca_cert)
    assert report.records[0].failed == ["record_hash", "inclusion", "signature"]
    detail = next(c.detail for c in report.records[0].checks if c.name == "signature")
    assert "does not verify" in detail


def sealed_request(authority: Authority, components: list[str]) -> bytes:
    chain = Chain()
    request, _ = exchange(authority, "msg-t", int(NOW.timestamp()), components)
    content = chain.add(request, at=NOW)
    batch, tree = _single(authority, content)
    return bundle_of(
        [BundleRecord(content, content.record_hash(), request.body, 1, 0, tree.inclusion_proof(0))],
        [batch],
        certificates=[authority.ca_cert],
        exported_at=NOW,
    )


def test_a_target_signed_as_target_uri_is_refused_as_a_gateway_refuses_it(
    authority: Authority,
) -> None:
    # ZB-STD-004 §5.6 step 8 requires "@path" and "@query"; a bundle applies the same rule.
    report = verify_bundle(
        sealed_request(authority, TARGET_URI_COMPONENTS), trust_anchor=authority.ca_cert
    )
    assert report.records[0].failed == ["signature"]
    detail = next(c.detail for c in report.records[0].checks if c.name == "signature")
    assert 'does not cover the required "@path"' in detail


@pytest.mark.parametrize(
    ("left_out", "message"),
    [
        ("@query", 'does not cover the required "@query"'),
        ("zb-signer-certificate", 'does not cover the required "zb-signer-certificate"'),
        ("content-type", 'does not cover the required "content-type"'),
        ("x-road-client", 'does not cover the required "x-road-client"'),
        ("content-digest", 'does not cover the required "content-digest"'),
    ],
)
def test_a_signature_must_cover_what_the_record_claims(
    authority: Authority, left_out: str, message: str
) -> None:
    components = [c for c in REQUEST_COMPONENTS if c != left_out]
    report = verify_bundle(sealed_request(authority, components), trust_anchor=authority.ca_cert)
    assert report.records[0].failed == ["signature"]
    detail = next(c.detail for c in report.records[0].checks if c.name == "signature")
    assert message in detail


def test_a_response_finds_its_request_among_retries(authority: Authority) -> None:
    # The consumer's gateway signed the request twice (a retry at another provider gateway);
    # the response answers the first.
    first_request, response = exchange(authority, "msg-r", int(NOW.timestamp()) - 5)
    second_request, _ = exchange(authority, "msg-r", int(NOW.timestamp()))
    chain = Chain()
    chain.add(first_request, at=NOW - timedelta(seconds=5))
    chain.add(second_request, at=NOW - timedelta(seconds=4))
    chain.add(response, at=NOW - timedelta(seconds=3))
    batch, tree = chain.seal(authority, 1, 3, 1)
    records = [
        BundleRecord(c, c.record_hash(), body, 1, i, tree.inclusion_proof(i))
        for i, (c, body) in enumerate(zip(chain.contents, chain.bodies, strict=True))
    ]
    document = bundle_of(records, [batch], certificates=[authority.ca_cert], exported_at=NOW)
    report = verify_bundle(document, trust_anchor=authority.ca_cert)
    assert report.ok, report.failures()
    # Without the request it answers, the response's binding fails.
    report = verify_bundle(
        edit(document, lambda d: d["records"].pop(0)), trust_anchor=authority.ca_cert
    )
    assert [r.failed for r in report.records] == [[], ["signature"]]


# --- what a bundle covers (ZB-STD-005 §8.1, §9 step 12) -------------------------------------


def sealed_chain(
    authority: Authority, messages: Sequence[tuple[Message, Message]], chain: Chain | None = None
) -> tuple[list[BundleRecord], BundleBatch]:
    """The exchanges logged one after the other in one chain, all sealed in one batch."""
    chain = chain or Chain()
    for request, response in messages:
        chain.add(request, at=NOW - timedelta(seconds=2))
        chain.add(response, at=NOW - timedelta(seconds=1))
    batch, tree = chain.seal(authority, 1, len(chain.contents), 1)
    return [
        BundleRecord(c, c.record_hash(), body, 1, i, tree.inclusion_proof(i))
        for i, (c, body) in enumerate(zip(chain.contents, chain.bodies, strict=True))
    ], batch


def message_bundle(authority: Authority) -> bytes:
    """msg-a's exchange (records 1 and 2) as a gateway exports one message."""
    records, batch = sealed_chain(authority, [exchange(authority, "msg-a", int(NOW.timestamp()))])
    return bundle_of(
        records,
        [batch],
        covers=message_coverage(covered(records), ["msg-a"]),
        certificates=[authority.ca_cert],
        exported_at=NOW,
    )


def test_a_message_bundle_states_its_records_and_verifies(authority: Authority) -> None:
    bundle = message_bundle(authority)
    report = verify_bundle(bundle, trust_anchor=authority.ca_cert)
    assert report.ok, report.failures()
    assert orjson.loads(bundle)["covers"] == {
        "messages": [
            {
                "message_id": "msg-a",
                "records": [
                    {"gateway": GATEWAY, "instance": "gw1", "seq": 1},
                    {"gateway": GATEWAY, "instance": "gw1", "seq": 2},
                ],
            }
        ],
        "ranges": [],
    }


def test_a_removed_response_is_named(authority: Authority) -> None:
    bundle = message_bundle(authority)

    def remove(document: dict[str, Any]) -> None:
        document["records"].pop(1)

    report = verify_bundle(edit(bundle, remove), trust_anchor=authority.ca_cert)
    assert not report.ok
    assert report.problems == [
        f"covers: message msg-a: record seq 2 of instance gw1 (gateway {GATEWAY}) is missing "
        "from the bundle",
        f"covers: message msg-a: the request seq 1 of instance gw1 (gateway {GATEWAY}) (side "
        "client) has no response",
    ]
    assert f"bundle: {report.problems[0]}" in report.failures()

    # Taking it off the list as well still leaves a request without its response.
    def remove_listed(document: dict[str, Any]) -> None:
        remove(document)
        document["covers"]["messages"][0]["records"].pop(1)

    report = verify_bundle(edit(bundle, remove_listed), trust_anchor=authority.ca_cert)
    assert report.problems == [
        f"covers: message msg-a: the request seq 1 of instance gw1 (gateway {GATEWAY}) (side "
        "client) has no response",
    ]


def test_reordered_records_are_named(authority: Authority) -> None:
    def swap(document: dict[str, Any]) -> None:
        records = document["records"]
        records[0], records[1] = records[1], records[0]

    report = verify_bundle(edit(message_bundle(authority), swap), trust_anchor=authority.ca_cert)
    assert not report.ok
    assert report.problems == [
        f"order: records[1] (seq 1 of instance gw1 (gateway {GATEWAY})) comes after records[0] "
        f"(seq 2 of instance gw1 (gateway {GATEWAY})); records must be ordered by gateway, "
        "instance and seq"
    ]

    def swap_listing(document: dict[str, Any]) -> None:
        listed = document["covers"]["messages"][0]["records"]
        listed[0], listed[1] = listed[1], listed[0]

    report = verify_bundle(
        edit(message_bundle(authority), swap_listing), trust_anchor=authority.ca_cert
    )
    assert report.problems == [
        "covers: message msg-a: its records are listed out of order (by gateway, instance and seq)"
    ]


def test_a_gap_in_a_range_is_named(bundle: bytes, authority: Authority) -> None:
    assert orjson.loads(bundle)["covers"]["ranges"] == [
        {"gateway": GATEWAY, "instance": "gw1", "first_seq": 1, "last_seq": 5}
    ]

    def drop(document: dict[str, Any]) -> None:
        del document["records"][2:4]

    report = verify_bundle(edit(bundle, drop), trust_anchor=authority.ca_cert)
    assert report.problems == [
        f"covers: range seq 1 to 5 of instance gw1 (gateway {GATEWAY}): seq 3 to 4 missing from "
        "the bundle"
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.pop("covers"), "format: the bundle lacks covers"),
        (
            lambda d: d.update(covers={"messages": [], "ranges": []}),
            "format: covers names no message and no range: the bundle covers nothing",
        ),
        (
            lambda d: d["covers"]["messages"][0].update(message_id="msg-b"),
            "covers: message msg-b: record seq 1 of instance gw1 (gateway "
            f"{GATEWAY}) is a record of message msg-a",
        ),
        (
            lambda d: d["covers"]["messages"][0]["records"].pop(0),
            f"covers: message msg-a: record seq 1 of instance gw1 (gateway {GATEWAY}) is in the "
            "bundle but not listed",
        ),
    ],
)
def test_what_a_bundle_covers_must_be_stated(
    authority: Authority, change: Callable[[dict[str, Any]], None], problem: str
) -> None:
    report = verify_bundle(edit(message_bundle(authority), change), trust_anchor=authority.ca_cert)
    assert problem in report.problems, report.problems


def test_records_of_two_gateways_with_the_same_instance_name_do_not_collide(
    authority: Authority,
) -> None:
    # Every demo gateway's instance is gw1: records are told apart by their gateway.
    other = "IR-DEMO/COM/14007650912/gw1"
    first, batch_a = sealed_chain(authority, [exchange(authority, "msg-g", int(NOW.timestamp()))])
    second, batch_b = sealed_chain(
        authority, [exchange(authority, "msg-h", int(NOW.timestamp()))], Chain(gateway=other)
    )
    batch_b = replace(batch_b, id=2)
    second = [replace(record, batch=2) for record in second]
    records = first + second
    document = bundle_of(
        records,
        [batch_a, batch_b],
        covers=message_coverage(covered(records), ["msg-g", "msg-h"]),
        certificates=[authority.ca_cert],
        exported_at=NOW,
    )
    report = verify_bundle(document, trust_anchor=authority.ca_cert)
    assert report.ok, report.failures()
    # Ordered by gateway, then instance and seq.
    assert [(r.gateway, r.seq) for r in report.records] == [
        (other, 1),
        (other, 2),
        (GATEWAY, 1),
        (GATEWAY, 2),
    ]


# --- what the signature vouches for (ZB-STD-005 §9 step 11) -----------------------------------


def one_exchange_bundle(
    authority: Authority,
    messages: tuple[Message, Message],
    *,
    forge: Callable[[RecordContent], RecordContent] = lambda c: c,
    gen_time: datetime | None = None,
    keep_request_body: bool = True,
) -> bytes:
    """One exchange, logged and sealed; ``forge`` rewrites each record's content before it is
    hashed, as a logging gateway that lies would."""
    chain = Chain()
    request, response = messages
    chain.add(request, at=NOW - timedelta(seconds=2), keep_body=keep_request_body)
    chain.add(response, at=NOW - timedelta(seconds=1))
    contents: list[RecordContent] = []
    for content in chain.contents:
        forged = forge(content)
        previous = contents[-1].record_hash() if contents else GENESIS_HASH
        contents.append(replace(forged, prev_hash=previous))
    chain.contents = contents
    batch, tree = chain.seal(authority, 1, 2, 1)
    if gen_time is not None:
        token = authority.timestamp(tree.root, gen_time)
        batch = replace(batch, timestamp_token=token, timestamped_at=gen_time)
    records = [
        BundleRecord(c, c.record_hash(), body, 1, i, tree.inclusion_proof(i))
        for i, (c, body) in enumerate(zip(chain.contents, chain.bodies, strict=True))
    ]
    return bundle_of(
        records,
        [batch],
        covers=message_coverage(covered(records), {c.message_id for c in contents}),
        certificates=[authority.ca_cert],
        exported_at=NOW,
    )


def signature_details(report: EvidenceReport) -> dict[int | None, str]:
    return {
        r.seq: next(c.detail for c in r.checks if c.name == "signature")
        for r in report.records
        if "signature" in r.failed
    }


def test_a_response_whose_request_hash_is_not_its_requests_is_refused(
    authority: Authority,
) -> None:
    request, response = exchange(authority, "msg-q", int(NOW.timestamp()))
    assert verify_bundle(
        one_exchange_bundle(authority, (request, response)), trust_anchor=authority.ca_cert
    ).ok
    # As in the first example of ZB-STD-005: the hash of the header part only, body ignored.
    base = response_base_hash_of_header_part(authority, request)
    headers = dict(response.headers) | {"x-road-request-hash": base}
    signed = httpsig.sign_response(
        httpsig.ResponseParts(200, {k: v for k, v in headers.items() if not k.startswith("sig")}),
        request=httpsig.RequestParts("POST", TARGET_URI, _signed(request.headers)),
        components=RESPONSE_COMPONENTS,
        key=authority.provider_key,
        key_id=certificate_fingerprint(authority.provider_cert),
        created=int(NOW.timestamp()),
    )
    headers |= {"signature-input": signed.signature_input, "signature": signed.signature}
    forged = replace(response, headers=headers)
    report = verify_bundle(
        one_exchange_bundle(authority, (request, forged)), trust_anchor=authority.ca_cert
    )
    details = signature_details(report)
    assert list(details) == [2]
    assert "X-Road-Request-Hash" in details[2] and "is not the hash of request seq 1" in details[2]


def _signed(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "@target-uri"}


def response_base_hash_of_header_part(authority: Authority, request: Message) -> str:
    verified = httpsig.verify_request(
        httpsig.RequestParts("POST", TARGET_URI, _signed(request.headers)),
        resolve_key=lambda _: authority.client_cert.public_key(),  # type: ignore[arg-type,return-value]
        required=(),
        now=int(NOW.timestamp()),
    )
    return request_hash(verified.signature_base, b"")


def test_the_request_hash_needs_the_request_body(authority: Authority) -> None:
    messages = exchange(authority, "msg-w", int(NOW.timestamp()))
    report = verify_bundle(
        one_exchange_bundle(authority, messages, keep_request_body=False),
        trust_anchor=authority.ca_cert,
    )
    assert report.ok, report.failures()
    detail = next(c.detail for c in report.records[1].checks if c.name == "signature")
    assert "X-Road-Request-Hash not recomputed" in detail
    # An empty body needs nothing: it is known from its digest, and the hash is checked.
    empty = exchange(authority, "msg-e", int(NOW.timestamp()), body=b"")
    document = one_exchange_bundle(authority, empty, keep_request_body=False)
    report = verify_bundle(document, trust_anchor=authority.ca_cert)
    assert report.ok, report.failures()
    assert report.records[1].checks[-1].detail == f"signed by {PROVIDER_MEMBER}"


@pytest.mark.parametrize(
    ("kind", "field", "value", "message"),
    [
        (
            "request",
            "message_id",
            "msg-other",
            "message_id 'msg-other' is not the signed X-Road-Id",
        ),
        (
            "request",
            "client",
            "IR-DEMO/GOV/10380284790/deaths",
            "client 'IR-DEMO/GOV/10380284790/deaths' is not the signed X-Road-Client",
        ),
        (
            "request",
            "service",
            "IR-DEMO/COM/14007650912/registry/getCompany",
            "service 'IR-DEMO/COM/14007650912/registry/getCompany' is not the signed target",
        ),
        (
            "response",
            "service",
            "IR-DEMO/COM/14007650912/registry/getCompany",
            "is not the signed X-Road-Service",
        ),
        (
            "response",
            "client",
            "IR-DEMO/GOV/10380284790/deaths",
            "is not the signed client of the request it answers",
        ),
        ("response", "method", "DELETE", "is not the signed method of the request it answers"),
    ],
)
def test_every_signed_field_is_bound_to_the_record(
    authority: Authority, kind: str, field: str, value: str, message: str
) -> None:
    messages = exchange(authority, "msg-b", int(NOW.timestamp()))

    def forge(content: RecordContent) -> RecordContent:
        return replace(content, **{field: value}) if content.kind == kind else content

    report = verify_bundle(
        one_exchange_bundle(authority, messages, forge=forge), trust_anchor=authority.ca_cert
    )
    details = signature_details(report)
    seq = 1 if kind == "request" else 2
    assert seq in details, report.failures()
    assert message in details[seq]
    # Only the signature is wrong: the forger recomputed every hash and proof.
    failed = next(r for r in report.records if r.seq == seq).failed
    assert failed == ["signature"]


def test_a_keyid_that_is_not_the_certificates_fingerprint_is_refused(
    authority: Authority,
) -> None:
    messages = exchange(authority, "msg-k", int(NOW.timestamp()), key_id="0" * 64)
    report = verify_bundle(one_exchange_bundle(authority, messages), trust_anchor=authority.ca_cert)
    details = signature_details(report)
    assert 1 in details
    assert f"keyid {'0' * 64!r} is not the fingerprint" in details[1]


def test_a_request_signature_needs_the_message_id_as_nonce(authority: Authority) -> None:
    for nonce, message in ((None, "has no nonce"), ("other", "nonce 'other' is not its X-Road-Id")):
        messages = exchange(authority, "msg-n", int(NOW.timestamp()), nonce=nonce)
        report = verify_bundle(
            one_exchange_bundle(authority, messages), trust_anchor=authority.ca_cert
        )
        assert message in signature_details(report)[1]


def test_a_response_signature_must_cover_the_request_hash(authority: Authority) -> None:
    components = [c for c in RESPONSE_COMPONENTS if c != "x-road-request-hash"]
    messages = exchange(authority, "msg-c", int(NOW.timestamp()), response_components=components)
    report = verify_bundle(one_exchange_bundle(authority, messages), trust_anchor=authority.ca_cert)
    assert 'does not cover the required "x-road-request-hash"' in signature_details(report)[2]


def test_the_signer_certificate_is_checked_at_the_timestamps_gen_time(
    authority: Authority,
) -> None:
    # The client's certificate expires one minute after the request was logged; the batch was
    # timestamped an hour later (a TSA outage). Only genTime is vouched for: the logging
    # gateway's own clock (at) could have been set back.
    short_key = generate_private_key()
    short = issue_certificate(
        ca_key=authority.ca_key,
        ca_cert=authority.ca_cert,
        public_key=short_key.public_key(),
        subject=subject_name(common_name="Births", serial_number=CLIENT_MEMBER),
        kind="sign",
        serial=random_serial(),
        not_before=NOW - timedelta(hours=1),
        not_after=NOW + timedelta(minutes=1),
    )
    shorter = Authority.__new__(Authority)
    shorter.__dict__.update(authority.__dict__, client_key=short_key, client_cert=short)
    messages = exchange(shorter, "msg-t", int(NOW.timestamp()))
    on_time = one_exchange_bundle(authority, messages, gen_time=NOW)
    report = verify_bundle(on_time, trust_anchor=authority.ca_cert, now=NOW + timedelta(days=1))
    assert report.ok, report.failures()
    late = one_exchange_bundle(authority, messages, gen_time=NOW + timedelta(hours=1))
    report = verify_bundle(late, trust_anchor=authority.ca_cert, now=NOW + timedelta(days=1))
    details = signature_details(report)
    assert list(details) == [1]
    assert f"refused at {format_time(NOW + timedelta(hours=1))}" in details[1]
    assert "expired" in details[1]


def test_an_empty_body_is_a_body_not_an_empty_text(authority: Authority) -> None:
    # "body": "" is the base64 of the empty body; a text field may not be empty.
    messages = exchange(authority, "msg-0", int(NOW.timestamp()), body=b"")
    document = one_exchange_bundle(authority, messages)
    assert orjson.loads(document)["records"][0]["body"] == ""
    assert verify_bundle(document, trust_anchor=authority.ca_cert).ok

    def empty_text(document: dict[str, Any]) -> None:
        document["records"][0]["instance"] = ""

    report = verify_bundle(edit(document, empty_text), trust_anchor=authority.ca_cert)
    assert report.records[0].failed == ["format"]
    assert "instance must be a non-empty string" in report.records[0].checks[0].detail


def test_an_early_refusal_needs_no_request_hash_but_other_responses_do(
    authority: Authority,
) -> None:
    # ZB-STD-004 §5.5 row 6: a refusal made before the provider read the body has none.
    request, response = exchange(authority, "msg-r0", int(NOW.timestamp()))
    headers = {
        k: v
        for k, v in response.headers.items()
        if k not in ("signature", "signature-input", "x-road-request-hash")
    }
    for refusal in (True, False):
        fields = headers | ({"x-road-error": "Server.ServerProxy.AccessDenied"} if refusal else {})
        components = [c for c in RESPONSE_COMPONENTS if c != "x-road-request-hash"]
        signed = httpsig.sign_response(
            httpsig.ResponseParts(403, fields),
            request=httpsig.RequestParts("POST", TARGET_URI, _signed(request.headers)),
            components=components + (['"x-road-error"'] if refusal else []),
            key=authority.provider_key,
            key_id=certificate_fingerprint(authority.provider_cert),
            created=int(NOW.timestamp()),
        )
        fields |= {"signature-input": signed.signature_input, "signature": signed.signature}
        answer = replace(response, status=403, headers=fields)
        report = verify_bundle(
            one_exchange_bundle(authority, (request, answer)), trust_anchor=authority.ca_cert
        )
        if refusal:
            assert report.ok, report.failures()
            assert "without X-Road-Request-Hash" in report.records[1].checks[-1].detail
        else:
            assert (
                'does not cover the required "x-road-request-hash"'
                in (signature_details(report)[2])
            )
