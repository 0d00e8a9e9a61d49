"""The issuer end to end, real processes on SQLite and PostgreSQL: central (CA, TSA, global
configuration, the trust list the test decides), the agency's gateway, registry service and
issuer, the documents authority's gateway and hub. The back office asks for documents through
its gateway; the issuer timestamps at central's TSA, pulls subjects from the agency's registry
and deposits at the hub through the exchange."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from central_process import ZISTBOOM
from documents.issuer.exchange_world import PERSON, World, build_world, problem
from trust_list_central import wait_for
from zistboom.core import globalconf as gc
from zistboom.core.crypto import x509
from zistboom.core.iran import generate_national_code
from zistboom.documents import pdf, qr, statuslist, timestamps, vc

pytestmark = pytest.mark.timeout(1200)
BIRTH = "birth-certificate-extract"


@pytest.fixture(scope="module")
def world(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from build_world(tmp_path_factory.mktemp("issuer-federation"), backend_database)


def conf_of(world: World) -> gc.GlobalConf:
    anchor = gc.Anchor.from_json(httpx.get(f"{world.fed.central.url}/anchor", timeout=10).text)
    return gc.verify_global_conf(httpx.get(anchor.url, timeout=10).text, anchor, now=gc.utc_now())


def birth_subject(record: dict[str, Any]) -> dict[str, Any]:
    """The subject fields of a persons record (the type's registry mapping, by hand)."""
    names = (
        "national_code", "given_name_fa", "given_name_en", "family_name_fa", "family_name_en",
        "sex", "birth_date", "birth_province", "birth_city", "father_national_code",
        "mother_national_code",
    )  # fmt: skip
    return {name: record[name] for name in names if record.get(name) is not None}


def issue_birth(world: World, subject: dict[str, Any], **options: Any) -> httpx.Response:
    """A birth certificate extract of the given subject fields, to the person they are about."""
    return world.issue(
        {"documentType": BIRTH, "credentialSubject": subject},
        holder="IR" + subject["national_code"],
        **{"pdf": False, **options},
    )


def issued_parts(answer: httpx.Response) -> tuple[vc.ParsedCredential, bytes, dict[str, Any]]:
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    envelope = body["verifiableCredential"]
    assert envelope["type"] == "EnvelopedVerifiableCredential"
    prefix = "data:application/vc+jwt,"
    assert envelope["id"].startswith(prefix)
    parsed = vc.parse_credential(envelope["id"][len(prefix) :])
    assert parsed.credential_id == body["id"]
    return parsed, base64.b64decode(body["timestampToken"]), body


def check_signed_by_the_agency(world: World, parsed: vc.ParsedCredential, token: bytes) -> datetime:
    """Signature, certificate (kind doc, naming the agency, chaining to the instance CA) and
    the trusted time; returns the genTime."""
    conf = conf_of(world)
    ca = x509.load_certificate(conf.ca_certificates[0])
    vc.verify_signature(parsed)
    x509.verify_certificate(parsed.leaf, ca, at=gc.utc_now(), kind="doc", identity=world.agency)
    assert parsed.issuer_member == world.agency
    gen_time = timestamps.trusted_time(
        token,
        timestamps.imprint_of_signature(parsed.signature),
        [x509.load_certificate(pem) for pem in conf.tsa_certificates],
        ca_certificates=[ca],
    )
    assert abs(gen_time - datetime.now(UTC)) < timedelta(minutes=5)
    return gen_time


def test_a_document_is_issued_from_given_data(world: World) -> None:
    record = world.read_person()
    holder = "IR" + record["national_code"]
    subject = birth_subject(record)
    answer = world.issue(
        {"type": ["VerifiableCredential", "BirthCertificateExtract"], "credentialSubject": subject},
        holder=holder,
        pdf=False,
    )
    parsed, token, body = issued_parts(answer)
    check_signed_by_the_agency(world, parsed, token)
    assert parsed.holder == holder
    assert parsed.type_code == BIRTH
    assert parsed.subject == subject
    assert parsed.valid_until is not None
    assert parsed.valid_until - parsed.valid_from == timedelta(days=3650)
    entry = parsed.document.status_entry("revocation")
    assert entry.statusListCredential.startswith(world.hub_url + "/status-lists/")
    assert body["pdf"] is None
    assert body["pullLink"].startswith(world.hub_url + "/p/")

    # The QR carries the same record, signed by the same key, tied to this VC-JWT.
    payload = qr.decode_qr(body["qr"])
    qr.verify_qr_signature(payload)
    assert payload.certificate == parsed.leaf
    assert payload.record == qr.QrRecord.from_credential(parsed)
    assert payload.record.vc_digest == hashlib.sha256(parsed.token.encode()).digest()
    assert payload.timestamp_token is not None

    # The hub verifies each form to the same record, every check passed.
    for form in (
        {
            "verifiableCredential": body["verifiableCredential"],
            "timestampToken": body["timestampToken"],
        },
        {"qr": body["qr"]},
        {"pullLink": body["pullLink"]},
    ):
        report = hub_verify(world, form)
        assert report["record"]["id"] == parsed.credential_id
        assert report["record"]["issuer"] == world.agency


def hub_verify(world: World, form: dict[str, Any]) -> dict[str, Any]:
    """The hub's verification report, every check passed."""
    answer = httpx.post(f"{world.hub_url}/credentials/verify", json=form, timeout=60)
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    failed = [c for c in report["checks"] if c["result"] != "passed"]
    assert report["verified"] and not failed, failed
    return report


def test_the_pdf_is_signed_carries_the_credential_and_prints_its_pull_link(
    world: World, tmp_path: Path
) -> None:
    subject = birth_subject(world.read_person())
    parsed, token, body = issued_parts(issue_birth(world, subject, pdf=True))
    document = base64.b64decode(body["pdf"])
    ca = x509.load_certificate(conf_of(world).ca_certificates[0])
    signature = pdf.pdf_signature(document, [ca])
    assert signature.valid, signature.reason
    assert signature.signer_member == world.agency
    assert signature.signed_at is not None
    assert abs(signature.signed_at - datetime.now(UTC)) < timedelta(minutes=5)
    attached = pdf.pdf_attachments(document)
    assert attached["credential.jwt"].decode() == parsed.token
    assert attached["credential.tst"] == token
    path = tmp_path / "document.pdf"
    path.write_bytes(document)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    # The link may break across lines on the page.
    assert body["pullLink"] in "".join(text.split())
    report = hub_verify(world, {"pdf": body["pdf"]})
    assert report["form"] == "pdf"
    assert report["record"]["id"] == parsed.credential_id


def test_a_document_is_issued_from_a_registry_pull(world: World) -> None:
    record = world.read_person()
    national_code = record["national_code"]
    answer = world.issue({"documentType": BIRTH}, subjectId="IR" + national_code, pdf=False)
    parsed, token, _ = issued_parts(answer)
    check_signed_by_the_agency(world, parsed, token)
    assert parsed.holder == "IR" + national_code
    assert parsed.subject == birth_subject(world.read_person(national_code))


def test_a_subject_against_the_schema_is_refused_naming_its_pointer(world: World) -> None:
    subject = birth_subject(world.read_person())
    subject["sex"] = "X"
    del subject["birth_city"]
    body = problem(issue_birth(world, subject), 422)
    fields = sorted(e["field"] for e in body["errors"])
    assert fields == [
        "/credential/credentialSubject/birth_city",
        "/credential/credentialSubject/sex",
    ]


def test_an_unknown_subject_id_is_refused(world: World) -> None:
    # A valid national code among 10^9, the seed holds 10,000 of them.
    unknown = "IR" + generate_national_code(random.Random())
    body = problem(world.issue({"documentType": BIRTH}, subjectId=unknown, pdf=False), 422)
    assert body["errors"][0]["field"] == "/options/subjectId"
    assert "holds no record" in body["detail"]


def test_an_issuer_not_accredited_for_the_type_is_refused_naming_it(world: World) -> None:
    subject = {
        "taxpayer_id": "0499370899",
        "taxpayer_kind": "person",
        "tax_file_number": "123456789012",
        "file_status": "active",
        "outstanding_debt_rial": 0,
    }
    answer = world.issue(
        {"documentType": "tax-clearance", "credentialSubject": subject},
        holder=PERSON,
        pdf=False,
    )
    body = problem(answer, 403)
    assert body["type"].endswith("/issuer-not-accredited")
    assert "tax:document-issuer" in body["detail"]
    assert body["requirement"] == "tax:document-issuer"
    # Asked to pull the subject instead, it is refused before it reads anyone's record.
    pulled = world.issue({"documentType": "tax-clearance"}, subjectId=PERSON, pdf=False)
    assert problem(pulled, 403)["requirement"] == "tax:document-issuer"


def hub_list(world: World, url: str) -> statuslist.ParsedStatusList:
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200, answer.text
    parsed = statuslist.parse_status_list(answer.text)
    vc.verify_signature(parsed)
    assert parsed.issuer_member == world.agency
    return parsed


def test_revocation_suspension_and_reinstatement_reach_the_hub(world: World) -> None:
    subject = birth_subject(world.read_person())
    parsed, _, _ = issued_parts(issue_birth(world, subject))
    index = parsed.document.status_index
    suspension = parsed.document.status_entry("suspension").statusListCredential
    revocation = parsed.document.status_entry("revocation").statusListCredential

    suspended = world.status(parsed.credential_id, ("suspension", True))
    assert suspended.status_code == 200, suspended.text
    assert suspended.json() == {
        "credentialId": parsed.credential_id,
        "state": "suspended",
        "changed": True,
        "published": True,
    }
    assert hub_list(world, suspension).bits.get(index) is True

    reinstated = world.status(parsed.credential_id, ("suspension", False))
    assert reinstated.json()["state"] == "active"
    assert hub_list(world, suspension).bits.get(index) is False

    revoked = world.status(parsed.credential_id, ("revocation", True))
    assert revoked.json()["state"] == "revoked"
    assert hub_list(world, revocation).bits.get(index) is True
    refused = problem(world.status(parsed.credential_id, ("revocation", False)), 409)
    assert "cannot be reinstated" in refused["detail"]
    assert hub_list(world, revocation).bits.get(index) is True


def test_a_call_from_outside_the_gateway_is_refused(world: World) -> None:
    port = int(world.issuer.health_url.rsplit(":", 1)[1].split("/")[0])
    answer = httpx.post(
        f"http://127.0.0.1:{port}/credentials/issue",
        json={"credential": {"documentType": BIRTH}, "options": {"subjectId": "1"}},
        headers={"X-Road-Client": world.back_office},
        timeout=30,
    )
    assert problem(answer, 403)["errors"][0]["field"] == "x-zistboom-gateway-secret"


def test_a_status_change_the_hub_missed_is_published_when_it_is_back(world: World) -> None:
    subject = birth_subject(world.read_person())
    parsed, _, _ = issued_parts(issue_birth(world, subject))
    url = parsed.document.status_entry("suspension").statusListCredential
    world.hub.stop()
    try:
        suspended = world.status(parsed.credential_id, ("suspension", True))
        assert suspended.status_code == 200, suspended.text
        assert suspended.json()["published"] is False
    finally:
        world.hub.start()
    wait_for(
        lambda: hub_list(world, url).bits.get(parsed.document.status_index),
        seconds=60,
        what="the issuer's background pass publishes the suspension",
    )


def test_a_failed_deposit_leaves_its_index_unused_and_the_next_issuance_works(
    world: World,
) -> None:
    subject = birth_subject(world.read_person())
    issued_parts(issue_birth(world, subject))  # the type is held now
    world.hub.stop()
    try:
        failed = issue_birth(world, subject)
        assert failed.status_code == 502, failed.text
        assert "refused POST documents" in failed.json()["detail"]
    finally:
        world.hub.start()
    abandoned = [a for a in asyncio.run(world.allocations()) if a.outcome == "abandoned"]
    assert abandoned and abandoned[-1].reason.startswith("failed at the deposit at the hub")
    parsed, _, _ = issued_parts(issue_birth(world, subject))
    assert (parsed.document.status_list_id, parsed.document.status_index) not in {
        (a.list_id, a.status_index) for a in abandoned
    }


def test_indexes_are_not_given_twice_across_a_restart(world: World) -> None:
    subject = birth_subject(world.read_person())

    def index() -> tuple[str, int]:
        parsed, _, _ = issued_parts(issue_birth(world, subject))
        return parsed.document.status_list_id, parsed.document.status_index

    before = {index() for _ in range(3)}
    world.restart_issuer()
    after = {index() for _ in range(3)}
    assert len(before | after) == 6


def zistboom(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ZISTBOOM, "documents", *args],
        env=world.fed.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_cli_issues_and_verifies_online_and_offline(world: World, tmp_path: Path) -> None:
    record = world.read_person()
    subject_file = tmp_path / "subject.json"
    subject_file.write_text(json.dumps(birth_subject(record), ensure_ascii=False))
    out = tmp_path / "out"
    issued = zistboom(
        world, "issue", "--type", BIRTH, "--gateway-url", world.agency_gateway.url,
        "--client", world.back_office, "--issuer", world.issuer_service, "--out", str(out),
        "--subject", str(subject_file), "--holder", "IR" + record["national_code"], "--no-pdf",
    )  # fmt: skip
    assert issued.returncode == 0, issued.stdout + issued.stderr
    (jwt,) = out.glob("*.jwt")
    credential_id = "urn:uuid:" + jwt.stem
    qr_file = jwt.with_suffix(".qr.txt")
    assert jwt.with_suffix(".tst").is_file() and qr_file.is_file()
    assert not list(out.glob("*.pdf"))

    online = zistboom(world, "verify", str(jwt), "--hub", world.hub_url)
    assert online.returncode == 0, online.stdout + online.stderr
    assert "verified" in online.stdout and "trusted-time" in online.stdout

    cache = tmp_path / "cache"
    anchor = tmp_path / "anchor.json"
    anchor.write_text(httpx.get(f"{world.fed.central.url}/anchor", timeout=10).text)
    refreshed = zistboom(
        world, "cache", "refresh", "--cache", str(cache), "--anchor", str(anchor),
        "--hub", world.hub_url, str(jwt),
    )  # fmt: skip
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    assert "2 status lists" in " ".join(refreshed.stdout.split())

    def offline(document: Path) -> tuple[int, dict[str, Any]]:
        result = zistboom(world, "verify", str(document), "--offline", "--cache", str(cache),
                          "--json")  # fmt: skip
        assert result.returncode in (0, 1), result.stdout + result.stderr
        return result.returncode, json.loads(result.stdout)

    for document in (jwt, qr_file):
        code, report = offline(document)
        assert code == 0 and report["verified"], report
        assert report["record"]["id"] == credential_id
        named = {source["name"] for source in report["sources"]}
        assert {"global configuration", "trust list"} <= named

    revoked = world.status(credential_id, ("revocation", True))
    assert revoked.status_code == 200 and revoked.json()["published"], revoked.text
    code, report = offline(jwt)
    assert code == 0, "the cache was not refreshed: it still says what it said"
    refreshed = zistboom(world, "cache", "refresh", "--cache", str(cache))
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    for document in (jwt, qr_file):
        code, report = offline(document)
        assert code == 1 and not report["verified"]
        status = next(c for c in report["checks"] if c["name"] == "status")
        assert status["result"] == "failed" and "revoked" in status["reason"]
        others = [c for c in report["checks"] if c["name"] != "status"]
        assert all(c["result"] == "passed" for c in others), others
