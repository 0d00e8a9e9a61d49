"""The accreditation system's tables (in central's database, their own migration history).

Members, subsystems and services are named by their identifiers (``IR-DEMO/COM/…``), not by
foreign keys into central's tables: the contexts share a database, not their tables. Every
status lives in an event table that is only ever appended to; a record's status at a time is
read from its events (expiry from ``valid_until``, never stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from zistboom.core.database import UTCDateTime, component_metadata

ACTOR = 64
"""Width of an actor column: ``key:<id>`` or ``system``, as in central's audit log."""


class Base(DeclarativeBase):
    metadata = component_metadata()
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


# --- schemes -------------------------------------------------------------------------------


class Scheme(Base):
    """What a provider must meet to offer one kind of service in one ecosystem."""

    __tablename__ = "acc_schemes"
    __table_args__ = (UniqueConstraint("ecosystem", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    ecosystem: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    actions: Mapped[list[str]] = mapped_column(JSON)
    levels: Mapped[list[str]] = mapped_column(JSON)
    name_fa: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255))
    description_fa: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    validity_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]

    criteria: Mapped[list[SchemeCriterion]] = relationship(
        order_by="SchemeCriterion.position", lazy="selectin", cascade="all, delete-orphan"
    )
    events: Mapped[list[SchemeEvent]] = relationship(
        order_by="SchemeEvent.id", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def resource(self) -> str:
        return f"{self.ecosystem}:{self.kind}"


class SchemeCriterion(Base):
    """One criterion of a scheme and the evidence an applicant gives for it."""

    __tablename__ = "acc_scheme_criteria"
    __table_args__ = (UniqueConstraint("scheme_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("acc_schemes.id"))
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    title_fa: Mapped[str] = mapped_column(String(255))
    title_en: Mapped[str] = mapped_column(String(255))
    evidence: Mapped[str] = mapped_column(Text)
    """What the applicant must attach to show the criterion is met."""


class SchemeEvent(Base):
    """``active`` when published, ``retired`` when withdrawn from use."""

    __tablename__ = "acc_scheme_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("acc_schemes.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(ACTOR))
    reason: Mapped[str] = mapped_column(Text)


# --- applications ------------------------------------------------------------------------


class Application(Base):
    """A member's application for accreditation under a scheme (``app-<id>``)."""

    __tablename__ = "acc_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("acc_schemes.id"), index=True)
    member: Mapped[str] = mapped_column(String(255), index=True)
    level: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(255))
    statement: Mapped[str] = mapped_column(Text)
    """The applicant's own words on what it applies for."""
    status: Mapped[str] = mapped_column(String(32))
    """The latest event's status, kept for listing; the events are the record."""
    created_at: Mapped[datetime]

    scheme: Mapped[Scheme] = relationship(lazy="joined")
    events: Mapped[list[ApplicationEvent]] = relationship(
        order_by="ApplicationEvent.id", lazy="selectin", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[EvidenceFile]] = relationship(
        order_by="EvidenceFile.id", lazy="selectin", cascade="all, delete-orphan"
    )
    reviews: Mapped[list[CriterionReview]] = relationship(
        order_by="CriterionReview.id", lazy="selectin", cascade="all, delete-orphan"
    )
    decision: Mapped[Decision | None] = relationship(lazy="selectin", uselist=False)

    @property
    def identifier(self) -> str:
        return f"app-{self.id}"


class ApplicationEvent(Base):
    """One step of an application: ``submitted``, ``under-review``,
    ``more-information-requested``, ``under-review`` again when the applicant answers,
    ``decided``."""

    __tablename__ = "acc_application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("acc_applications.id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(ACTOR))
    note: Mapped[str] = mapped_column(Text)


class EvidenceFile(Base):
    """A file attached to an application for one criterion, kept with its SHA-256."""

    __tablename__ = "acc_evidence_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("acc_applications.id"), index=True)
    criterion: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_at: Mapped[datetime]
    uploaded_by: Mapped[str] = mapped_column(String(ACTOR))

    @property
    def identifier(self) -> str:
        return f"ev-{self.id}"


class CriterionReview(Base):
    """An assessor's finding on one criterion; a later review of the same criterion counts."""

    __tablename__ = "acc_criterion_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("acc_applications.id"), index=True)
    criterion: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    assessor_key: Mapped[str] = mapped_column(String(16))
    authorisation_id: Mapped[int] = mapped_column(ForeignKey("acc_assessors.id"))
    at: Mapped[datetime]


class Decision(Base):
    """The outcome of an application, by which assessor key under which authorisation."""

    __tablename__ = "acc_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("acc_applications.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str] = mapped_column(Text)
    assessor_key: Mapped[str] = mapped_column(String(16))
    authorisation_id: Mapped[int] = mapped_column(ForeignKey("acc_assessors.id"))
    at: Mapped[datetime]
    accreditation_id: Mapped[int | None] = mapped_column(ForeignKey("acc_accreditations.id"))


# --- assessors -----------------------------------------------------------------------------


class AssessorAuthorisation(Base):
    """An assessor key's authority under one scheme (``asr-<id>``), granted by an admin or
    delegated from another authorisation, with how many further delegations it allows."""

    __tablename__ = "acc_assessors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), index=True)
    member: Mapped[str] = mapped_column(String(255))
    """The key's member (the assessor's employer), for the conflict-of-interest rule."""
    scheme_id: Mapped[int] = mapped_column(ForeignKey("acc_schemes.id"), index=True)
    depth: Mapped[int] = mapped_column(Integer)
    delegated_from_id: Mapped[int | None] = mapped_column(ForeignKey("acc_assessors.id"))
    created_at: Mapped[datetime]

    scheme: Mapped[Scheme] = relationship(lazy="joined")
    events: Mapped[list[AssessorEvent]] = relationship(
        order_by="AssessorEvent.id", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def identifier(self) -> str:
        return f"asr-{self.id}"

    @property
    def delegated_from(self) -> str | None:
        return None if self.delegated_from_id is None else f"asr-{self.delegated_from_id}"


class AssessorEvent(Base):
    """``granted``, then ``withdrawn``."""

    __tablename__ = "acc_assessor_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    authorisation_id: Mapped[int] = mapped_column(ForeignKey("acc_assessors.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(ACTOR))
    reason: Mapped[str] = mapped_column(Text)


# --- accreditations ----------------------------------------------------------------------


class Accreditation(Base):
    """A member's (or one subsystem's, or one service's) accreditation (``acc-<id>``)."""

    __tablename__ = "acc_accreditations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheme_id: Mapped[int] = mapped_column(ForeignKey("acc_schemes.id"), index=True)
    member: Mapped[str] = mapped_column(String(255), index=True)
    scope: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(255))
    level: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    conditions: Mapped[list[str]] = mapped_column(JSON)
    application_id: Mapped[int] = mapped_column(ForeignKey("acc_applications.id"))

    scheme: Mapped[Scheme] = relationship(lazy="joined")
    events: Mapped[list[AccreditationEvent]] = relationship(
        order_by="AccreditationEvent.id", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def identifier(self) -> str:
        return f"acc-{self.id}"


class AccreditationEvent(Base):
    """``granted``, ``suspended``, ``reinstated``, ``revoked``, ``withdrawn``: never rewritten."""

    __tablename__ = "acc_accreditation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    accreditation_id: Mapped[int] = mapped_column(ForeignKey("acc_accreditations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(ACTOR))
    reason: Mapped[str] = mapped_column(Text)


# --- recognitions ----------------------------------------------------------------------


class Recognition(Base):
    """Ecosystem B's recognition of another ecosystem's scheme (``rec-<id>``), in versions."""

    __tablename__ = "acc_recognitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ecosystem: Mapped[str] = mapped_column(String(64))
    """The recognising ecosystem."""
    scheme_id: Mapped[int] = mapped_column(ForeignKey("acc_schemes.id"), index=True)
    created_at: Mapped[datetime]

    scheme: Mapped[Scheme] = relationship(lazy="joined")
    versions: Mapped[list[RecognitionVersion]] = relationship(
        order_by="RecognitionVersion.version", lazy="selectin", cascade="all, delete-orphan"
    )

    @property
    def identifier(self) -> str:
        return f"rec-{self.id}"


class RecognitionVersion(Base):
    """One version's terms and the statement central signed over them."""

    __tablename__ = "acc_recognition_versions"
    __table_args__ = (UniqueConstraint("recognition_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recognition_id: Mapped[int] = mapped_column(ForeignKey("acc_recognitions.id"))
    version: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[list[str]] = mapped_column(JSON)
    level_mapping: Mapped[dict[str, Any]]
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    statement: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]

    events: Mapped[list[RecognitionEvent]] = relationship(
        order_by="RecognitionEvent.id", lazy="selectin", cascade="all, delete-orphan"
    )


class RecognitionEvent(Base):
    """``granted``, then ``revoked`` (by a revocation, or by the next version)."""

    __tablename__ = "acc_recognition_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("acc_recognition_versions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(ACTOR))
    reason: Mapped[str] = mapped_column(Text)
