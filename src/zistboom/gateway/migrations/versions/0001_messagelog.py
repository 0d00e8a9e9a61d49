"""gateway: the message log (records and their timestamped Merkle batches)

Revision ID: 0001
Revises:
Create Date: 2026-11-28 12:15:28.030006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zistboom.core.database

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("created_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("timestamp_token", sa.LargeBinary(), nullable=False),
        sa.Column(
            "timestamped_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_batches")),
        sa.UniqueConstraint("instance", "first_seq", name=op.f("uq_log_batches_instance")),
    )
    op.create_table(
        "log_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("instance", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("client", sa.Text(), nullable=True),
        sa.Column("service", sa.Text(), nullable=True),
        sa.Column("method", sa.Text(), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("body_digest", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["log_batches.id"],
            name=op.f("fk_log_records_batch_id_log_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_records")),
        sa.UniqueConstraint("instance", "seq", name=op.f("uq_log_records_instance")),
    )
    with op.batch_alter_table("log_records", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_log_records_at"), ["at"], unique=False)
        batch_op.create_index(
            "ix_log_records_instance_batch", ["instance", "batch_id", "seq"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_log_records_message_id"), ["message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("log_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log_records_message_id"))
        batch_op.drop_index("ix_log_records_instance_batch")
        batch_op.drop_index(batch_op.f("ix_log_records_at"))
    op.drop_table("log_records")
    op.drop_table("log_batches")
