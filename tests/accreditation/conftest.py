"""Accreditation tests: central's database prepared on each backend (central's migrations and
the accreditation system's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from accreditation.world import World
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
