"""Alembic environment for the gateway's database (run through zistboom.core.database.migrate)."""

import zistboom.gateway.messagelog
import zistboom.gateway.messaging.models
import zistboom.gateway.models
import zistboom.gateway.replay
from zistboom.core.database import run_migrations_online

run_migrations_online(zistboom.gateway.models.Base.metadata)
