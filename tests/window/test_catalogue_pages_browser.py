"""The catalogue's pages in a real browser (Debian's chromium through Playwright): no
horizontal scroll at 375 px in Persian or English, and no axe-core violation of WCAG 2.1 A/AA.
Rendering does not depend on the database, so this module serves the window on SQLite only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, sync_playwright

from support import free_port
from window_site import seed_database, serve
from zistboom.window.settings import WindowSettings

CHROMIUM = Path("/usr/bin/chromium")
PAGES = (
    "/services",
    "/services?q=%DA%A9%D8%A7%D8%B1%D8%AA",
    "/services/IR-DEMO/GOV/12147922321/smart-national-card",
    "/services/IR-DEMO/GOV/16394841376/business-licence",
    "/parallel-systems",
)
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def window_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = WindowSettings(
        data_dir=tmp_path_factory.mktemp("window"),
        port=free_port(),
        central_url=f"http://127.0.0.1:{free_port()}",
    )
    seed_database(settings)
    yield from serve(settings)


@pytest.fixture(scope="module")
def browser(window_url: str) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium", pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_no_horizontal_scroll_at_375_px_and_no_axe_violation(
    browser: Browser, window_url: str, lang: str
) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    axe = Axe()
    try:
        for path in PAGES:
            joiner = "&" if "?" in path else "?"
            page.goto(f"{window_url}{path}{joiner}lang={lang}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} is {width} px wide on a 375 px screen ({lang})"
            results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
            violations = results.response["violations"]
            found = [(v["id"], [n["html"] for n in v["nodes"]]) for v in violations]
            assert found == [], (path, lang, found)
    finally:
        context.close()
