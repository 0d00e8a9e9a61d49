"""The tables of applications: the application (a draft until submitted), the data items read
for it and the person's choice on each, the registry reads the window made, the documents
shared from the locker, the tasks handed over to agencies, the timeline, the notices waiting
to be sent, and the lookups of tracking codes without sign-in (for their rate limit). Queries
are in ``repository.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zistboom.window.database import Base, SequenceNumber
from zistboom.window.identity_models import MEMBER, SUBJECT

APPLICATION_ID = 32
TRACKING_CODE = 32


class Application(Base):
    """One person's application for one service. ``definition`` is the service's definition
    as it was when the application was started: a later change of the catalogue does not
    change an application under way."""

    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_subject", "subject", "updated_at"),)

    id: Mapped[str] = mapped_column(String(APPLICATION_ID), primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(TRACKING_CODE), unique=True)
    subject: Mapped[str] = mapped_column(String(SUBJECT))
    """Who applies (and acts): ``IR…`` or ``FN…``."""
    agency: Mapped[str] = mapped_column(String(MEMBER))
    service_code: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))
    """``draft``, ``submitted``, ``abandoned`` (later: ``in-progress``, ``done``, ``rejected``)."""
    stage: Mapped[str] = mapped_column(String(16))
    """Where a draft is: ``request``, ``preview``, ``documents``, ``form``."""
    fetch_choice: Mapped[str | None] = mapped_column(String(8))
    """``fetch`` (the person asked the window to read their data) or ``type``."""
    asked_keys: Mapped[dict[str, Any]]
    """The keys the person gave for records read by ``asked`` (by base-data index)."""
    form_values: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]


class ApplicationItem(Base):
    """One item of base data for an application: its value as read (with its source) and the
    person's choice, or the value the person typed (self-declared)."""

    __tablename__ = "application_items"
    __table_args__ = (UniqueConstraint("application_id", "source_index", "field"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    source_index: Mapped[int]
    """The index of the definition's ``base_data`` entry."""
    registry_service: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(64))
    value_json: Mapped[str | None] = mapped_column(Text)
    """The value read, as JSON text (None: not read)."""
    read_id: Mapped[int | None] = mapped_column(ForeignKey("registry_reads.id"))
    choice: Mapped[str] = mapped_column(String(16))
    """``pending`` (read, not yet chosen), ``confirmed``, ``declined``, ``not-read`` (the
    person chose to type, the read failed, or the item cannot be read)."""
    typed_value: Mapped[str | None] = mapped_column(Text)
    """What the person typed instead (self-declared)."""


class RegistryRead(Base):
    """A read the window made through the exchange for an application: what, from where, for
    what purpose, when, and how it ended. The person's data tracker lists these."""

    __tablename__ = "registry_reads"
    __table_args__ = (Index("ix_registry_reads_subject", "subject", "at"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    subject: Mapped[str] = mapped_column(String(SUBJECT))
    source_index: Mapped[int]
    registry_service: Mapped[str] = mapped_column(Text)
    record_key: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[list[Any]]
    purpose: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16))
    """``read``, ``not-found``, ``refused`` (record matching), ``failed``."""
    reason: Mapped[str | None] = mapped_column(Text)


class ApplicationShare(Base):
    """A document of the person's locker shared with the responsible agency for the
    application (the share is the hub's; its id and terms are kept here)."""

    __tablename__ = "application_shares"
    __table_args__ = (UniqueConstraint("application_id", "document_type"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    document_type: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[str] = mapped_column(String(64))
    share_id: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(MEMBER))
    purpose: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]


class Task(Base):
    """The work of one agency in one step of an application. A task of a step that can start
    is handed over to the agency as a reliable message through the operator's gateway
    (``handover_state``); the agency side is part 3."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("application_id", "step_key", "agency"),
        Index("ix_tasks_handover", "handover_state", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(APPLICATION_ID), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    step_key: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(MEMBER))
    state: Mapped[str] = mapped_column(String(16))
    """``waiting`` (its step cannot start yet), ``open``."""
    due_at: Mapped[datetime | None]
    handover_state: Mapped[str] = mapped_column(String(16))
    """``none`` (not to be sent yet), ``queued``, ``submitted`` (the gateway took it),
    ``received`` (the agency's gateway gave its receipt), ``delivered`` (the agency's system
    has it), ``failed``, ``no-inbox`` (the agency has not named its inbox subsystem)."""
    message_id: Mapped[str | None] = mapped_column(Text)
    """The message id the operator's gateway gave the hand-over."""
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TimelineEvent(Base):
    """One step of an application's life, as the person (and the tracking-code lookup) sees
    it."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_application", "application_id", "id"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    """``submitted``, ``task-sent``, ``task-received``, ``task-delivered``, ``task-failed``,
    and (part 3) ``more-information-requested``, ``answered``, ``decided``,
    ``document-issued``."""
    agency: Mapped[str | None] = mapped_column(String(MEMBER))
    step_key: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]]


class Notice(Base):
    """A notice to send to a person (by e-mail or SMS), kept until it is sent: the worker sends
    it after the change that made it is committed, and tries again when it could not."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("timeline_events.id"))
    channel: Mapped[str] = mapped_column(String(8))
    """``email`` or ``sms``."""
    address: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(8))
    """``queued``, ``sent``, ``failed`` (given up)."""
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class TrackingLookup(Base):
    """One lookup of a tracking code without sign-in, counted per client address and per code
    for the rate limit; rows older than the window of the limit are removed."""

    __tablename__ = "tracking_lookups"
    __table_args__ = (
        Index("ix_tracking_lookups_address", "address", "at"),
        Index("ix_tracking_lookups_code", "tracking_code", "at"),
    )

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64))
    tracking_code: Mapped[str] = mapped_column(String(TRACKING_CODE))
    at: Mapped[datetime]
