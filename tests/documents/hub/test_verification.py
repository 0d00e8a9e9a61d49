"""Verification through the hub: the VC API's ``POST /credentials/verify`` (a good document, a
tampered one, a revoked one), pull links (the state, never the subject's data; only the hub's
own links), the access event each verification leaves, and the public page (Persian and right
to left by default, English on ``?lang=en``, its form CSRF-protected)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import httpx
import pytest

from documents.hub.test_deposits_and_status_lists import problem_type, tampered
from documents.hub.world import Issued, World, new_person
from zistboom.documents import qr

pytestmark = pytest.mark.timeout(600)
CHECKS = [
    "format", "signature", "certificate", "trusted-time", "accreditation", "status",
    "validity", "schema",
]  # fmt: skip
PERSIAN_DIGITS = re.compile("[۰-۹]")


@pytest.fixture(scope="module")
def lists(world: World) -> World:
    """The world with the issuer's (empty) revocation and suspension lists published."""
    # Signed now: the issuer's certificate is minutes old, and a list is checked at validFrom.
    start = datetime.now(UTC).replace(microsecond=0)
    for purpose in ("revocation", "suspension"):
        answer = world.put_status_list(world.status_list(purpose=purpose, valid_from=start),
                                       purpose=purpose)  # fmt: skip
        assert answer.status_code == 200, answer.text
    return world


def deposited(world: World) -> tuple[Issued, str]:
    issued = world.issue(new_person())
    answer = world.deposit(issued)
    assert answer.status_code == 201, answer.text
    return issued, answer.json()["pullLink"]


def verify(world: World, body: dict[str, object]) -> httpx.Response:
    return httpx.post(f"{world.hub_url}/credentials/verify", json=body, timeout=60)


def results(report: dict[str, object]) -> dict[str, str]:
    return {c["name"]: c["result"] for c in report["checks"]}  # type: ignore[attr-defined, index]


def test_a_good_document_verifies_and_the_holder_sees_it(lists: World) -> None:
    world = lists
    issued, _ = deposited(world)
    answer = verify(world, {"verifiableCredential": issued.credential})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert [c["name"] for c in report["checks"]] == CHECKS
    assert set(results(report).values()) == {"passed"}, report["checks"]
    assert report["verified"] is True and report["form"] == "vc-jwt"
    assert report["record"]["id"] == issued.credential_id
    assert {s["name"] for s in report["sources"]} >= {"global-configuration", "trust-list"}

    enveloped = verify(world, {"verifiableCredential": {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": f"data:application/vc+jwt,{issued.credential}",
    }})  # fmt: skip
    assert enveloped.status_code == 200 and enveloped.json()["verified"] is True

    events = world.for_person("GET", "/lockers/access-events", issued.holder).json()["events"]
    verified = [e for e in events if e["kind"] == "verified"]
    assert len(verified) == 2 and {e["actor"] for e in verified} == {"public"}


def test_a_tampered_document_fails_its_signature(lists: World) -> None:
    world = lists
    issued, _ = deposited(world)
    answer = verify(world, {"verifiableCredential": tampered(issued.credential)})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["verified"] is False
    assert results(report)["signature"] == "failed"
    reason = next(c for c in report["checks"] if c["name"] == "signature")
    assert reason["reason"] and reason["reason_fa"]


def test_a_revoked_document_fails_its_status(lists: World) -> None:
    world = lists
    issued, link = deposited(world)
    index = int(issued_index(issued))
    newer = world.status_list(set_indexes=(index,), valid_from=datetime.now(UTC).replace(
        microsecond=0) + timedelta(seconds=1))  # fmt: skip
    assert world.put_status_list(newer).json()["replaced"] is True
    report = verify(world, {"verifiableCredential": issued.credential}).json()
    assert report["verified"] is False and results(report)["status"] == "failed"
    pulled = httpx.get(link, timeout=60).json()
    assert pulled["status"] == "invalid"
    assert results(pulled["report"])["status"] == "failed"


def issued_index(issued: Issued) -> str:
    from zistboom.documents import vc

    return vc.parse_credential(issued.credential).document.credentialStatus[0].statusListIndex


def test_a_pull_link_shows_the_state_and_no_subject_data(lists: World) -> None:
    world = lists
    issued, link = deposited(world)
    answer = httpx.get(link, timeout=60)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "valid" and body["id"] == issued.credential_id
    assert body["issuer"] == world.issuer.member and body["type"] == "birth-certificate-extract"
    assert body["report"]["form"] == "pull-link" and body["report"]["record"]["holder"] is None
    for private in ("Zahra", "محمدی", issued.holder, issued.holder[2:]):
        assert private not in answer.text

    through_api = verify(world, {"pullLink": link})
    assert through_api.status_code == 200 and through_api.json()["form"] == "pull-link"
    foreign = verify(world, {"pullLink": "https://elsewhere.example/p/" + "a" * 43})
    assert foreign.status_code == 404 and problem_type(foreign) == "unknown-pull-link"
    unknown = httpx.get(f"{world.hub_url}/p/{'b' * 43}", timeout=30)
    assert unknown.status_code == 404, unknown.text


def test_a_verify_request_takes_exactly_one_form(lists: World) -> None:
    world = lists
    issued, link = deposited(world)
    both = verify(world, {"verifiableCredential": issued.credential, "pullLink": link})
    assert both.status_code == 422, both.text
    assert verify(world, {}).status_code == 422


def test_the_qr_verifies_to_the_same_record(lists: World) -> None:
    world = lists
    issued, _ = deposited(world)
    text = world.qr_text(issued)
    answer = verify(world, {"qr": text})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["form"] == "qr" and report["verified"] is True, report["checks"]
    assert report["record"]["id"] == issued.credential_id
    from_jwt = verify(world, {"verifiableCredential": issued.credential}).json()
    assert report["record"] == from_jwt["record"]
    png = qr.qr_png(text, scale=4)
    image = verify(world, {"image": base64.b64encode(png).decode()})
    assert image.json()["verified"] is True and image.json()["record"] == report["record"]


# --- the page ---------------------------------------------------------------------------------


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.html: dict[str, str] = {}
        self.csrf = ""
        self.checks: dict[str, str] = {}
        self.dates: list[str] = []
        self._in_date = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html = values
        if tag == "input" and values.get("name") == "csrf_token":
            self.csrf = values["value"]
        if "data-check" in values:
            self.checks[values["data-check"]] = values["data-result"]
        self._in_date = "date" in values.get("class", "").split()

    def handle_data(self, data: str) -> None:
        if self._in_date and data.strip():
            self.dates.append(data.strip())
        self._in_date = False


def parsed(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_the_page_verifies_in_persian_by_default_and_in_english(lists: World) -> None:
    world = lists
    issued, _ = deposited(world)
    with httpx.Client(base_url=world.hub_url, timeout=60) as browser:
        form = browser.get("/verify")
        assert form.status_code == 200, form.text
        page = parsed(form.text)
        assert page.html == {"lang": "fa", "dir": "rtl"} and page.csrf
        refused = browser.post("/verify", data={"text": issued.credential})
        assert refused.status_code == 403, refused.text
        shown = browser.post("/verify", data={"text": issued.credential, "csrf_token": page.csrf})
        assert shown.status_code == 200, shown.text
        report = parsed(shown.text)
        assert report.checks == dict.fromkeys(CHECKS, "passed")
        assert "این سند راستی‌آزمایی شد" in shown.text
        assert report.dates and all(PERSIAN_DIGITS.search(d) for d in report.dates)

        english = browser.get("/verify?lang=en")
        assert parsed(english.text).html == {"lang": "en", "dir": "ltr"}
        token = parsed(english.text).csrf
        bad = browser.post("/verify", data={"text": tampered(issued.credential),
                                            "csrf_token": token})  # fmt: skip
        assert bad.status_code == 200, bad.text
        assert parsed(bad.text).checks["signature"] == "failed"
        assert "did not pass every check" in bad.text
        assert not any(PERSIAN_DIGITS.search(d) for d in parsed(bad.text).dates)

        # A picture of the QR, uploaded.
        png = qr.qr_png(world.qr_text(issued), scale=4)
        uploaded = browser.post(
            "/verify", data={"csrf_token": token},
            files={"file": ("qr.png", png, "image/png")},
        )  # fmt: skip
        assert uploaded.status_code == 200, uploaded.text
        assert parsed(uploaded.text).checks == dict.fromkeys(CHECKS, "passed")
        assert "QR code" in uploaded.text
