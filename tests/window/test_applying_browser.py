"""Applying once in a real browser (Debian's chromium through Playwright), over the apply world
(every part a real process): a person opens a service whose data comes from two registries of
two agencies, signs in, sees what will be read, from which registry and agency and why, asks
for it, sees the preview with each source and the time it answered, uses one item and declines
another (then types it), shares their birth-certificate extract from the locker, fills the form
with one error corrected, submits and sees the tracking code; the e-mail from the real SMTP
server carries it, and the application's timeline shows the task received by the tax
administration. Their applications, consents, data tracker and the lookup by tracking code are
visited too, and their profile, which lists the application's consents.

On every page: axe-core (WCAG 2.1 A and AA) reports no serious or critical violation, and at
375 px the page is no wider than the screen. Screenshots are saved under the test's folder and
their paths printed. SQLite only: the pages are the same whichever the database, and
``test_applying.py`` walks the same journey on both."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from window.applying import Journey
from window.audited import CHROMIUM, WIDTH, checked
from window.inboxes import wait_for_task
from zistboom.core.persian import normalize_digits

pytestmark = pytest.mark.timeout(900)

TOO_LONG = "وام مسکن از بانک ملی برای خرید آپارتمان در کاشان"  # over the form's 40 characters
PURPOSE = "وام مسکن"
TYPED_NAME = "نرگس‌خانم"


def _reload_until(page: Page, text: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while text not in page.locator("main").inner_text():
        assert time.monotonic() < deadline, f"{text!r} never showed on {page.url}"
        time.sleep(0.5)
        page.reload()


@pytest.mark.parametrize("session_backend_database", ["sqlite"], indirect=True)
def test_apply_once_in_a_browser_from_the_service_to_the_agency(
    journey: Journey, tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium", pytrace=False)
    world, shots, seen = journey.world, tmp_path / "screenshots", []
    resident = world.person
    window = world.window.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": WIDTH, "height": 812})
        page = context.new_page()
        try:
            # The service's page, then sign in from it: back on it afterwards.
            page.goto(window + journey.service_path)
            checked(page, shots, "service", seen)
            page.locator('main a[href^="/signin?return_to="]').first.click()
            page.wait_for_url(f"{world.provider.url}/authorize**")
            page.fill("input[name=identifier]", resident.national_code)
            mark = len(world.provider.output)
            page.locator('form[action="/authorize/identify"] button[type=submit]').first.click()
            page.wait_for_selector("input[name=code]")
            page.fill("input[name=code]", world.sms_code(resident.person, mark))
            page.locator('form[action="/authorize/verify"] button[type=submit]').first.click()
            page.wait_for_url(re.compile(re.escape(window) + r"/(me/names|services/)"))
            if "/me/names" in page.url:
                page.get_by_role("button", name="نامم را از مرجع بخوان").click()
            page.wait_for_url(f"{window}{journey.service_path}")

            # What will be read, from where and why; the explicit request to read it.
            page.locator("form.apply-form button[type=submit]").click()
            page.wait_for_url(re.compile(re.escape(window) + r"/applications/[^/?]+$"))
            application_url = page.url
            checked(page, shots, "request", seen)
            main = page.locator("main").inner_text()
            for expected in (
                world.persons_service, world.taxpayers_service, "متقاضی شناسایی می‌شود.",
                "بدهی قطعی شما بررسی می‌شود.", "سازمان امور مالیاتی کشور",
            ):  # fmt: skip
                assert expected in main, (expected, main[:2000])
            page.locator("button[name=choice][value=fetch]").click()

            # The preview: every source with the time it answered; the given name declined.
            page.wait_for_selector("form[action$='/choices']")
            checked(page, shots, "preview", seen)
            main = page.locator("main").inner_text()
            assert main.count("خوانده‌شده در") == 2, main[:2000]
            assert resident.record["family_name_fa"] in main
            page.locator(
                "xpath=//tr[th[normalize-space()='نام']]//input[@value='declined']"
            ).check()
            page.locator("form[action$='/choices'] button[type=submit]").click()

            # The document from the locker, shared with the responsible agency.
            page.wait_for_selector("form[action$='/documents']")
            checked(page, shots, "documents", seen)
            assert world.document_id in page.locator("main").inner_text()
            page.locator("form[action$='/documents'] button[type=submit]").click()

            # The form: one error, corrected.
            page.wait_for_selector("input[name=f-purpose]")
            checked(page, shots, "form", seen)
            page.locator("fieldset.self-declared input").fill(TYPED_NAME)
            page.fill("input[name=f-purpose]", TOO_LONG)
            page.fill("input[name=f-copies]", "2")
            page.locator("form[action$='/submit'] button[type=submit]").click()
            page.wait_for_selector("[role=alert]")
            checked(page, shots, "form-error", seen)
            assert "این مقدار بیش از ۴۰ نویسه است." in page.locator("main").inner_text()
            page.fill("input[name=f-purpose]", PURPOSE)
            mails = len(journey.smtp.mailbox.messages)
            page.locator("form[action$='/submit'] button[type=submit]").click()

            # The tracking code at once; the e-mail carries it; the agency receives the task.
            page.wait_for_selector("[data-tracking-code]")
            checked(page, shots, "submitted", seen)
            code = page.locator("[data-tracking-code]").first.get_attribute("data-tracking-code")
            assert code is not None and "درخواست شما ثبت شد" in page.content()
            mail = journey.smtp.mailbox.wait_for(resident.person.email, after=mails, seconds=60)
            assert code in _plain(mail)
            task = wait_for_task(world, world.tax, code)["task"]
            assert task["form"] == {"purpose": PURPOSE, "copies": 2}
            page.goto(application_url)
            _reload_until(page, "درخواست را دریافت کرد")
            checked(page, shots, "timeline", seen)

            # The person's own pages about it.
            for path, name, expected in (
                ("/me", "profile", "برای درخواست"),  # the application's consent, on the profile
                ("/applications", "applications", code),
                ("/me/consents", "consents", "سازمان امور مالیاتی کشور"),
                ("/me/data-tracker", "data-tracker", world.persons_service),
                ("/track", "track", ""),
            ):
                page.goto(window + path)
                checked(page, shots, name, seen)
                text = page.locator("main").inner_text()
                assert _bare(expected) in _bare(text), (path, text[:2000])
            page.goto(window + f"{application_url.removeprefix(window)}?lang=en")
            checked(page, shots, "timeline-en", seen)
            assert page.locator("html").get_attribute("dir") == "ltr"
        except Exception:
            shots.mkdir(parents=True, exist_ok=True)
            failed = shots / "failed.png"
            page.screenshot(path=str(failed), full_page=True)
            print(f"failed at {page.url}: {failed}\n{page.locator('body').inner_text()[:1500]}")
            raise
        finally:
            print("screenshots:", *seen, sep="\n  ")
            context.close()
            browser.close()


def _plain(message: object) -> str:
    body = message.get_body(("plain",))  # type: ignore[attr-defined]
    return re.sub(r"[^0-9]", "", normalize_digits(body.get_content())) if body else ""


def _bare(text: str) -> str:
    """Without spaces, dashes and zero-width non-joiners, in ASCII digits (a tracking code is
    shown in groups)."""
    return re.sub(r"[\s\-\u200c]", "", normalize_digits(text))
