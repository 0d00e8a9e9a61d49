"""The single window's first journey in a real browser (Debian's chromium through Playwright),
every part a real process: a person signs in with a one-time code through the identity
provider, agrees to their names being read from the civil registry through the exchange,
searches the catalogue in Persian typing Arabic ي and ك and Arabic-Indic digits, finds an
e-invoicing service, opens its page (the data it pulls and from where, the documents, fees,
days, steps and agencies, and its provider's accreditation in central's trust list), switches
to English and signs out (at the window and at the provider).

On every page the browser visits: axe-core (WCAG 2.1 A and AA) reports no serious or critical
violation, and at 375 px the page is no wider than the screen. Screenshots of each page are
saved under the test's folder and their paths printed. Central here is the trust-list test
central (tests/trust_list_central.py): a real central process whose trust list the test
decides, so that the provider's accreditation is a real entry of a signed list. SQLite only:
the pages read the same services whichever the database, and the other modules run both."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from central.test_catalogue_accreditation import E_INVOICE, provider, publish
from trust_list_central import (
    Content,
    accreditation,
    change,
    put_content,
    running_list_central,
    scheme,
)
from window.audited import CHROMIUM, WIDTH, checked
from window.world import World, window_world
from window_site import definition

pytestmark = pytest.mark.timeout(900)

SERVICE_CODE = "e-invoice-registration"
SERVICE_NAME_FA = "ثبت صورتحساب الکترونیکی فروش (فرم ۳)"
SERVICE_NAME_EN = "Registering an electronic sales invoice (form 3)"
# Typed as an Arabic keyboard writes it: Arabic yeh and kaf, an Arabic-Indic three.
TYPED = "صورتحساب الكترونيكي فرم ٣"
rng = random.Random(5)


@dataclass
class Journey:
    world: World
    service_id: str
    scheme: str
    agency: str
    shots: Path


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    root = tmp_path_factory.mktemp("window-browser")
    for central in running_list_central(root / "central", None, {"ZB_CONF_REFRESH_SECONDS": "1"}):
        now = datetime.now(UTC)
        tax = scheme("tax", "e-invoice-provider", since=now - timedelta(days=60))
        company = provider(central, "COM", "company")
        granted = [change("granted", now - timedelta(days=10))]
        content = Content(
            schemes=[tax],
            accreditations=[
                accreditation(
                    1, tax.code, company.id, changes=granted, valid_until=now + timedelta(days=365)
                )
            ],
        )
        assert put_content(central, content).status_code == 204
        service_id = f"{company.id}/invoicing/eInvoices"
        listed = publish(central, company.statement("invoicing", "eInvoices", **E_INVOICE))
        assert listed.status_code in (200, 201), listed.text
        with window_world(root, None, central=central, seed_catalogue=True) as world:
            with world.window.operator() as operator:
                added = operator.post(
                    "/api/v1/agencies",
                    json={"member_id": company.id, "name_fa": "شرکت صورتحساب نمونه",
                          "name_en": "Sample invoicing company"},
                )  # fmt: skip
                assert added.status_code == 201, added.text
                key = operator.post(f"/api/v1/agencies/{company.id}/keys").json()["key"]
            body = definition(
                SERVICE_CODE,
                name_fa=SERVICE_NAME_FA,
                name_en=SERVICE_NAME_EN,
                summary_fa="ثبت صورتحساب فروش کالا و خدمات در سامانهٔ مودیان",
                summary_en="Registering a sales invoice with the taxpayers' system",
                keywords_fa=["صورتحساب", "مودیان"],
                keywords_en=["e-invoice", "taxpayers"],
                ecosystem="tax",
                audience=["business"],
                outcome={"kind": "e-invoice-registration", "name_fa": "شمارهٔ رهگیری صورتحساب",
                         "name_en": "The invoice's tracking number"},
                base_data=[{"registry": world.exchange.persons_service,
                            "items": ["given_name_fa", "family_name_fa"],
                            "why_fa": "نام فروشنده روی صورتحساب",
                            "why_en": "The seller's name on the invoice"}],
                documents=[{"document_type": "business-licence", "why_fa": "پروانهٔ کسب فروشنده",
                            "why_en": "The seller's business licence"}],
                fees=[{"amount_rials": 250000, "label_fa": "کارمزد ثبت",
                       "label_en": "Registration fee"}],
                expected_days=2,
                steps=[
                    {"key": "register", "name_fa": "ثبت صورتحساب", "name_en": "Registration",
                     "agencies": [company.id], "deadline_days": 1},
                    {"key": "confirm", "name_fa": "تأیید سازمان امور مالیاتی",
                     "name_en": "Confirmation by the tax administration",
                     "agencies": [world.exchange.civil], "deadline_days": 1, "after": ["register"]},
                ],
                provider_service=service_id,
            )  # fmt: skip
            with httpx.Client(
                base_url=world.window.url, headers={"Authorization": f"Bearer {key}"}
            ) as client:
                put = client.put(f"/api/v1/services/{SERVICE_CODE}", json=body)
                assert put.status_code == 201, put.text
            yield Journey(world, service_id, tax.code, company.id, root / "screenshots")


def test_sign_in_search_a_service_read_its_page_in_both_languages_and_sign_out(
    journey: Journey,
) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium", pytrace=False)
    world, seen = journey.world, []
    person = world.people[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": WIDTH, "height": 812})
        page = context.new_page()
        try:
            page.goto(world.window.url + "/")
            assert page.locator("html").get_attribute("dir") == "rtl"
            checked(page, journey.shots, "home", seen)

            # Sign in: the provider's pages, a code by SMS (the console adapter's line).
            page.get_by_role("link", name="ورود").click()
            page.wait_for_url(f"{world.provider.url}/authorize**")
            checked(page, journey.shots, "provider-sign-in", seen)
            page.fill("input[name=identifier]", person.national_code)
            mark = len(world.provider.output)
            page.locator('form[action="/authorize/identify"] button[type=submit]').first.click()
            page.wait_for_selector("input[name=code]")
            checked(page, journey.shots, "provider-code", seen)
            page.fill("input[name=code]", world.sms_code(person, mark))
            page.locator('form[action="/authorize/verify"] button[type=submit]').first.click()
            page.wait_for_url(f"{world.window.url}/me/names**")
            checked(page, journey.shots, "names-consent", seen)
            assert world.exchange.persons_service in page.content()
            page.get_by_role("button", name="نامم را از مرجع بخوان").click()
            page.wait_for_url(f"{world.window.url}/me")
            checked(page, journey.shots, "profile", seen)
            assert "نرگس رضایی" in page.content()  # the civil registry's, not the provider's

            # Search in Persian, typed with Arabic letters and digits.
            page.goto(world.window.url + "/")
            page.fill("#q", TYPED)
            page.get_by_role("button", name="جست‌وجو").first.click()
            page.wait_for_url(f"{world.window.url}/services?**")
            checked(page, journey.shots, "search", seen)
            link = page.locator(f'a[href$="/{SERVICE_CODE}"]').first
            assert SERVICE_NAME_FA in link.inner_text()
            link.click()
            page.wait_for_url(f"**/{SERVICE_CODE}")
            checked(page, journey.shots, "service", seen)
            text = page.locator("main").inner_text()
            for expected in (
                SERVICE_NAME_FA,
                "نام فروشنده روی صورتحساب",  # why the data is pulled
                world.exchange.persons_service,  # from which registry
                "پروانهٔ کسب فروشنده",  # the document from the locker
                "۲۵۰٬۰۰۰",  # the fee, Persian digits and grouping
                "ثبت صورتحساب",  # a step
                "تأیید سازمان امور مالیاتی",
                journey.scheme,  # the provider's accreditation, from the trust list
            ):
                assert expected in text, (expected, text[:3000])

            # English.
            page.locator("nav.language-switch a").click()
            page.wait_for_url("**lang=en**")
            checked(page, journey.shots, "service-en", seen)
            assert page.locator("html").get_attribute("dir") == "ltr"
            english = page.locator("main").inner_text()
            assert SERVICE_NAME_EN in english
            assert f"Accredited under scheme {journey.scheme}." in english
            assert "250,000" in english

            # Sign out: the window's session ends, then the provider's.
            page.locator('form[action="/signout"] button').click()
            page.wait_for_url(f"{world.window.url}/signed-out**")
            checked(page, journey.shots, "signed-out", seen)
            assert page.locator("html").get_attribute("lang") == "en"
            page.goto(world.window.url + "/me")
            assert "/authorize" in page.url  # not signed in: sent to the provider again
            assert page.locator("input[name=identifier]").count() == 1
        except Exception:
            journey.shots.mkdir(parents=True, exist_ok=True)
            failed = journey.shots / "failed.png"
            page.screenshot(path=str(failed), full_page=True)
            print(f"failed at {page.url}: {failed}\n{page.locator('body').inner_text()[:1500]}")
            raise
        finally:
            print("screenshots:", *seen, sep="\n  ")
            context.close()
            browser.close()
