"""Asynchronous messaging in one gateway: what information systems and operators ask of it
(submit, publish, subscribe, answer, acknowledge, read), its workers, and its metrics."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import orjson
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from zistboom.core import exchange as xr
from zistboom.core import messaging as zm
from zistboom.core.database import begin_immediately, create_engine, utc_now
from zistboom.core.errors import ValidationError
from zistboom.core.identifiers import ServiceId
from zistboom.gateway.access import Registry
from zistboom.gateway.client_side import ClientSide
from zistboom.gateway.messaging.delivery import Delivery, OutboxWorker, Refused
from zistboom.gateway.messaging.models import InboxMessage, MessageTransition, OutboxMessage
from zistboom.gateway.messaging.pusher import InboxWorker
from zistboom.gateway.messaging.receiver import CARRIED, Receiver
from zistboom.gateway.messaging.store import MessageStore, Submission
from zistboom.gateway.server_side import ServerSide
from zistboom.gateway.settings import GatewaySettings

log = logging.getLogger("zistboom.gateway.messaging")
MAX_KEY = 255
# How long an access decision of a provider's gateway is trusted at submission.
ACCESS_CACHE_SECONDS = 60.0


class RefusedByProvider(xr.ExchangeError):
    """The provider's gateway refused the sender (signed): its own error type, passed on."""

    def __init__(self, refusal: Refused) -> None:
        super().__init__(f"the provider's gateway refused: {refusal.message}")
        self.xroad_type = refusal.xroad_type  # type: ignore[misc]
        self.status = refusal.status  # type: ignore[misc]


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def transitions_json(rows: list[MessageTransition]) -> list[dict[str, Any]]:
    return [{"status": t.status, "at": t.at.isoformat(), "detail": t.detail} for t in rows]


def outbox_json(row: OutboxMessage) -> dict[str, Any]:
    return {
        "id": row.message_id,
        "cursor": row.id,
        "kind": row.kind,
        "status": row.status,
        "reason": row.reason,
        "client": row.client,
        "service": row.service,
        "topic": row.topic,
        "event_id": row.event_id,
        "in_reply_to": row.in_reply_to,
        "idempotency_key": row.idempotency_key,
        "content_type": row.content_type,
        "attempts": row.attempts,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "next_attempt_at": _time(row.next_attempt_at),
        "received_at": _time(row.received_at),
        "delivered_at": _time(row.delivered_at),
        "answered_at": _time(row.answered_at),
        "answer_id": row.answer_id,
        "receipt": row.receipt,
    }


def inbox_json(row: InboxMessage, *, body: bool = True) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": row.message_id,
        "cursor": row.id,
        "kind": row.kind,
        "sender": row.sender,
        "service": row.service,
        "status": row.status,
        "in_reply_to": row.in_reply_to,
        "answer_status": row.answer_status,
        "topic": row.topic,
        "content_type": row.content_type,
        "headers": row.headers,
        "received_at": row.received_at.isoformat(),
        "delivered_at": _time(row.delivered_at),
        "answered_at": _time(row.answered_at),
    }
    if body:
        item["body_base64"] = base64.b64encode(row.body).decode()
    return item


class Messaging:
    """The asynchronous half of one gateway."""

    def __init__(
        self,
        settings: GatewaySettings,
        registry: Registry,
        client_side: ClientSide,
        server_side: ServerSide,
        engine: AsyncEngine,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.client_side = client_side
        # On PostgreSQL the gateway's own engine (its pool) serves messaging too. On SQLite a
        # writer of its own begins every transaction IMMEDIATE (a read that then writes never
        # meets SQLITE_BUSY), and the gateway's engine answers the reads.
        self.engine: AsyncEngine | None = None
        if engine.dialect.name == "sqlite":
            self.engine = create_engine(settings.resolved_database_url("gateway"))
            begin_immediately(self.engine)
        self.store = MessageStore(self.engine or engine, settings.instance_name, engine)
        self.delivery = Delivery(client_side)
        self.outbox = OutboxWorker(self.store, self.delivery)
        self.inbox = InboxWorker(settings, registry, self.store, self.outbox.wake.set)
        self.receiver = Receiver(server_side, self.store, self.inbox.wake.set)
        self._access: dict[tuple[str, str], tuple[float, RefusedByProvider | None, bool]] = {}
        self._depth: dict[str, Any] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self.store.release_own_leases()
        self._tasks = [
            asyncio.create_task(self.outbox.run(), name="messages-out"),
            asyncio.create_task(self.inbox.run(), name="messages-in"),
            asyncio.create_task(self._housekeeping(), name="messages-housekeeping"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.outbox.stop()
        await self.inbox.stop()
        await self.store.close()
        if self.engine is not None:
            await self.engine.dispose()

    async def _housekeeping(self) -> None:
        last_purge = 0.0
        while True:
            with contextlib.suppress(Exception):
                self._depth = await self.store.depth()
            if time.monotonic() - last_purge > 3600:
                last_purge = time.monotonic()
                try:
                    await self.store.purge(timedelta(days=self.settings.message_retention_days))
                except Exception:
                    log.exception("purging messages past retention failed")
            await asyncio.sleep(5)

    def lifetime(self) -> timedelta:
        return timedelta(seconds=self.settings.message_lifetime_seconds)

    # --- what information systems ask --------------------------------------------------------

    async def submit(
        self,
        client_id: str,
        service: ServiceId,
        body: bytes,
        content_type: str | None,
        headers: dict[str, str],
        idempotency_key: str | None,
    ) -> tuple[OutboxMessage, bool]:
        """Accept a message durably; the earlier message when the key was used before."""
        if service.service_code in zm.RESERVED_SERVICES:
            raise xr.InvalidServiceIdentifier(
                f"{service.service_code} is reserved for the gateways"
            )
        _check_key(idempotency_key)
        for name in CARRIED:
            value = headers.get(name)
            if value is not None and not (value.isascii() and value.isprintable()):
                raise xr.BadRequest(
                    f"{name} must be printable ASCII (it is signed as sent); percent-encode "
                    "other text"
                )
        conf = self.client_side.trust.conf(xr.OutdatedGlobalConf)
        member = conf.member(str(service.subsystem.member))
        if member is None or service.subsystem.subsystem_code not in member.subsystems:
            raise xr.UnknownMember(f"{service.subsystem} is not in the global configuration")
        ordered = False
        if idempotency_key is None or not await self._known_key(client_id, idempotency_key):
            ordered = await self._check_access(client_id, service)
        rows = await self.store.submit(
            [
                Submission(
                    kind="message",
                    client=client_id,
                    service=str(service),
                    body=body,
                    content_type=content_type,
                    headers={k: v for k, v in headers.items() if k in CARRIED},
                    expires_at=utc_now() + self.lifetime(),
                    idempotency_key=idempotency_key,
                    ordered=ordered,
                )
            ]
        )
        self.outbox.wake.set()
        return rows[0]

    async def _known_key(self, client_id: str, key: str) -> bool:
        async with self.store.reads() as session:
            found = await session.scalar(
                select(OutboxMessage.id).where(
                    OutboxMessage.client == client_id, OutboxMessage.idempotency_key == key
                )
            )
        return found is not None

    async def _check_access(self, client_id: str, service: ServiceId) -> bool:
        """Ask the provider's gateway whether the sender may send to the service, and whether
        the service wants its messages in order (a signed ``check`` delivery, its answer kept
        a minute); whether they are ordered. A provider that cannot be asked is no refusal:
        the message waits for it (and fails with the refusal if one comes), ordered as last
        learnt, or in order when nothing was learnt yet (the safe side)."""
        key = (client_id, str(service))
        cached = self._access.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            if cached[1] is not None:
                raise cached[1]
            return cached[2]
        probe = OutboxMessage(
            message_id=str(uuid.uuid4()),
            kind="check",
            client=client_id,
            service=str(service),
            body=b"",
            content_type=None,
            headers={},
            ordered=False,
            expires_at=utc_now() + timedelta(minutes=1),
            id=0,
        )
        fallback = cached[2] if cached is not None else True
        try:
            _attempt, _headers, body = await asyncio.wait_for(
                self.delivery.attempt(probe), self.settings.connect_timeout + 10
            )
        except Refused as refused:
            if not refused.permanent:
                return fallback
            refusal = RefusedByProvider(refused)
            self._access[key] = (now + ACCESS_CACHE_SECONDS, refusal, False)
            raise refusal from None
        except (xr.ExchangeError, TimeoutError):
            return fallback
        try:
            ordered = bool(orjson.loads(body).get("ordered", False))
        except (orjson.JSONDecodeError, AttributeError):
            ordered = True
        self._access[key] = (now + ACCESS_CACHE_SECONDS, None, ordered)
        return ordered

    async def publish(
        self,
        client_id: str,
        topic: ServiceId,
        body: bytes,
        content_type: str | None,
        idempotency_key: str | None,
    ) -> tuple[str, list[OutboxMessage]]:
        """One event to every subscriber of a topic of the caller, each delivered on its own."""
        _check_key(idempotency_key)
        if str(topic.subsystem) != client_id:
            raise xr.AccessDenied(f"{client_id} does not publish {topic}")
        entry = self.registry.service(client_id, topic.service_code)
        if entry is None or not entry.topic:
            raise xr.UnknownService(f"{topic} is not a topic of this gateway")
        subscribers = await self.store.subscribers(str(topic))
        event_id = str(uuid.uuid4())
        if idempotency_key is not None:
            earlier = await self.store.outbox_by_key_prefix(client_id, idempotency_key + "\n")
            if earlier:
                return earlier[0].event_id or "", earlier
        expires = utc_now() + self.lifetime()
        rows = await self.store.submit(
            [
                Submission(
                    kind="event",
                    client=client_id,
                    service=f"{subscriber}/{zm.EVENTS_SERVICE}",
                    body=body,
                    content_type=content_type,
                    headers={},
                    expires_at=expires,
                    topic=str(topic),
                    event_id=event_id,
                    idempotency_key=(
                        None if idempotency_key is None else f"{idempotency_key}\n{subscriber}"
                    ),
                )
                for subscriber in subscribers
            ]
        )
        self.outbox.wake.set()
        return event_id, [row for row, _ in rows]

    async def subscribe(
        self, client_id: str, topic: ServiceId, *, unsubscribe: bool = False
    ) -> OutboxMessage:
        conf = self.client_side.trust.conf(xr.OutdatedGlobalConf)
        member = conf.member(str(topic.subsystem.member))
        if member is None or topic.subsystem.subsystem_code not in member.subsystems:
            raise xr.UnknownMember(f"{topic.subsystem} is not in the global configuration")
        rows = await self.store.submit(
            [
                Submission(
                    kind="unsubscribe" if unsubscribe else "subscribe",
                    client=client_id,
                    service=str(topic),
                    body=b"",
                    content_type=None,
                    headers={},
                    expires_at=utc_now() + self.lifetime(),
                    topic=str(topic),
                )
            ]
        )
        self.outbox.wake.set()
        return rows[0][0]

    async def acknowledge(self, receiver: str, message_id: str) -> InboxMessage:
        row = await self.store.delivered(
            receiver,
            message_id,
            how="acknowledged by the system",
            notice_expires=utc_now() + self.lifetime(),
        )
        self.outbox.wake.set()
        return row

    async def answer(
        self, receiver: str, message_id: str, status: str, body: bytes, content_type: str | None
    ) -> OutboxMessage:
        if status not in zm.ANSWER_STATUSES:
            raise ValidationError(
                f"status must be processed or rejected, not {status!r}", field="status"
            )
        row = await self.store.answer(
            receiver, message_id, status, body, content_type, utc_now() + self.lifetime()
        )
        self.outbox.wake.set()
        return row

    async def status(self, message_id: str, client: str | None) -> dict[str, Any]:
        row = await self.store.outbox_message(message_id, client)
        view = outbox_json(row)
        view["transitions"] = transitions_json(await self.store.transitions("outbox", message_id))
        if row.answer_id is not None:
            with contextlib.suppress(Exception):
                answer = await self.store.inbox_message(row.client, row.answer_id)
                view["answer"] = inbox_json(answer)
        if row.event_id is not None:
            view["deliveries"] = [
                {"id": r.message_id, "subscriber": r.service.rsplit("/", 1)[0], "status": r.status}
                for r in await self.store.outbox_by_event(row.event_id, row.client)
            ]
        return view

    async def inbox_view(self, receiver: str | None, message_id: str) -> dict[str, Any]:
        row = await self.store.inbox_message(receiver, message_id)
        view = inbox_json(row)
        view["receipt"] = row.receipt
        view["duplicates"] = row.duplicates
        view["transitions"] = transitions_json(await self.store.transitions("inbox", message_id))
        return view

    def collector(self) -> Collector:
        return _MessagingCollector(self)


def _check_key(key: str | None) -> None:
    if key is not None and not (0 < len(key) <= MAX_KEY and key.isprintable() and key.isascii()):
        raise ValidationError(
            f"Idempotency-Key must be 1 to {MAX_KEY} printable ASCII characters",
            field="Idempotency-Key",
        )


class _MessagingCollector(Collector):
    def __init__(self, messaging: Messaging) -> None:
        self.messaging = messaging

    def collect(self) -> Iterator[Any]:
        m = self.messaging
        depth = m._depth
        queue = GaugeMetricFamily(
            "zistboom_messages_queue_depth",
            "Asynchronous messages waiting: to be received by a peer (outbox) or to be "
            "delivered to the receiving system (inbox)",
            labels=("box",),
        )
        queue.add_metric(("outbox",), depth.get("outbox", 0))
        queue.add_metric(("inbox",), depth.get("inbox", 0))
        yield queue
        oldest = GaugeMetricFamily(
            "zistboom_messages_oldest_seconds",
            "Age of the oldest waiting message",
            labels=("box",),
        )
        oldest.add_metric(("outbox",), depth.get("outbox_oldest", 0.0))
        oldest.add_metric(("inbox",), depth.get("inbox_oldest", 0.0))
        yield oldest
        failed = GaugeMetricFamily(
            "zistboom_messages_failed", "Outbox messages that ended failed (kept until retention)"
        )
        failed.add_metric((), depth.get("failed", 0))
        yield failed
        for name, help_text, value in (
            ("zistboom_messages_retries", "Delivery attempts to be retried", m.outbox.retries),
            ("zistboom_messages_failures", "Messages that failed", m.outbox.failures),
            ("zistboom_messages_receipts", "Receipts received", m.outbox.receipts),
            ("zistboom_messages_pushed", "Messages pushed to systems", m.inbox.pushed),
            (
                "zistboom_messages_push_failures",
                "Pushes to systems that failed (retried)",
                m.inbox.push_failures,
            ),
            (
                "zistboom_messages_duplicates",
                "Deliveries of an already stored message (answered with its receipt)",
                m.receiver.duplicates,
            ),
        ):
            counter = CounterMetricFamily(name, help_text)
            counter.add_metric((), value)
            yield counter
