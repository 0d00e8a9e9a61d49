"""Issue 9's acceptance against the demo federation (what `make demo` runs): every seeded
document type issued through the exchange by the agency that issues it, once with its subject
pulled from the agency's own base registry and once with the subject given, each verified in
all four forms (VC-JWT, QR, signed PDF, pull link) at the hub to the same record; an agency
refused for a type it is not accredited to issue, the refusal naming the accreditation; one
changed byte in each form named by the check it fails; a holder's share with a recipient
fetched through the recipient's gateway, then revoked and refused; the holder's access list;
acting for a person refused to every subsystem but the single window's.

Real processes throughout: central, the organisations' gateways (mutual TLS between them),
the registries, the documents hub and the six issuers, each started by ``zistboom demo``.
"""

from __future__ import annotations

import base64
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from test_demo import DemoProcess, start_demo
from zistboom.demo import documents
from zistboom.demo.federation import PERSON, Ports, member_id, organisation, subsystem_id
from zistboom.documents.types import load_seed_types
from zistboom.registries.seed import national_registries

pytestmark = pytest.mark.timeout(900)

CHECKS = ["format", "signature", "certificate", "trusted-time", "accreditation", "status",
          "validity", "schema"]  # fmt: skip
ISSUER_OF = {type_code: key for key, type_code in documents.ISSUERS.items()}
WINDOW = organisation("single-window")


class Demo:
    """The running demo's places, and calls made as its organisations' systems make them."""

    def __init__(self, process: DemoProcess, base: int) -> None:
        self.process = process
        self.places = documents.Places(Ports(base))
        self.client = httpx.Client(timeout=180)

    def issue(self, issuer: str, body: dict[str, Any]) -> httpx.Response:
        """``POST /credentials/issue`` asked of ``issuer``'s issuer by the agency's own system,
        through the agency's gateway."""
        org = organisation(issuer)
        return self.client.post(
            f"{self.places.client_url(org)}/r1/{documents.issuer_subsystem(org)}/credentials/issue",
            json=body,
            headers={"X-Road-Client": subsystem_id(org)},
        )

    def hub_call(
        self, via: str, method: str, service: str, path: str, *, user: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:  # fmt: skip
        """A call to one of the hub's services from ``via``'s own subsystem, through its
        gateway and the hub's; for ``user`` when given (``X-Road-UserId``)."""
        org = organisation(via)
        headers = {"X-Road-Client": subsystem_id(org)}
        if user is not None:
            headers |= {"X-Road-UserId": user, "X-Road-Purpose": "the holder's own request"}
        return self.client.request(
            method,
            f"{self.places.client_url(org)}/r1/{documents.hub_subsystem()}/{service}{path}",
            headers=headers,
            **kwargs,
        )

    def verify(self, form: dict[str, str]) -> dict[str, Any]:
        answer = self.client.post(f"{self.places.hub_url}/credentials/verify", json=form)
        assert answer.status_code == 200, answer.text
        report: dict[str, Any] = answer.json()
        return report


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    # Below the range tests.support.free_port hands out (20000-31999) and the ephemeral range;
    # a block of its own beside test_demo's.
    base = random.randrange(12000, 19900, 100)
    process = start_demo(tmp_path_factory.mktemp("documents-demo") / "demo", base)
    try:
        process.wait_for(
            "the demo serving",
            lambda: (
                process.process.poll() is not None or "Serving until interrupted" in process.output
            ),
            within=300,
        )
        assert process.process.poll() is None, process.output
        running = Demo(process, base)
        yield running
        running.client.close()
    finally:
        if process.process.poll() is None:
            process.process.send_signal(signal.SIGTERM)
            try:
                process.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.process.kill()


def registry_record(code: str, predicate: Any = None) -> dict[str, Any]:
    """A record the demo seeded in registry ``code`` (the demo's seed is deterministic)."""
    registry = next(r for r in national_registries(size="small") if r.code == code)
    return next(r for r in registry.records() if predicate is None or predicate(r))


def pulled_request(type_code: str) -> dict[str, Any]:
    """An issue request whose subject the issuer pulls from its registry, and its holder."""
    company = organisation("finance-ecosystem").member.code
    options: dict[str, str]
    match type_code:
        case "birth-certificate-extract":
            options = {"subjectId": f"IR{PERSON}"}
        case "health-insurance-card":
            insured = registry_record("insured")
            options = {"subjectId": f"IR{insured['national_code']}"}
        case "business-licence":
            options = {"subjectId": company}
        case "tax-clearance":
            options = {"subjectId": company}
        case "land-ownership-deed":
            parcel = registry_record("land-parcels")
            owner = parcel["owners"][0]["national_code"]
            options = {"subjectId": parcel["parcel_id"], "holder": f"IR{owner}"}
        case "residence-permit":
            permit = registry_record(
                "foreign-nationals",
                lambda r: r["permit_valid_until"] > datetime.now(UTC).date().isoformat(),
            )
            options = {"subjectId": f"FN{permit['foreign_national_id']}"}
        case _:
            raise AssertionError(f"a seeded type this test does not know: {type_code}")
    return {"credential": {"documentType": type_code}, "options": options}


def claims_of(vc_jwt: str) -> dict[str, Any]:
    payload = vc_jwt.split(".")[1]
    claims: dict[str, Any] = orjson.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def vc_jwt_of(issued: dict[str, Any]) -> str:
    prefix, token = issued["verifiableCredential"]["id"].split(",", 1)
    assert prefix == "data:application/vc+jwt", prefix
    return token


def forms(issued: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The four forms of an issued document, as the hub's verify API takes each."""
    assert issued["pdf"], "issued without its PDF"
    return {
        "vc-jwt": {"verifiableCredential": vc_jwt_of(issued)},
        "qr": {"qr": issued["qr"]},
        "pdf": {"pdf": issued["pdf"]},
        "pull-link": {"pullLink": issued["pullLink"]},
    }


def passed(report: dict[str, Any]) -> dict[str, str]:
    """Each check's name → its result, the report said to be verified."""
    results = {c["name"]: c["result"] for c in report["checks"]}
    assert report["verified"] is True, report
    assert set(results.values()) == {"passed"}, report["checks"]
    return results


def failed_checks(report: dict[str, Any]) -> list[str]:
    assert report["verified"] is False, report
    return [c["name"] for c in report["checks"] if c["result"] == "failed"]


TYPES = sorted(definition.code for definition in load_seed_types())


@pytest.mark.parametrize("type_code", TYPES)
def test_each_type_is_issued_pulled_and_given_and_verifies_in_four_forms(
    demo: Demo, type_code: str
) -> None:
    issuer = ISSUER_OF[type_code]
    pulled = demo.issue(issuer, pulled_request(type_code))
    assert pulled.status_code == 201, pulled.text
    first = pulled.json()
    subject = claims_of(vc_jwt_of(first))["credentialSubject"]
    # The same subject given, not pulled: the agency's system types it (here: copies it).
    given = demo.issue(
        issuer,
        {"credential": {"documentType": type_code, "credentialSubject": subject},
         "options": {}},
    )  # fmt: skip
    assert given.status_code == 201, given.text
    second = given.json()
    assert second["id"] != first["id"]
    assert claims_of(vc_jwt_of(second))["credentialSubject"] == subject
    for issued in (first, second):
        claims = claims_of(vc_jwt_of(issued))
        assert claims["id"] == issued["id"]
        for form, body in forms(issued).items():
            report = demo.verify(body)
            results = passed(report)
            expected = CHECKS + (["pdf-signature"] if form == "pdf" else [])
            if form == "pull-link":
                # The link shows the state, never the subject: it checks what the hub holds.
                assert {"status", "validity"} <= set(results), (form, results)
            else:
                assert list(results) == expected, (form, list(results))
            record = report["record"]
            assert record["id"] == issued["id"], (form, record)
            assert record["type"] == type_code, (form, record)
            assert record["issuer"] == member_id(organisation(issuer)), (form, record)
            assert record["holder"] == claims["credentialSubject"]["id"].rsplit(":", 1)[1], (
                form,
                record,
            )


def test_an_agency_is_refused_a_type_it_is_not_accredited_to_issue(demo: Demo) -> None:
    # Civil registration is accredited as a national document issuer, not for tax affairs.
    pulled = demo.issue("tax", pulled_request("tax-clearance"))
    assert pulled.status_code == 201, pulled.text
    subject = claims_of(vc_jwt_of(pulled.json()))["credentialSubject"]
    refused = demo.issue(
        "civil-registration",
        {"credential": {"documentType": "tax-clearance", "credentialSubject": subject},
         "options": {}},
    )  # fmt: skip
    assert refused.status_code == 403, refused.text
    problem = refused.json()
    assert problem["type"].endswith("issuer-not-accredited"), problem
    assert "tax" in problem["detail"] and "document-issuer" in problem["detail"], problem


def test_one_changed_byte_in_each_form_is_named_by_its_check(demo: Demo) -> None:
    issued = demo.issue("civil-registration", pulled_request("birth-certificate-extract")).json()
    header, payload, signature = vc_jwt_of(issued).split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    report = demo.verify({"verifiableCredential": f"{header}.{payload}.{flipped}"})
    # The timestamp imprints the signature as issued: a changed signature fails both.
    assert failed_checks(report) == ["signature", "trusted-time"], report["checks"]
    claims = claims_of(vc_jwt_of(issued))
    claims["credentialSubject"]["given_name_en"] += "x"
    changed = base64.urlsafe_b64encode(orjson.dumps(claims)).rstrip(b"=").decode()
    report = demo.verify({"verifiableCredential": f"{header}.{changed}.{signature}"})
    assert failed_checks(report) == ["signature"], report["checks"]

    # The QR: a changed character of the Base45 text after the ZB1: prefix.
    qr_text = issued["qr"]
    position = len(qr_text) // 2
    replacement = "0" if qr_text[position] != "0" else "1"
    report = demo.verify({"qr": qr_text[:position] + replacement + qr_text[position + 1 :]})
    assert failed_checks(report), report["checks"]
    assert failed_checks(report)[0] in ("format", "signature"), report["checks"]

    # The PDF: one byte of the signed part (the producer's name) changed.
    pdf = base64.b64decode(issued["pdf"])
    at = pdf.index(b"WeasyPrint") + 3
    altered = bytearray(pdf)
    altered[at] ^= 0x01
    report = demo.verify({"pdf": base64.b64encode(bytes(altered)).decode()})
    assert "pdf-signature" in failed_checks(report), report["checks"]
    reason = next(c for c in report["checks"] if c["name"] == "pdf-signature")["reason"]
    assert "changed" in reason, reason


def test_a_share_is_fetched_through_the_exchange_revoked_and_then_refused(demo: Demo) -> None:
    holder = f"IR{PERSON}"
    issued = demo.issue("civil-registration", pulled_request("birth-certificate-extract")).json()
    assert demo.verify({"verifiableCredential": vc_jwt_of(issued)})["verified"] is True

    # The window lists the person's locker, for the person.
    locker = wait_answer(
        lambda: demo.hub_call("single-window", "GET", "lockers", "/lockers/documents",
                              user=holder)
    )  # fmt: skip
    assert issued["id"] in [d["id"] for d in locker.json()["documents"]], locker.text

    recipient = organisation("tax")
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    shared = demo.hub_call(
        "single-window", "POST", "lockers", "/lockers/shares", user=holder,
        json={"document_id": issued["id"], "recipient": member_id(recipient),
              "purpose": "tax file review", "expires_at": expires},
    )  # fmt: skip
    assert shared.status_code == 201, shared.text
    share = shared.json()
    assert share["state"] == "active" and share["holder"] == holder, share

    fetched = wait_answer(
        lambda: demo.hub_call("tax", "GET", "shared-documents", f"/shares/{share['id']}/document")
    )
    assert fetched.status_code == 200, fetched.text
    body = fetched.json()
    assert body["share"]["id"] == share["id"] and body["share"]["purpose"] == "tax file review"
    assert body["document"]["id"] == issued["id"], body
    assert vc_jwt_of(issued) in str(body["document"]), body

    # Another organisation cannot fetch what was shared with the tax organisation.
    other = demo.hub_call(
        "finance-ecosystem", "GET", "shared-documents", f"/shares/{share['id']}/document"
    )
    assert other.status_code in (403, 404), other.text

    revoked = demo.hub_call(
        "single-window", "DELETE", "lockers", f"/lockers/shares/{share['id']}", user=holder
    )
    assert revoked.status_code == 200, revoked.text
    refused = demo.hub_call("tax", "GET", "shared-documents", f"/shares/{share['id']}/document")
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("share-revoked"), refused.text

    events = demo.hub_call(
        "single-window", "GET", "lockers", "/lockers/access-events", user=holder,
        params={"document_id": issued["id"]},
    )  # fmt: skip
    assert events.status_code == 200, events.text
    kinds = {e["kind"] for e in events.json()["events"] if e["document_id"] == issued["id"]}
    assert {"issued", "shared", "fetched", "share-revoked", "verified"} <= kinds, kinds


def test_acting_for_a_person_is_refused_to_any_subsystem_but_the_windows(demo: Demo) -> None:
    for via in documents.RECIPIENTS:
        refused = demo.hub_call(via, "GET", "lockers", "/lockers/documents", user=f"IR{PERSON}")
        assert refused.status_code == 403, (via, refused.text)
        assert refused.json()["type"].endswith("act-for-person-refused"), refused.text
    # An organisation not granted the lockers service at all is refused by the exchange.
    refused = demo.hub_call(
        "civil-registration", "GET", "lockers", "/lockers/documents", user=f"IR{PERSON}"
    )
    assert refused.headers.get("X-Road-Error") or refused.status_code >= 400, refused.text


def wait_answer(call: Any, within: float = 60) -> httpx.Response:
    """The answer once the gateways have taken the demo's rights (they reload within
    seconds): retried while the exchange still refuses with its own error."""
    deadline = time.monotonic() + within
    while True:
        answer: httpx.Response = call()
        if "X-Road-Error" not in answer.headers or time.monotonic() > deadline:
            return answer
        time.sleep(0.5)
