"""The issuer's tables: its status lists (the permutation each hands indexes out by, the counter,
and per purpose the bits and the latest signed list credential), the allocation of every index,
the documents it issued and their status changes. Queries are in ``repository.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from zistboom.core.database import UTCDateTime, component_metadata

# SQLite only gives INTEGER PRIMARY KEY its rowid meaning, not BIGINT.
SequenceNumber = BigInteger().with_variant(Integer(), "sqlite")
PURPOSES = ("revocation", "suspension")
STATES = ("active", "suspended", "revoked")
OUTCOMES = ("pending", "issued", "abandoned")


class Base(DeclarativeBase):
    metadata = component_metadata()
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class StatusList(Base):
    """One list of ``size`` entries. Its indexes are handed out as ``(multiplier · counter +
    addend) mod size`` for counter = 0, 1, …, ``allocated`` counting those handed out, so
    consecutive documents get unrelated indexes (herd privacy) and none is given twice."""

    __tablename__ = "status_lists"
    # Never reuse a number: allocations and documents are named by it.
    __table_args__ = (
        CheckConstraint("allocated >= 0 AND allocated <= size", name="allocated_within_size"),
        {"sqlite_autoincrement": True},
    )

    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[str] = mapped_column(String(64), unique=True)
    """The list's public id, in its URL at the hub (``/status-lists/<list_id>/<purpose>``)."""
    size: Mapped[int] = mapped_column(Integer)
    multiplier: Mapped[int] = mapped_column(BigInteger)
    addend: Mapped[int] = mapped_column(BigInteger)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class StatusListBits(Base):
    """One purpose of a list: its bits, as the list credential's ``encodedList`` carries them
    (multibase base64url of the GZIP of the bitstring), a ``revision`` raised on every change
    and every signing, and the list credential signed at some revision, which the hub holds
    once ``published_revision`` has reached it."""

    __tablename__ = "status_list_bits"
    __table_args__ = (
        CheckConstraint("purpose IN ('revocation', 'suspension')", name="purpose_known"),
    )

    list_number: Mapped[int] = mapped_column(
        ForeignKey("status_lists.number", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(16), primary_key=True)
    encoded_list: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    credential: Mapped[str | None] = mapped_column(Text, default=None)
    """The signed ``BitstringStatusListCredential`` (``application/vc+jwt``)."""
    signed_revision: Mapped[int] = mapped_column(Integer, default=0)
    valid_until: Mapped[datetime | None] = mapped_column(default=None)
    """The signed credential's ``validUntil``: it is signed again before then."""
    published_revision: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None] = mapped_column(default=None)


class Allocation(Base):
    """An index handed out, for one credential. ``pending`` while the document is being made,
    ``issued`` once it is deposited and recorded, ``abandoned`` when a step failed: the index
    is then never used (its bits stay 0), and is never handed out again either."""

    __tablename__ = "status_allocations"
    __table_args__ = (
        CheckConstraint("outcome IN ('pending', 'issued', 'abandoned')", name="outcome_known"),
    )

    list_number: Mapped[int] = mapped_column(
        ForeignKey("status_lists.number", ondelete="RESTRICT"), primary_key=True
    )
    status_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(64), unique=True)
    counter: Mapped[int] = mapped_column(Integer)
    allocated_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    """Why it was abandoned: the step that failed."""


class IssuedDocument(Base):
    """A document this issuer signed and the hub holds; the artefacts themselves are the
    holder's (in the locker), only their SHA-256 digests are kept here."""

    __tablename__ = "documents"
    __table_args__ = (
        ForeignKeyConstraint(
            ["list_number", "status_index"],
            ["status_allocations.list_number", "status_allocations.status_index"],
            name="fk_documents_allocation",
        ),
        CheckConstraint("state IN ('active', 'suspended', 'revoked')", name="state_known"),
        Index("ix_documents_holder", "holder", "issued_at"),
        Index("uq_documents_status_entry", "list_number", "status_index", unique=True),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """``urn:uuid:…``, the credential's ``id``."""
    type_code: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(64))
    """The holder id (``IR…``, ``FN…`` or a legal-entity id), without the URN prefix."""
    list_number: Mapped[int] = mapped_column(Integer)
    status_index: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="active")
    issued_at: Mapped[datetime]
    """The trusted time of issue: the timestamp's genTime."""
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    credential_digest: Mapped[str] = mapped_column(String(64))
    timestamp_digest: Mapped[str] = mapped_column(String(64))
    qr_digest: Mapped[str] = mapped_column(String(64))
    pdf_digest: Mapped[str | None] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(Text)
    """The client (``X-Road-Client``) that asked for it."""
    state_changed_at: Mapped[datetime]


class StatusChange(Base):
    """One change of a document's state, never rewritten."""

    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_document", "document_id", "id"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    requested_by: Mapped[str] = mapped_column(Text)
