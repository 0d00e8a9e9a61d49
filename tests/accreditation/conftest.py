"""Accreditation tests: central's database prepared on each backend (central's migrations and
the accreditation system's)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from accreditation.world import World
from central_process import CentralProcess, start_central, stop_central
from zistboom.central.app import prepare
from zistboom.central.settings import CentralSettings
from zistboom.core.crypto import keys


@pytest.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    settings = CentralSettings(data_dir=tmp_path / "central", database_url=database_url)
    prepared = await prepare(settings)
    try:
        yield World(settings, prepared.sessions, keys.generate_private_key())
    finally:
        await prepared.engine.dispose()


@pytest.fixture(scope="module")
def central(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CentralProcess, keys.PrivateKey]]:
    """A real central process on each backend, with a trust-list key the test made (the
    publication makes central's own on first start), for signing recognitions."""
    data_dir = tmp_path_factory.mktemp("central")
    (data_dir / "keys").mkdir(mode=0o700)
    key = keys.generate_private_key()
    keys.save_private_key(key, data_dir / "keys" / "trust-list.key")
    proc = start_central(data_dir, backend_database)
    try:
        yield proc, key
    finally:
        stop_central(proc.process)
