"""The registry service's tables: registries, their versions, records, the hash-chained change
log and the personal-data-usage log. Queries are in ``repository.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from zistboom.core.database import UTCDateTime, component_metadata

# JSONB on PostgreSQL: the search indexes are expressions over it (ZB-STD-006 §8.11).
Document = JSON().with_variant(JSONB(), "postgresql")
# SQLite only gives INTEGER PRIMARY KEY its rowid meaning, not BIGINT.
SequenceNumber = BigInteger().with_variant(Integer(), "sqlite")


# Keys compare and order by code point on both databases (SQLite's BINARY is that already).
Key = Text().with_variant(Text(collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = component_metadata()
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: Document,
    }


class Registry(Base):
    """A registry: what it is, who owns it, where it belongs."""

    __tablename__ = "registries"
    # Never reuse a deleted registry's id: its indexes and change rows are named by it.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_fa: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    description_fa: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(255))
    """The owning member, ``INSTANCE/CLASS/CODE``."""
    ecosystem: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class RegistryVersion(Base):
    """One schema of a registry. A draft until published; published versions never change."""

    __tablename__ = "registry_versions"
    __table_args__ = (UniqueConstraint("registry_id", "version"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registry_id: Mapped[int] = mapped_column(ForeignKey("registries.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(16))
    schema: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class Record(Base):
    """A record, stored once per registry whatever the version it was written through.

    ``terms`` holds the comparable form of every key, unique and searchable field (text in its
    Persian match form, date-times in UTC): filters, ordering and the indexes use it."""

    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("registry_id", "key"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True)
    registry_id: Mapped[int] = mapped_column(ForeignKey("registries.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Key)
    content: Mapped[dict[str, Any]]
    terms: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Change(Base):
    """One create, update or delete, hash-chained to the one before (ZB-STD-006 §11)."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_record", "registry_id", "record_key", "seq"),)

    seq: Mapped[int] = mapped_column(SequenceNumber, primary_key=True)
    registry_id: Mapped[int] = mapped_column(Integer)
    record_key: Mapped[str] = mapped_column(Key)
    operation: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime]
    client: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    """The change log's last hash, one row: locked by each writer so that the chain never
    forks when several transactions change records at once."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(SequenceNumber)
    hash: Mapped[str] = mapped_column(String(64))


class Usage(Base):
    """One read of a record with personal fields, about one of its subjects (ZB-STD-006 §9)."""

    __tablename__ = "personal_data_usage"
    __table_args__ = (Index("ix_usage_subject", "subject", "at", "id"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True)
    at: Mapped[datetime]
    subject: Mapped[str] = mapped_column(Text)
    registry_code: Mapped[str] = mapped_column(String(32))
    record_key: Mapped[str] = mapped_column(Key)
    fields: Mapped[dict[str, Any]]
    """``{"names": [...]}``: the fields the answer gave."""
    client: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(Text)
