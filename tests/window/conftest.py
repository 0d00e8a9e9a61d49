"""The window served for real on each backend, the catalogue's seed loaded, and central at a
closed port (its catalogue unreachable); and the part-2 journey's apply world, one per backend
for the whole run (it takes over a minute to start: every module of part 2 shares it, each
with people and applications of its own making, and leaves it as it found it)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import free_port
from window.applying import Journey, journey_world
from window_site import Site, seed_database, serve
from zistboom.window.settings import ADMIN_TOKEN_FILE, WindowSettings


@pytest.fixture(scope="module")
def site(backend_database: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The window with the seed on each backend; central is a closed port."""
    data_dir: Path = tmp_path_factory.mktemp("window")
    settings = WindowSettings(
        data_dir=data_dir,
        database_url=backend_database,
        port=free_port(),
        central_url=f"http://127.0.0.1:{free_port()}",
    )
    seed_database(settings)
    for url in serve(settings):
        yield Site(url, (data_dir / ADMIN_TOKEN_FILE).read_text().strip(), settings)


@pytest.fixture(scope="session")
def journey(
    session_backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Journey]:
    """The apply world with open inboxes, SMTP and the listed service, on each backend."""
    began = time.monotonic()
    with journey_world(tmp_path_factory.mktemp("journey"), session_backend_database) as built:
        print(f"\nthe apply world started in {time.monotonic() - began:.1f} s")
        yield built
