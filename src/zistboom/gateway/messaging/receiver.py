"""The receiving gateway's side of asynchronous messages: a delivery on the peer port is checked
as a synchronous request is (the calling gateway's TLS certificate, the body's digest, the
sender member's signature and its freshness, the sender known, access rights and the
accreditation they require), then stored durably once per (sender, message id), and only
then answered with a signed receipt. A duplicate (sent again after a lost receipt) is answered
with the receipt of the first delivery and stored no second time.

Answers and status notices are allowed only from the subsystem a message was sent to, back to
its sender, and need no access right of their own; events only from a topic's subsystem to a
subscriber that subscribed through this gateway.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import orjson
from aiohttp import web
from multidict import CIMultiDict

from zistboom.core import exchange as xr
from zistboom.core import globalconf as gc
from zistboom.core import messaging as zm
from zistboom.core.crypto import httpsig
from zistboom.core.database import utc_now
from zistboom.core.errors import CryptoError, ValidationError
from zistboom.core.identifiers import ServiceId, SubsystemId, parse_client_header
from zistboom.gateway.message import (
    LABEL,
    REQUEST_BASE_COMPONENTS,
    REQUEST_OPTIONAL_HEADERS,
    MessageFacts,
    check_header_text,
    combined_headers,
    error_response,
    peer_certificate_fingerprint,
    read_body,
)
from zistboom.gateway.messaging.models import InboxMessage
from zistboom.gateway.messaging.store import MAX_NOTICE, MessageStore
from zistboom.gateway.server_side import Inbound, ServerSide
from zistboom.gateway.target import R1Target

# Headers of a delivery that travel on to the receiving information system.
CARRIED = (xr.X_ROAD_USER_ID, xr.X_ROAD_ISSUE, xr.X_ROAD_REPRESENTED_PARTY, xr.X_ROAD_PURPOSE)


def parse_delivery_target(raw_path: str, query: str) -> ServiceId:
    if query:
        raise xr.InvalidMessage("a delivery's target has no query")
    rest = raw_path[len(zm.PREFIX) :]
    segments = rest.split("/")
    if len(segments) != 5:
        raise xr.InvalidServiceIdentifier(
            f"a delivery is addressed to INSTANCE/CLASS/MEMBER/SUBSYSTEM/SERVICE, got {rest!r}"
        )
    try:
        return ServiceId.parse_path(rest, field="service")
    except ValidationError as error:
        raise xr.InvalidServiceIdentifier(error.detail) from error


class Receiver:
    """Deliveries from peer gateways, stored in the inbox."""

    def __init__(self, server_side: ServerSide, store: MessageStore, on_stored: object) -> None:
        self.side = server_side
        self.store = store
        self.on_stored = on_stored  # a callable waking the push worker
        self.duplicates = 0

    async def handler(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        inbound = Inbound()
        try:
            response = await self._receive(request, inbound)
        except xr.ExchangeError as error:
            response = error_response(error, inbound.message_id)
            self.side.monitor.record("server", error.xroad_type, started, request, response)
            return response
        self.side.monitor.record("server", None, started, request, response)
        return response

    async def _receive(self, request: web.Request, inbound: Inbound) -> web.Response:
        side = self.side
        conf = side.trust.conf(xr.ServerOutdatedGlobalConf)
        if not side.message_log.timestamping_ok():
            raise xr.ServerTimestampingFailed(
                "the message log has not been timestamped within the grace period"
            )
        if request.method != "POST":
            raise xr.InvalidMessage("a delivery is a POST")
        service = parse_delivery_target(request.rel_url.raw_path, request.rel_url.raw_query_string)
        target = R1Target(service, "", "")
        for name in (*xr.SIGNED_REQUEST_HEADERS, *zm.SIGNED_HEADERS):
            if len(request.headers.getall(name, ())) > 1:
                raise xr.InvalidMessage(f"{name} appears on more than one line")
        message_id = request.headers.get(xr.X_ROAD_ID)
        client_header = request.headers.get(xr.X_ROAD_CLIENT)
        kind = request.headers.get(zm.MESSAGE_KIND)
        if not message_id or not client_header:
            raise xr.InvalidMessage("X-Road-Id and X-Road-Client are required between gateways")
        if len(message_id) > 64:
            raise xr.InvalidMessage("a message id has at most 64 characters")
        if kind not in zm.KINDS:
            raise xr.InvalidMessage(f"Zb-Message-Kind must be one of {', '.join(zm.KINDS)}")
        check_header_text(request.headers, xr.InvalidMessage)
        try:
            client = parse_client_header(client_header)
        except ValidationError as error:
            raise xr.InvalidMessage(error.detail) from error
        if not isinstance(client, SubsystemId):
            raise xr.InvalidMessage("asynchronous messages are sent by subsystems")
        client_id = str(client)
        client_member = str(client.member)
        fingerprint = peer_certificate_fingerprint(request)
        if fingerprint is None or not side.trust.gateway_allowed(conf, client_member, fingerprint):
            raise xr.ServerSslAuthenticationFailed(
                f"the calling gateway's TLS certificate is not one the global configuration "
                f"names for {client_member}"
            )
        await side.registry.current()
        body = await read_body(request, side.settings.max_body_bytes, xr.ServerRequestTooLarge)
        received = combined_headers(request.headers)
        target_uri = f"https://{request.host}{zm.PREFIX}{service.to_path()}"
        parts = httpsig.RequestParts("POST", target_uri, received)
        required = (
            list(REQUEST_BASE_COMPONENTS)
            + [f'"{name}"' for name in REQUEST_OPTIONAL_HEADERS if name in received]
            + [f'"{name}"' for name in zm.SIGNED_HEADERS if name in received]
        )
        try:
            httpsig.verify_content_digest(received.get(xr.CONTENT_DIGEST, ""), body)
        except CryptoError as error:
            raise xr.InvalidMessage(
                f"the body does not match its digest: {error.detail}"
            ) from error
        try:
            verified = httpsig.verify_request(
                parts,
                resolve_key=lambda params: side.trust.signer_key(
                    conf, received.get(xr.SIGNER_CERTIFICATE), client_member, params.key_id
                ),
                required=required,
                now=int(time.time()),
                max_skew=side.settings.max_clock_skew,
                label=LABEL,
            )
        except httpsig.StaleSignature as error:
            raise xr.ReplayedMessage(f"stale signature: {error.detail}") from error
        except CryptoError as error:
            raise xr.ServerInvalidSignature(
                f"the delivery's signature does not verify: {error.detail}"
            ) from error
        if verified.params.nonce != message_id:
            raise xr.ServerInvalidSignature("the signature's nonce is not the X-Road-Id")
        receiver_member = str(service.subsystem.member)
        if receiver_member not in side.identity.signers:
            raise xr.UnknownService(f"this gateway does not serve {service.subsystem.member}")
        # Authenticated from here: refusals are signed and logged like receipts.
        inbound.target = target
        inbound.message_id = message_id
        inbound.client_id = client_id
        inbound.body = body
        inbound.parts = parts
        inbound.signature_base = verified.signature_base
        inbound.request_hash = xr.request_hash(verified.signature_base, body)
        receiver = str(service.subsystem)
        facts = MessageFacts(
            message_id=message_id,
            client=client_id,
            service=str(service),
            method="POST",
            keep_body=side._body_logging(receiver),
        )
        request_record = side._entry(
            "request",
            "server",
            facts,
            target=zm.PREFIX + service.to_path(),
            headers=received,
            body=body,
            target_uri=target_uri,
        )
        xroad_error: str | None = None
        try:
            side._check_client_known(client, conf)
            row, replies = await self._authorise(kind, client_id, service, received, body, conf)
            if kind == "check":
                # What the sender needs to know of the service: that it may send, and whether
                # its messages must be delivered in order.
                status = 200
                answer_body = orjson.dumps({"allowed": True, "ordered": row.ordered})
                content_type = "application/json"
            else:
                row.body = body
                stored, duplicate = await self._store(
                    row,
                    message_id,
                    kind,
                    client_id,
                    service,
                    received,
                    verified.signature_base,
                    body,
                    replies,
                )
                status, answer_body = 200, stored.receipt.encode("ascii")
                content_type = zm.RECEIPT_MEDIA_TYPE
                if duplicate:
                    self.duplicates += 1
                elif callable(self.on_stored):
                    self.on_stored()
        except xr.ExchangeError as error:
            xroad_error = error.xroad_type
            status, answer_body = error.status, error.body(message_id)
            content_type = "application/json; charset=utf-8"
        signer = side.identity.signer(receiver_member)
        headers = side._signed_headers(
            inbound,
            signer,
            status,
            CIMultiDict({"Content-Type": content_type}),
            answer_body,
            xroad_error,
        )
        # The receipt is logged whatever the receiver's body logging: it is the evidence.
        response_facts = MessageFacts(
            message_id, client_id, str(service), "POST", facts.keep_body or xroad_error is None
        )
        await side._log(
            request_record,
            side._entry(
                "response",
                "server",
                response_facts,
                status=status,
                headers=combined_headers(headers),
                body=answer_body,
            ),
        )
        return web.Response(status=status, body=answer_body, headers=headers)

    async def _authorise(
        self,
        kind: str,
        client_id: str,
        service: ServiceId,
        received: dict[str, str],
        body: bytes,
        conf: gc.GlobalConf,
    ) -> tuple[InboxMessage, tuple[str, ...]]:
        """The checks of the delivery's kind; the inbox row to store (without its receipt) and
        the outbox messages of this gateway that it answers or reports on."""
        side = self.side
        receiver = str(service.subsystem)
        code = service.service_code
        row = InboxMessage(
            sender=client_id,
            receiver=receiver,
            service=str(service),
            kind=kind,
            headers={name: received[name] for name in CARRIED if name in received},
            content_type=received.get("content-type"),
            ordered=False,
        )
        if kind in ("answer", "status"):
            if code != zm.REPLIES_SERVICE:
                raise xr.UnknownService(f"{kind}s are delivered to {zm.REPLIES_SERVICE}")
            in_reply_to = received.get(zm.IN_REPLY_TO)
            status = received.get(zm.ANSWER_STATUS)
            wanted = zm.ANSWER_STATUSES if kind == "answer" else ("delivered",)
            if status not in wanted:
                raise xr.InvalidMessage(f"Zb-Answer-Status of an {kind} is one of {wanted}")
            if in_reply_to:
                replies: tuple[str, ...] = (in_reply_to,)
            elif kind == "status":
                replies = notice_messages(body)
            else:
                raise xr.InvalidMessage("an answer names the message it answers (Zb-In-Reply-To)")
            originals = await self.store.outbox_senders(replies)
            for name in replies:
                original = originals.get(name)
                if (
                    original is None
                    or original[0] != receiver
                    or str(ServiceId.parse(original[1]).subsystem) != client_id
                ):
                    raise xr.AccessDenied(
                        f"{client_id} received no message {name} from {receiver}: only the "
                        "subsystem a message was sent to answers it"
                    )
            row.in_reply_to = in_reply_to
            row.answer_status = status
            row.status = "received" if kind == "answer" else "processed"
            return row, replies
        if kind == "event":
            if code != zm.EVENTS_SERVICE:
                raise xr.UnknownService(f"events are delivered to {zm.EVENTS_SERVICE}")
            topic = received.get(zm.TOPIC, "")
            try:
                topic_id = ServiceId.parse(topic)
            except ValidationError as error:
                raise xr.InvalidMessage(f"Zb-Topic: {error.detail}") from error
            if str(topic_id.subsystem) != client_id:
                raise xr.AccessDenied(f"{client_id} does not publish {topic}")
            if not await self.store.subscribed(topic, receiver):
                raise xr.AccessDenied(f"{receiver} has not subscribed to {topic}")
            row.topic = topic
            row.status = "received"
            return row, ()
        entry = side.registry.service(receiver, code)
        if entry is None or code in zm.RESERVED_SERVICES:
            raise xr.UnknownService(f"{service} is not a service of this gateway")
        topic_kind = kind in ("subscribe", "unsubscribe")
        if topic_kind != entry.topic:
            raise xr.UnknownService(
                f"{service} is {'a topic' if entry.topic else 'not a topic'}: "
                + ("subscribe to it" if entry.topic else "send messages to it")
            )
        if kind != "unsubscribe":
            side._authorise(entry, client_id, "POST", R1Target(service, "", ""), received, conf)
        row.ordered = entry.ordered
        if topic_kind:
            row.topic = str(service)
            row.status = "processed"
        else:
            row.status = "received"
        return row, ()

    async def _store(
        self,
        row: InboxMessage,
        message_id: str,
        kind: str,
        client_id: str,
        service: ServiceId,
        received: dict[str, str],
        signature_base: bytes,
        body: bytes,
        replies: tuple[str, ...],
    ) -> tuple[InboxMessage, bool]:
        side = self.side
        settings = side.settings
        now = utc_now()
        receiver_member = str(service.subsystem.member)
        signer = side.identity.signer(receiver_member)
        receipt = zm.Receipt(
            message_id=message_id,
            kind=kind,
            sender=client_id,
            service=str(service),
            content_digest=received.get(xr.CONTENT_DIGEST, ""),
            delivery_digest=zm.receipt_digest(signature_base, body),
            received_at=now,
            gateway=settings.gateway_id,
            receiver=receiver_member,
        )
        keep = timedelta(
            seconds=max(settings.message_lifetime_seconds, _lifetime_left(received, now))
        ) + timedelta(days=settings.message_retention_days)
        row.message_id = message_id
        row.received_at = now
        row.expires_at = now + keep
        row.next_push_at = now
        row.push_attempts = 0
        row.duplicates = 0
        row.receipt = receipt.sign(signer.key, signer.certificate)
        return await self.store.store_delivery(row, replies=replies)


def notice_messages(body: bytes) -> tuple[str, ...]:
    """The messages a status notice names (ZB-STD-009 §5.4): its JSON body's ``messages``, 1 to
    MAX_NOTICE of them, each with its ``id``."""
    try:
        notice = orjson.loads(body)
        messages = notice["messages"]
        if notice.get("status") != "delivered" or not isinstance(messages, list):
            raise TypeError
        names = tuple(message["id"] for message in messages)
    except (orjson.JSONDecodeError, TypeError, KeyError, AttributeError):
        raise xr.InvalidMessage(
            'a status notice without Zb-In-Reply-To is {"status": "delivered", "messages": '
            '[{"id": ..., "at": ...}, ...]}'
        ) from None
    if not 0 < len(names) <= MAX_NOTICE:
        raise xr.InvalidMessage(f"a status notice names 1 to {MAX_NOTICE} messages")
    if not all(isinstance(name, str) and 0 < len(name) <= 64 for name in names):
        raise xr.InvalidMessage("a status notice names messages by their ids (1 to 64 characters)")
    return names


def _lifetime_left(received: dict[str, str], now: datetime) -> float:
    """Seconds until the sender stops retrying (``Zb-Message-Expires``), 0 when unreadable."""
    try:
        expires = datetime.strptime(received.get(zm.MESSAGE_EXPIRES, ""), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return 0.0
    return max(0.0, (expires.replace(tzinfo=UTC) - now).total_seconds())
