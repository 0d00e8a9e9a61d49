"""Alembic environment for the issuer's database (run through core.database.migrate)."""

from zistboom.core.database import run_migrations_online
from zistboom.documents.issuer.models import Base

run_migrations_online(Base.metadata)
