"""The tables of asynchronous messaging: the outbox (what this gateway's subsystems send), the
inbox (what they receive), every status transition, and topic subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from zistboom.gateway.models import Base

_ID = BigInteger().with_variant(Integer(), "sqlite")


class OutboxMessage(Base):
    """A message a local subsystem sent (or the gateway sends for it: answers, status notices,
    subscriptions, events), until its retention ends."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("client", "idempotency_key"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        Index("ix_outbox_messages_pair", "client", "service", "id"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    client: Mapped[str] = mapped_column(String(255))
    """The sending subsystem (``X-Road-Client`` of the delivery)."""
    service: Mapped[str] = mapped_column(String(255))
    """The service id the delivery is addressed to."""
    in_reply_to: Mapped[str | None] = mapped_column(String(64))
    answer_status: Mapped[str | None] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(255))
    event_id: Mapped[str | None] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any]]
    """X-Road headers of the submission that travel with the message (user id, purpose…)."""
    ordered: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    """The gateway instance (replica) holding the lease: after a crash it frees its own."""
    expires_at: Mapped[datetime]
    """The end of the message's lifetime: no attempt starts after it."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    received_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    receipt: Mapped[str | None] = mapped_column(Text)
    """The receiving gateway's receipt (compact JWS)."""
    answer_id: Mapped[str | None] = mapped_column(String(64))
    """The business answer's message id (in this gateway's inbox)."""


class InboxMessage(Base):
    """A message a local subsystem received, stored once per (sender, message id)."""

    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("sender", "message_id"),
        Index("ix_inbox_messages_receiver", "receiver", "id"),
        Index("ix_inbox_messages_due", "status", "next_push_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), index=True)
    sender: Mapped[str] = mapped_column(String(255))
    receiver: Mapped[str] = mapped_column(String(255))
    """The local subsystem the message is for."""
    service: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    in_reply_to: Mapped[str | None] = mapped_column(String(64))
    answer_status: Mapped[str | None] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any]]
    ordered: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    push_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_push_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    push_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    """Kept (and duplicates eliminated) at least until then."""
    receipt: Mapped[str] = mapped_column(Text)
    """The receipt this gateway answered with; a duplicate delivery gets the same one."""
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    """Deliveries of this message after the first (each answered with the same receipt)."""


class MessageTransition(Base):
    """One step of a message's status ladder, on one side."""

    __tablename__ = "message_transitions"
    __table_args__ = (Index("ix_message_transitions_message", "box", "message_id", "id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    box: Mapped[str] = mapped_column(String(8))
    """``outbox`` or ``inbox``."""
    message_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    detail: Mapped[str | None] = mapped_column(Text)


class Subscription(Base):
    """A subscriber subsystem's subscription to a topic, as the provider's gateway holds it
    (``side`` ``provider``) and as the subscriber's holds it (``subscriber``)."""

    __tablename__ = "topic_subscriptions"
    __table_args__ = (UniqueConstraint("topic", "subscriber", "side"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(255))
    subscriber: Mapped[str] = mapped_column(String(255))
    side: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
