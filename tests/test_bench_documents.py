"""bench/documents.py runs on its own and ends with its machine-readable line, every figure a
positive number, after the status-change figures at both list sizes (figures otherwise
unchecked: timings belong to the benchmark, not to a test). The bench itself refuses to report
unless every document it issued verifies with every check passed, the first signed PDF
verifies, and each revoked document then fails the status check."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "bench" / "documents.py"
LAST_LINE = re.compile(
    r"issue_per_s=(?P<issue>\d+) verify_per_s=(?P<verify>\d+) pdf_p50_ms=(?P<pdf>\d+)"
)
STATUS_LINE = (
    r"status change at {entries} entries: .* per change \(\d+ changes\); "
    r"signed list [\d,]+ bytes"
)


@pytest.mark.timeout(300)
def test_quick_run_prints_the_summary_line_last() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--count", "40", "--duration", "1",
         "--pdfs", "2", "--changes", "3"],
        capture_output=True,
        text=True,
        timeout=280,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("databases: SQLite"), lines[0]
    assert "documents issued with a timestamp verify offline (every check)" in result.stdout
    for entries in ("131,072", "1,048,576"):
        assert re.search(STATUS_LINE.format(entries=entries), result.stdout), result.stdout
    assert re.search(r"the cost of trusted time: with / without = \d+\.\d\d", result.stdout)
    match = LAST_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    for figure in ("issue", "verify", "pdf"):
        assert int(match[figure]) > 0, lines[-1]
