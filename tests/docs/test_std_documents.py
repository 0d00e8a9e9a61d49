"""ZB-STD-008 (verifiable documents) agrees with the reference implementation.

Every ```zb-example NAME``` block of the standard is checked against the code that makes or reads
it: the claims are exactly what ``vc.document_claims`` builds from the example's own facts, and
the VC-JWT example is a real signature over exactly those claims, under exactly the documented
header, by a ``doc`` certificate of the example CA, dated by a real timestamp token of the example
TSA; the QR example decodes (``qr.decode_qr``), verifies, carries its own token and names the
same record, and its CWT claims are the ones printed; the status list is what
``status_list_credential`` makes with the one bit set; the verification report is what
``verification.verify`` answers for the example VC-JWT (every check but ``status``, whose lists
were signed by the discarded key), and it validates against the hub's OpenAPI answer of
``POST /credentials/verify``; the check names are the code's; the issue, status and verify
requests validate against the issuer's and the hub's OpenAPI request schemas and are taken by
their pydantic models; the PDF's attachment names are those the code writes and reads.

The checks are plain functions that raise AssertionError, so that the last tests can alter an
example and see each check fail.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import cbor2
import orjson
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from standard_examples import fenced_examples
from zistboom.core.accreditation import Requirement, TrustIndex
from zistboom.core.crypto.timestamp import timestamp_token_info
from zistboom.core.crypto.x509 import certificate_der, load_certificate, verify_certificate
from zistboom.core.trustlist import FORMAT, TrustList
from zistboom.documents import pdf, profile, qr, statuslist, timestamps, vc, verification
from zistboom.documents.checks import CHECK_NAMES, PDF_CHECK
from zistboom.documents.hub.verify_api import ReportOut, VerifyRequest
from zistboom.documents.issuer.schemas import IssueBody, StatusBody
from zistboom.documents.types import load_seed_types

STANDARD = Path(__file__).parents[2] / "docs" / "standards" / "ZB-STD-008-documents.md"
TYPE = "birth-certificate-extract"
ISSUED = datetime(2026, 12, 1, 10, 0, 2, tzinfo=UTC)
"""The genTime of the example VC-JWT's timestamp token (§4)."""
QR_STAMPED = ISSUED + timedelta(seconds=1)
VERIFIED = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)
"""When the example report was made."""
VERIFY_FORMS = {
    "verify-request-vc-jwt": "verifiableCredential",
    "verify-request-qr": "qr",
    "verify-request-pdf": "pdf",
    "verify-request-pull-link": "pullLink",
}
KNOWN_EXAMPLES = {
    "vc-jwt-header",
    "vc-jwt-claims",
    "vc-jwt",
    "vc-jwt-timestamp",
    "status-list-claims",
    "qr",
    "qr-claims",
    "pdf-attachments",
    "issue-request",
    "issue-request-pull",
    "status-request",
    *VERIFY_FORMS,
    "check-names",
    "verification-report",
    "ca-certificate",
    "tsa-certificate",
}


# -- reading the standard ---------------------------------------------------------------------


def standard_text() -> str:
    return STANDARD.read_text(encoding="utf-8")


def example(name: str, text: str | None = None) -> str:
    blocks = fenced_examples(standard_text() if text is None else text)
    bodies = [body for block_name, body in blocks if block_name == name]
    assert len(bodies) == 1, f"expected one zb-example {name} block, found {len(bodies)}"
    return bodies[0]


def example_json(name: str) -> Any:
    return json.loads(example(name))


def joined(name: str) -> str:
    """A block of base64, base64url or a compact JWS: line breaks are for display only."""
    return "".join(example(name).split())


def qr_text() -> str:
    """The QR text: Base45 has a space in its alphabet, so only the line breaks go."""
    return example("qr").replace("\n", "")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@cache
def seeded_type() -> Any:
    return {t.code: t for t in load_seed_types()}[TYPE]


@cache
def openapi(component: str) -> dict[str, Any]:
    """The hub's or the issuer's OpenAPI document, as its app states it (nothing is served)."""
    import tempfile

    if component == "hub":
        from zistboom.documents.hub.app import create_app
        from zistboom.documents.hub.settings import HubSettings

        return create_app(HubSettings(data_dir=Path(tempfile.mkdtemp()))).openapi()
    from zistboom.documents.issuer.app import create_app as create_issuer
    from zistboom.documents.issuer.settings import IssuerSettings

    return create_issuer(IssuerSettings(data_dir=Path(tempfile.mkdtemp()))).openapi()


def check_against_openapi(value: Any, component: str, method: str, path: str, part: str) -> None:
    """``value`` is valid against the request body (``part="request"``) or the 200 answer of
    ``method path`` in the component's OpenAPI document."""
    document = openapi(component)
    operation = document["paths"][path][method]
    if part == "request":
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
    else:
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": document["components"]})
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    assert not errors, f"{method.upper()} {path} {part}: {errors[0].message}"


# -- the checks -------------------------------------------------------------------------------


def check_examples_known_and_present(text: str) -> None:
    names = [name for name, _ in fenced_examples(text)]
    unknown = sorted(set(names) - KNOWN_EXAMPLES)
    assert not unknown, f"unknown zb-example blocks: {unknown}"
    assert sorted(names) == sorted(KNOWN_EXAMPLES), "each known example exactly once"


def check_claims(claims: dict[str, Any]) -> None:
    """The claims are exactly what ``document_claims`` builds from their own facts (§3.2)."""
    document = vc.DocumentClaims.model_validate(claims)
    schema_suffix = f"/api/v1/document-types/{document.documentType}/schema"
    rebuilt = vc.document_claims(
        credential_id=document.id,
        issuer_member=profile.member_of_issuer(document.issuer.id),
        issuer_name=document.issuer.name,
        holder=profile.holder_of(document.credentialSubject["id"]),
        type_code=document.documentType,
        subject={k: v for k, v in document.credentialSubject.items() if k != "id"},
        valid_from=document.validFrom,
        valid_until=document.validUntil,
        iat=datetime.fromtimestamp(claims["iat"], tz=UTC),
        hub_url=document.credentialSchema.id.removesuffix(schema_suffix),
        list_id=document.status_list_id,
        status_index=document.status_index,
    )
    assert orjson.dumps(rebuilt) == orjson.dumps(claims), "the claims are not document_claims'"


def check_header(header: dict[str, Any], token: str) -> None:
    """The example header is the VC-JWT's, member by member and in order, ``x5c`` aside."""
    signed = vc.parse_vc_jwt(token).header
    assert list(header) == list(signed), f"header members {list(header)}, signed {list(signed)}"
    for name, value in header.items():
        if name != "x5c":
            assert signed[name] == value, f"header {name}: {value!r}, signed {signed[name]!r}"
    assert len(header["x5c"]) == len(signed["x5c"]), "x5c: as many certificates"


def check_credential(token: str, claims: dict[str, Any], timestamp: bytes) -> vc.ParsedCredential:
    """A real VC-JWT over exactly ``claims`` by a ``doc`` certificate of the example CA naming
    the issuer, dated by ``timestamp`` (a token of the example TSA over its signature)."""
    parsed = vc.parse_credential(token)
    assert parsed.claims == claims and orjson.dumps(parsed.claims) == orjson.dumps(claims), (
        "the VC-JWT's payload is not the claims example"
    )
    vc.verify_signature(parsed)
    ca = load_certificate(example("ca-certificate"))
    assert certificate_der(parsed.chain[-1]) == certificate_der(ca), "x5c ends with the CA"
    at = timestamps.trusted_time(
        timestamp,
        timestamps.imprint_of_signature(parsed.signature),
        [load_certificate(example("tsa-certificate"))],
        ca_certificates=[ca],
    )
    assert at == ISSUED, f"the timestamp says {at}, the standard {ISSUED}"
    verify_certificate(parsed.leaf, ca, at=at, kind="doc", identity=parsed.issuer_member)
    return parsed


def diagnostic(value: Any, depth: int = 0) -> str:
    """CBOR diagnostic notation (RFC 8949 §8) of a decoded CBOR value, maps one member a line."""
    if isinstance(value, dict):
        pad = "  " * (depth + 1)
        members = [f"{pad}{diagnostic(k)}: {diagnostic(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(members) + "\n" + "  " * depth + "}"
    if isinstance(value, list):
        return "[" + ", ".join(diagnostic(v, depth) for v in value) + "]"
    if isinstance(value, bytes):
        return f"h'{value.hex()}'"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def check_qr(text: str, token: str, claims_text: str) -> None:
    """The QR decodes and verifies, carries its own token, names the VC-JWT's record, and its
    CWT claims are the printed ones (§6)."""
    assert text.startswith(profile.QR_PREFIX)
    payload = qr.decode_qr(text)
    qr.verify_qr_signature(payload)
    parsed = vc.parse_credential(token)
    assert payload.record == qr.QrRecord.from_credential(parsed), "not the VC-JWT's record"
    assert payload.record.vc_digest == hashlib.sha256(token.encode("ascii")).digest()
    assert certificate_der(payload.certificate) == certificate_der(parsed.leaf)
    assert payload.message.protected_header == {1: -7, 33: certificate_der(parsed.leaf)}
    assert payload.timestamp_token is not None, "the QR carries its own timestamp token"
    info = timestamp_token_info(payload.timestamp_token)
    assert not info.carries_certificates, "the QR's token is requested without certReq"
    at = timestamps.trusted_time(
        payload.timestamp_token,
        timestamps.imprint_of_signature(payload.signature),
        [load_certificate(example("tsa-certificate"))],
        ca_certificates=[load_certificate(example("ca-certificate"))],
    )
    assert at == QR_STAMPED
    decoded = diagnostic(cbor2.loads(payload.message.payload))
    assert decoded == claims_text.strip(), f"the QR's claims are\n{decoded}"


def check_status_list(claims: dict[str, Any], index: int) -> None:
    """What ``status_list_credential`` makes for that list with only bit ``index`` set (§5)."""
    parsed = statuslist.StatusListClaims.model_validate(claims)
    bits = statuslist.StatusBits()
    bits.set(index, True)
    rebuilt = statuslist.status_list_credential(
        list_url=parsed.id,
        issuer=parsed.issuer,
        purpose=parsed.credentialSubject.statusPurpose,
        bits=bits,
        valid_from=parsed.validFrom,
    )
    assert rebuilt == claims, "not status_list_credential's claims with bit index set"
    assert parsed.validUntil - parsed.validFrom == statuslist.VALIDITY
    assert statuslist.StatusBits.decode(parsed.credentialSubject.encodedList) == bits


def trust_list() -> TrustList:
    """The trust list the example report was made with: the issuer accredited at high under
    the national document-issuer scheme (ZB-STD-007) from 100 days before issue for a year."""
    since, until = "2026-08-23T10:00:00Z", "2027-12-01T10:00:00Z"
    return TrustList.model_validate(
        {
            "format": FORMAT,
            "instance": "IR-DEMO",
            "sequence": 1,
            "issued_at": "2026-12-31T10:00:00Z",
            "next_update": "2027-01-01T10:00:00Z",
            "schemes": [
                {
                    "code": "national-document-issuer",
                    "ecosystem": "national",
                    "kind": "document-issuer",
                    "actions": ["issue"],
                    "levels": ["basic", "substantial", "high"],
                    "name_fa": "صادرکنندهٔ سند",
                    "name_en": "Document issuer",
                    "history": [{"status": "active", "at": "2026-05-15T10:00:00Z"}],
                }
            ],
            "accreditations": [
                {
                    "id": "acc-civil-registration",
                    "scheme": "national-document-issuer",
                    "member": "IR-DEMO/GOV/10380284790",
                    "scope": "member",
                    "subject": "IR-DEMO/GOV/10380284790",
                    "level": "high",
                    "valid_from": since,
                    "valid_until": until,
                    "history": [{"status": "granted", "at": since}],
                }
            ],
            "recognitions": [],
            "assessors": [],
        }
    )


def verified_now(token: str, timestamp: bytes, sources: list[dict[str, Any]]) -> ReportOut:
    """What the verification answers for the example VC-JWT at the report's time, from the
    example CA, TSA and trust list, without status lists (the key that signed them is gone)."""
    document_type = seeded_type()
    wanted = document_type.requirement
    context = verification.CachedContext(
        ca_certificates=[load_certificate(example("ca-certificate"))],
        tsa_certificates=[load_certificate(example("tsa-certificate"))],
        hub_url="https://hub.demo.zistboom.ir",
        trust=TrustIndex(trust_list()),
        types={
            TYPE: verification.DocumentTypeView(
                TYPE,
                document_type.json_schema,
                Requirement(wanted.ecosystem, wanted.kind, wanted.level),
            )
        },
        clock=lambda: VERIFIED,
        refreshed=[
            verification.SourceFreshness(s["name"], moment(s["refreshed_at"]))
            for s in sources
            if not s["name"].startswith("status list ")
        ],
    )
    presented = verification.read_form(token, timestamp_token=timestamp)
    return ReportOut.of(asyncio.run(verification.verify(presented, context)))


def check_report(report: dict[str, Any], token: str, timestamp: bytes) -> None:
    """The hub's answer (its OpenAPI schema), with the code's check names in order, each check
    as the code reports it (``status`` aside), and the record of the example VC-JWT."""
    check_against_openapi(report, "hub", "post", "/credentials/verify", "answer")
    names = [check["name"] for check in report["checks"]]
    assert names == list(CHECK_NAMES), f"check names {names}, the code's {list(CHECK_NAMES)}"
    assert report["verified"] == all(c["result"] == "passed" for c in report["checks"])
    actual = verified_now(token, timestamp, report["sources"]).model_dump(mode="json")
    assert report["record"] == actual["record"], "the record is not the VC-JWT's"
    for shown, made in zip(report["checks"], actual["checks"], strict=True):
        if shown["name"] == "status":
            continue
        assert shown == made, f"check {shown['name']}: the code says {made}"
    status = next(c for c in report["checks"] if c["name"] == "status")
    index = vc.parse_credential(token).document.status_index
    assert status["result"] == "passed" and f"index {index};" in status["reason"]
    listed = [s["name"] for s in report["sources"] if s["name"].startswith("status list ")]
    entries = vc.parse_credential(token).document.credentialStatus
    assert listed == [f"status list {e.statusListCredential}" for e in entries]


def check_issue_request(request: dict[str, Any]) -> None:
    check_against_openapi(request, "issuer", "post", "/credentials/issue", "request")
    IssueBody.model_validate(request)


def check_verify_request(request: dict[str, Any], form: str) -> None:
    """Valid against the hub's document and model, with only ``form`` given; a shortened value
    is the start of the example of that form."""
    check_against_openapi(request, "hub", "post", "/credentials/verify", "request")
    VerifyRequest.model_validate(request)
    given = request[form]
    if form == "verifiableCredential":
        jwt = given["id"].removeprefix("data:application/vc+jwt,")
        for part, whole in zip(jwt.split("."), joined("vc-jwt").split("."), strict=True):
            assert whole.startswith(part), "the VC-JWT is not the example's"
        assert joined("vc-jwt-timestamp").startswith(request["timestampToken"])
    elif form == "qr":
        assert qr_text().startswith(given), "the QR is not the example's"
    elif form == "pdf":
        assert base64.b64decode(given, validate=True).startswith(b"%PDF-")
    else:
        assert re.fullmatch(r"https://hub\.demo\.zistboom\.ir/p/[A-Za-z0-9_-]{32,64}", given)


# -- the standard as written ------------------------------------------------------------------


def test_every_example_block_is_known_and_present() -> None:
    check_examples_known_and_present(standard_text())


def test_header_and_persian_abstract() -> None:
    text = standard_text()
    assert text.startswith("# ZB-STD-008 — Verifiable documents\n")
    assert "| Status | Normative |" in text
    assert "| Version | 1.0 |" in text
    abstract = text.index("## خلاصه")
    assert abstract < text.index("## 1. Purpose and scope")
    assert re.search(r"[\u0600-\u06FF]{20,}", text[abstract : abstract + 4000].replace(" ", ""))
    assert "PRIVATE KEY-----" not in text


def test_the_claims_are_document_claims_and_meet_the_seeded_schema() -> None:
    claims = example_json("vc-jwt-claims")
    check_claims(claims)
    assert claims["documentType"] == TYPE
    subject = {k: v for k, v in claims["credentialSubject"].items() if k != "id"}
    errors = list(seeded_type().subject_validator().iter_errors(subject))
    assert not errors, errors[0].message


def test_the_header_is_the_profiles() -> None:
    header = example_json("vc-jwt-header")
    check_header(header, joined("vc-jwt"))
    assert header == {
        "alg": "ES256",
        "typ": profile.VC_JWT_TYP,
        "cty": profile.VC_JWT_CTY,
        "x5c": header["x5c"],
    }


def test_the_vc_jwt_signs_exactly_the_claims_at_the_trusted_time() -> None:
    timestamp = base64.b64decode(joined("vc-jwt-timestamp"), validate=True)
    parsed = check_credential(joined("vc-jwt"), example_json("vc-jwt-claims"), timestamp)
    assert parsed.iat is not None and parsed.iat < ISSUED, "iat is not the time of issue"
    assert profile.rfc3339(ISSUED) in standard_text()


def test_the_qr_round_trips_to_the_same_record() -> None:
    check_qr(qr_text(), joined("vc-jwt"), example("qr-claims"))
    assert len(qr_text()) <= qr.MAX_TEXT


def test_the_status_list_has_the_documents_bit_set() -> None:
    claims = example_json("status-list-claims")
    document = vc.DocumentClaims.model_validate(example_json("vc-jwt-claims"))
    entry = document.status_entry("suspension")
    assert claims["id"] == entry.statusListCredential
    assert claims["issuer"] == document.issuer.id
    check_status_list(claims, entry.index)


def test_the_pdf_attachments_are_the_codes() -> None:
    names = example("pdf-attachments").split()
    assert names == [pdf.CREDENTIAL_ATTACHMENT, pdf.TIMESTAMP_ATTACHMENT]
    assert names == [verification.CREDENTIAL_ATTACHMENT, verification.TIMESTAMP_ATTACHMENT]


def test_the_check_names_are_the_codes_in_order() -> None:
    assert example("check-names").split() == [*CHECK_NAMES, PDF_CHECK]
    table = standard_text().split("### 10.2 Checks", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\| `([a-z-]+)` \|", table, re.MULTILINE) == [*CHECK_NAMES, PDF_CHECK]


def test_the_report_is_what_the_hub_answers() -> None:
    timestamp = base64.b64decode(joined("vc-jwt-timestamp"), validate=True)
    check_report(example_json("verification-report"), joined("vc-jwt"), timestamp)


@pytest.mark.parametrize("name", ["issue-request", "issue-request-pull"])
def test_the_issue_requests_are_the_issuers(name: str) -> None:
    request = example_json(name)
    check_issue_request(request)
    claims = example_json("vc-jwt-claims")
    if name == "issue-request":
        subject = request["credential"]["credentialSubject"]
        assert subject == claims["credentialSubject"], "the request of the example document"
    else:
        assert "credentialSubject" not in request["credential"]


def test_the_status_request_is_the_issuers() -> None:
    request = example_json("status-request")
    check_against_openapi(request, "issuer", "post", "/credentials/status", "request")
    StatusBody.model_validate(request)
    assert request["credentialId"] == example_json("vc-jwt-claims")["id"]


@pytest.mark.parametrize(("name", "form"), VERIFY_FORMS.items())
def test_the_verify_requests_are_the_hubs(name: str, form: str) -> None:
    check_verify_request(example_json(name), form)


# -- each check can fail ----------------------------------------------------------------------


def test_an_unknown_or_missing_example_block_is_caught() -> None:
    text = standard_text()
    with pytest.raises(AssertionError, match="unknown"):
        check_examples_known_and_present(text + "\n```zb-example qr-other\n{}\n```\n")
    without = text.replace("```zb-example status-request\n", "```json\n")
    with pytest.raises(AssertionError, match="exactly once"):
        check_examples_known_and_present(without)


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.update(iat=c["iat"] + 1) or c.update(validFrom="2026-12-01T10:00:00+00:00"),
        lambda c: c["credentialStatus"].reverse(),
        lambda c: c.update(documentType=c.pop("documentType")),  # member order
        lambda c: c["credentialStatus"][0].update(statusListIndex="94568"),
    ],
)
def test_claims_document_claims_would_not_make_are_caught(change: Any) -> None:
    claims = example_json("vc-jwt-claims")
    change(claims)
    with pytest.raises((AssertionError, ValueError)):
        check_claims(claims)


def test_a_header_or_payload_other_than_the_signed_one_is_caught() -> None:
    token = joined("vc-jwt")
    header = example_json("vc-jwt-header")
    with pytest.raises(AssertionError, match="header members"):
        check_header({"typ": header["typ"], **header}, token)
    with pytest.raises(AssertionError, match="header cty"):
        check_header({**header, "cty": "json"}, token)
    timestamp = base64.b64decode(joined("vc-jwt-timestamp"), validate=True)
    claims = example_json("vc-jwt-claims")
    claims["credentialSubject"]["given_name_en"] = "Sara"
    with pytest.raises(AssertionError, match="payload"):
        check_credential(token, claims, timestamp)


def test_a_qr_of_other_claims_is_caught() -> None:
    printed = example("qr-claims")
    with pytest.raises(AssertionError, match="claims are"):
        check_qr(qr_text(), joined("vc-jwt"), printed.replace('"Zahra"', '"Sara"'))
    other = example_json("vc-jwt-claims")
    other["id"] = "urn:uuid:1b7d6f0e-3c59-4d1a-8f25-5a8c1e9b7d42"
    with pytest.raises(AssertionError):
        # The same QR against another VC-JWT's record.
        header, _, signature = joined("vc-jwt").split(".")
        forged = ".".join(
            [header, base64.urlsafe_b64encode(orjson.dumps(other)).decode().rstrip("="), signature]
        )
        check_qr(qr_text(), forged, printed)


def test_a_status_list_with_another_bit_is_caught() -> None:
    claims = example_json("status-list-claims")
    with pytest.raises(AssertionError, match="bit index set"):
        check_status_list(claims, 94_568)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r["checks"].reverse(),
        lambda r: r["checks"][3].update(reason="the timestamp over the signature says now"),
        lambda r: r["record"].update(holder="IR0499370899"),
        lambda r: r["checks"][0].update(result="ok"),
        lambda r: r.update(verified=False),
    ],
)
def test_a_report_the_code_would_not_give_is_caught(change: Any) -> None:
    report = example_json("verification-report")
    timestamp = base64.b64decode(joined("vc-jwt-timestamp"), validate=True)
    change(report)
    with pytest.raises(AssertionError):
        check_report(report, joined("vc-jwt"), timestamp)


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("issue-request", lambda r: r["options"].update(subjectId="0012345679")),
        ("issue-request", lambda r: r["credential"].update(documentType="Birth")),
        ("issue-request-pull", lambda r: r["options"].pop("subjectId")),
        ("issue-request-pull", lambda r: r.update(surprise=True)),
    ],
)
def test_an_issue_request_the_issuer_refuses_is_caught(name: str, change: Any) -> None:
    request = copy.deepcopy(example_json(name))
    change(request)
    with pytest.raises(AssertionError, match="/credentials/issue request"):
        check_issue_request(request)


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("verify-request-qr", lambda r: r.update(pullLink="https://hub.demo.zistboom.ir/p/x")),
        ("verify-request-pdf", lambda r: r.update(pdf=base64.b64encode(b"GIF89a").decode())),
        ("verify-request-vc-jwt", lambda r: r.pop("verifiableCredential")),
    ],
)
def test_a_verify_request_the_hub_refuses_is_caught(name: str, change: Any) -> None:
    request = example_json(name)
    change(request)
    with pytest.raises(AssertionError, match="/credentials/verify request"):
        check_verify_request(request, VERIFY_FORMS[name])
