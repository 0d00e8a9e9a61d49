"""A real window process for the tests: ``zistboom window init`` against a given identity
provider and exchange, then ``zistboom window serve`` on a free port."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from central_process import ZISTBOOM
from federation import ServiceProcess
from support import free_port


class WindowProcess(ServiceProcess):
    """``zistboom window serve`` on its data folder, with the window's own commands."""

    def __init__(self, url: str, data_dir: Path, env: dict[str, str]) -> None:
        command = [ZISTBOOM, "window", "serve", "--data-dir", str(data_dir)]
        super().__init__("window", command, f"{url}/health", env)
        self.url = url
        self.data_dir = data_dir

    @property
    def admin_token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()

    def operator(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.admin_token}"}, timeout=30
        )

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ZISTBOOM, "window", *args, "--data-dir", str(self.data_dir)],
            env=self.env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip


def window_address() -> tuple[int, str]:
    """A free port and the window's address on it (the provider needs the redirect URI before
    the window is set up)."""
    port = free_port()
    return port, f"http://127.0.0.1:{port}"


def init_window(
    root: Path,
    *,
    port: int,
    env: dict[str, str],
    subsystem: str,
    gateway_url: str,
    central_url: str,
    issuer: str,
    secret_file: Path,
    persons_registry: str = "",
) -> WindowProcess:
    window = WindowProcess(f"http://127.0.0.1:{port}", root / "window", env)
    result = window.cli(
        "init", "--subsystem", subsystem, "--gateway-url", gateway_url,
        "--central-url", central_url, "--oidc-issuer", issuer,
        "--oidc-client-secret-file", str(secret_file), "--port", str(port),
        *(("--persons-registry", persons_registry) if persons_registry else ()),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return window
