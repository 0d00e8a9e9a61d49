"""documents hub initial schema

Revision ID: 0001
Revises:
Create Date: 2026-12-01 22:18:00.462035
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import zistboom.core.database

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.Column("share_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.create_index("ix_access_events_holder", ["holder", "at", "id"], unique=False)

    op.create_table(
        "document_types",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name_fa", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("ecosystem", sa.String(length=64), nullable=False),
        sa.Column("requirement_ecosystem", sa.String(length=64), nullable=False),
        sa.Column("requirement_kind", sa.String(length=64), nullable=False),
        sa.Column("requirement_level", sa.String(length=16), nullable=False),
        sa.Column("default_validity_days", sa.Integer(), nullable=True),
        sa.Column(
            "schema", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("template_fa", sa.Text(), nullable=False),
        sa.Column("template_en", sa.Text(), nullable=False),
        sa.Column(
            "registry", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.Column(
            "registered_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("registered_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_document_types")),
    )
    op.create_table(
        "status_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("valid_from", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lists")),
        sa.UniqueConstraint("list_id", "purpose", name=op.f("uq_status_lists_list_id")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("type_code", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("issued_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_from", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("timestamp_token", sa.LargeBinary(), nullable=False),
        sa.Column("qr", sa.Text(), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column(
            "status_entries",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("pull_token", sa.String(length=64), nullable=False),
        sa.Column(
            "deposited_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["type_code"],
            ["document_types.code"],
            name=op.f("fk_documents_type_code_document_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("pull_token", name=op.f("uq_documents_pull_token")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index("ix_documents_holder", ["holder", "issued_at", "id"], unique=False)

    op.create_table(
        "shares",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("created_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("consent", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_shares_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
    )
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.create_index("ix_shares_document", ["document_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shares", schema=None) as batch_op:
        batch_op.drop_index("ix_shares_document")

    op.drop_table("shares")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_holder")

    op.drop_table("documents")
    op.drop_table("status_lists")
    op.drop_table("document_types")
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.drop_index("ix_access_events_holder")

    op.drop_table("access_events")
