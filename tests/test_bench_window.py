"""bench/window.py runs on its own and ends with its machine-readable line, every figure a
positive number (figures otherwise unchecked: timings belong to the benchmark, not to a test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench" / "window.py"
NUMBER = r"\d+(?:\.\d+)?"
LAST_LINE = re.compile(
    rf"submit_per_s=(?P<submit>{NUMBER}) search_p50_ms=(?P<search>{NUMBER}) "
    rf"timeline_p50_ms=(?P<timeline>{NUMBER}) baseline_insert_per_s=(?P<baseline>{NUMBER})"
)


@pytest.mark.timeout(180)
def test_quick_run_prints_the_summary_line_last() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--duration", "1", "--sequential", "20",
         "--warmup", "0.5"],
        capture_output=True,
        text=True,
        timeout=150,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert "database: SQLite" in result.stdout
    assert "checked: one application of each of 4 services submitted" in result.stdout
    match = LAST_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    for figure in ("submit", "search", "timeline", "baseline"):
        assert float(match[figure]) > 0, lines[-1]
