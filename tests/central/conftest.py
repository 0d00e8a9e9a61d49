"""A real central process per database backend, shared by a test module."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from central_process import CentralProcess, start_central


@pytest.fixture(scope="module")
def central(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralProcess]:
    proc = start_central(tmp_path_factory.mktemp("central"), backend_database)
    try:
        yield proc
    finally:
        proc.process.terminate()
        try:
            proc.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.process.kill()
