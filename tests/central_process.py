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
FIRST_ADMIN_KEY = "First admin API key"


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


def central_env(
    database_url: str | None, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZB_")}
    # Re-issue on change only, so conditional GETs are predictable; the minute's re-issue is
    # tested at the service level.
    env["ZB_CONF_REFRESH_SECONDS"] = "3600"
    env.update(extra_env or {})
    if database_url:
        env["ZB_DATABASE_URL"] = database_url
    return env


class Output(list[str]):
    """A process's output lines, collected by a thread as they come."""

    def __init__(self) -> None:
        super().__init__()
        self.complete = threading.Event()

    def text(self, timeout: float = 15) -> str:
        """All of it, once the process has closed its output (or ``timeout`` has passed)."""
        self.complete.wait(timeout)
        return "".join(self)


def launch_central(
    data_dir: Path, port: int, env: dict[str, str]
) -> tuple[subprocess.Popen[str], Output]:
    """``zistboom central serve`` on ``port``, its output (stdout and stderr) collected as it
    comes, so that a failure can show it."""
    process = subprocess.Popen(
        [ZISTBOOM, "central", "serve", "--data-dir", str(data_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
        output.complete.set()

    threading.Thread(target=drain, daemon=True).start()
    return process, output


def wait_until_serving(
    process: subprocess.Popen[str],
    output: list[str],
    url: str,
    *,
    printed: str | None = None,
    seconds: float = 60,
) -> None:
    """Wait until central answers ``/health`` with 200 (and has printed a line containing
    ``printed``, if given); kill it and raise, with its output, if it exits or the deadline
    passes first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"central exited with {process.returncode}:\n" + "".join(output))
        try:
            healthy = httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            healthy = False
        if healthy and (printed is None or any(printed in line for line in output)):
            return
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"central did not start within {seconds} s:\n" + "".join(output))


def start_central(
    data_dir: Path, database_url: str | None, extra_env: dict[str, str] | None = None
) -> CentralProcess:
    """A first start of central on an empty data folder (and database): it prints the admin key."""
    port = free_port()
    env = central_env(database_url, extra_env)
    process, output = launch_central(data_dir, port, env)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(process, output, url, printed=FIRST_ADMIN_KEY)
    key_line = next(line for line in output if FIRST_ADMIN_KEY in line)
    admin_key = key_line.rsplit(" ", 1)[-1].strip()
    return CentralProcess(url, data_dir, env, process, admin_key, output)


def stop_central(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
