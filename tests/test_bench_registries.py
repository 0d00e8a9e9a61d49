"""bench/registries.py runs on its own and ends with its machine-readable line (figures unchecked:
timings belong to the benchmark, not to a test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench" / "registries.py"
LAST_LINE = re.compile(r"read_rps=(?P<read>\d+) search_rps=(?P<search>\d+) via=exchange")


@pytest.mark.timeout(240)
def test_quick_run_prints_the_summary_line_last() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--duration", "1", "--sequential", "20",
         "--warmup", "0.5"],
        capture_output=True,
        text=True,
        timeout=200,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert "databases: SQLite" in result.stdout
    match = LAST_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    assert int(match["read"]) > 0
    assert int(match["search"]) > 0
