"""Alembic environment for the accreditation system's tables, in central's database (run
through zistboom.core.database.migrate), with a history of their own."""

from zistboom.accreditation.models import Base
from zistboom.core.database import run_migrations_online

run_migrations_online(Base.metadata, version_table="alembic_version_accreditation")
