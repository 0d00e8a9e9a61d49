"""gateway: replay memory (claims of accepted request signatures, shared by replicas)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "replay_claims",
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_replay_claims")),
    )
    op.create_index(
        op.f("ix_replay_claims_expires_at"), "replay_claims", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_replay_claims_expires_at"), table_name="replay_claims")
    op.drop_table("replay_claims")
