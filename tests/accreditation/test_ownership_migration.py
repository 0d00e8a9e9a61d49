"""Migration 0002 of the accreditation history: it creates exactly the ownership readings' table
as declared, on SQLite and PostgreSQL, and its downgrade removes it."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from zistboom.accreditation.models import Base
from zistboom.accreditation.ownership_models import OwnershipReading
from zistboom.central.app import ACCREDITATION_MIGRATIONS, MIGRATIONS
from zistboom.core.database import create_engine, migrate

TABLE = OwnershipReading.__tablename__


def downgrade(connection: Any, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", ACCREDITATION_MIGRATIONS)
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


async def test_the_migration_creates_the_declared_table_and_drops_it(database_url: str) -> None:
    engine = create_engine(database_url)

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [d for d in compare_metadata(context, Base.metadata) if TABLE in str(d)]

    def tables(connection: Any) -> list[str]:
        return list(inspect(connection).get_table_names())

    try:
        await migrate(engine, MIGRATIONS)
        await migrate(engine, ACCREDITATION_MIGRATIONS)
        async with engine.connect() as connection:
            assert TABLE in await connection.run_sync(tables)
            assert await connection.run_sync(differences) == []
        async with engine.begin() as connection:
            await connection.run_sync(downgrade, "0001")
        async with engine.connect() as connection:
            assert TABLE not in await connection.run_sync(tables)
    finally:
        await engine.dispose()
