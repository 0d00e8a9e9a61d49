"""The catalogue's tables: the agencies' API keys (their SHA-256 hashes), the service
definitions each agency declared, and the catalogue's version (one row, raised by every change,
so that every window process knows when to rebuild its search index). Queries are in
``repository.py``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zistboom.window.database import Base, SequenceNumber


class AgencyKey(Base):
    """An agency's API key for the management API: only its hash is kept; shown once."""

    __tablename__ = "agency_keys"
    __table_args__ = (Index("ix_agency_keys_agency", "agency"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.member_id"))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ServiceRecord(Base):
    """One agency's definition of one of its services (ZB-STD-010), as validated."""

    __tablename__ = "catalogue_services"
    __table_args__ = (UniqueConstraint("agency", "code", name="uq_catalogue_services_code"),)

    id: Mapped[int] = mapped_column(SequenceNumber, primary_key=True, autoincrement=True)
    agency: Mapped[str] = mapped_column(ForeignKey("agencies.member_id"))
    code: Mapped[str] = mapped_column(String(64))
    ecosystem: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(Text)
    definition: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CatalogueVersion(Base):
    """The one row whose ``version`` every write to the definitions raises."""

    __tablename__ = "catalogue_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int]
    changed_at: Mapped[datetime]
