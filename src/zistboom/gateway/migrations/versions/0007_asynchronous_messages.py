"""gateway: asynchronous messages (ZB-STD-009): outbox, inbox, status transitions, topic
subscriptions; push endpoints of clients; topics and ordered delivery of services

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:45:33.252770
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zistboom.core.database

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=False),
        sa.Column("receiver", sa.String(length=255), nullable=False),
        sa.Column("service", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("in_reply_to", sa.String(length=64), nullable=True),
        sa.Column("answer_status", sa.String(length=16), nullable=True),
        sa.Column("topic", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("ordered", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("push_attempts", sa.Integer(), nullable=False),
        sa.Column("next_push_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_until", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("push_error", sa.Text(), nullable=True),
        sa.Column("received_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_messages")),
        sa.UniqueConstraint("sender", "message_id", name=op.f("uq_inbox_messages_sender")),
    )
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_inbox_messages_due", ["status", "next_push_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inbox_messages_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index("ix_inbox_messages_receiver", ["receiver", "id"], unique=False)

    op.create_table(
        "message_transitions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("box", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_transitions")),
    )
    with op.batch_alter_table("message_transitions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_transitions_message", ["box", "message_id", "id"], unique=False
        )

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(length=255), nullable=False),
        sa.Column("service", sa.String(length=255), nullable=False),
        sa.Column("in_reply_to", sa.String(length=64), nullable=True),
        sa.Column("answer_status", sa.String(length=16), nullable=True),
        sa.Column("topic", sa.String(length=255), nullable=True),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("ordered", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("lease_until", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("expires_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("answer_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("client", "idempotency_key", name=op.f("uq_outbox_messages_client")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_messages_message_id")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_messages_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_event_id"), ["event_id"], unique=False)
        batch_op.create_index("ix_outbox_messages_pair", ["client", "service", "id"], unique=False)

    op.create_table(
        "topic_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("subscriber", sa.String(length=255), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic_subscriptions")),
        sa.UniqueConstraint(
            "topic", "subscriber", "side", name=op.f("uq_topic_subscriptions_topic")
        ),
    )
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(sa.Column("push_url", sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column("push_secret", sa.Text(), nullable=True))

    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("topic", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("ordered", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("ordered")
        batch_op.drop_column("topic")

    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_column("push_secret")
        batch_op.drop_column("push_url")

    op.drop_table("topic_subscriptions")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_messages_pair")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_event_id"))
        batch_op.drop_index("ix_outbox_messages_due")

    op.drop_table("outbox_messages")
    with op.batch_alter_table("message_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_message_transitions_message")

    op.drop_table("message_transitions")
    with op.batch_alter_table("inbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_messages_receiver")
        batch_op.drop_index(batch_op.f("ix_inbox_messages_message_id"))
        batch_op.drop_index("ix_inbox_messages_due")

    op.drop_table("inbox_messages")
