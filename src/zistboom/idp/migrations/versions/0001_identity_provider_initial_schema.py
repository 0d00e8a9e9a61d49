"""identity provider initial schema

Revision ID: 0001
Revises:
Create Date: 2026-12-03 10:56:23.748884
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
        "clients",
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "redirect_uris",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "post_logout_redirect_uris",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("updated_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_clients")),
    )
    op.create_table(
        "users",
        sa.Column("subject", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("given_name_fa", sa.Text(), nullable=False),
        sa.Column("family_name_fa", sa.Text(), nullable=False),
        sa.Column("given_name_en", sa.Text(), nullable=False),
        sa.Column("family_name_en", sa.Text(), nullable=False),
        sa.Column("birthdate", sa.Date(), nullable=True),
        sa.Column("phone_number", sa.String(length=16), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("updated_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_users")),
    )
    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("subject", sa.String(length=24), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("expires_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject"],
            ["users.subject"],
            name=op.f("fk_access_tokens_subject_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_access_tokens")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_access_tokens_code_hash", ["code_hash"], unique=False)

    op.create_table(
        "authorization_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=24), nullable=False),
        sa.Column("auth_time", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("expires_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.client_id"],
            name=op.f("fk_authorization_codes_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject"],
            ["users.subject"],
            name=op.f("fk_authorization_codes_subject_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_authorization_codes")),
    )
    op.create_table(
        "authorization_requests",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("nonce", sa.Text(), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("created_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=24), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "code_expires_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("codes_sent", sa.Integer(), nullable=False),
        sa.Column("completed_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["clients.client_id"],
            name=op.f("fk_authorization_requests_client_id_clients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_authorization_requests")),
    )
    op.create_table(
        "provider_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=24), nullable=False),
        sa.Column("auth_time", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject"],
            ["users.subject"],
            name=op.f("fk_provider_sessions_subject_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_provider_sessions")),
        sa.UniqueConstraint("sid", name=op.f("uq_provider_sessions_sid")),
    )


def downgrade() -> None:
    op.drop_table("provider_sessions")
    op.drop_table("authorization_requests")
    op.drop_table("authorization_codes")
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_access_tokens_code_hash")

    op.drop_table("access_tokens")
    op.drop_table("users")
    op.drop_table("clients")
