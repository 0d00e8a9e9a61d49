"""Alembic environment for the documents hub's database (run through core.database.migrate)."""

from zistboom.core.database import run_migrations_online
from zistboom.documents.hub.models import Base

run_migrations_online(Base.metadata)
