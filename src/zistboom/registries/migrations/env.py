"""Alembic environment for the registry service's database (run through core.database.migrate)."""

from zistboom.core.database import run_migrations_online
from zistboom.registries.models import Base

run_migrations_online(Base.metadata)
