"""Shared fixtures: both database backends, free ports, and real central processes.

Every test that touches a database runs on SQLite and on PostgreSQL (the local server at
127.0.0.1:5432, or ZB_TEST_POSTGRES). If PostgreSQL is unreachable the run fails; it never skips.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))

from support import create_pg_database, drop_pg_database  # noqa: E402

BACKENDS = ("sqlite", "postgresql")
_backend_counts: Counter[str] = Counter()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database on each backend in turn."""
    _backend_counts[request.param] += 1
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    name, url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(name)


def _backend(backend: str) -> Iterator[str | None]:
    """None for SQLite (the component's default file), or a fresh PostgreSQL database's URL,
    dropped afterwards; counted for the summary of tests by backend."""
    _backend_counts[backend] += 1
    if backend == "sqlite":
        yield None
        return
    name, url = asyncio.run(create_pg_database())
    try:
        yield url
    finally:
        asyncio.run(drop_pg_database(name))


@pytest.fixture(scope="module", params=BACKENDS)
def backend_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Module-wide: None for SQLite (the component's default file), or a fresh PostgreSQL URL."""
    yield from _backend(request.param)


@pytest.fixture(scope="session", params=BACKENDS)
def session_backend_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Session-wide, for the worlds of many processes that several modules share (pytest runs
    the tests of one backend's world together): None for SQLite, or a PostgreSQL URL."""
    yield from _backend(request.param)


@pytest.fixture(params=BACKENDS)
def fresh_backend_database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """For one test: None for SQLite (the component's default file in the test's own data
    folder), or a PostgreSQL database of its own; for tests that change what they are given."""
    yield from _backend(request.param)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show that the database tests ran on both backends (tests passed per backend)."""
    passed: Counter[str] = Counter()
    for report in terminalreporter.stats.get("passed", []):
        for backend in BACKENDS:
            if f"[{backend}" in report.nodeid or f"-{backend}]" in report.nodeid:
                passed[backend] += 1
    if passed or _backend_counts:
        parts = ", ".join(f"{b}: {passed[b]} passed" for b in BACKENDS)
        terminalreporter.write_line(f"database tests by backend: {parts}")
