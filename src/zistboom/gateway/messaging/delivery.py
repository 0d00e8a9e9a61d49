"""The sending gateway's side of asynchronous messages: each due outbox message is signed as
its sender member and delivered over the same pinned mutual-TLS peer connections as the
synchronous exchange; the answer must be signed by the receiving member, bound to the
delivery, and carry a receipt that verifies and names the digests of what was sent. Anything
else is retried with exponential backoff and jitter until the message's lifetime ends; a signed
refusal that no retry can change (no access right, no such service) fails it at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping
from datetime import UTC

import orjson
from multidict import CIMultiDict

from zistboom.core import exchange as xr
from zistboom.core import messaging as zm
from zistboom.core.crypto import httpsig
from zistboom.core.database import utc_now
from zistboom.core.errors import CryptoError
from zistboom.core.identifiers import ServiceId, SubsystemId
from zistboom.gateway.client_side import Attempt, ClientSide
from zistboom.gateway.message import (
    LABEL,
    REQUEST_BASE_COMPONENTS,
    REQUEST_OPTIONAL_HEADERS,
    MessageFacts,
    combined_headers,
)
from zistboom.gateway.messaging.inflight import InFlight
from zistboom.gateway.messaging.models import OutboxMessage
from zistboom.gateway.messaging.store import MessageStore, next_attempt
from zistboom.gateway.target import R1Target

log = logging.getLogger("zistboom.gateway.messaging")

# Signed refusals that a retry cannot change: the message fails with the refusal as its reason.
PERMANENT = frozenset(
    {
        xr.AccessDenied.xroad_type,
        xr.AccreditationRequired.xroad_type,
        xr.UnknownService.xroad_type,
        xr.ServerUnknownMember.xroad_type,
        xr.PersonalDataRefused.xroad_type,
        xr.InvalidMessage.xroad_type,
        xr.ServerRequestTooLarge.xroad_type,
        xr.InvalidServiceIdentifier.xroad_type,
    }
)


def delivery_target(service: ServiceId) -> str:
    return zm.PREFIX + service.to_path()


class Refused(Exception):
    """A signed refusal from the receiving gateway."""

    def __init__(self, xroad_type: str, message: str, status: int) -> None:
        super().__init__(message)
        self.xroad_type = xroad_type
        self.message = message
        self.status = status

    @property
    def permanent(self) -> bool:
        return self.xroad_type in PERMANENT

    def __str__(self) -> str:
        return f"{self.xroad_type}: {self.message}"


class Delivery:
    """Signs, sends and checks deliveries; logs each attempt in the message log."""

    def __init__(self, client_side: ClientSide) -> None:
        self.side = client_side

    async def attempt(self, row: OutboxMessage) -> tuple[Attempt, CIMultiDict[str], bytes]:
        """Send one signed delivery of ``row`` to the receiving member's gateways (the next one
        when one cannot be reached); the verified answer. Raises :class:`xr.ExchangeError` for
        what the exchange itself could not do, :class:`Refused` for a signed refusal."""
        side = self.side
        conf = side.trust.conf(xr.OutdatedGlobalConf)
        service = ServiceId.parse(row.service)
        receiver_member = str(service.subsystem.member)
        member = conf.member(receiver_member)
        if member is None or service.subsystem.subsystem_code not in member.subsystems:
            raise xr.UnknownMember(f"{service.subsystem} is not in the global configuration")
        gateways = conf.gateway_for_member(receiver_member)
        if not gateways:
            raise xr.UnknownMember(f"{receiver_member} has no gateway in the global configuration")
        client = SubsystemId.parse(row.client)
        signer = side.identity.signer(str(client.member))
        headers: CIMultiDict[str] = CIMultiDict()
        if row.content_type:
            headers["Content-Type"] = row.content_type
        for name, value in row.headers.items():
            headers[name] = value
        headers[xr.X_ROAD_CLIENT] = row.client
        headers[xr.X_ROAD_ID] = row.message_id
        headers[zm.MESSAGE_KIND] = row.kind
        headers[zm.MESSAGE_EXPIRES] = row.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if row.in_reply_to:
            headers[zm.IN_REPLY_TO] = row.in_reply_to
        if row.answer_status:
            headers[zm.ANSWER_STATUS] = row.answer_status
        if row.topic:
            headers[zm.TOPIC] = row.topic
        if row.ordered:
            headers[zm.SEQUENCE] = str(row.id)
        headers[xr.CONTENT_DIGEST] = httpsig.content_digest(row.body)
        headers[xr.SIGNER_CERTIFICATE] = signer.certificate_header
        components = (
            list(REQUEST_BASE_COMPONENTS)
            + [f'"{name}"' for name in REQUEST_OPTIONAL_HEADERS if name in headers]
            + [f'"{name}"' for name in zm.SIGNED_HEADERS if name in headers]
        )
        target = R1Target(service, "", "")
        path = delivery_target(service)
        last_error: xr.ExchangeError | None = None
        for gateway in gateways:
            target_uri = f"https://{gateway.address}{path}"
            parts = httpsig.RequestParts("POST", target_uri, combined_headers(headers))
            signed = httpsig.sign_request(
                parts,
                components=components,
                key=signer.key,
                key_id=signer.key_id,
                created=int(time.time()),
                nonce=row.message_id,
                label=LABEL,
            )
            headers[xr.SIGNATURE_INPUT] = signed.signature_input
            headers[xr.SIGNATURE] = signed.signature
            attempt = Attempt(
                method="POST",
                target_uri=target_uri,
                headers=headers.copy(),
                body=row.body,
                sent=httpsig.RequestParts("POST", target_uri, combined_headers(headers)),
                signed=signed,
                target=target,
                gateway=gateway,
                client_id=row.client,
                message_id=row.message_id,
                conf=conf,
            )
            try:
                return attempt, *await self._send(attempt, path, row)
            except (xr.ClientNetworkError, xr.ClientSslAuthenticationFailed) as error:
                last_error = error
        assert last_error is not None
        raise last_error

    async def _send(
        self, attempt: Attempt, path: str, row: OutboxMessage
    ) -> tuple[CIMultiDict[str], bytes]:
        side = self.side
        facts = MessageFacts(
            message_id=attempt.message_id,
            client=attempt.client_id,
            service=str(attempt.target.service),
            method="POST",
            keep_body=side._body_logging(attempt.client_id),
        )
        request_record = side._entry(
            "request",
            "client",
            facts,
            target=path,
            headers=combined_headers(attempt.headers),
            body=attempt.body,
            target_uri=attempt.target_uri,
        )
        try:
            status, answer_headers, answer_body = await side._exchange_with_peer(attempt)
        except xr.ExchangeError as error:
            failure = {
                xr.X_ROAD_ERROR: error.xroad_type,
                "content-type": "application/json; charset=utf-8",
            }
            await side._log(
                request_record,
                side._entry(
                    "response",
                    "client",
                    facts,
                    status=error.status,
                    headers=failure,
                    body=error.body(attempt.message_id),
                ),
            )
            raise
        received = combined_headers(answer_headers)
        # A receipt is kept whatever the sender's body logging: it is the evidence.
        keep = facts.keep_body or xr.X_ROAD_ERROR not in received
        response_facts = MessageFacts(
            facts.message_id, facts.client, facts.service, facts.method, keep
        )
        await side._log(
            request_record,
            side._entry(
                "response",
                "client",
                response_facts,
                status=status,
                headers=received,
                body=answer_body,
            ),
        )
        if xr.X_ROAD_ERROR in received:
            message = ""
            with contextlib.suppress(orjson.JSONDecodeError, AttributeError):
                message = str(orjson.loads(answer_body).get("message", ""))
            raise Refused(received[xr.X_ROAD_ERROR], message, status)
        return answer_headers, answer_body

    def check_receipt(
        self, attempt: Attempt, answer_headers: Mapping[str, str], body: bytes
    ) -> zm.Receipt:
        """The receipt in a verified answer: signed by the receiving member with a certificate
        of the instance CA, for this message from this sender to this service, naming the
        digest of its body as sent."""
        member = str(attempt.target.service.member)
        try:
            token = body.decode("ascii")
            # The certificate is checked as every signature's is, once per configuration.
            key = self.side.trust.signer_key(attempt.conf, zm.receipt_signer(token), member, None)
            receipt = zm.read_receipt(token, key, member)
        except (CryptoError, UnicodeDecodeError) as error:
            detail = getattr(error, "detail", str(error))
            raise xr.ClientInvalidSignature(f"the receipt does not verify: {detail}") from error
        if receipt.message_id != attempt.message_id:
            raise xr.ClientInvalidSignature("the receipt is for another message")
        if receipt.content_digest != attempt.headers[xr.CONTENT_DIGEST]:
            raise xr.ClientInvalidSignature("the receipt names another body digest")
        if receipt.sender != attempt.client_id or receipt.service != str(attempt.target.service):
            raise xr.ClientInvalidSignature("the receipt names another sender or service")
        # A receipt for this attempt names its digest. One for an earlier attempt at the same
        # message (sent again because that receipt was lost) names the earlier delivery's,
        # which carried these same body bytes under the same id: the receiver stored it once.
        return receipt


class OutboxWorker:
    """Delivers due outbox messages, at most ``settings.message_workers`` at once (and no more
    claimed while those in flight hold ``message_bytes_in_flight`` of bodies)."""

    def __init__(self, store: MessageStore, delivery: Delivery) -> None:
        self.store = store
        self.delivery = delivery
        settings = delivery.side.settings
        self.settings = settings
        self.wake = asyncio.Event()
        self.in_flight = InFlight(settings.message_workers, settings.message_bytes_in_flight)
        self.retries = 0
        self.failures = 0
        self.receipts = 0
        self._random = random.SystemRandom()

    async def run(self) -> None:
        settings = self.settings
        lease = settings.peer_timeout * 2 + 30
        last_expiry = 0.0
        while True:
            free = self.in_flight.free()
            rows: list[OutboxMessage] = []
            if free > 0:
                try:
                    rows = await self.store.claim_outbox(min(free, settings.message_batch), lease)
                except Exception:
                    log.exception("claiming outbox messages failed")
            for row in rows:
                self.in_flight.start(self._deliver(row), len(row.body))
            if time.monotonic() - last_expiry > 5:
                last_expiry = time.monotonic()
                with contextlib.suppress(Exception):
                    expired = await self.store.expire()
                    self.failures += expired
            if rows and len(rows) == min(free, settings.message_batch):
                await asyncio.sleep(0)
                if self.in_flight.free():
                    continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), settings.message_poll_seconds)

    async def stop(self) -> None:
        await self.in_flight.cancel()

    async def _deliver(self, row: OutboxMessage) -> None:
        try:
            await self._deliver_once(row)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery of message %s failed unexpectedly", row.message_id)
            with contextlib.suppress(Exception):
                await self._retry(row, "the gateway failed while delivering")
        finally:
            self.wake.set()

    async def _deliver_once(self, row: OutboxMessage) -> None:
        if row.expires_at <= utc_now():
            await self.store.fail(
                row.id,
                f"its lifetime ended after {row.attempts} attempts"
                + (f"; the last: {row.reason}" if row.reason else ""),
            )
            self.failures += 1
            return
        try:
            attempt, headers, body = await self.delivery.attempt(row)
            receipt = self.delivery.check_receipt(attempt, combined_headers(headers), body)
        except Refused as refusal:
            if refusal.permanent:
                await self.store.fail(row.id, f"refused by the receiving gateway: {refusal}")
                self.failures += 1
                return
            await self._retry(row, f"refused by the receiving gateway: {refusal}")
            return
        except xr.ExchangeError as error:
            await self._retry(row, f"{error.xroad_type}: {error.message}")
            return
        await self.store.received(
            row.id,
            body.decode("ascii"),
            receipt.received_at,
            detail=f"receipt from {receipt.gateway}"
            + (
                ""
                if receipt.delivery_digest
                == zm.receipt_digest(attempt.signed.signature_base, attempt.body)
                else " (the receipt of an earlier attempt: stored once)"
            ),
        )
        self.receipts += 1

    async def _retry(self, row: OutboxMessage, reason: str) -> None:
        settings = self.settings
        when = next_attempt(
            row.attempts,
            settings.message_retry_base_seconds,
            settings.message_retry_cap_seconds,
            self._random.random(),
        )
        self.retries += 1
        if when >= row.expires_at:
            await self.store.fail(
                row.id,
                f"its lifetime ends at {row.expires_at.isoformat()}, before another attempt; "
                f"after {row.attempts + 1} attempts the last was: {reason}",
            )
            self.failures += 1
            return
        await self.store.retry_later(row.id, when, reason)
