"""The ecosystem operators' ownership readings: one row per call to the legal-entities registry
through the exchange, good or failed, never changed afterwards. The operator's current standing
is its newest good reading; a failed one is kept beside it and replaces nothing."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from zistboom.accreditation.models import Base


class ExactPercent(TypeDecorator[Decimal]):
    """A percentage kept exactly, as decimal text: SQLite has no exact decimal type, and the
    51 % rule must not turn on a float's rounding."""

    impl = String(24)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else format(value, "f")

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class OwnershipReading(Base):
    """One reading of an operator's shareholding, with its source, message id and time."""

    __tablename__ = "operator_ownership_readings"
    __table_args__ = (Index("ix_operator_ownership_readings_ecosystem_id", "ecosystem", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ecosystem: Mapped[str] = mapped_column(String(64))
    operator_id: Mapped[str] = mapped_column(String(255))
    """The operating company, ``INSTANCE/COM/CODE``; its code is its national ID."""
    outcome: Mapped[str] = mapped_column(String(8))
    """``ok`` or ``failed``."""
    trigger: Mapped[str] = mapped_column(String(16))
    """``on-demand`` or ``scheduled``."""
    requested_by: Mapped[str] = mapped_column(String(255))
    """Sent as ``X-Road-UserId``: the operator who asked (``key:…``), or ``system:scheduled``."""
    purpose: Mapped[str] = mapped_column(String(255))
    client: Mapped[str] = mapped_column(String(255))
    """The subsystem central called as (``X-Road-Client``)."""
    registry_service: Mapped[str] = mapped_column(String(255))
    registry_code: Mapped[str] = mapped_column(String(64))
    registry_version: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str | None] = mapped_column(String(255))
    """``X-Road-Id`` of the answer (none when no answer came)."""
    at: Mapped[datetime]
    """When the answer (or the failure) came."""
    private_share_percent: Mapped[Decimal | None] = mapped_column(ExactPercent())
    state_share_percent: Mapped[Decimal | None] = mapped_column(ExactPercent())
    minimum_private_share_percent: Mapped[Decimal] = mapped_column(ExactPercent())
    """The rule as it stood at the reading."""
    holders: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """The shareholders as the registry answered: holder_kind, holder_id, share_percent, state."""
    error_type: Mapped[str | None] = mapped_column(String(128))
    """``X-Road-Error`` of a failed call, or the registry's problem type, or ``Central.…``."""
    error_message: Mapped[str | None] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)

    @property
    def compliant(self) -> bool | None:
        if self.private_share_percent is None:
            return None
        return self.private_share_percent >= self.minimum_private_share_percent
