"""The issuer's database: one per issuer service (SQLite in its data directory unless
``ZB_DATABASE_URL`` names PostgreSQL), migrated with its own Alembic history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zistboom.core.database import begin_immediately, create_engine, migrate, session_factory
from zistboom.documents.issuer.settings import IssuerSettings

MIGRATIONS = "zistboom.documents.issuer:migrations"


@dataclass(slots=True)
class Opened:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


async def open_database(settings: IssuerSettings) -> Opened:
    """The issuer's database, migrated to the newest revision."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url("issuer"))
    begin_immediately(engine)
    await migrate(engine, MIGRATIONS)
    return Opened(engine, session_factory(engine))
