"""What both sides of the message path share: the components each signature covers, the
headers that travel, are logged or reach a backend, the X-Road error answer, bounded reads of
bodies and answers, and :class:`ExchangeSide`, the parts of a gateway both sides work with
(settings, identity, trust, access registry, message log, monitor) and how they log a message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from zistboom.core import exchange as xr
from zistboom.core import messaging as zm
from zistboom.core.crypto import httpsig, keys
from zistboom.core.evidence import Kind, Side
from zistboom.gateway.access import Registry
from zistboom.gateway.limits import LISTENER
from zistboom.gateway.messagelog import LogEntry, MessageLog
from zistboom.gateway.monitoring import Monitor
from zistboom.gateway.settings import GatewaySettings
from zistboom.gateway.trust import GatewayIdentity, Trust

log = logging.getLogger("zistboom.gateway")

LABEL = xr.SIGNATURE_LABEL
REQUEST_BASE_COMPONENTS = (
    '"@method"',
    '"@path"',
    '"@query"',
    '"content-digest"',
    '"x-road-client"',
    '"x-road-id"',
    '"zb-signer-certificate"',
)
REQUEST_OPTIONAL_HEADERS = (
    xr.X_ROAD_USER_ID,
    xr.X_ROAD_ISSUE,
    xr.X_ROAD_REPRESENTED_PARTY,
    xr.X_ROAD_PURPOSE,
    "content-type",
)
RESPONSE_COMPONENTS = (
    '"@status"',
    '"content-digest"',
    '"x-road-id"',
    '"x-road-service"',
    '"x-road-request-id"',
    '"x-road-request-hash"',
    '"zb-signer-certificate"',
    f'"signature";req;key="{LABEL}"',
)
# Headers the provider's backend receives from the exchange, besides end-to-end ones.
BACKEND_XROAD_HEADERS = (
    xr.X_ROAD_CLIENT,
    xr.X_ROAD_ID,
    xr.X_ROAD_USER_ID,
    xr.X_ROAD_ISSUE,
    xr.X_ROAD_REPRESENTED_PARTY,
    xr.X_ROAD_PURPOSE,
)
# What the gateway logs of a message's headers (besides the target, status and body).
LOGGED_HEADERS = frozenset(
    {
        xr.X_ROAD_CLIENT,
        xr.X_ROAD_ID,
        xr.X_ROAD_USER_ID,
        xr.X_ROAD_ISSUE,
        xr.X_ROAD_REPRESENTED_PARTY,
        xr.X_ROAD_PURPOSE,
        xr.X_ROAD_SERVICE,
        xr.X_ROAD_REQUEST_ID,
        xr.X_ROAD_REQUEST_HASH,
        xr.X_ROAD_ERROR,
        xr.CONTENT_DIGEST,
        xr.SIGNATURE,
        xr.SIGNATURE_INPUT,
        xr.SIGNER_CERTIFICATE,
        "content-type",
        # The headers of an asynchronous delivery that its signature covers (ZB-STD-009).
        *zm.SIGNED_HEADERS,
    }
)


def combined_headers(headers: CIMultiDictProxy[str] | CIMultiDict[str]) -> dict[str, str]:
    """Lower-case names, several field lines joined with ', ' as HTTP does."""
    combined: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        combined[key] = f"{combined[key]}, {value}" if key in combined else value
    return combined


def end_to_end(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers an information system sent that travel on unchanged (no hop-by-hop, no headers
    only the gateways may set, no X-Road headers the gateway sets itself)."""
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        key = name.lower()
        if key in xr.FILTERED_HEADERS or key in xr.GATEWAY_HEADERS or key.startswith("x-road-"):
            continue
        kept.append((name, value))
    return kept


def error_response(error: xr.ExchangeError, message_id: str | None) -> web.Response:
    headers = {xr.X_ROAD_ERROR: error.xroad_type}
    if message_id:
        headers[xr.X_ROAD_ID] = message_id
    return web.Response(
        status=error.status,
        body=error.body(message_id),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


async def read_body(request: web.Request, limit: int, too_large: type[xr.ExchangeError]) -> bytes:
    """The body, within its listener's limits: size, body timeout, body budget (limits.py)."""
    return await request.app[LISTENER].read_body(request, limit, too_large)


async def read_answer(answer: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The whole body of an answer, or None when it is longer than ``limit`` bytes.
    (``StreamReader.read(n)`` returns what has arrived so far, not n bytes.)"""
    body = bytearray()
    async for chunk in answer.content.iter_chunked(256 * 1024):
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def peer_certificate_fingerprint(request: web.Request) -> str | None:
    transport = request.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    return keys.sha256_hex(der) if der else None  # the fingerprint is SHA-256 of the DER


def quoted_answer(status: int, headers: Mapping[str, str], body: bytes) -> str:
    """What a refused peer answer said, for the detail of our own error: its status, its
    X-Road error type and message (never its other headers or its body)."""
    parts = [f"the peer answered {status}"]
    error_type = headers.get(xr.X_ROAD_ERROR)
    if error_type:
        parts.append(f"X-Road-Error {_printable(error_type)}")
        try:
            message = orjson.loads(body).get("message")
        except (orjson.JSONDecodeError, AttributeError):
            message = None
        if isinstance(message, str):
            parts.append(f"message {_printable(message)!r}")
    return "; ".join(parts)


def _printable(text: str, limit: int = 300) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "…"


def check_header_text(headers: CIMultiDictProxy[str], error: type[xr.ExchangeError]) -> None:
    """Refuse header fields that are not valid UTF-8: aiohttp hands on such bytes as surrogate
    escapes, and the next hop would drop them; changing data in transit is worse than refusing
    it."""
    for name, value in headers.items():
        if not value.isascii() or not name.isascii():
            try:
                name.encode()
                value.encode()
            except UnicodeEncodeError:
                shown = name.encode("utf-8", "surrogateescape").decode("ascii", "replace")
                raise error(
                    f"the header {shown} is not valid UTF-8; percent-encode binary or "
                    "legacy-encoded text"
                ) from None


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What the request and the response records of one exchange share."""

    message_id: str
    client: str
    service: str
    method: str
    keep_body: bool
    """Whether the body is logged (body logging of the local subsystem)."""


class ExchangeSide:
    """The parts of a gateway that both sides of its message path use."""

    def __init__(
        self,
        settings: GatewaySettings,
        identity: GatewayIdentity,
        trust: Trust,
        registry: Registry,
        message_log: MessageLog,
        monitor: Monitor,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.trust = trust
        self.registry = registry
        self.message_log = message_log
        self.monitor = monitor

    def _body_logging(self, subsystem_id: str) -> bool:
        client = self.registry.client(subsystem_id)
        return client.body_logging if client is not None else True

    @staticmethod
    def _entry(
        kind: Kind,
        side: Side,
        facts: MessageFacts,
        *,
        headers: Mapping[str, str],
        body: bytes,
        target: str | None = None,
        status: int | None = None,
        target_uri: str | None = None,
    ) -> LogEntry:
        """The record of one message: a request (with its ``target`` and the ``target_uri``
        its signature covers) or a response (with its ``status``); both name the request's
        method."""
        logged: dict[str, Any] = {k: v for k, v in headers.items() if k in LOGGED_HEADERS}
        if target_uri is not None:
            logged["@target-uri"] = target_uri
        return LogEntry(
            message_id=facts.message_id,
            kind=kind,
            side=side,
            client=facts.client,
            service=facts.service,
            method=facts.method,
            target=target,
            status=status,
            headers=logged,
            body=body if facts.keep_body else None,
            body_digest=headers.get(xr.CONTENT_DIGEST) or httpsig.content_digest(body),
        )

    async def _log(self, *entries: LogEntry) -> None:
        """Durably log, in order, before answering (the log's writer commits in groups)."""
        try:
            await asyncio.gather(*(self.message_log.append(entry) for entry in entries))
        except Exception as error:
            log.exception("message log write failed")
            failure = (
                xr.ClientInternalError if entries[0].side == "client" else xr.ServerInternalError
            )
            raise failure("the message could not be logged; nothing was answered") from error
