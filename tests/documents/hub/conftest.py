"""The hub's world, once per module and database backend (central, members, the hub)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from documents.hub.world import World, build_world


@pytest.fixture(scope="module")
def world(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    yield from build_world(tmp_path_factory.mktemp("hub-world"), backend_database)
