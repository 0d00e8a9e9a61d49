"""The documents hub's tables: document types, the documents in the holders' lockers, the
status lists as the issuers signed them, shares (with their signed consent records) and access
events. Queries are in ``repository.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from zistboom.core.database import UTCDateTime, component_metadata

Json = JSON().with_variant(JSONB(), "postgresql")
# SQLite only gives INTEGER PRIMARY KEY its rowid meaning, not BIGINT.
SequenceNumber = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = component_metadata()
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: Json,
    }


class DocumentType(Base):
    """A kind of document the hub registers: its subject schema, the accreditation an issuer
    needs, its default validity and its display templates (ZB-STD-008 §document types)."""

    __tablename__ = "document_types"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_fa: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    ecosystem: Mapped[str] = mapped_column(String(64))
    requirement_ecosystem: Mapped[str] = mapped_column(String(64))
    requirement_kind: Mapped[str] = mapped_column(String(64))
    requirement_level: Mapped[str] = mapped_column(String(16))
    default_validity_days: Mapped[int | None] = mapped_column(Integer)
    subject_schema: Mapped[dict[str, Any]] = mapped_column("schema")
    template_fa: Mapped[str] = mapped_column(Text, default="")
    template_en: Mapped[str] = mapped_column(Text, default="")
    registry_mapping: Mapped[dict[str, Any] | None] = mapped_column("registry", Json)
    """How an issuer pulls the subject from its base registry (code, version, key_field,
    fields), or none."""
    registered_at: Mapped[datetime]
    registered_by: Mapped[str] = mapped_column(Text)
    """``seed`` for the seeded types, ``operator`` for those the hub's operator registered."""


class Document(Base):
    """One issued document in its holder's locker: its artefacts as the issuer deposited them
    and what the hub read from them (never edited; its status is the issuer's status list)."""

    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_holder", "holder", "issued_at", "id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """The credential id, ``urn:uuid:…``."""
    holder: Mapped[str] = mapped_column(String(64))
    """The holder id: ``IR`` + national code, ``FN`` + foreign national ID, or a business's
    11-digit legal-entity id."""
    type_code: Mapped[str] = mapped_column(ForeignKey("document_types.code"))
    issuer: Mapped[str] = mapped_column(String(255))
    """The issuing member, ``INSTANCE/CLASS/CODE``."""
    issued_at: Mapped[datetime]
    """The trusted time of issue: the timestamp's genTime, never the issuer's ``iat``."""
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    credential: Mapped[str] = mapped_column(Text)
    """The VC-JWT (``application/vc+jwt``)."""
    timestamp_token: Mapped[bytes] = mapped_column(LargeBinary)
    """The RFC 3161 TimeStampToken (DER) over the VC-JWT's signature."""
    qr: Mapped[str | None] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    status_entries: Mapped[dict[str, Any]] = mapped_column(Json)
    """Purpose → ``{"list": status list URL, "index": n}`` of its ``credentialStatus``."""
    pull_token: Mapped[str] = mapped_column(String(64), unique=True)
    """The secret of the document's pull link, ``/p/<token>``: who holds the link sees the
    document's state (never its subject data); kept so that the holder's locker can show it."""
    deposited_at: Mapped[datetime]


class StatusList(Base):
    """A status list credential as its issuer signed it (the newest received)."""

    __tablename__ = "status_lists"
    __table_args__ = (UniqueConstraint("list_id", "purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(16))
    issuer: Mapped[str] = mapped_column(String(255))
    """The member that signed it; only it may replace the list."""
    credential: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    received_at: Mapped[datetime]


class Share(Base):
    """A holder's consent that ``recipient`` may fetch one document for ``purpose`` until
    ``expires_at``; ``consent`` is the record the hub signed. Revoked, it stays (revoked_at)."""

    __tablename__ = "shares"
    __table_args__ = (Index("ix_shares_document", "document_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    holder: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(255))
    """The member allowed to fetch it, ``INSTANCE/CLASS/CODE``."""
    purpose: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(Text)
    """The client that made it for the holder (the window's subsystem, or the business's own
    system)."""
    consent: Mapped[str] = mapped_column(Text)
    """The consent record, a compact JWS (``typ`` ``zb-consent+jws``) signed by the hub."""


class AccessEvent(Base):
    """Something done with a holder's documents, for the holder to see (append-only)."""

    __tablename__ = "access_events"
    __table_args__ = (
        Index("ix_access_events_holder", "holder", "at", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    """issued, shared, share-revoked, fetched, verified or listed."""
    actor: Mapped[str] = mapped_column(Text)
    """Who did it: a client ``INSTANCE/CLASS/CODE[/SUBSYSTEM]``, or ``public`` for the public
    verification and pull links."""
    user_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(Text)
    share_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
