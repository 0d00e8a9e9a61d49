"""The window's database: the declarative base every window table derives from, and opening
(and migrating) the database. Each concern keeps its tables in its own module
(``identity_models.py``, ``catalogue/models.py``); the migrations see them all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

from zistboom.core.database import (
    UTCDateTime,
    begin_immediately,
    component_metadata,
    create_engine,
    migrate,
    session_factory,
)

MIGRATIONS = "zistboom.window:migrations"
Json = JSON().with_variant(JSONB(), "postgresql")
# SQLite only gives INTEGER PRIMARY KEY its rowid meaning, not BIGINT.
SequenceNumber = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = component_metadata()
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: Json,
        list[Any]: Json,
    }


@dataclass(slots=True)
class Opened:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


async def open_database(url: str) -> Opened:
    """The window's database at ``url``, migrated to the newest revision."""
    engine = create_engine(url)
    begin_immediately(engine)
    await migrate(engine, MIGRATIONS)
    return Opened(engine, session_factory(engine))
