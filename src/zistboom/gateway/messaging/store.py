"""The queries of asynchronous messaging: submissions, claims of due work (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so replicas sharing a database never take the same message), the
status ladder with its transitions, the inbox with duplicate elimination, and retention."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from zistboom.core.database import utc_now
from zistboom.core.errors import ConflictError, NotFoundError, ValidationError
from zistboom.core.messaging import FINAL, INBOX_KINDS, RANK, REPLIES_SERVICE
from zistboom.gateway.messaging.models import (
    InboxMessage,
    MessageTransition,
    OutboxMessage,
    Subscription,
)

PENDING = ("accepted", "sent")
# Statuses a status notice or an answer sets, which can come back before the receipt is stored.
OVERTAKEN = ("delivered", "processed", "rejected")
MAX_PAGE = 500


def new_message_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class Submission:
    kind: str
    client: str
    service: str
    body: bytes
    content_type: str | None
    headers: dict[str, str]
    expires_at: datetime
    ordered: bool = False
    idempotency_key: str | None = None
    in_reply_to: str | None = None
    answer_status: str | None = None
    topic: str | None = None
    event_id: str | None = None
    message_id: str | None = None


def _outbox_row(submission: Submission, now: datetime) -> OutboxMessage:
    return OutboxMessage(
        message_id=submission.message_id or new_message_id(),
        kind=submission.kind,
        client=submission.client,
        service=submission.service,
        in_reply_to=submission.in_reply_to,
        answer_status=submission.answer_status,
        topic=submission.topic,
        event_id=submission.event_id,
        idempotency_key=submission.idempotency_key,
        content_type=submission.content_type,
        body=submission.body,
        headers=submission.headers,
        ordered=submission.ordered,
        status="accepted",
        attempts=0,
        next_attempt_at=now,
        expires_at=submission.expires_at,
        created_at=now,
        updated_at=now,
    )


def _transition(
    session: AsyncSession,
    box: str,
    message_id: str,
    status: str,
    at: datetime,
    detail: str | None = None,
) -> None:
    session.add(
        MessageTransition(box=box, message_id=message_id, status=status, at=at, detail=detail)
    )


class MessageStore:
    """The messaging tables of one gateway database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.postgres = engine.dialect.name == "postgresql"

    # --- the outbox --------------------------------------------------------------------------

    async def submit(self, submissions: Sequence[Submission]) -> list[tuple[OutboxMessage, bool]]:
        """Store messages durably as ``accepted``; a submission whose idempotency key the client
        used before returns the earlier message instead (``True`` in its pair)."""
        now = utc_now()
        results: list[tuple[OutboxMessage, bool]] = []
        async with self.sessions.begin() as session:
            for submission in submissions:
                if submission.idempotency_key is not None:
                    earlier = await session.scalar(
                        select(OutboxMessage).where(
                            OutboxMessage.client == submission.client,
                            OutboxMessage.idempotency_key == submission.idempotency_key,
                        )
                    )
                    if earlier is not None:
                        if earlier.service != submission.service:
                            raise ConflictError(
                                f"Idempotency-Key {submission.idempotency_key!r} was used for a "
                                f"message to {earlier.service}",
                                field="Idempotency-Key",
                            )
                        results.append((earlier, True))
                        continue
                row = _outbox_row(submission, now)
                session.add(row)
                _transition(session, "outbox", row.message_id, "accepted", now)
                results.append((row, False))
        return results

    async def claim_outbox(self, limit: int, lease_seconds: float) -> list[OutboxMessage]:
        """Up to ``limit`` messages due for an attempt, leased to the caller; ``accepted`` ones
        become ``sent``. A message of an ordered service waits while an earlier one of the same
        sender and service is still on its way."""
        now = utc_now()
        earlier = aliased(OutboxMessage)
        blocked = exists().where(
            earlier.client == OutboxMessage.client,
            earlier.service == OutboxMessage.service,
            earlier.id < OutboxMessage.id,
            earlier.status.in_(PENDING),
        )
        query = (
            select(OutboxMessage)
            .where(
                OutboxMessage.status.in_(PENDING),
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                or_(OutboxMessage.ordered.is_(False), ~blocked),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
        if self.postgres:
            query = query.with_for_update(skip_locked=True, of=OutboxMessage)
        async with self.sessions.begin() as session:
            rows = list((await session.scalars(query)).all())
            lease = now + timedelta(seconds=lease_seconds)
            for row in rows:
                row.lease_until = lease
                if row.status == "accepted":
                    row.status = "sent"
                    row.updated_at = now
                    _transition(session, "outbox", row.message_id, "sent", now)
        return rows

    async def received(self, row_id: int, receipt: str, at: datetime, *, detail: str) -> None:
        """The receiving gateway's receipt: ``received``. The row is locked, so a status notice
        or answer stored meanwhile is not overwritten; one that came back before the receipt
        was recorded keeps its later status, and the receipt is kept all the same."""
        async with self.sessions.begin() as session:
            row = await session.get(OutboxMessage, row_id, with_for_update=True)
            if row is None:
                return
            overtaken = row.status in OVERTAKEN and row.receipt is None
            if row.status not in PENDING and not overtaken:
                return
            now = utc_now()
            if not overtaken:
                row.status = "received"
            row.receipt = receipt
            row.received_at = at
            row.attempts += 1
            row.lease_until = None
            row.next_attempt_at = None
            row.reason = None
            row.updated_at = now
            _transition(session, "outbox", row.message_id, "received", now, detail)
            if row.kind == "subscribe" and row.topic is not None:
                await _set_subscription(session, row.topic, row.client, "subscriber", True, now)
            elif row.kind == "unsubscribe" and row.topic is not None:
                await _set_subscription(session, row.topic, row.client, "subscriber", False, now)

    async def retry_later(self, row_id: int, next_at: datetime, reason: str) -> None:
        async with self.sessions.begin() as session:
            row = await session.get(OutboxMessage, row_id)
            if row is None or row.status not in PENDING:
                return
            row.attempts += 1
            row.next_attempt_at = next_at
            row.lease_until = None
            row.reason = reason
            row.updated_at = utc_now()

    async def fail(self, row_id: int, reason: str) -> None:
        async with self.sessions.begin() as session:
            row = await session.get(OutboxMessage, row_id)
            if row is None or row.status not in PENDING:
                return
            now = utc_now()
            row.attempts += 1
            row.status = "failed"
            row.reason = reason
            row.lease_until = None
            row.next_attempt_at = None
            row.updated_at = now
            _transition(session, "outbox", row.message_id, "failed", now, reason)

    async def expire(self) -> int:
        """Messages past their lifetime that no attempt holds: ``failed``."""
        now = utc_now()
        async with self.sessions.begin() as session:
            rows = (
                await session.scalars(
                    select(OutboxMessage).where(
                        OutboxMessage.status.in_(PENDING),
                        OutboxMessage.expires_at < now,
                        or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                    )
                )
            ).all()
            for row in rows:
                reason = (
                    f"its lifetime ended at {row.expires_at.isoformat()} after {row.attempts} "
                    f"attempts" + (f"; the last: {row.reason}" if row.reason else "")
                )
                row.status = "failed"
                row.reason = reason
                row.next_attempt_at = None
                row.updated_at = now
                _transition(session, "outbox", row.message_id, "failed", now, reason)
        return len(rows)

    async def retry(self, message_id: str) -> OutboxMessage:
        """An operator's retry: a ``failed`` message (or one waiting for its next attempt) is
        due now, with a fresh lifetime when its old one has ended."""
        async with self.sessions.begin() as session:
            row = await self._outbox_row(session, message_id)
            if row.status not in (*PENDING, "failed"):
                raise ConflictError(
                    f"message {message_id} is {row.status}: only a pending or failed message "
                    "can be retried"
                )
            now = utc_now()
            if row.status == "failed":
                row.status = "accepted"
                _transition(session, "outbox", row.message_id, "accepted", now, "retried")
            lifetime = row.expires_at - row.created_at
            if row.expires_at <= now:
                row.expires_at = now + lifetime
            row.next_attempt_at = now
            row.lease_until = None
            row.updated_at = now
            return row

    async def cancel(self, message_id: str) -> OutboxMessage:
        async with self.sessions.begin() as session:
            row = await self._outbox_row(session, message_id)
            if row.status not in PENDING:
                raise ConflictError(
                    f"message {message_id} is {row.status}: only a message not yet received can "
                    "be cancelled"
                )
            now = utc_now()
            row.status = "cancelled"
            row.reason = "cancelled by an operator"
            row.next_attempt_at = None
            row.updated_at = now
            _transition(session, "outbox", row.message_id, "cancelled", now, row.reason)
            return row

    @staticmethod
    async def _outbox_row(session: AsyncSession, message_id: str) -> OutboxMessage:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.message_id == message_id)
        )
        if row is None:
            raise NotFoundError(f"no message {message_id} in this gateway's outbox")
        return row

    async def outbox_message(self, message_id: str, client: str | None = None) -> OutboxMessage:
        async with self.sessions() as session:
            row = await self._outbox_row(session, message_id)
        if client is not None and row.client != client:
            raise NotFoundError(f"no message {message_id} in the outbox of {client}")
        return row

    async def outbox_by_event(self, event_id: str, client: str) -> list[OutboxMessage]:
        async with self.sessions() as session:
            return list(
                (
                    await session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.event_id == event_id, OutboxMessage.client == client)
                        .order_by(OutboxMessage.id)
                    )
                ).all()
            )

    async def list_outbox(
        self,
        client: str | None,
        *,
        after: int = 0,
        limit: int = 100,
        status: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(OutboxMessage.id > after)
        if client is not None:
            query = query.where(OutboxMessage.client == client)
        if status is not None:
            query = query.where(OutboxMessage.status == status)
        if kinds is not None:
            query = query.where(OutboxMessage.kind.in_(kinds))
        async with self.sessions() as session:
            return list(
                (
                    await session.scalars(
                        query.order_by(OutboxMessage.id).limit(min(limit, MAX_PAGE))
                    )
                ).all()
            )

    async def transitions(self, box: str, message_id: str) -> list[MessageTransition]:
        async with self.sessions() as session:
            return list(
                (
                    await session.scalars(
                        select(MessageTransition)
                        .where(
                            MessageTransition.box == box,
                            MessageTransition.message_id == message_id,
                        )
                        .order_by(MessageTransition.id)
                    )
                ).all()
            )

    # --- the inbox ---------------------------------------------------------------------------

    async def store_delivery(
        self, row: InboxMessage, *, effects: bool = True
    ) -> tuple[InboxMessage, bool]:
        """Store a received message once per (sender, message id) and apply what it means for
        this gateway's own records (an answer or status notice to an outbox message, a
        subscription); a second delivery of the same message changes nothing and returns the
        first one's row (``True`` in the pair)."""
        now = utc_now()
        try:
            async with self.sessions.begin() as session:
                session.add(row)
                await session.flush()
                _transition(session, "inbox", row.message_id, "received", now, f"from {row.sender}")
                if effects:
                    await _apply(session, row, now)
            return row, False
        except IntegrityError:
            pass
        async with self.sessions.begin() as session:
            earlier = await session.scalar(
                select(InboxMessage).where(
                    InboxMessage.sender == row.sender, InboxMessage.message_id == row.message_id
                )
            )
            if earlier is None:  # not a duplicate: another constraint failed
                raise ConflictError(f"message {row.message_id} cannot be stored")
            earlier.duplicates += 1
            return earlier, True

    async def claim_pushes(
        self, receivers: Sequence[str], limit: int, lease_seconds: float
    ) -> list[InboxMessage]:
        """Up to ``limit`` received messages due to be pushed to these receivers, leased; a
        message of an ordered service waits for the earlier ones from the same sender."""
        if not receivers:
            return []
        now = utc_now()
        earlier = aliased(InboxMessage)
        blocked = exists().where(
            earlier.sender == InboxMessage.sender,
            earlier.service == InboxMessage.service,
            earlier.id < InboxMessage.id,
            earlier.status == "received",
            earlier.kind.in_(INBOX_KINDS),
        )
        query = (
            select(InboxMessage)
            .where(
                InboxMessage.status == "received",
                InboxMessage.kind.in_(INBOX_KINDS),
                InboxMessage.receiver.in_(receivers),
                InboxMessage.next_push_at <= now,
                or_(InboxMessage.lease_until.is_(None), InboxMessage.lease_until < now),
                or_(InboxMessage.ordered.is_(False), ~blocked),
            )
            .order_by(InboxMessage.next_push_at, InboxMessage.id)
            .limit(limit)
        )
        if self.postgres:
            query = query.with_for_update(skip_locked=True, of=InboxMessage)
        async with self.sessions.begin() as session:
            rows = list((await session.scalars(query)).all())
            lease = now + timedelta(seconds=lease_seconds)
            for row in rows:
                row.lease_until = lease
        return rows

    async def push_failed(self, row_id: int, next_at: datetime, error: str) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(InboxMessage)
                .where(InboxMessage.id == row_id, InboxMessage.status == "received")
                .values(
                    push_attempts=InboxMessage.push_attempts + 1,
                    next_push_at=next_at,
                    lease_until=None,
                    push_error=error,
                )
            )

    async def delivered(
        self,
        receiver: str,
        message_id: str,
        *,
        how: str,
        notice_expires: datetime,
        sender: str | None = None,
    ) -> InboxMessage:
        """The receiving information system has the message (pushed, or pulled and
        acknowledged): ``delivered``, and a status notice on its way back to the sender. A
        second acknowledgement changes nothing."""
        async with self.sessions.begin() as session:
            row = await self._inbox_row(
                session, receiver, message_id, for_update=True, sender=sender
            )
            if row.status == "received":
                now = utc_now()
                row.status = "delivered"
                row.delivered_at = now
                row.lease_until = None
                row.push_error = None
                _transition(session, "inbox", row.message_id, "delivered", now, how)
                if row.kind in ("message", "event"):
                    self._notice(session, row, "delivered", now, notice_expires)
            return row

    def _notice(
        self,
        session: AsyncSession,
        row: InboxMessage,
        status: str,
        now: datetime,
        expires: datetime,
    ) -> None:
        notice = _outbox_row(
            Submission(
                kind="status",
                client=row.receiver,
                service=f"{row.sender}/{REPLIES_SERVICE}",
                body=orjson.dumps({"status": status, "at": now.isoformat()}),
                content_type="application/json",
                headers={},
                expires_at=expires,
                in_reply_to=row.message_id,
                answer_status=status,
            ),
            now,
        )
        session.add(notice)
        _transition(session, "outbox", notice.message_id, "accepted", now)

    async def answer(
        self,
        receiver: str,
        message_id: str,
        status: str,
        body: bytes,
        content_type: str | None,
        expires: datetime,
    ) -> OutboxMessage:
        """The receiving system's business answer to a message: the message is ``processed``
        or ``rejected`` here, and the answer goes back to its sender as a message of its own."""
        async with self.sessions.begin() as session:
            row = await self._inbox_row(session, receiver, message_id, for_update=True)
            if row.kind != "message":
                raise ValidationError(
                    f"{message_id} is {'an' if row.kind[0] in 'ae' else 'a'} {row.kind}: only a "
                    "message is answered",
                    field="id",
                )
            if row.status in ("processed", "rejected"):
                raise ConflictError(f"message {message_id} was answered already ({row.status})")
            now = utc_now()
            if row.status == "received":
                row.status = "delivered"
                row.delivered_at = now
                _transition(session, "inbox", row.message_id, "delivered", now, "answered")
            row.status = status
            row.answered_at = now
            _transition(session, "inbox", row.message_id, status, now, "answered")
            answer = _outbox_row(
                Submission(
                    kind="answer",
                    client=row.receiver,
                    service=f"{row.sender}/{REPLIES_SERVICE}",
                    body=body,
                    content_type=content_type,
                    headers={},
                    expires_at=expires,
                    in_reply_to=row.message_id,
                    answer_status=status,
                ),
                now,
            )
            session.add(answer)
            _transition(session, "outbox", answer.message_id, "accepted", now)
            return answer

    @staticmethod
    async def _inbox_row(
        session: AsyncSession,
        receiver: str,
        message_id: str,
        *,
        for_update: bool = False,
        sender: str | None = None,
    ) -> InboxMessage:
        query = select(InboxMessage).where(
            InboxMessage.receiver == receiver,
            InboxMessage.message_id == message_id,
            InboxMessage.kind.in_(INBOX_KINDS),
        )
        if sender is not None:
            query = query.where(InboxMessage.sender == sender)
        if for_update:
            query = query.with_for_update()
        rows = (await session.scalars(query)).all()
        if not rows:
            raise NotFoundError(f"no message {message_id} in the inbox of {receiver}")
        if len(rows) > 1:
            raise ConflictError(f"several senders sent a message {message_id} to {receiver}")
        return rows[0]

    async def inbox_message(self, receiver: str | None, message_id: str) -> InboxMessage:
        async with self.sessions() as session:
            if receiver is not None:
                return await self._inbox_row(session, receiver, message_id)
            row = await session.scalar(
                select(InboxMessage)
                .where(InboxMessage.message_id == message_id)
                .order_by(InboxMessage.id)
            )
            if row is None:
                raise NotFoundError(f"no message {message_id} in this gateway's inbox")
            return row

    async def list_inbox(
        self,
        receiver: str | None,
        *,
        after: int = 0,
        limit: int = 100,
        status: str | None = None,
        kinds: Sequence[str] = INBOX_KINDS,
    ) -> list[InboxMessage]:
        query = select(InboxMessage).where(InboxMessage.id > after, InboxMessage.kind.in_(kinds))
        if receiver is not None:
            query = query.where(InboxMessage.receiver == receiver)
        if status is not None:
            query = query.where(InboxMessage.status == status)
        async with self.sessions() as session:
            return list(
                (
                    await session.scalars(
                        query.order_by(InboxMessage.id).limit(min(limit, MAX_PAGE))
                    )
                ).all()
            )

    # --- subscriptions -----------------------------------------------------------------------

    async def subscribers(self, topic: str) -> list[str]:
        async with self.sessions() as session:
            return list(
                (
                    await session.scalars(
                        select(Subscription.subscriber)
                        .where(
                            Subscription.topic == topic,
                            Subscription.side == "provider",
                            Subscription.active.is_(True),
                        )
                        .order_by(Subscription.id)
                    )
                ).all()
            )

    async def subscribed(self, topic: str, subscriber: str) -> bool:
        async with self.sessions() as session:
            return bool(
                await session.scalar(
                    select(func.count())
                    .select_from(Subscription)
                    .where(
                        Subscription.topic == topic,
                        Subscription.subscriber == subscriber,
                        Subscription.side == "subscriber",
                        Subscription.active.is_(True),
                    )
                )
            )

    # --- operations --------------------------------------------------------------------------

    async def depth(self) -> dict[str, Any]:
        """Queue depths and the age of the oldest waiting message, for the metrics."""
        now = utc_now()
        async with self.sessions() as session:
            outbox = (
                await session.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(
                        OutboxMessage.status.in_(PENDING)
                    )
                )
            ).one()
            inbox = (
                await session.execute(
                    select(func.count(), func.min(InboxMessage.received_at)).where(
                        InboxMessage.status == "received",
                        InboxMessage.kind.in_(INBOX_KINDS),
                    )
                )
            ).one()
            failed = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status == "failed")
            )
        return {
            "outbox": outbox[0],
            "outbox_oldest": (now - outbox[1]).total_seconds() if outbox[1] else 0.0,
            "inbox": inbox[0],
            "inbox_oldest": (now - inbox[1]).total_seconds() if inbox[1] else 0.0,
            "failed": failed or 0,
        }

    async def purge(self, retention: timedelta) -> tuple[int, int]:
        """Remove what is past retention: outbox messages that reached a final status that long
        ago, inbox messages past their kept-until time that their system has (nothing the
        receiving system has not had is removed)."""
        now = utc_now()
        cutoff = now - retention
        async with self.sessions.begin() as session:
            gone_out = (
                await session.scalars(
                    delete(OutboxMessage)
                    .where(
                        OutboxMessage.status.in_(FINAL | {"received", "delivered"}),
                        OutboxMessage.updated_at < cutoff,
                    )
                    .returning(OutboxMessage.message_id)
                )
            ).all()
            gone_in = (
                await session.scalars(
                    delete(InboxMessage)
                    .where(
                        InboxMessage.expires_at < now,
                        or_(
                            InboxMessage.status != "received",
                            InboxMessage.kind.not_in(INBOX_KINDS),
                        ),
                    )
                    .returning(InboxMessage.message_id)
                )
            ).all()
            for box, ids in (("outbox", gone_out), ("inbox", gone_in)):
                if ids:
                    await session.execute(
                        delete(MessageTransition).where(
                            MessageTransition.box == box,
                            MessageTransition.message_id.in_(ids),
                            MessageTransition.at < cutoff,
                        )
                    )
        return len(gone_out), len(gone_in)


async def _set_subscription(
    session: AsyncSession, topic: str, subscriber: str, side: str, active: bool, now: datetime
) -> None:
    values = {
        "topic": topic,
        "subscriber": subscriber,
        "side": side,
        "active": active,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Subscription).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["topic", "subscriber", "side"],
            set_={"active": active, "updated_at": now},
        )
    )


async def _apply(session: AsyncSession, row: InboxMessage, now: datetime) -> None:
    """What a stored delivery means for this gateway's own records."""
    if row.kind in ("subscribe", "unsubscribe") and row.topic is not None:
        await _set_subscription(
            session, row.topic, row.sender, "provider", row.kind == "subscribe", now
        )
        return
    if row.kind not in ("answer", "status") or row.in_reply_to is None:
        return
    original = await session.scalar(
        select(OutboxMessage).where(OutboxMessage.message_id == row.in_reply_to).with_for_update()
    )
    if original is None:
        return
    status = row.answer_status or ""
    if row.kind == "status" and status == "delivered":
        if original.delivered_at is None:
            original.delivered_at = now
            if RANK.get(original.status, 0) < RANK["delivered"] and original.status not in FINAL:
                original.status = "delivered"
                original.updated_at = now
                _transition(session, "outbox", original.message_id, "delivered", now, row.sender)
        return
    if row.kind == "answer" and status in ("processed", "rejected"):
        if original.delivered_at is None:
            original.delivered_at = now
            _transition(
                session, "outbox", original.message_id, "delivered", now, "implied by the answer"
            )
        if original.status not in ("processed", "rejected"):
            original.status = status
            original.answered_at = now
            original.answer_id = row.message_id
            original.updated_at = now
            _transition(
                session, "outbox", original.message_id, status, now, f"answer {row.message_id}"
            )


def next_attempt(
    attempts: int, base: float, cap: float, jitter: float, now: datetime | None = None
) -> datetime:
    """Exponential backoff with full jitter: a delay drawn in [0.5, 1] of base·2^attempts,
    capped (``jitter`` in [0, 1) chooses within that range)."""
    delay = min(cap, base * (2 ** min(attempts, 30)))
    return (now or utc_now()) + timedelta(seconds=delay * (0.5 + 0.5 * jitter))
