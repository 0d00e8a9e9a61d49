"""bench/exchange.py runs on its own and ends with its machine-readable line (figures unchecked:
timings belong to the benchmark, not to a test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent.parent / "bench" / "exchange.py"
LAST_LINE = re.compile(
    r"ratio=(?P<ratio>\d+\.\d\d) secure_rps=(?P<secure>\d+) plain_rps=(?P<plain>\d+) "
    r"added_p50_ms=(?P<added>-?\d+\.\d\d)"
)


def test_quick_run_prints_the_summary_line_last() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--duration", "1", "--sequential", "20",
         "--warmup", "0.5"],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert "databases: SQLite" in result.stdout
    match = LAST_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    assert int(match["secure"]) > 0
    assert int(match["plain"]) > 0
