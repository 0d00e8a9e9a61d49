"""A real central process (``zistboom central serve``), started for tests."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from support import free_port

ZISTBOOM = str(Path(sys.executable).with_name("zistboom"))


@dataclass
class CentralProcess:
    url: str
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[str]
    admin_key: str
    output: list[str] = field(default_factory=list)

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    @property
    def admin(self) -> httpx.Client:
        return self.client(self.admin_key)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ZISTBOOM, "central", *args, "--data-dir", str(self.data_dir)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )


def start_central(
    data_dir: Path, database_url: str | None, extra_env: dict[str, str] | None = None
) -> CentralProcess:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZB_")}
    # Re-issue on change only, so conditional GETs are predictable; the minute's re-issue is
    # tested at the service level.
    env["ZB_CONF_REFRESH_SECONDS"] = "3600"
    env.update(extra_env or {})
    if database_url:
        env["ZB_DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [ZISTBOOM, "central", "serve", "--data-dir", str(data_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    key_seen = threading.Event()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if "First admin API key" in line:
                key_seen.set()

    threading.Thread(target=drain, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("central exited:\n" + "".join(output))
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200 and key_seen.is_set():
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError("central did not start:\n" + "".join(output))
    key_line = next(line for line in output if "First admin API key" in line)
    admin_key = key_line.rsplit(" ", 1)[-1].strip()
    return CentralProcess(url, data_dir, env, process, admin_key, output)
