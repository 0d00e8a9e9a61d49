"""gateway: every message-log record names the gateway that logged it (ZB-STD-005 2.0)

Records logged before keep NULL: their record hash was computed without the member, so they
stay verifiable as they are; the gateway fills the column in every record it logs from now on.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("log_records") as batch:
        batch.add_column(sa.Column("gateway", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("log_records") as batch:
        batch.drop_column("gateway")
