"""accreditation: schemes with criteria, applications with evidence, reviews and decisions,
assessor authorisations, accreditations and recognitions, each with an append-only history

Revision ID: 0001
Revises:
Create Date: 2026-12-01 17:45:00
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
        "acc_schemes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("ecosystem", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("name_fa", sa.String(length=255), nullable=False),
        sa.Column("name_en", sa.String(length=255), nullable=False),
        sa.Column("description_fa", sa.Text(), nullable=False),
        sa.Column("description_en", sa.Text(), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("created_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_schemes")),
        sa.UniqueConstraint("code", name=op.f("uq_acc_schemes_code")),
        sa.UniqueConstraint("ecosystem", "kind", name=op.f("uq_acc_schemes_ecosystem")),
    )
    op.create_table(
        "acc_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=255), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["acc_schemes.id"],
            name=op.f("fk_acc_applications_scheme_id_acc_schemes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_applications")),
    )
    op.create_index(
        op.f("ix_acc_applications_member"), "acc_applications", ["member"], unique=False
    )
    op.create_index(
        op.f("ix_acc_applications_scheme_id"), "acc_applications", ["scheme_id"], unique=False
    )
    op.create_table(
        "acc_assessors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("member", sa.String(length=255), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("delegated_from_id", sa.Integer(), nullable=True),
        sa.Column("created_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delegated_from_id"],
            ["acc_assessors.id"],
            name=op.f("fk_acc_assessors_delegated_from_id_acc_assessors"),
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["acc_schemes.id"], name=op.f("fk_acc_assessors_scheme_id_acc_schemes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_assessors")),
    )
    op.create_index(op.f("ix_acc_assessors_key_id"), "acc_assessors", ["key_id"], unique=False)
    op.create_index(
        op.f("ix_acc_assessors_scheme_id"), "acc_assessors", ["scheme_id"], unique=False
    )
    op.create_table(
        "acc_recognitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ecosystem", sa.String(length=64), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("created_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["acc_schemes.id"],
            name=op.f("fk_acc_recognitions_scheme_id_acc_schemes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_recognitions")),
    )
    op.create_index(
        op.f("ix_acc_recognitions_scheme_id"), "acc_recognitions", ["scheme_id"], unique=False
    )
    op.create_table(
        "acc_scheme_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title_fa", sa.String(length=255), nullable=False),
        sa.Column("title_en", sa.String(length=255), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["acc_schemes.id"],
            name=op.f("fk_acc_scheme_criteria_scheme_id_acc_schemes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_scheme_criteria")),
        sa.UniqueConstraint("scheme_id", "code", name=op.f("uq_acc_scheme_criteria_scheme_id")),
    )
    op.create_table(
        "acc_scheme_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["acc_schemes.id"],
            name=op.f("fk_acc_scheme_events_scheme_id_acc_schemes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_scheme_events")),
    )
    op.create_index(
        op.f("ix_acc_scheme_events_scheme_id"), "acc_scheme_events", ["scheme_id"], unique=False
    )
    op.create_table(
        "acc_accreditations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("member", sa.String(length=255), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("valid_from", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["acc_applications.id"],
            name=op.f("fk_acc_accreditations_application_id_acc_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["acc_schemes.id"],
            name=op.f("fk_acc_accreditations_scheme_id_acc_schemes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_accreditations")),
    )
    op.create_index(
        op.f("ix_acc_accreditations_member"), "acc_accreditations", ["member"], unique=False
    )
    op.create_index(
        op.f("ix_acc_accreditations_scheme_id"), "acc_accreditations", ["scheme_id"], unique=False
    )
    op.create_table(
        "acc_application_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["acc_applications.id"],
            name=op.f("fk_acc_application_events_application_id_acc_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_application_events")),
    )
    op.create_index(
        op.f("ix_acc_application_events_application_id"),
        "acc_application_events",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "acc_assessor_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authorisation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorisation_id"],
            ["acc_assessors.id"],
            name=op.f("fk_acc_assessor_events_authorisation_id_acc_assessors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_assessor_events")),
    )
    op.create_index(
        op.f("ix_acc_assessor_events_authorisation_id"),
        "acc_assessor_events",
        ["authorisation_id"],
        unique=False,
    )
    op.create_table(
        "acc_criterion_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("assessor_key", sa.String(length=16), nullable=False),
        sa.Column("authorisation_id", sa.Integer(), nullable=False),
        sa.Column("at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["acc_applications.id"],
            name=op.f("fk_acc_criterion_reviews_application_id_acc_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["authorisation_id"],
            ["acc_assessors.id"],
            name=op.f("fk_acc_criterion_reviews_authorisation_id_acc_assessors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_criterion_reviews")),
    )
    op.create_index(
        op.f("ix_acc_criterion_reviews_application_id"),
        "acc_criterion_reviews",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "acc_evidence_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["acc_applications.id"],
            name=op.f("fk_acc_evidence_files_application_id_acc_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_evidence_files")),
    )
    op.create_index(
        op.f("ix_acc_evidence_files_application_id"),
        "acc_evidence_files",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "acc_recognition_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recognition_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("level_mapping", sa.JSON(), nullable=False),
        sa.Column("valid_from", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("created_at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recognition_id"],
            ["acc_recognitions.id"],
            name=op.f("fk_acc_recognition_versions_recognition_id_acc_recognitions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_recognition_versions")),
        sa.UniqueConstraint(
            "recognition_id", "version", name=op.f("uq_acc_recognition_versions_recognition_id")
        ),
    )
    op.create_table(
        "acc_accreditation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("accreditation_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["accreditation_id"],
            ["acc_accreditations.id"],
            name=op.f("fk_acc_accreditation_events_accreditation_id_acc_accreditations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_accreditation_events")),
    )
    op.create_index(
        op.f("ix_acc_accreditation_events_accreditation_id"),
        "acc_accreditation_events",
        ["accreditation_id"],
        unique=False,
    )
    op.create_table(
        "acc_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("assessor_key", sa.String(length=16), nullable=False),
        sa.Column("authorisation_id", sa.Integer(), nullable=False),
        sa.Column("at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accreditation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["accreditation_id"],
            ["acc_accreditations.id"],
            name=op.f("fk_acc_decisions_accreditation_id_acc_accreditations"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["acc_applications.id"],
            name=op.f("fk_acc_decisions_application_id_acc_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["authorisation_id"],
            ["acc_assessors.id"],
            name=op.f("fk_acc_decisions_authorisation_id_acc_assessors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_decisions")),
        sa.UniqueConstraint("application_id", name=op.f("uq_acc_decisions_application_id")),
    )
    op.create_table(
        "acc_recognition_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", zistboom.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["acc_recognition_versions.id"],
            name=op.f("fk_acc_recognition_events_version_id_acc_recognition_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acc_recognition_events")),
    )
    op.create_index(
        op.f("ix_acc_recognition_events_version_id"),
        "acc_recognition_events",
        ["version_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_acc_recognition_events_version_id"), table_name="acc_recognition_events")
    op.drop_table("acc_recognition_events")
    op.drop_table("acc_decisions")
    op.drop_index(
        op.f("ix_acc_accreditation_events_accreditation_id"), table_name="acc_accreditation_events"
    )
    op.drop_table("acc_accreditation_events")
    op.drop_table("acc_recognition_versions")
    op.drop_index(op.f("ix_acc_evidence_files_application_id"), table_name="acc_evidence_files")
    op.drop_table("acc_evidence_files")
    op.drop_index(
        op.f("ix_acc_criterion_reviews_application_id"), table_name="acc_criterion_reviews"
    )
    op.drop_table("acc_criterion_reviews")
    op.drop_index(op.f("ix_acc_assessor_events_authorisation_id"), table_name="acc_assessor_events")
    op.drop_table("acc_assessor_events")
    op.drop_index(
        op.f("ix_acc_application_events_application_id"), table_name="acc_application_events"
    )
    op.drop_table("acc_application_events")
    op.drop_index(op.f("ix_acc_accreditations_scheme_id"), table_name="acc_accreditations")
    op.drop_index(op.f("ix_acc_accreditations_member"), table_name="acc_accreditations")
    op.drop_table("acc_accreditations")
    op.drop_index(op.f("ix_acc_scheme_events_scheme_id"), table_name="acc_scheme_events")
    op.drop_table("acc_scheme_events")
    op.drop_table("acc_scheme_criteria")
    op.drop_index(op.f("ix_acc_recognitions_scheme_id"), table_name="acc_recognitions")
    op.drop_table("acc_recognitions")
    op.drop_index(op.f("ix_acc_assessors_scheme_id"), table_name="acc_assessors")
    op.drop_index(op.f("ix_acc_assessors_key_id"), table_name="acc_assessors")
    op.drop_table("acc_assessors")
    op.drop_index(op.f("ix_acc_applications_scheme_id"), table_name="acc_applications")
    op.drop_index(op.f("ix_acc_applications_member"), table_name="acc_applications")
    op.drop_table("acc_applications")
    op.drop_table("acc_schemes")
