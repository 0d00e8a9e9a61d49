"""accreditation: ecosystem operators' ownership readings

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import zistboom.accreditation.ownership_models
import zistboom.core.database

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERCENT = zistboom.accreditation.ownership_models.ExactPercent


def upgrade() -> None:
    op.create_table(
        "operator_ownership_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ecosystem", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("purpose", sa.String(length=255), nullable=False),
        sa.Column("client", sa.String(length=255), nullable=False),
        sa.Column("registry_service", sa.String(length=255), nullable=False),
        sa.Column("registry_code", sa.String(length=64), nullable=False),
        sa.Column("registry_version", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("private_share_percent", PERCENT(), nullable=True),
        sa.Column("state_share_percent", PERCENT(), nullable=True),
        sa.Column("minimum_private_share_percent", PERCENT(), nullable=False),
        sa.Column("holders", sa.JSON(), nullable=True),
        sa.Column("error_type", sa.String(length=128), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_ownership_readings")),
    )
    op.create_index(
        "ix_operator_ownership_readings_ecosystem_id",
        "operator_ownership_readings",
        ["ecosystem", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_operator_ownership_readings_ecosystem_id", table_name="operator_ownership_readings"
    )
    op.drop_table("operator_ownership_readings")
