"""The window's migrations create exactly the tables the window declares (the catalogue's
among them), on SQLite and PostgreSQL, with the catalogue's version row in place."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from zistboom.window.database import open_database
from zistboom.window.models import Base


async def test_the_migrations_match_the_declared_tables(database_url: str) -> None:
    opened = await open_database(database_url)

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    try:
        async with opened.engine.connect() as connection:
            assert await connection.run_sync(differences) == []
            rows = (
                await connection.execute(text("SELECT id, version FROM catalogue_version"))
            ).all()
            assert [tuple(row) for row in rows] == [(1, 0)]
    finally:
        await opened.engine.dispose()
