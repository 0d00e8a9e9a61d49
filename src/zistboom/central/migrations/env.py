"""Alembic environment for central's database (run through zistboom.core.database.migrate)."""

from zistboom.central.models import Base
from zistboom.core.database import run_migrations_online

run_migrations_online(Base.metadata)
