"""The queries of asynchronous messaging: submissions, claims of due work (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so replicas sharing a database never take the same message), the
status ladder with its transitions, the inbox with duplicate elimination, and retention.

The writes of a message's way through the gateway go through one :class:`GroupWriter`
(writer.py): each is an operation whose handler below runs it for a whole group of them in one
transaction, with SQLAlchemy Core statements (``executemany`` where the rows differ). The rare
ones (an operator's retry or cancel, answers, expiry, retention) are ORM sessions of their own.
A status notice names every message of one receiver from one sender that a group delivered."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    Select,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from zistboom.core.database import utc_now
from zistboom.core.errors import ConflictError, NotFoundError, ValidationError
from zistboom.core.messaging import FINAL, INBOX_KINDS, RANK, REPLIES_SERVICE
from zistboom.gateway.messaging.models import (
    InboxMessage,
    MessageTransition,
    OutboxMessage,
    Subscription,
)
from zistboom.gateway.messaging.writer import Group, GroupWriter, Op

PENDING = ("accepted", "sent")
MAX_PAGE = 500
# Messages one status notice names at most (ZB-STD-009 §5.4).
MAX_NOTICE = 500
# Values of one IN list at most (SQLite's limit on a statement's parameters is far above).
CHUNK = 500

OUT: Table = OutboxMessage.__table__  # type: ignore[assignment]
IN: Table = InboxMessage.__table__  # type: ignore[assignment]
TRANSITIONS: Table = MessageTransition.__table__  # type: ignore[assignment]
SUBSCRIPTIONS: Table = Subscription.__table__  # type: ignore[assignment]


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


def _outbox_values(submission: Submission, now: datetime) -> dict[str, Any]:
    return {
        "message_id": submission.message_id or new_message_id(),
        "kind": submission.kind,
        "client": submission.client,
        "service": submission.service,
        "in_reply_to": submission.in_reply_to,
        "answer_status": submission.answer_status,
        "topic": submission.topic,
        "event_id": submission.event_id,
        "idempotency_key": submission.idempotency_key,
        "content_type": submission.content_type,
        "body": submission.body,
        "headers": submission.headers,
        "ordered": submission.ordered,
        "status": "accepted",
        "reason": None,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "claimed_by": None,
        "expires_at": submission.expires_at,
        "created_at": now,
        "updated_at": now,
        "received_at": None,
        "delivered_at": None,
        "answered_at": None,
        "receipt": None,
        "answer_id": None,
    }


def _outbox_row(submission: Submission, now: datetime) -> OutboxMessage:
    return OutboxMessage(**_outbox_values(submission, now))


def _inbox_values(row: InboxMessage) -> dict[str, Any]:
    """The columns of a new inbox row (defaults filled in: every row of one INSERT names the
    same columns)."""
    values = {column.key: getattr(row, column.key) for column in IN.columns if column.key != "id"}
    values["ordered"] = bool(values["ordered"])
    values["push_attempts"] = values["push_attempts"] or 0
    values["duplicates"] = values["duplicates"] or 0
    return values


def notice_body(messages: Sequence[tuple[str, datetime]]) -> bytes:
    """A status notice's body: the messages the receiving system has, each with its time."""
    return orjson.dumps(
        {"status": "delivered", "messages": [{"id": i, "at": at.isoformat()} for i, at in messages]}
    )


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


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


@dataclass(frozen=True, slots=True)
class _Received:
    row_id: int
    receipt: str
    at: datetime
    detail: str


@dataclass(frozen=True, slots=True)
class _Retry:
    row_id: int
    next_at: datetime | None  # None: fail
    reason: str


@dataclass(frozen=True, slots=True)
class _Stored:
    row: InboxMessage
    effects: bool
    replies: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Claim:
    limit: int
    lease_seconds: float
    receivers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _PushFailed:
    row_id: int
    next_at: datetime
    error: str


@dataclass(frozen=True, slots=True)
class _Delivered:
    how: str
    notice_expires: datetime
    row_id: int | None = None
    receiver: str | None = None
    message_id: str | None = None
    sender: str | None = None


class MessageStore:
    """The messaging tables of one gateway database."""

    def __init__(
        self, engine: AsyncEngine, instance: str = "gateway", reader: AsyncEngine | None = None
    ) -> None:
        """``engine`` writes (on SQLite its transactions begin IMMEDIATE, see
        core.database.begin_immediately); ``reader``, when given, answers the reads, so that
        listing and polling never wait for or take SQLite's write lock."""
        self.engine = engine
        self.instance = instance
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.reads = async_sessionmaker(reader or engine, expire_on_commit=False)
        self.postgres = engine.dialect.name == "postgresql"
        self.writer = GroupWriter(
            engine,
            {
                "submit": self._submit_group,
                "claim_outbox": self._claim_outbox_group,
                "received": self._received_group,
                "retry": self._retry_group,
                "store": self._store_group,
                "claim_pushes": self._claim_pushes_group,
                "push_failed": self._push_failed_group,
                "delivered": self._delivered_group,
            },
            TRANSITIONS,
        )

    async def close(self) -> None:
        """Stop the writer (operations still queued fail); the engines are the caller's."""
        await self.writer.close()

    def _locked(self, query: Select[Any]) -> Select[Any]:
        return query.with_for_update() if self.postgres else query

    # --- the outbox --------------------------------------------------------------------------

    async def submit(self, submissions: Sequence[Submission]) -> list[tuple[OutboxMessage, bool]]:
        """Store messages durably as ``accepted``; a submission whose idempotency key the client
        used before returns the earlier message instead (``True`` in its pair)."""
        result: list[tuple[OutboxMessage, bool]] = await self.writer.call(
            "submit", tuple(submissions)
        )
        return result

    async def _submit_group(self, connection: AsyncConnection, ops: list[Op], group: Group) -> None:
        keys = sorted(
            {s.idempotency_key for op in ops for s in op.args if s.idempotency_key is not None}
        )
        earlier: dict[tuple[str, str], OutboxMessage] = {}
        for chunk in _chunks(keys):
            for found in (
                await connection.execute(select(OUT).where(OUT.c.idempotency_key.in_(chunk)))
            ).mappings():
                earlier[(found["client"], found["idempotency_key"])] = OutboxMessage(**found)
        planned: list[tuple[Op, list[tuple[OutboxMessage, bool]]]] = []
        new: list[OutboxMessage] = []
        for op in ops:
            pairs: list[tuple[OutboxMessage, bool]] = []
            fresh: list[tuple[tuple[str, str] | None, OutboxMessage]] = []
            conflict: ConflictError | None = None
            for submission in op.args:
                key = (
                    None
                    if submission.idempotency_key is None
                    else (submission.client, submission.idempotency_key)
                )
                before = earlier.get(key) if key is not None else None
                if before is not None:
                    if before.service != submission.service:
                        conflict = ConflictError(
                            f"Idempotency-Key {submission.idempotency_key!r} was used for a "
                            f"message to {before.service}",
                            field="Idempotency-Key",
                        )
                        break
                    pairs.append((before, True))
                    continue
                row = _outbox_row(submission, group.now)
                fresh.append((key, row))
                pairs.append((row, False))
            if conflict is not None:
                group.refuse(op, conflict)
                continue
            for key, row in fresh:
                if key is not None:
                    earlier[key] = row  # a second submission in this group with the key
                new.append(row)
            planned.append((op, pairs))
        await self._insert_outbox(connection, new, group)
        for op, pairs in planned:
            group.done(op, pairs)

    async def _insert_outbox(
        self, connection: AsyncConnection, rows: Sequence[OutboxMessage], group: Group
    ) -> None:
        if not rows:
            return
        values = [
            {column.key: getattr(row, column.key) for column in OUT.columns if column.key != "id"}
            for row in rows
        ]
        ids = (
            await connection.execute(
                insert(OUT).returning(OUT.c.id, sort_by_parameter_order=True), values
            )
        ).scalars()
        for row, row_id in zip(rows, ids, strict=True):
            row.id = row_id
            group.transition("outbox", row.message_id, "accepted")

    async def claim_outbox(self, limit: int, lease_seconds: float) -> list[OutboxMessage]:
        """Up to ``limit`` messages due for an attempt, leased to the caller; ``accepted`` ones
        become ``sent``. A message of an ordered service waits while an earlier one of the same
        sender and service is still on its way."""
        query = self._due_outbox(utc_now(), limit)
        if not await self._any(query):
            return []
        rows: list[OutboxMessage] = await self.writer.call(
            "claim_outbox", _Claim(limit, lease_seconds)
        )
        return rows

    @staticmethod
    def _due_outbox(now: datetime, limit: int) -> Select[Any]:
        earlier = OUT.alias("earlier")
        blocked = exists().where(
            earlier.c.client == OUT.c.client,
            earlier.c.service == OUT.c.service,
            earlier.c.id < OUT.c.id,
            earlier.c.status.in_(PENDING),
        )
        return (
            select(OUT)
            .where(
                # Pending, or received without its receipt yet (the receiver's notice overtook
                # it and the attempt failed): sent again, answered with the first receipt.
                or_(OUT.c.status.in_(PENDING), OUT.c.receipt.is_(None)),
                OUT.c.status.not_in(("failed", "cancelled")),
                OUT.c.next_attempt_at <= now,
                or_(OUT.c.lease_until.is_(None), OUT.c.lease_until < now),
                or_(OUT.c.ordered.is_(False), ~blocked),
            )
            .order_by(OUT.c.next_attempt_at, OUT.c.id)
            .limit(limit)
        )

    async def _claim_outbox_group(
        self, connection: AsyncConnection, ops: list[Op], group: Group
    ) -> None:
        now = group.now
        for op in ops:
            query = self._due_outbox(now, op.args.limit)
            if self.postgres:
                query = query.with_for_update(skip_locked=True, of=OUT)
            found = (await connection.execute(query)).mappings().all()
            rows = [OutboxMessage(**values) for values in found]
            lease = now + timedelta(seconds=op.args.lease_seconds)
            await self._lease(connection, OUT, [row.id for row in rows], lease)
            sent = [row.id for row in rows if row.status == "accepted"]
            for chunk in _chunks(sent):
                await connection.execute(
                    update(OUT).where(OUT.c.id.in_(chunk)).values(status="sent", updated_at=now)
                )
            for row in rows:
                row.lease_until = lease
                row.claimed_by = self.instance
                if row.status == "accepted":
                    row.status = "sent"
                    row.updated_at = now
                    group.transition("outbox", row.message_id, "sent")
            group.done(op, rows)

    async def _lease(
        self, connection: AsyncConnection, table: Table, ids: Sequence[int], until: datetime
    ) -> None:
        """Claimed rows (outbox or inbox), leased to this instance until ``until``."""
        for chunk in _chunks(ids):
            await connection.execute(
                update(table)
                .where(table.c.id.in_(chunk))
                .values(lease_until=until, claimed_by=self.instance)
            )

    async def _any(self, query: Select[Any]) -> bool:
        """Whether the claim would find anything: asked of the reader first, so that an idle
        worker's poll takes no lock."""
        async with self.reads() as session:
            return (await session.execute(query.limit(1))).first() is not None

    async def received(self, row_id: int, receipt: str, at: datetime, *, detail: str) -> None:
        await self.writer.call("received", _Received(row_id, receipt, at, detail))

    async def _outbox_states(
        self, connection: AsyncConnection, ids: Iterable[int]
    ) -> dict[int, dict[str, Any]]:
        """The outbox rows' columns that the ladder decides on, locked on PostgreSQL."""
        states: dict[int, dict[str, Any]] = {}
        columns = (
            OUT.c.id,
            OUT.c.message_id,
            OUT.c.kind,
            OUT.c.client,
            OUT.c.topic,
            OUT.c.status,
            OUT.c.receipt,
            OUT.c.attempts,
        )
        for chunk in _chunks(sorted(set(ids))):
            query = self._locked(select(*columns).where(OUT.c.id.in_(chunk)).order_by(OUT.c.id))
            for found in (await connection.execute(query)).mappings():
                states[found["id"]] = dict(found)
        return states

    async def _received_group(
        self, connection: AsyncConnection, ops: list[Op], group: Group
    ) -> None:
        now = group.now
        states = await self._outbox_states(connection, (op.args.row_id for op in ops))
        firsts: list[dict[str, Any]] = []
        lates: list[dict[str, Any]] = []
        for op in ops:
            args: _Received = op.args
            state = states.get(args.row_id)
            group.done(op)
            if state is None:
                continue
            if state["status"] not in PENDING:
                # The receiver's notice (or answer) overtook its own receipt: the receipt is
                # kept; the ladder recorded "received" when the notice came.
                if state["receipt"] is None and state["status"] != "cancelled":
                    state["receipt"] = args.receipt
                    lates.append({"b_id": args.row_id, "b_receipt": args.receipt, "b_at": args.at})
                continue
            state["status"] = "received"
            state["receipt"] = args.receipt
            firsts.append({"b_id": args.row_id, "b_receipt": args.receipt, "b_at": args.at})
            group.transition("outbox", state["message_id"], "received", args.detail)
            if state["kind"] in ("subscribe", "unsubscribe") and state["topic"] is not None:
                await _set_subscription(
                    connection,
                    self.postgres,
                    state["topic"],
                    state["client"],
                    "subscriber",
                    state["kind"] == "subscribe",
                    now,
                )
        for params, status in ((firsts, "received"), (lates, None)):
            if not params:
                continue
            values: dict[str, Any] = {
                "receipt": bindparam("b_receipt"),
                "received_at": bindparam("b_at"),
                "attempts": OUT.c.attempts + 1,
                "lease_until": None,
                "next_attempt_at": None,
                "reason": None,
                "updated_at": now,
            }
            if status is not None:
                values["status"] = status
            await connection.execute(
                update(OUT).where(OUT.c.id == bindparam("b_id")).values(**values), params
            )

    async def retry_later(self, row_id: int, next_at: datetime, reason: str) -> None:
        await self.writer.call("retry", _Retry(row_id, next_at, reason))

    async def fail(self, row_id: int, reason: str) -> None:
        await self.writer.call("retry", _Retry(row_id, None, reason))

    async def _retry_group(self, connection: AsyncConnection, ops: list[Op], group: Group) -> None:
        now = group.now
        states = await self._outbox_states(connection, (op.args.row_id for op in ops))
        params: list[dict[str, Any]] = []
        for op in ops:
            args: _Retry = op.args
            state = states.get(args.row_id)
            group.done(op)
            if state is None or not _awaits_receipt(state["status"], state["receipt"]):
                continue
            change = {
                "b_id": args.row_id,
                "b_status": state["status"],
                "b_attempts": state["attempts"] + 1,
                "b_next": args.next_at,
                "b_reason": args.reason,
            }
            if args.next_at is None and state["status"] not in PENDING:
                # Received (the receiver's notice says so), its receipt never came: no more
                # attempts; the message keeps its status, the reason says what is missing.
                change["b_attempts"] = state["attempts"]
                change["b_reason"] = f"no receipt: {args.reason}"
            elif args.next_at is None:
                change["b_status"] = "failed"
                group.transition("outbox", state["message_id"], "failed", args.reason)
            state["status"] = change["b_status"]
            state["attempts"] = change["b_attempts"]
            params.append(change)
        if params:
            await connection.execute(
                update(OUT)
                .where(OUT.c.id == bindparam("b_id"))
                .values(
                    status=bindparam("b_status"),
                    attempts=bindparam("b_attempts"),
                    next_attempt_at=bindparam("b_next"),
                    reason=bindparam("b_reason"),
                    lease_until=None,
                    updated_at=now,
                ),
                params,
            )

    async def expire(self) -> int:
        """Messages past their lifetime that no attempt holds: ``failed``."""
        now = utc_now()
        expired = select(OutboxMessage).where(
            OutboxMessage.status.in_(PENDING),
            OutboxMessage.expires_at < now,
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
        )
        if not await self._any(expired):
            return 0
        async with self.sessions.begin() as session:
            rows = (await session.scalars(expired)).all()
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
        async with self.reads() as session:
            row = await self._outbox_row(session, message_id)
        if client is not None and row.client != client:
            raise NotFoundError(f"no message {message_id} in the outbox of {client}")
        return row

    async def outbox_senders(self, message_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """For these outbox messages, each one's sender (client) and the service it was sent
        to: what an answer or a status notice about them is checked against."""
        found: dict[str, tuple[str, str]] = {}
        async with self.reads() as session:
            for chunk in _chunks(sorted(set(message_ids))):
                rows = await session.execute(
                    select(OUT.c.message_id, OUT.c.client, OUT.c.service).where(
                        OUT.c.message_id.in_(chunk)
                    )
                )
                for message_id, client, service in rows:
                    found[message_id] = (client, service)
        return found

    async def outbox_by_event(self, event_id: str, client: str) -> list[OutboxMessage]:
        async with self.reads() as session:
            return list(
                (
                    await session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.event_id == event_id, OutboxMessage.client == client)
                        .order_by(OutboxMessage.id)
                    )
                ).all()
            )

    async def outbox_by_key_prefix(self, client: str, prefix: str) -> list[OutboxMessage]:
        """The messages whose idempotency key starts with ``prefix`` (one published event's
        deliveries carry its key and the subscriber)."""
        async with self.reads() as session:
            return list(
                (
                    await session.scalars(
                        select(OutboxMessage)
                        .where(
                            OutboxMessage.client == client,
                            OutboxMessage.idempotency_key.startswith(prefix, autoescape=True),
                        )
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
        async with self.reads() as session:
            return list(
                (
                    await session.scalars(
                        query.order_by(OutboxMessage.id).limit(min(limit, MAX_PAGE))
                    )
                ).all()
            )

    async def transitions(self, box: str, message_id: str) -> list[MessageTransition]:
        async with self.reads() as session:
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

    # --- the inbox ---------------------------------------------------------------------------

    async def store_delivery(
        self, row: InboxMessage, *, effects: bool = True, replies: Sequence[str] = ()
    ) -> tuple[InboxMessage, bool]:
        """Store a received message once per (sender, message id) and apply what it means for
        this gateway's own records (an answer or status notice to the outbox messages it names,
        ``replies``, or its ``in_reply_to``; a subscription); a second delivery of the same
        message changes nothing and returns the first one's row (``True`` in the pair)."""
        result: tuple[InboxMessage, bool] = await self.writer.call(
            "store", _Stored(row, effects, tuple(replies))
        )
        return result

    async def _store_group(self, connection: AsyncConnection, ops: list[Op], group: Group) -> None:
        now = group.now
        message_ids = sorted({op.args.row.message_id for op in ops})
        stored: dict[tuple[str, str], InboxMessage] = {}
        for chunk in _chunks(message_ids):
            for found in (
                await connection.execute(select(IN).where(IN.c.message_id.in_(chunk)))
            ).mappings():
                stored[(found["sender"], found["message_id"])] = InboxMessage(**found)
        duplicates: dict[int, int] = {}
        new: list[tuple[Op, InboxMessage]] = []
        for op in ops:
            row: InboxMessage = op.args.row
            key = (row.sender, row.message_id)
            earlier = stored.get(key)
            if earlier is not None:
                if earlier.id is not None:
                    duplicates[earlier.id] = duplicates.get(earlier.id, 0) + 1
                    earlier.duplicates += 1
                group.done(op, (earlier, True))
                continue
            stored[key] = row
            new.append((op, row))
        if new:
            ids = (
                await connection.execute(
                    insert(IN).returning(IN.c.id, sort_by_parameter_order=True),
                    [_inbox_values(row) for _op, row in new],
                )
            ).scalars()
            for (op, row), row_id in zip(new, ids, strict=True):
                row.id = row_id
                group.transition("inbox", row.message_id, "received", f"from {row.sender}")
                group.done(op, (row, False))
        # A duplicate within this group counts on the row the group inserted.
        for op in ops:
            earlier, duplicate = group.results[op]
            if duplicate and earlier.id is not None and earlier.id not in duplicates:
                duplicates[earlier.id] = 1
        if duplicates:
            await connection.execute(
                update(IN)
                .where(IN.c.id == bindparam("b_id"))
                .values(duplicates=IN.c.duplicates + bindparam("b_more")),
                [{"b_id": i, "b_more": n} for i, n in duplicates.items()],
            )
        applying = [(op, row) for op, row in new if op.args.effects]
        if applying:
            await self._apply(
                connection, [(row, op.args.replies) for op, row in applying], now, group
            )

    async def _apply(
        self,
        connection: AsyncConnection,
        stored: Sequence[tuple[InboxMessage, tuple[str, ...]]],
        now: datetime,
        group: Group,
    ) -> None:
        """What stored deliveries mean for this gateway's own records: subscriptions, and the
        ladder of the outbox messages that answers and status notices name."""
        names: dict[str, None] = {}
        for row, replies in stored:
            if row.kind in ("subscribe", "unsubscribe") and row.topic is not None:
                await _set_subscription(
                    connection,
                    self.postgres,
                    row.topic,
                    row.sender,
                    "provider",
                    row.kind == "subscribe",
                    now,
                )
            elif row.kind in ("answer", "status"):
                for name in replies or ((row.in_reply_to,) if row.in_reply_to else ()):
                    names[name] = None
        if not names:
            return
        columns = (
            OUT.c.id,
            OUT.c.message_id,
            OUT.c.status,
            OUT.c.delivered_at,
            OUT.c.answered_at,
            OUT.c.answer_id,
        )
        originals: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted(names)):
            query = self._locked(
                select(*columns).where(OUT.c.message_id.in_(chunk)).order_by(OUT.c.id)
            )
            for found in (await connection.execute(query)).mappings():
                originals[found["message_id"]] = dict(found)
        changed: dict[str, dict[str, Any]] = {}
        for row, replies in stored:
            if row.kind not in ("answer", "status"):
                continue
            for name in replies or ((row.in_reply_to,) if row.in_reply_to else ()):
                original = originals.get(name)
                if original is not None and _advance(original, row, now, group):
                    changed[name] = original
        if changed:
            await connection.execute(
                update(OUT)
                .where(OUT.c.id == bindparam("b_id"))
                .values(
                    status=bindparam("b_status"),
                    delivered_at=bindparam("b_delivered"),
                    answered_at=bindparam("b_answered"),
                    answer_id=bindparam("b_answer"),
                    updated_at=now,
                ),
                [
                    {
                        "b_id": o["id"],
                        "b_status": o["status"],
                        "b_delivered": o["delivered_at"],
                        "b_answered": o["answered_at"],
                        "b_answer": o["answer_id"],
                    }
                    for o in changed.values()
                ],
            )

    async def claim_pushes(
        self, receivers: Sequence[str], limit: int, lease_seconds: float
    ) -> list[InboxMessage]:
        """Up to ``limit`` received messages due to be pushed to these receivers, leased; a
        message of an ordered service waits for the earlier ones from the same sender."""
        if not receivers:
            return []
        if not await self._any(self._due_pushes(utc_now(), tuple(receivers), limit)):
            return []
        rows: list[InboxMessage] = await self.writer.call(
            "claim_pushes", _Claim(limit, lease_seconds, tuple(receivers))
        )
        return rows

    @staticmethod
    def _due_pushes(now: datetime, receivers: tuple[str, ...], limit: int) -> Select[Any]:
        earlier = IN.alias("earlier")
        blocked = exists().where(
            earlier.c.sender == IN.c.sender,
            earlier.c.service == IN.c.service,
            earlier.c.id < IN.c.id,
            earlier.c.status == "received",
            earlier.c.kind.in_(INBOX_KINDS),
        )
        return (
            select(IN)
            .where(
                IN.c.status == "received",
                IN.c.kind.in_(INBOX_KINDS),
                IN.c.receiver.in_(receivers),
                IN.c.next_push_at <= now,
                or_(IN.c.lease_until.is_(None), IN.c.lease_until < now),
                or_(IN.c.ordered.is_(False), ~blocked),
            )
            .order_by(IN.c.next_push_at, IN.c.id)
            .limit(limit)
        )

    async def _claim_pushes_group(
        self, connection: AsyncConnection, ops: list[Op], group: Group
    ) -> None:
        now = group.now
        for op in ops:
            args: _Claim = op.args
            query = self._due_pushes(now, args.receivers, args.limit)
            if self.postgres:
                query = query.with_for_update(skip_locked=True, of=IN)
            rows = [InboxMessage(**found) for found in (await connection.execute(query)).mappings()]
            lease = now + timedelta(seconds=args.lease_seconds)
            await self._lease(connection, IN, [row.id for row in rows], lease)
            for row in rows:
                row.lease_until = lease
                row.claimed_by = self.instance
            group.done(op, rows)

    async def release_own_leases(self) -> tuple[int, int]:
        """At start: the leases this instance held when it stopped (or was killed) are freed,
        so its unfinished deliveries are taken up at once rather than when the leases end.
        Other replicas' leases are theirs."""
        async with self.sessions.begin() as session:
            outbox = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.claimed_by == self.instance,
                    OutboxMessage.lease_until.is_not(None),
                )
                .values(lease_until=None)
            )
            inbox = await session.execute(
                update(InboxMessage)
                .where(
                    InboxMessage.claimed_by == self.instance,
                    InboxMessage.lease_until.is_not(None),
                )
                .values(lease_until=None)
            )
        return outbox.rowcount, inbox.rowcount  # type: ignore[attr-defined]

    async def push_failed(self, row_id: int, next_at: datetime, error: str) -> None:
        await self.writer.call("push_failed", _PushFailed(row_id, next_at, error))

    async def _push_failed_group(
        self, connection: AsyncConnection, ops: list[Op], group: Group
    ) -> None:
        await connection.execute(
            update(IN)
            .where(IN.c.id == bindparam("b_id"), IN.c.status == "received")
            .values(
                push_attempts=IN.c.push_attempts + 1,
                next_push_at=bindparam("b_next"),
                lease_until=None,
                push_error=bindparam("b_error"),
            ),
            [
                {"b_id": op.args.row_id, "b_next": op.args.next_at, "b_error": op.args.error}
                for op in ops
            ],
        )
        for op in ops:
            group.done(op)

    async def delivered(
        self,
        receiver: str,
        message_id: str,
        *,
        how: str,
        notice_expires: datetime,
        sender: str | None = None,
        row_id: int | None = None,
    ) -> InboxMessage:
        """The receiving information system has the message (pushed, or pulled and
        acknowledged): ``delivered``, and a status notice on its way back to the sender (one
        notice names every message of the group from that sender to that receiver). A second
        acknowledgement changes nothing."""
        row: InboxMessage = await self.writer.call(
            "delivered",
            _Delivered(how, notice_expires, row_id, receiver, message_id, sender),
        )
        return row

    async def _delivered_group(
        self, connection: AsyncConnection, ops: list[Op], group: Group
    ) -> None:
        now = group.now
        by_id = sorted({op.args.row_id for op in ops if op.args.row_id is not None})
        by_name = sorted({op.args.message_id for op in ops if op.args.row_id is None})
        found: dict[int, InboxMessage] = {}
        for column, values in ((IN.c.id, by_id), (IN.c.message_id, by_name)):
            for chunk in _chunks(values):
                query = self._locked(
                    select(IN)
                    .where(column.in_(chunk), IN.c.kind.in_(INBOX_KINDS))
                    .order_by(IN.c.id)
                )
                for values_ in (await connection.execute(query)).mappings():
                    found[values_["id"]] = InboxMessage(**values_)
        delivered: list[InboxMessage] = []
        for op in ops:
            args: _Delivered = op.args
            if args.row_id is not None:
                candidates = [found[args.row_id]] if args.row_id in found else []
            else:
                candidates = [
                    row
                    for row in found.values()
                    if row.receiver == args.receiver
                    and row.message_id == args.message_id
                    and (args.sender is None or row.sender == args.sender)
                ]
            if not candidates:
                group.refuse(
                    op,
                    NotFoundError(f"no message {args.message_id} in the inbox of {args.receiver}"),
                )
                continue
            if len(candidates) > 1:
                group.refuse(
                    op,
                    ConflictError(
                        f"several senders sent a message {args.message_id} to {args.receiver}"
                    ),
                )
                continue
            [row] = candidates
            if row.status == "received":
                row.status = "delivered"
                row.delivered_at = now
                row.lease_until = None
                row.push_error = None
                group.transition("inbox", row.message_id, "delivered", args.how)
                delivered.append(row)
            group.done(op, row)
        if not delivered:
            return
        await connection.execute(
            update(IN)
            .where(IN.c.id == bindparam("b_id"))
            .values(status="delivered", delivered_at=now, lease_until=None, push_error=None),
            [{"b_id": row.id} for row in delivered],
        )
        # One notice for each (receiver, sender): the messages and events the group delivered.
        noticed: dict[tuple[str, str], list[InboxMessage]] = {}
        for row in delivered:
            if row.kind in ("message", "event"):
                noticed.setdefault((row.receiver, row.sender), []).append(row)
        expires = max(op.args.notice_expires for op in ops)
        notices: list[OutboxMessage] = []
        for (receiver, sender), rows in noticed.items():
            for start in range(0, len(rows), MAX_NOTICE):
                part = rows[start : start + MAX_NOTICE]
                notices.append(
                    _outbox_row(
                        Submission(
                            kind="status",
                            client=receiver,
                            service=f"{sender}/{REPLIES_SERVICE}",
                            body=notice_body([(r.message_id, now) for r in part]),
                            content_type="application/json",
                            headers={},
                            expires_at=expires,
                            answer_status="delivered",
                        ),
                        now,
                    )
                )
        await self._insert_outbox(connection, notices, group)

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
        async with self.reads() as session:
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
        async with self.reads() as session:
            return list(
                (
                    await session.scalars(
                        query.order_by(InboxMessage.id).limit(min(limit, MAX_PAGE))
                    )
                ).all()
            )

    # --- subscriptions -----------------------------------------------------------------------

    async def subscribers(self, topic: str) -> list[str]:
        async with self.reads() as session:
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
        async with self.reads() as session:
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
        async with self.reads() as session:
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
    connection: AsyncConnection,
    postgres: bool,
    topic: str,
    subscriber: str,
    side: str,
    active: bool,
    now: datetime,
) -> None:
    insert_ = postgresql.insert if postgres else sqlite.insert
    statement = insert_(SUBSCRIPTIONS).values(
        topic=topic,
        subscriber=subscriber,
        side=side,
        active=active,
        created_at=now,
        updated_at=now,
    )
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=["topic", "subscriber", "side"],
            set_={"active": active, "updated_at": now},
        )
    )


def _advance(original: dict[str, Any], row: InboxMessage, now: datetime, group: Group) -> bool:
    """An answer or status notice ``row`` moves an outbox message (its columns in
    ``original``) up the ladder; whether anything changed."""
    status = row.answer_status or ""
    message_id = original["message_id"]
    changed = False
    if original["status"] in PENDING:
        # The notice overtook the receipt of the message it is about (both are on their way
        # at once): the message was received, as the notice itself proves.
        original["status"] = "received"
        changed = True
        group.transition("outbox", message_id, "received", f"{row.kind} from {row.sender}")
    if row.kind == "status" and status == "delivered":
        if original["delivered_at"] is None:
            original["delivered_at"] = now
            changed = True
            if (
                RANK.get(original["status"], 0) < RANK["delivered"]
                and original["status"] not in FINAL
            ):
                original["status"] = "delivered"
                group.transition("outbox", message_id, "delivered", row.sender)
        return changed
    if row.kind == "answer" and status in ("processed", "rejected"):
        if original["delivered_at"] is None:
            original["delivered_at"] = now
            changed = True
            group.transition("outbox", message_id, "delivered", "implied by the answer")
        if original["status"] not in ("processed", "rejected"):
            original["status"] = status
            original["answered_at"] = now
            original["answer_id"] = row.message_id
            changed = True
            group.transition("outbox", message_id, status, f"answer {row.message_id}")
    return changed


def _awaits_receipt(status: str, receipt: str | None) -> bool:
    """Still being delivered: pending, or received (as a notice said) without its receipt."""
    return status in PENDING or (receipt is None and status not in ("failed", "cancelled"))


def next_attempt(
    attempts: int, base: float, cap: float, jitter: float, now: datetime | None = None
) -> datetime:
    """Exponential backoff with full jitter: a delay drawn in [0.5, 1] of base·2^attempts,
    capped (``jitter`` in [0, 1) chooses within that range)."""
    delay = min(cap, base * (2 ** min(attempts, 30)))
    return (now or utc_now()) + timedelta(seconds=delay * (0.5 + 0.5 * jitter))
