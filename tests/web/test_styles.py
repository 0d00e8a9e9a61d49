"""The style sheet: WCAG 2.1 AA contrast for each text colour on its background (4.5:1) and the
focus ring on what it surrounds (3:1), fonts from the system only."""

from __future__ import annotations

import re
import subprocess
from importlib import resources
from pathlib import Path

import pytest

CSS = resources.files("zistboom.web").joinpath("static", "zistboom.css").read_text()
COLOURS = dict(re.findall(r"--(zb-[a-z-]+):\s*(#[0-9a-f]{6});", CSS))

TEXT_PAIRS = [
    ("zb-text", "zb-bg"),
    ("zb-text", "zb-surface"),
    ("zb-muted", "zb-bg"),
    ("zb-link", "zb-bg"),
    ("zb-link-visited", "zb-bg"),
    ("zb-header-text", "zb-header-bg"),
    ("zb-button-text", "zb-button-bg"),
    ("zb-error", "zb-bg"),
    ("zb-passed", "zb-passed-bg"),
    ("zb-failed", "zb-failed-bg"),
    ("zb-skipped", "zb-skipped-bg"),
    ("zb-muted", "zb-surface"),
    # a failed check's row: its text, its stable name and its result badge
    ("zb-text", "zb-failed-bg"),
    ("zb-muted", "zb-failed-bg"),
]
NON_TEXT_PAIRS = [
    ("zb-focus", "zb-bg"),
    ("zb-focus", "zb-surface"),
    ("zb-focus-on-dark", "zb-header-bg"),
    ("zb-border", "zb-bg"),
]


def luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_function_knows_the_wcag_examples() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast("#777777", "#ffffff") < 4.5


@pytest.mark.parametrize(("text", "background"), TEXT_PAIRS)
def test_text_colours_meet_aa(text: str, background: str) -> None:
    assert contrast(COLOURS[text], COLOURS[background]) >= 4.5


@pytest.mark.parametrize(("mark", "background"), NON_TEXT_PAIRS)
def test_focus_and_borders_meet_the_non_text_contrast(mark: str, background: str) -> None:
    assert contrast(COLOURS[mark], COLOURS[background]) >= 3


def test_every_colour_of_the_sheet_is_checked() -> None:
    checked = {name for pair in TEXT_PAIRS + NON_TEXT_PAIRS for name in pair}
    assert set(COLOURS) == checked
    # No colour is written outside the variables above.
    body = CSS.split("}", 1)[1]
    assert not re.search(r"#[0-9a-fA-F]{3,8}\b", body)


def test_focus_is_visible_and_fonts_come_from_the_system() -> None:
    assert re.search(r":focus-visible\s*\{\s*outline: 3px solid var\(--zb-focus\)", CSS)
    assert "outline: none" not in CSS.replace("main:focus {\n  outline: none;", "")
    assert '"Vazirmatn", "Noto Sans Arabic", "Noto Naskh Arabic", Tahoma, sans-serif' in CSS
    assert "@font-face" not in CSS and "url(" not in CSS
    repository = Path(__file__).resolve().parents[2]
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=repository, capture_output=True, text=True, check=True
    ).stdout.split()
    fonts = [f for f in tracked if re.search(r"\.(ttf|otf|woff2?|eot)$", f, re.IGNORECASE)]
    assert fonts == []
