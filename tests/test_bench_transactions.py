"""bench/transactions.py runs on its own: every message it had accepted ended delivered and was
pushed to the receiving system (``lost=0``), and it ends with its machine-readable line, every
figure a positive number (figures otherwise unchecked: timings belong to the benchmark, not to
a test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench" / "transactions.py"
NUMBER = r"\d+(?:\.\d+)?"
LAST_LINE = re.compile(
    rf"async_mps=(?P<async_mps>{NUMBER}) p50_received_ms=(?P<p50>{NUMBER}) "
    rf"drain_mps=(?P<drain>{NUMBER})"
)
SYNC = re.compile(rf"async/sync: {NUMBER} messages/s ÷ (?P<sync>{NUMBER}) round trips/s")


@pytest.mark.timeout(300)
def test_quick_run_loses_nothing_and_prints_the_summary_line_last() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=290
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("databases: SQLite"), lines[0]
    assert "lost=0 duplicates_at_system=" in result.stdout, result.stdout
    sync = SYNC.search(result.stdout)
    assert sync, result.stdout
    assert float(sync["sync"]) > 0
    match = LAST_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    for figure in ("async_mps", "p50", "drain"):
        assert float(match[figure]) > 0, lines[-1]
