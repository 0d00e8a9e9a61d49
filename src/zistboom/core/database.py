"""Database layer: async engines for SQLite and PostgreSQL, sessions, and Alembic migrations.

Each component has its own database and its own migration history (a ``migrations`` folder in
the component's package). SQLite is the default; PostgreSQL is used through asyncpg.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, MetaData, TypeDecorator, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from zistboom.core.errors import ConfigurationError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def component_metadata() -> MetaData:
    """Fresh metadata for one component's tables, with stable constraint names for migrations."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which stores naive text) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("postgresql+asyncpg"):
        return create_async_engine(url, pool_pre_ping=True, **kwargs)
    raise ConfigurationError(
        f"unsupported database URL scheme in {url.split(':', 1)[0]!r}: "
        "use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
    )


def begin_immediately(engine: AsyncEngine) -> None:
    """On SQLite, start every transaction with ``BEGIN IMMEDIATE``: a transaction that reads and
    then writes (a registry read and its usage entry) waits for the write lock up front instead
    of failing with ``SQLITE_BUSY`` when another connection wrote in between. Nothing changes on
    PostgreSQL. (SQLAlchemy's documented recipe for pysqlite and aiosqlite.)"""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine.sync_engine, "connect")
    def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session inside one transaction: committed on success, rolled back on any error."""
    async with sessions() as session, session.begin():
        yield session


def _upgrade(connection: Connection, script_location: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", script_location)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def migrate(engine: AsyncEngine, script_location: str, revision: str = "head") -> None:
    """Bring the database to ``revision`` with the component's Alembic scripts."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, script_location, revision)


def run_migrations_online(
    target_metadata: MetaData, *, version_table: str = "alembic_version"
) -> None:
    """Body of every component's ``migrations/env.py``: run on the connection we were given.

    A context whose tables share another's database (accreditation in central's) keeps its
    own history in its own ``version_table``."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise ConfigurationError("migrations run through zistboom.core.database.migrate()")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        version_table=version_table,
    )
    with context.begin_transaction():
        context.run_migrations()


_T = TypeVar("_T")
# Short retries for the SQLite write lock: the first and the longest pause (s).
_SQLITE_RETRY_FIRST = 0.0001
_SQLITE_RETRY_LAST = 0.001


def sqlite_commit_taking_turns(
    connection: sqlite3.Connection,
    work: Callable[[sqlite3.Connection], _T],
    *,
    timeout: float,
) -> _T:
    """Run ``work`` on ``connection`` (opened with ``busy_timeout=0``) and commit, retrying the
    whole transaction while another writer holds the database's write lock, for at most
    ``timeout`` seconds.

    SQLite's own busy handler retries after 1, 2, 5, 10, 15, 20, 25 ms...: against another
    writer that commits back to back (another replica's message log, syncing every commit) it
    rarely finds the lock free and waits until that writer is idle. Short retries of our own
    take turns with it. Any other error propagates, with the transaction rolled back.
    """
    delay, deadline = _SQLITE_RETRY_FIRST, time.monotonic() + timeout
    while True:
        try:
            result = work(connection)
            connection.commit()
            return result
        except sqlite3.OperationalError as exc:
            busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() >= deadline:
                raise
        connection.rollback()
        time.sleep(delay)
        delay = min(2 * delay, _SQLITE_RETRY_LAST)
