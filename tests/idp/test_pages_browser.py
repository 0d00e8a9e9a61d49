"""The sign-in pages in a real browser (Debian's chromium, driven by Playwright) against a real
provider: a person signs in with the keyboard's worth of steps (the identifier in Persian
digits, the code from the console SMS), and is sent back to the client with a code; axe-core
finds no accessibility violation on the sign-in, code and error pages, in Persian and English;
on a 375 px phone nothing is wider than the screen. SQLite only: the pages read the provider
through the same services whichever the database, and the flow's tests run both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Route, ViewportSize, sync_playwright

from idp.provider import WINDOW, WINDOW_REDIRECT, Provider, start_provider
from zistboom.core.persian import to_persian_digits

pytestmark = pytest.mark.timeout(300)
CHROMIUM = Path("/usr/bin/chromium")
MOBILE = ViewportSize(width=375, height=812)


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    started = start_provider(tmp_path_factory.mktemp("browser"), None)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def browser(provider: Provider) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install chromium`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


def authorize_url(provider: Provider) -> str:
    client = AsyncOAuth2Client(
        client_id=WINDOW, redirect_uri=WINDOW_REDIRECT, scope="openid profile",
        code_challenge_method="S256",
    )  # fmt: skip
    url, _ = client.create_authorization_url(
        f"{provider.url}/authorize", code_verifier=generate_token(48), nonce="n", state="s-1"
    )
    return str(url)


def assert_accessible(page: Page) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def assert_fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= MOBILE["width"], f"the page is {width} px wide on a 375 px screen"


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_a_person_signs_in_in_the_browser_and_the_pages_are_accessible(
    browser: Browser, provider: Provider, lang: str
) -> None:
    context = browser.new_context(viewport=MOBILE, is_mobile=True)
    try:
        page = context.new_page()
        arrived: list[str] = []

        def client_callback(route: Route) -> None:
            arrived.append(route.request.url)
            route.fulfill(status=200, body="back at the client", content_type="text/plain")

        page.route("http://127.0.0.1:9/**", client_callback)
        page.goto(authorize_url(provider) + ("&lang=en" if lang == "en" else ""))
        assert page.locator("html").get_attribute("lang") == lang
        assert_accessible(page)
        assert_fits(page)
        person = provider.people[0]
        label = "National code or foreign-national ID" if lang == "en" else "کد ملی"
        page.get_by_label(label).fill(to_persian_digits(person.national_code))
        mark = len(provider.output)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_selector("#code")
        assert_accessible(page)
        assert_fits(page)
        code = provider.sms_code(person.phone_number, after=mark)
        page.fill("#code", "000000" if code != "000000" else "111111")
        page.locator("form button[type=submit]").first.click()
        page.wait_for_selector("#code-error")
        assert_accessible(page)  # the error, tied to its field
        page.fill("#code", code)
        page.locator("form button[type=submit]").first.click()
        page.wait_for_url(f"{WINDOW_REDIRECT}*")
        assert arrived, "the browser was not sent back to the client"
        query = parse_qs(urlsplit(arrived[-1]).query)
        assert query["state"] == ["s-1"] and query["code"]
    finally:
        context.close()


def test_the_error_page_is_accessible(browser: Browser, provider: Provider) -> None:
    context = browser.new_context(viewport=MOBILE, is_mobile=True)
    try:
        page = context.new_page()
        response = page.goto(authorize_url(provider).replace("client_id=window", "client_id=x"))
        assert response is not None and response.status == 400
        assert_accessible(page)
        assert_fits(page)
    finally:
        context.close()
