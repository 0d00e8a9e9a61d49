"""gateway: an access right may require the client to hold an accreditation (ZB-STD-004 §7.3)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_rights") as batch:
        batch.add_column(sa.Column("required_ecosystem", sa.String(64), nullable=True))
        batch.add_column(sa.Column("required_kind", sa.String(64), nullable=True))
        batch.add_column(sa.Column("required_level", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_rights") as batch:
        batch.drop_column("required_level")
        batch.drop_column("required_kind")
        batch.drop_column("required_ecosystem")
