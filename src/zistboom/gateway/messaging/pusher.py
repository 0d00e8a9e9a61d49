"""Delivery to the receiving information system: messages in the inbox of a subsystem with a
registered push endpoint are POSTed to it, at most ``message_workers`` at once, retried with
backoff while it is down; a 2xx answer is the acknowledgement, recorded as ``delivered``.
The same stable message id goes with every push, and a message is pushed again only when the
gateway stopped between a push and recording its acknowledgement (its lease then ends)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import timedelta

import aiohttp
from multidict import CIMultiDict

from zistboom.core import exchange as xr
from zistboom.core import messaging as zm
from zistboom.core.database import utc_now
from zistboom.gateway.access import Registry
from zistboom.gateway.messaging.inflight import InFlight
from zistboom.gateway.messaging.models import InboxMessage
from zistboom.gateway.messaging.store import MessageStore, next_attempt
from zistboom.gateway.settings import GatewaySettings

log = logging.getLogger("zistboom.gateway.messaging")


def push_headers(row: InboxMessage, secret: str | None) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    if row.content_type:
        headers["Content-Type"] = row.content_type
    for name, value in row.headers.items():
        headers[name] = value
    headers[xr.X_ROAD_CLIENT] = row.sender
    headers[xr.X_ROAD_SERVICE] = row.service
    headers[xr.X_ROAD_ID] = row.message_id
    headers[zm.MESSAGE_KIND] = row.kind
    if row.in_reply_to:
        headers[zm.IN_REPLY_TO] = row.in_reply_to
    if row.answer_status:
        headers[zm.ANSWER_STATUS] = row.answer_status
    if row.topic:
        headers[zm.TOPIC] = row.topic
    if secret is not None:
        headers[xr.GATEWAY_SECRET] = secret
    return headers


class InboxWorker:
    """Pushes received messages to their systems' endpoints."""

    def __init__(
        self,
        settings: GatewaySettings,
        registry: Registry,
        store: MessageStore,
        on_delivered: Callable[[], None],
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.store = store
        self.on_delivered = on_delivered
        self.wake = asyncio.Event()
        self.in_flight = InFlight(settings.message_workers, settings.message_bytes_in_flight)
        self.pushed = 0
        self.push_failures = 0
        self._session: aiohttp.ClientSession | None = None
        self._random = random.SystemRandom()

    def notice_expiry(self) -> timedelta:
        return timedelta(seconds=self.settings.message_lifetime_seconds)

    async def run(self) -> None:
        settings = self.settings
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=settings.message_workers, keepalive_timeout=30),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        )
        lease = settings.push_timeout + 30
        while True:
            free = self.in_flight.free()
            rows: list[InboxMessage] = []
            with contextlib.suppress(Exception):
                await self.registry.current()  # push endpoints registered since
            receivers = [
                c.subsystem_id for c in self.registry.snapshot.clients.values() if c.push_url
            ]
            if free > 0 and receivers:
                try:
                    rows = await self.store.claim_pushes(
                        receivers, min(free, settings.message_batch), lease
                    )
                except Exception:
                    log.exception("claiming inbox messages failed")
            for row in rows:
                self.in_flight.start(self._push(row), len(row.body))
            if rows and self.in_flight.free():
                await asyncio.sleep(0)
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), settings.message_poll_seconds)

    async def stop(self) -> None:
        await self.in_flight.cancel()
        if self._session is not None:
            await self._session.close()

    async def _push(self, row: InboxMessage) -> None:
        try:
            await self._push_once(row)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("push of message %s failed unexpectedly", row.message_id)
        finally:
            self.wake.set()

    async def _push_once(self, row: InboxMessage) -> None:
        assert self._session is not None
        client = self.registry.client(row.receiver)
        if client is None or not client.push_url:
            await self.store.push_failed(row.id, utc_now(), "no push endpoint registered")
            return
        error: str | None = None
        try:
            async with self._session.post(
                client.push_url,
                data=row.body,
                headers=push_headers(row, client.push_secret),
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=self.settings.push_timeout, connect=self.settings.connect_timeout
                ),
            ) as answer:
                await answer.read()
                if not 200 <= answer.status < 300:
                    error = f"the push endpoint answered {answer.status}"
        except TimeoutError:
            error = f"the push endpoint did not answer within {self.settings.push_timeout:g} s"
        except (aiohttp.ClientError, OSError) as failure:
            error = f"the push endpoint cannot be reached: {failure}"
        if error is None:
            await self.store.delivered(
                row.receiver,
                row.message_id,
                how=f"pushed to {client.push_url}",
                notice_expires=utc_now() + self.notice_expiry(),
                sender=row.sender,
                row_id=row.id,
            )
            self.pushed += 1
            self.on_delivered()
            return
        self.push_failures += 1
        when = next_attempt(
            row.push_attempts,
            self.settings.message_retry_base_seconds,
            self.settings.message_retry_cap_seconds,
            self._random.random(),
        )
        await self.store.push_failed(row.id, when, error)
