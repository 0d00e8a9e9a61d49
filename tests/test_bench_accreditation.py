"""bench/accreditation.py runs on its own and ends with its machine-readable line, every figure a
positive number (the requirement's cost may be negative; figures otherwise unchecked: timings
belong to the benchmark, not to a test)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench" / "accreditation.py"
LAST_LINE = re.compile(
    r"trqp_rps=(?P<trqp>\d+) trqp_past_rps=(?P<trqp_past>\d+) "
    r"exchange_rps=(?P<exchange>\d+) exchange_accredited_rps=(?P<accredited>\d+) "
    r"requirement_cost_pct=(?P<cost>-?\d+\.\d)"
)


@pytest.mark.timeout(300)
def test_quick_run_prints_the_summary_line_last() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--duration", "1", "--sequential", "20",
         "--warmup", "0.5"],
        capture_output=True,
        text=True,
        timeout=260,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert "databases: SQLite" in result.stdout
    assert "10,000 accreditations" in result.stdout
    assert "refused with Server.ServerProxy.AccreditationRequired" in result.stdout
    assert re.search(r"target <= 5 %: (PASS|FAIL)\)", result.stdout), result.stdout
    match = LAST_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    for figure in ("trqp", "trqp_past", "exchange", "accredited"):
        assert int(match[figure]) > 0, lines[-1]
    float(match["cost"])
