"""The tables of who is who at the window: the agencies it serves, the people who signed in
(their profile), their browser sessions and pending sign-ins, the officials' roles per agency,
the consents people gave, and the audit trail of grants. Queries are in
``identity_repository.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zistboom.window.database import Base, SequenceNumber

SUBJECT = 32
"""``IR`` + a national code, ``FN`` + a foreign-national ID."""
MEMBER = 128


class Agency(Base):
    """An organisation (a member of the instance) whose services the window lists and whose
    officials work in it."""

    __tablename__ = "agencies"

    member_id: Mapped[str] = mapped_column(String(MEMBER), primary_key=True)
    name_fa: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    inbox_subsystem: Mapped[str | None] = mapped_column(String(64))
    """The agency's subsystem that receives the window's tasks as asynchronous messages (at the
    service ``task_service_code``); None: its tasks wait in the window."""
    created_at: Mapped[datetime]


class Person(Base):
    """A person who signed in: names from the civil (or foreign nationals) registry, read with
    their consent; contact addresses from the identity provider's claims, editable."""

    __tablename__ = "people"

    subject: Mapped[str] = mapped_column(String(SUBJECT), primary_key=True)
    given_name_fa: Mapped[str | None] = mapped_column(Text)
    given_name_en: Mapped[str | None] = mapped_column(Text)
    family_name_fa: Mapped[str | None] = mapped_column(Text)
    family_name_en: Mapped[str | None] = mapped_column(Text)
    names_source: Mapped[str | None] = mapped_column(Text)
    """The registry service the names were read from."""
    names_read_at: Mapped[datetime | None]
    names_message_id: Mapped[str | None] = mapped_column(Text)
    """The exchange's message id of the read (the evidence of where the names came from)."""
    names_choice: Mapped[str | None] = mapped_column(String(16))
    """``given`` (read from the registry) or ``declined``; None until asked."""
    provider_name: Mapped[str | None] = mapped_column(Text)
    """The name the identity provider's claims gave, shown until the registry's is read."""
    email: Mapped[str | None] = mapped_column(Text)
    phone_number: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8), default="fa")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PendingSignIn(Base):
    """A sign-in on its way through the identity provider: its ``state``, ``nonce`` and PKCE
    verifier, kept here (not in the browser) under the hash of a random cookie value."""

    __tablename__ = "pending_sign_ins"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    return_to: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class WebSession(Base):
    """A signed-in browser: stored under the hash of its cookie value; over when idle too long,
    when its absolute life ends, or at sign-out."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_subject", "subject"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(ForeignKey("people.subject"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    """The absolute end."""
    ended_at: Mapped[datetime | None]
    id_token: Mapped[str] = mapped_column(Text)
    """The provider's ID token, the hint of the sign-out at the provider."""
    provider_session: Mapped[str | None] = mapped_column(Text)
    """The provider's session id (``sid``)."""


class RoleGrant(Base):
    """A role an official holds at an agency: ``clerk``, ``approver`` or ``agency-admin``."""

    __tablename__ = "role_grants"
    __table_args__ = (Index("ix_role_grants_subject", "subject", "agency"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.member_id"))
    subject: Mapped[str] = mapped_column(String(SUBJECT))
    role: Mapped[str] = mapped_column(String(32))
    granted_by: Mapped[str] = mapped_column(Text)
    """The agency admin (a subject), or ``operator`` for an agency's first admin."""
    granted_at: Mapped[datetime]
    revoked_by: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None]


class Consent(Base):
    """A person's choice about data the window reads for them: which items, from which sources,
    for what purpose, given or declined, when."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_subject", "subject", "at"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(SUBJECT))
    purpose: Mapped[str] = mapped_column(Text)
    items: Mapped[list[Any]]
    sources: Mapped[list[Any]]
    choice: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    application_id: Mapped[str | None] = mapped_column(String(32))
    """The application the read was for; None for the profile's names."""
    service: Mapped[str | None] = mapped_column(Text)
    """The service applied for (``AGENCY/CODE``), with ``application_id``."""


class AuditRecord(Base):
    """One change to who may do what at the window (an agency registered, a role granted or
    revoked), kept for ever."""

    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_agency", "agency", "id"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str | None] = mapped_column(String(MEMBER))
    detail: Mapped[dict[str, Any]]
