"""ZB-STD-005 (evidence bundles) agrees with the reference implementation.

Every ```zb-example NAME``` block of the standard is checked: the example record has the
documented canonical form and hash, the example bundle passes every check of §9 against the
example CA, its tables list exactly the members the bundle has, and the OpenSSL commands of §10
accept its timestamp token as written.
"""

from __future__ import annotations

import base64
import copy
import re
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography import x509

from standard_examples import fenced_examples
from zistboom.core.crypto import httpsig
from zistboom.core.crypto.keys import generate_private_key, sha256_hex
from zistboom.core.crypto.x509 import (
    certificate_kind,
    certificate_pem,
    create_ca_certificate,
    load_certificate,
)
from zistboom.core.evidence import CHECKS, FORMAT, RecordContent, parse_time, verify_bundle
from zistboom.core.exchange import request_hash

STANDARD = Path(__file__).parents[2] / "docs" / "standards" / "ZB-STD-005-evidence-bundle.md"
KNOWN_EXAMPLES = {
    "record-content",
    "canonical-form",
    "record-hash",
    "evidence-bundle",
    "ca-certificate",
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


def section(title: str) -> str:
    """The text of the section whose heading starts with ``title`` (up to the next heading of
    the same or a higher level)."""
    text = standard_text()
    match = re.search(rf"^(#+) {re.escape(title)}.*$", text, re.MULTILINE)
    assert match, f"no section {title}"
    level = len(match[1])
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def table_names(text: str, after: str) -> list[str]:
    """The back-quoted names in the first column of the first table after ``after``."""
    start = text.index(after)
    names: list[str] = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if names:
                break
            continue
        names.extend(re.findall(r"`([^`]+)`", line.split("|")[1]))
    return names


@pytest.fixture(scope="module")
def bundle() -> dict[str, Any]:
    value = orjson.loads(example("evidence-bundle"))
    assert isinstance(value, dict)
    return value


def test_every_example_is_known_and_appears_once() -> None:
    names = [name for name, _ in example_blocks()]
    assert set(names) == KNOWN_EXAMPLES, f"unknown or missing examples: {names}"
    assert len(names) == len(set(names))


def test_the_example_record_has_the_documented_canonical_form_and_hash(
    bundle: dict[str, Any],
) -> None:
    fields = orjson.loads(example("record-content"))
    content = RecordContent(**(fields | {"at": parse_time(fields["at"])}))
    assert content.canonical_json() == example("canonical-form").rstrip("\n").encode()
    assert content.record_hash() == example("record-hash").strip()
    assert sha256_hex(example("canonical-form").rstrip("\n").encode()) == content.record_hash()
    # It follows the bundle's records, as the text says.
    assert content.prev_hash == bundle["records"][-1]["record_hash"]
    assert content.seq == bundle["records"][-1]["seq"] + 1


def test_the_example_bundle_passes_every_check() -> None:
    anchor = load_certificate(example("ca-certificate"))
    report = verify_bundle(example("evidence-bundle").encode(), trust_anchor=anchor)
    assert report.ok, report.failures()
    assert not report.warnings
    assert [(r.seq, r.kind) for r in report.records] == [(1, "request"), (2, "response")]
    # The example is a synchronous exchange: no record carries a receipt (§9 step 11).
    expected = [(name, "ok") for name in CHECKS if name != "receipt"]
    for record in report.records:
        assert [(c.name, c.status) for c in record.checks] == expected


def test_the_named_checks_are_the_verifiers_in_order() -> None:
    verification = section("9 Verification")
    intro = verification[: verification.index("1. Parse the bundle")]
    named = re.findall(r"`([a-z_]+)`", intro[intro.index("every named") :])
    assert named == list(CHECKS)
    steps = re.findall(r"^(\d+)\. `([a-z_]+)`", verification, re.MULTILINE)
    assert [name for _, name in steps] == list(CHECKS)
    assert {name: int(number) for number, name in steps}["receipt"] == 11


def test_the_example_bundle_is_refused_under_another_trust_anchor() -> None:
    # The example CA is not merely decoration: change the anchor and the proofs fall.
    stranger = create_ca_certificate(generate_private_key(), common_name="IR-DEMO Instance CA")
    report = verify_bundle(example("evidence-bundle").encode(), trust_anchor=stranger)
    assert {tuple(r.failed) for r in report.records} == {("timestamp", "signature")}


def test_the_example_bundle_has_the_documented_shape(bundle: dict[str, Any]) -> None:
    bundle_section = section("8 The evidence bundle")
    records_section = section("3.1 Fields")
    assert bundle["format"] == FORMAT
    assert list(bundle) == table_names(bundle_section, "| Member | Type | Content |")
    record_members = table_names(records_section, "| Field |") + table_names(
        bundle_section, "Each record object"
    )
    for record in bundle["records"]:
        assert sorted(record) == sorted(record_members)
    batch_members: list[str] = []
    for name in table_names(bundle_section, "Each batch object"):
        batch_members.extend(part.strip() for part in name.split(","))
    for batch in bundle["batches"]:
        assert sorted(batch) == sorted(batch_members)
    assert bundle["gateway"]["instances"] == ["gw1"]
    anchor = load_certificate(example("ca-certificate"))
    assert certificate_pem(anchor) in bundle["certificates"]


def test_the_openssl_commands_of_section_10_accept_the_token(
    bundle: dict[str, Any], tmp_path: Path
) -> None:
    commands = re.search(r"```sh\n(?P<body>.*?)```", section("10 Checking"), re.DOTALL)
    assert commands
    (tmp_path / "bundle.json").write_text(example("evidence-bundle"))
    (tmp_path / "ca.pem").write_text(example("ca-certificate"))
    tsa = [
        pem for pem in bundle["certificates"] if certificate_kind(load_certificate(pem)) == "tsa"
    ]
    assert len(tsa) == 1
    (tmp_path / "tsa.pem").write_text(tsa[0])
    script = "set -euo pipefail\n" + commands["body"]
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Verification: OK" in result.stdout
    # The same commands refuse a token for another root.
    wrong = dict(bundle, batches=[dict(bundle["batches"][0], root="00" * 32)])
    (tmp_path / "bundle.json").write_bytes(orjson.dumps(wrong))
    result = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "Verification: OK" not in result.stdout


def test_the_timestamp_is_the_documented_one(bundle: dict[str, Any]) -> None:
    batch = bundle["batches"][0]
    assert (batch["first_seq"], batch["last_seq"], batch["size"]) == (1, 2, 2)
    assert parse_time(batch["timestamped_at"]) > parse_time(bundle["records"][1]["at"])


# --- version 2.0: coverage, gateway identity, binding (issue 6 items 10 and 13) -------------


def _example_anchor() -> x509.Certificate:
    return load_certificate(example("ca-certificate"))


def test_the_example_response_carries_its_requests_hash(bundle: dict[str, Any]) -> None:
    request, response = bundle["records"]
    headers = {k: v for k, v in request["headers"].items() if k != "@target-uri"}
    signer = load_certificate(base64.b64decode(headers["zb-signer-certificate"]))
    verified = httpsig.verify_request(
        httpsig.RequestParts(request["method"], request["headers"]["@target-uri"], headers),
        resolve_key=lambda _: signer.public_key(),  # type: ignore[arg-type,return-value]
        required=(),
        now=int(parse_time(request["at"]).timestamp()),
        max_skew=3600,
    )
    body = base64.b64decode(request["body"])
    assert body  # a non-empty body: the hash covers it (ZB-STD-004 §6)
    expected = request_hash(verified.signature_base, body)
    assert response["headers"]["x-road-request-hash"] == expected


def test_the_example_bundle_states_what_it_covers(bundle: dict[str, Any]) -> None:
    keys = [
        {"gateway": r["gateway"], "instance": r["instance"], "seq": r["seq"]}
        for r in bundle["records"]
    ]
    assert bundle["covers"] == {
        "messages": [{"message_id": bundle["records"][0]["message_id"], "records": keys}],
        "ranges": [],
    }
    assert table_names(section("8.1 What a bundle covers"), "| Member |") == ["messages", "ranges"]
    # Without its response the example is incomplete, and the verifier says which record.
    document = copy.deepcopy(bundle)
    document["records"].pop(1)
    document["covers"]["messages"][0]["records"].pop(1)
    report = verify_bundle(orjson.dumps(document), trust_anchor=_example_anchor())
    assert not report.ok
    assert len(report.problems) == 1
    assert "has no response" in report.problems[0]
    assert "seq 1 of instance gw1" in report.problems[0]


def test_the_example_records_name_their_gateway(bundle: dict[str, Any]) -> None:
    assert {r["gateway"] for r in bundle["records"]} == {bundle["gateway"]["id"]}
    request, response = bundle["records"]
    assert response["method"] == request["method"]
    assert orjson.loads(example("record-content"))["gateway"] == bundle["gateway"]["id"]


def test_certificates_are_checked_at_gen_time_in_both_standards() -> None:
    signature_step = section("9 Verification")
    step = signature_step[signature_step.index("10. `signature`") : signature_step.index("11. ")]
    assert "t = `at`" not in step
    assert "`genTime` of the record's timestamp" in step
    assert "ZB-STD-002 §8 item 3" in step
    pki = (STANDARD.parent / "ZB-STD-002-pki-profile.md").read_text(encoding="utf-8")
    item = pki[pki.index("3. **Valid at the time**") : pki.index("4. **Not revoked**")]
    assert "genTime" in item
    assert "ZB-STD-005 §9" in item


def test_the_non_empty_rule_is_the_verifiers(bundle: dict[str, Any]) -> None:
    rule = section("3.1 Fields")
    sentence = rule[rule.index("The text fields") : rule.index("MUST NOT be empty")]
    fields = re.findall(r"`([^`]+)`", sentence)
    assert fields == [
        "gateway",
        "instance",
        "message_id",
        "client",
        "service",
        "method",
        "target",
        "body_digest",
    ]
    anchor = _example_anchor()
    for name in fields:
        document = copy.deepcopy(bundle)
        document["records"][0][name] = ""
        report = verify_bundle(orjson.dumps(document), trust_anchor=anchor)
        assert report.records[0].failed == ["format"], name
    # An empty header value and the empty body are not empty texts: they parse.
    for change in (
        lambda r: r["headers"].update({"x-road-userid": ""}),
        lambda r: r.update(body=""),
    ):
        document = copy.deepcopy(bundle)
        change(document["records"][0])
        report = verify_bundle(orjson.dumps(document), trust_anchor=anchor)
        assert "format" not in report.records[0].failed


def test_the_exchange_protocol_points_to_the_bundle_rules() -> None:
    exchange = (STANDARD.parent / "ZB-STD-004-exchange-protocol.md").read_text(encoding="utf-8")
    signatures = exchange[exchange.index("## 5 Message signatures") : exchange.index("## 6 ")]
    assert "ZB-STD-005 §9.1" in signatures


def test_the_structured_fields_named_for_sf_are_those_the_verifier_knows() -> None:
    rules = section("9.1 The signature rules")
    paragraph = rules[rules.index("**`sf`**") : rules.index("**`name`**")]
    named = set(re.findall(r"`([a-z-]+)`", paragraph)) - {"sf", "key"}
    assert named == set(httpsig._STRUCTURED_FIELD_TYPES)
