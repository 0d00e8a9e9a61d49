"""`zistboom demo` (what `make demo` runs): central on SQLite with the ecosystems seeded, its
OpenAPI description and the signed global configuration served, and the printed calls working."""

from __future__ import annotations

import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from support import free_port

ZISTBOOM = str(Path(sys.executable).with_name("zistboom"))


def test_demo_serves_central_with_seed_data(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [ZISTBOOM, "demo", "--data-dir", str(tmp_path / "demo"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    lines: list[str] = []
    threading.Thread(
        target=lambda: lines.extend(iter(process.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    ).start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "Zistboom central"
        assert httpx.get(f"{base}/docs").status_code == 200
        conf = httpx.get(f"{base}/global-conf")
        assert conf.headers["content-type"].startswith("application/jose")
        assert conf.text.count(".") == 2
        ecosystems = httpx.get(f"{base}/api/v1/ecosystems").json()
        assert len(ecosystems) == 13
        assert (tmp_path / "demo" / "central" / "central.db").exists()
        time.sleep(0.5)
        curls = [line.strip() for line in lines if line.strip().startswith("curl ")]
        assert curls, "".join(lines)
        for line in curls:
            result = subprocess.run(
                shlex.split(line), capture_output=True, text=True, timeout=30, check=False
            )
            assert result.returncode == 0 and result.stdout, line
        members = [line for line in lines if "IR-DEMO/GOV/" in line]
        assert members, "the demo prints its members"
    finally:
        process.terminate()
        process.wait(timeout=15)
