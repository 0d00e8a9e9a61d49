"""Pages checked in a real browser: axe-core (WCAG 2.1 A and AA) finds no serious or critical
violation, the page fits a 375 px screen, and a screenshot of it is saved."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
WIDTH = 375
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def checked(page: Page, shots: Path, name: str, seen: list[str]) -> None:
    """The page passes axe (no serious or critical violation), fits 375 px, is saved."""
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width} px wide on a {WIDTH} px screen"
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    grave = [
        (v["id"], v["impact"], [n["html"][:120] for n in v["nodes"]])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert grave == [], (page.url, grave)
    shots.mkdir(parents=True, exist_ok=True)
    path = shots / f"{len(seen):02d}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    seen.append(str(path))
