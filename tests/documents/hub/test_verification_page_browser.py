"""The public verification page (``documents/hub/pages.py``) in a real browser: Debian's
chromium, driven by Playwright, against a real hub in the world of ``world.py`` (real central,
real issuer keys, real TSA timestamps, signed status lists).

The page is opened Persian (right to left) by default and switched to English; a good document
is verified in each form a person can give it (its VC-JWT and its QR text pasted, its signed PDF
and a picture of its QR uploaded, its pull link pasted), a tampered and a revoked one fail by the
check's name; dates carry Persian digits on the Persian page and Latin ones on the English page;
the form carries its CSRF token; the controls are reached with Tab, labelled, and show a focus
ring. Screenshots of the main states are saved (full page) and their paths printed.

Here, not in ``tests/web/``: the page is the hub's (``src/zistboom/documents/hub/``), and its
documents come from the hub's world. The world runs on SQLite only: the page reads the hub
through the same services whichever the database, and the hub's own tests run both backends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from documents.hub.test_deposits_and_status_lists import tampered
from documents.hub.world import Issued, World, build_world, new_person
from zistboom.core.crypto import x509
from zistboom.documents import pdf, qr, vc
from zistboom.documents.checks import CHECK_NAMES, MESSAGES_FA, PDF_CHECK
from zistboom.documents.timestamps import imprint_of_signature, trusted_time
from zistboom.documents.types import load_seed_types
from zistboom.web.csrf import CSRF_COOKIE, CSRF_FIELD
from zistboom.web.formatting import DateFormatter
from zistboom.web.i18n import FA, Catalogue

pytestmark = pytest.mark.timeout(600)

CHROMIUM = Path("/usr/bin/chromium")
TYPE = "birth-certificate-extract"
CHECKS = list(CHECK_NAMES)
PDF_CHECKS = [*CHECK_NAMES, PDF_CHECK]
PERSIAN_DIGIT = re.compile("[۰-۹]")
LATIN_DIGIT = re.compile("[0-9]")
VERIFIED_FA = "این سند راستی‌آزمایی شد."
FAILED_FA = "این سند همهٔ بررسی‌ها را با موفقیت نگذراند."
VERIFIED_EN = "This document is verified."
BACKDATE = timedelta(days=40)
FA_DATES = DateFormatter(FA, Catalogue.load())
MOBILE = ViewportSize(width=375, height=812)


@dataclass(frozen=True)
class Documents:
    """What the tests present: one good document in every form, a tampered and a revoked one."""

    good: Issued
    good_qr: str
    good_pdf: bytes
    good_png: bytes
    good_link: str
    tampered: str
    revoked: Issued
    backdated: Issued
    """Signed now, its ``iat`` claiming a time 40 days ago."""
    backdated_time: datetime
    """Its trusted time of issue (its timestamp's genTime)."""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One hub world for the module (SQLite), with the issuer's empty status lists published."""
    for world in build_world(tmp_path_factory.mktemp("page-world"), None):
        start = datetime.now(UTC).replace(microsecond=0)
        for purpose in ("revocation", "suspension"):
            published = world.put_status_list(
                world.status_list(purpose=purpose, valid_from=start), purpose=purpose
            )
            assert published.status_code == 200, published.text
        yield world


def deposited(world: World) -> tuple[Issued, str]:
    issued = world.issue(new_person())
    answer = world.deposit(issued)
    assert answer.status_code == 201, answer.text
    return issued, str(answer.json()["pullLink"])


def trusted_time_of(world: World, issued: Issued) -> datetime:
    """The genTime of the document's timestamp, checked against the instance CA."""
    ca = x509.load_certificate(httpx.get(f"{world.central.url}/api/v1/ca/certificate").text)
    imprint = imprint_of_signature(vc.parse_credential(issued.credential).signature)
    return trusted_time(issued.timestamp_token, imprint, [], ca_certificates=[ca])


def signed_pdf(world: World, issued: Issued, qr_text: str, pull_link: str) -> bytes:
    """The document's PDF as its issuer makes it: rendered, then signed PAdES B-T."""
    credential = vc.parse_credential(issued.credential)
    issued_at = trusted_time_of(world, issued)
    definition = next(t for t in load_seed_types() if t.code == TYPE)
    document = pdf.RenderInput.from_credential(
        credential,
        document_type=definition,
        issuer_name_fa="ثبت احوال",
        issuer_name_en=world.issuer.name,
        issued_at=issued_at,
        qr_text=qr_text,
        pull_link=pull_link,
        timestamp_token=issued.timestamp_token,
    )
    key, (cert, *chain) = world.issuer.key, world.issuer.chain
    return pdf.sign_pdf(pdf.render_pdf(document), key, cert, chain, world.tsa_url)


def revoke(world: World, issued: Issued) -> None:
    """Set the document's bit in a newer revocation list, as its issuer would."""
    index = vc.parse_credential(issued.credential).document.status_entry("revocation").index
    newer = world.status_list(
        set_indexes=(index,),
        valid_from=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1),
    )
    answer = world.put_status_list(newer)
    assert answer.status_code == 200 and answer.json()["replaced"] is True, answer.text


@pytest.fixture(scope="module")
def documents(hub: World) -> Documents:
    good, link = deposited(hub)
    qr_text = hub.qr_text(good)
    revoked, _ = deposited(hub)
    revoke(hub, revoked)
    backdated = hub.issue(new_person(), iat=datetime.now(UTC).replace(microsecond=0) - BACKDATE)
    assert hub.deposit(backdated).status_code == 201
    return Documents(
        good=good,
        good_qr=qr_text,
        good_pdf=signed_pdf(hub, good, qr_text, link),
        good_png=qr.qr_png(qr_text, scale=4),
        good_link=link,
        tampered=tampered(good.credential),
        revoked=revoked,
        backdated=backdated,
        backdated_time=trusted_time_of(hub, backdated),
    )


@pytest.fixture(scope="module")
def browser(documents: Documents) -> Iterator[Browser]:
    """Debian's chromium, once for the module.

    It starts after the documents are made: Playwright's sync API leaves its event loop marked
    running in this thread, so the world's ``asyncio.run`` (issuing, timestamps, signing)
    cannot run once it has started."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's chromium; install it with "
            "`apt-get install chromium` (.ci/run does). Never `playwright install`.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, hub: World) -> Iterator[Page]:
    """A fresh browser context (its own cookies) with the verification page open."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.goto(f"{hub.hub_url}/verify")
    try:
        yield opened
    finally:
        context.close()


# --- reading the page ---------------------------------------------------------------------------


def html_attributes(page: Page) -> dict[str, str | None]:
    return {
        "dir": page.get_attribute("html", "dir"),
        "lang": page.get_attribute("html", "lang"),
    }


def shot(page: Page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def submit_text(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.click("button[type=submit]")
    page.wait_for_selector("#result")


def submit_file(page: Page, name: str, mime: str, content: bytes) -> None:
    page.set_input_files("#file", {"name": name, "mimeType": mime, "buffer": content})
    page.click("button[type=submit]")
    page.wait_for_selector("#result")


@dataclass(frozen=True)
class ShownCheck:
    name: str
    result: str
    code: str
    """The stable name as the row shows it to a person."""
    result_text: str
    reason: str


def shown_checks(page: Page) -> list[ShownCheck]:
    rows = page.locator("tr[data-check]").evaluate_all(
        """rows => rows.map(row => ({
            name: row.dataset.check,
            result: row.dataset.result,
            code: row.querySelector('th code').innerText,
            result_text: row.cells[1].innerText,
            reason: row.cells[2].innerText,
        }))"""
    )
    return [ShownCheck(**row) for row in rows]


def results(page: Page) -> dict[str, str]:
    return {check.name: check.result for check in shown_checks(page)}


def verdict(page: Page) -> tuple[str | None, str]:
    result = page.locator("#result")
    return result.get_attribute("data-verified"), result.inner_text().strip()


def dates(page: Page) -> list[str]:
    texts = page.locator(".date").all_inner_texts()
    assert texts, "the page shows no dates"
    return texts


def assert_all_passed(page: Page, names: list[str], result_text: str) -> None:
    checks = shown_checks(page)
    assert [c.name for c in checks] == names, checks
    for check in checks:
        assert check.result == "passed", check
        assert check.code == check.name and check.result_text == result_text, check
        assert check.reason, check


NAME_OFFSETS = """rows => rows.map(th => {
    const code = th.querySelector('code').getBoundingClientRect();
    const box = th.getBoundingClientRect();
    const style = getComputedStyle(th);
    const rtl = style.direction === 'rtl';
    return rtl ? box.right - parseFloat(style.paddingRight) - code.right
               : code.left - box.left - parseFloat(style.paddingLeft);
})"""


def assert_names_at_row_start(page: Page) -> None:
    """Each stable name sits at the start of its row (the right on a Persian page), under the
    check's words, though the name itself runs left to right."""
    offsets = page.locator("tr[data-check] th").evaluate_all(NAME_OFFSETS)
    assert offsets and all(abs(offset) < 1 for offset in offsets), offsets


def assert_persian_dates(page: Page) -> None:
    for text in dates(page):
        assert PERSIAN_DIGIT.search(text) and not LATIN_DIGIT.search(text), text


def assert_record(page: Page, issued: Issued) -> None:
    assert page.locator(".report dd.code").inner_text().strip() == issued.credential_id


# --- the tests ----------------------------------------------------------------------------------


def test_the_empty_page_is_persian_right_to_left_and_switches_to_english(
    page: Page, tmp_path: Path
) -> None:
    assert html_attributes(page) == {"dir": "rtl", "lang": "fa"}
    assert page.locator("h1").inner_text() == "راستی‌آزمایی سند"
    # The page really lays out right to left: the heading starts at the right.
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).direction") == "rtl"
    shot(page, tmp_path, "empty-fa")

    page.click(".language-switch a")
    page.wait_for_load_state()
    assert html_attributes(page) == {"dir": "ltr", "lang": "en"}
    assert page.locator("h1").inner_text() == "Verify a document"
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).direction") == "ltr"
    page.click(".language-switch a")
    page.wait_for_load_state()
    assert html_attributes(page) == {"dir": "rtl", "lang": "fa"}


def test_a_good_vc_jwt_verifies_in_persian_with_persian_digits(
    page: Page, documents: Documents, tmp_path: Path
) -> None:
    submit_text(page, documents.good.credential)
    assert verdict(page) == ("true", VERIFIED_FA)
    assert_all_passed(page, CHECKS, "موفق")
    assert_record(page, documents.good)
    assert_persian_dates(page)
    assert html_attributes(page) == {"dir": "rtl", "lang": "fa"}
    assert_names_at_row_start(page)
    shot(page, tmp_path, "good-fa")


def test_a_good_qr_text_verifies(page: Page, documents: Documents) -> None:
    submit_text(page, documents.good_qr)
    assert verdict(page) == ("true", VERIFIED_FA)
    assert_all_passed(page, CHECKS, "موفق")
    assert_record(page, documents.good)
    assert page.get_by_text("کد QR", exact=True).count() == 1


def test_a_good_pdf_uploaded_verifies_with_its_pdf_signature(
    page: Page, documents: Documents
) -> None:
    submit_file(page, "document.pdf", "application/pdf", documents.good_pdf)
    assert verdict(page) == ("true", VERIFIED_FA)
    assert_all_passed(page, PDF_CHECKS, "موفق")
    assert_record(page, documents.good)


def test_a_picture_of_the_qr_uploaded_verifies(page: Page, documents: Documents) -> None:
    submit_file(page, "qr.png", "image/png", documents.good_png)
    assert verdict(page) == ("true", VERIFIED_FA)
    assert_all_passed(page, CHECKS, "موفق")
    assert_record(page, documents.good)


def test_a_good_pull_link_verifies(page: Page, documents: Documents) -> None:
    submit_text(page, documents.good_link)
    assert verdict(page) == ("true", VERIFIED_FA)
    assert_all_passed(page, CHECKS, "موفق")
    assert_record(page, documents.good)
    assert page.get_by_text("پیوند", exact=True).count() == 1


def test_a_pull_link_opened_in_the_browser_is_the_page_and_json_to_anything_else(
    page: Page, documents: Documents, tmp_path: Path
) -> None:
    page.goto(documents.good_link)
    assert html_attributes(page) == {"dir": "rtl", "lang": "fa"}
    assert verdict(page) == ("true", VERIFIED_FA)
    assert_all_passed(page, CHECKS, "موفق")
    assert_record(page, documents.good)
    shot(page, tmp_path, "pull-link-fa")
    # "Verify another" leads to the page's form, which verifies at /verify, not at the link.
    page.get_by_role("link", name="راستی‌آزمایی سندی دیگر").click()
    page.wait_for_load_state()
    assert page.url.endswith("/verify"), page.url
    submit_text(page, documents.tampered)
    assert page.url.endswith("/verify"), page.url
    assert verdict(page) == ("false", FAILED_FA)
    answer = httpx.get(documents.good_link, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json"), answer.headers
    assert answer.json()["status"] == "valid"


def test_a_tampered_vc_jwt_fails_its_signature(
    page: Page, documents: Documents, tmp_path: Path
) -> None:
    submit_text(page, documents.tampered)
    assert verdict(page) == ("false", FAILED_FA)
    checks = {check.name: check for check in shown_checks(page)}
    assert list(checks) == CHECKS
    signature = checks["signature"]
    assert (signature.result, signature.code, signature.result_text) == (
        "failed",
        "signature",
        "ناموفق",
    )
    assert signature.reason == MESSAGES_FA["signature.invalid"]
    assert page.locator("#result.report__result--failed").count() == 1
    # The failed result is marked apart from the passed ones (the word says it, colour repeats).
    colours = page.locator("tr[data-check] .result").evaluate_all(
        "els => els.map(e => getComputedStyle(e).backgroundColor)"
    )
    failed_at = list(checks).index("signature")
    assert all(c != colours[failed_at] for i, c in enumerate(colours) if i != failed_at), colours
    shot(page, tmp_path, "tampered-fa")


def test_a_revoked_document_fails_its_status_with_a_persian_reason(
    page: Page, documents: Documents, tmp_path: Path
) -> None:
    submit_text(page, documents.revoked.credential)
    assert verdict(page) == ("false", FAILED_FA)
    shown = results(page)
    assert shown["status"] == "failed"
    assert {name for name, result in shown.items() if result == "failed"} == {"status"}, shown
    status = next(check for check in shown_checks(page) if check.name == "status")
    assert status.code == "status" and status.result_text == "ناموفق"
    assert status.reason == MESSAGES_FA["status.revoked"] == "سند باطل شده است."
    assert_persian_dates(page)
    shot(page, tmp_path, "revoked-fa")


def test_the_time_of_issue_shown_is_the_timestamps_not_the_issuers_iat(
    page: Page, documents: Documents
) -> None:
    submit_text(page, documents.backdated.credential)
    assert verdict(page) == ("true", VERIFIED_FA)
    shown = page.locator("time[data-field=issued-at]")
    assert datetime.fromisoformat(str(shown.get_attribute("datetime"))) == (
        documents.backdated_time
    )
    iat = vc.parse_credential(documents.backdated.credential).iat
    assert iat is not None and documents.backdated_time - iat >= BACKDATE
    assert shown.inner_text() == FA_DATES.moment(documents.backdated_time)
    assert FA_DATES.moment(iat) not in page.locator(".report").inner_text()


def test_the_english_page_verifies_with_latin_digits(
    page: Page, documents: Documents, tmp_path: Path
) -> None:
    page.click(".language-switch a")
    page.wait_for_load_state()
    assert html_attributes(page) == {"dir": "ltr", "lang": "en"}
    submit_text(page, documents.good.credential)
    assert html_attributes(page) == {"dir": "ltr", "lang": "en"}
    assert verdict(page) == ("true", VERIFIED_EN)
    assert_all_passed(page, CHECKS, "passed")
    for text in dates(page):
        assert LATIN_DIGIT.search(text) and not PERSIAN_DIGIT.search(text), text
    reasons = " ".join(check.reason for check in shown_checks(page))
    assert not PERSIAN_DIGIT.search(reasons), reasons
    assert_names_at_row_start(page)
    shot(page, tmp_path, "good-en")


def test_the_good_result_fits_a_375_px_phone(
    browser: Browser, hub: World, documents: Documents, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=MOBILE, device_scale_factor=2, is_mobile=True)
    try:
        phone = context.new_page()
        phone.goto(f"{hub.hub_url}/verify")
        submit_text(phone, documents.good.credential)
        assert verdict(phone) == ("true", VERIFIED_FA)
        assert_all_passed(phone, CHECKS, "موفق")
        # Nothing wider than the screen: no sideways scrolling on a phone (WCAG 1.4.10).
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= MOBILE["width"], f"the page is {width} px wide on a 375 px screen"
        assert_names_at_row_start(phone)
        shot(phone, tmp_path, "good-fa-375px")
        # The page a pull link opens (the link printed on the paper, typed into a phone).
        phone.goto(documents.good_link)
        assert verdict(phone) == ("true", VERIFIED_FA)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= MOBILE["width"], f"the page is {width} px wide on a 375 px screen"
        shot(phone, tmp_path, "pull-link-fa-375px")
    finally:
        context.close()


def test_the_form_carries_its_csrf_token_and_refuses_a_post_without_it(
    page: Page, hub: World, documents: Documents
) -> None:
    token = page.get_attribute(f"form input[type=hidden][name={CSRF_FIELD}]", "value")
    assert token and "." in token
    cookie = next(c for c in page.context.cookies() if c["name"] == CSRF_COOKIE)
    assert cookie["value"] == token and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find(CSRF_COOKIE) == -1  # not readable by scripts

    with httpx.Client(base_url=hub.hub_url, timeout=60) as client:
        client.get("/verify")  # the cookie, as a browser holds it
        refused = client.post("/verify", data={"text": documents.good.credential})
        assert refused.status_code == 403, refused.text
        assert refused.json()["type"].endswith("/csrf-refused")
    # Nor without the cookie, with the page's own token (another site's form).
    foreign = httpx.post(
        f"{hub.hub_url}/verify",
        data={"text": documents.good.credential, CSRF_FIELD: token},
        timeout=60,
    )
    assert foreign.status_code == 403, foreign.text

    # In the browser: the same form with its token removed is refused too.
    page.evaluate(f"document.querySelector('input[name={CSRF_FIELD}]').remove()")
    page.fill("#text", documents.good.credential)
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.click("button[type=submit]")
    assert sent.value.status == 403


FOCUS_STATE = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return {
        control: el.matches('.skip-link') ? 'skip link'
            : el.closest('.language-switch') ? 'language switch'
            : el.tagName.toLowerCase() + (el.id ? '#' + el.id : '[type=' + el.type + ']'),
        outlineStyle: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth),
        outlineColor: style.outlineColor,
        visible: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight,
        text: (el.innerText || '').trim(),
    };
}"""


def test_the_controls_are_reached_with_tab_labelled_and_show_their_focus(page: Page) -> None:
    # Every control a person fills has a visible label tied to it.
    controls = page.locator("form input:not([type=hidden]), form textarea, form select")
    assert controls.count() == 2
    for control in controls.all():
        labels = control.evaluate("el => Array.from(el.labels).map(l => l.innerText.trim())")
        assert labels and all(labels), control
        assert page.locator(f"label[for={control.get_attribute('id')}]").is_visible()
        assert control.get_attribute("aria-describedby"), control

    focused = []
    for _ in range(5):
        page.keyboard.press("Tab")
        focused.append(page.evaluate(FOCUS_STATE))
    reached = [state["control"] for state in focused]
    assert reached == [
        "skip link",
        "language switch",
        "textarea#text",
        "input#file",
        "button[type=submit]",
    ], reached
    assert focused[1]["text"] == "English"
    for state in focused:
        assert state["visible"], state
        assert state["outlineStyle"] != "none" and state["outlineWidth"] >= 2, state

    # The skip link leads to the main landmark.
    for _ in range(4):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate(FOCUS_STATE)["control"] == "skip link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_what_is_no_document_is_not_verified(page: Page) -> None:
    """The page's results come from verification, not from its template: nonsense fails."""
    page.fill("#text", "ZB1:not-a-document")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#result[data-verified=true]").count() == 0
    assert page.locator(".field__error, #result[data-verified=false]").count() == 1
