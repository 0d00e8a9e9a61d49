"""central: the trust list's issues (sequence numbers)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zistboom.core.database

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trust_list_issues",
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("issued_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_update", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_trust_list_issues")),
    )


def downgrade() -> None:
    op.drop_table("trust_list_issues")
