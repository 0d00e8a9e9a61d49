"""Alembic environment for the window's database (run through core.database.migrate)."""

from zistboom.core.database import run_migrations_online
from zistboom.window import models  # noqa: F401 (every table registered on Base)
from zistboom.window.database import Base

run_migrations_online(Base.metadata)
