"""`zistboom demo` (what `make demo` runs): central and six organisations with their gateways,
and the printed curl calls working as printed (the last one refused by access rights)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ZISTBOOM = str(Path(sys.executable).with_name("zistboom"))


def test_the_demo_federation_serves_and_its_printed_calls_work(tmp_path: Path) -> None:
    # Below the ephemeral range (32768+) that free ports and outgoing connections come from.
    base = random.randrange(12000, 32000, 100)
    process = subprocess.Popen(
        [ZISTBOOM, "demo", "--data-dir", str(tmp_path / "demo"), "--base-port", str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "COLUMNS": "100"},
    )
    lines: list[str] = []

    def drain() -> None:
        assert process.stdout is not None
        lines.extend(iter(process.stdout.readline, ""))

    threading.Thread(target=drain, daemon=True).start()
    try:
        deadline = time.monotonic() + 120
        while not any("Serving until interrupted" in line for line in lines):
            assert process.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        central = f"http://127.0.0.1:{base}"
        assert httpx.get(f"{central}/openapi.json").json()["info"]["title"] == "Zistboom central"
        assert httpx.get(f"{central}/docs").status_code == 200
        assert httpx.get(f"{central}/global-conf").text.count(".") == 2
        assert len(httpx.get(f"{central}/api/v1/ecosystems").json()) == 13
        curls = [line.strip() for line in lines if line.startswith("curl ")]
        assert len(curls) >= 4
        refused = [line for line in curls if line.endswith("# refused")]
        assert len(refused) == 1
        for line in curls:
            result = subprocess.run(
                ["bash", "-c", line], capture_output=True, text=True, timeout=30, check=False
            )
            assert result.returncode == 0, line
            answer = json.loads(result.stdout)
            if line in refused:
                assert answer["type"] == "Server.ServerProxy.AccessDenied", line
            else:
                assert "type" not in answer or not str(answer["type"]).startswith("Server"), line
        person = json.loads(
            subprocess.run(["bash", "-c", curls[0]], capture_output=True, text=True).stdout
        )
        assert person["national_code"] == "0499370899"
        assert person["synthetic"] is True
    finally:
        process.terminate()
        process.wait(timeout=30)
