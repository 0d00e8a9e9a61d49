"""Alembic environment for the identity provider's database (run through core.database.migrate)."""

from zistboom.core.database import run_migrations_online
from zistboom.idp.models import Base

run_migrations_online(Base.metadata)
