"""The message path: the client side (information system → gateway, X-Road REST ``r1``) and the
server side (peer gateway → gateway → provider backend).

Client side: validate the ``r1`` request, find the provider's gateway in the global
configuration, sign the request as the client member (RFC 9421 over method, path, query,
Content-Digest and the X-Road headers), send it over mutual TLS, check the peer's TLS
certificate against the configuration, verify the provider's signature and its binding to our
request, log both messages durably, answer.

Server side: check the calling gateway's TLS certificate against the configuration, verify the
digest, the signature and its freshness (replays refused), find the service, check access
rights, call the backend (redirects passed, never followed), sign the response bound to the
request, log both messages durably, answer. Nothing is forwarded before every check passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from aiohttp.client_proto import ResponseHandler
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from zistboom.core import exchange as xr
from zistboom.core import globalconf as gc
from zistboom.core.crypto import httpsig, keys
from zistboom.core.errors import CryptoError, ValidationError
from zistboom.core.evidence import Kind, Side
from zistboom.core.identifiers import SubsystemId, parse_client_header
from zistboom.gateway import metaservices
from zistboom.gateway.access import Registry, ServiceEntry
from zistboom.gateway.messagelog import LogEntry, MessageLog
from zistboom.gateway.monitoring import Monitor
from zistboom.gateway.replay import ReplayMemory
from zistboom.gateway.settings import GatewaySettings
from zistboom.gateway.target import R1Target, parse_target, split_target
from zistboom.gateway.trust import GatewayIdentity, SigningIdentity, Trust

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
    if request.content_length is not None and request.content_length > limit:
        raise too_large(f"the body has {request.content_length} bytes; at most {limit} allowed")
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise too_large(f"the body is larger than the {limit} bytes allowed")
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


class PinnedConnector(aiohttp.TCPConnector):
    """Connections to peer gateways whose TLS certificate must be one the global configuration
    names for the gateway at that address, checked when the connection is made (pooled
    connections are dropped whenever the configuration changes)."""

    def __init__(self, pins: Callable[[str], Collection[str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pins = pins

    async def _wrap_create_connection(
        self, *args: Any, req: aiohttp.ClientRequest, **kwargs: Any
    ) -> tuple[asyncio.Transport, ResponseHandler]:
        transport, protocol = await super()._wrap_create_connection(*args, req=req, **kwargs)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        host = req.url.host or ""
        address = f"[{host}]:{req.url.port}" if ":" in host else f"{host}:{req.url.port}"
        fingerprint = keys.sha256_hex(der) if der else ""
        allowed = self._pins(address)
        if fingerprint not in allowed:
            transport.close()
            raise PeerCertificateRefused(address, fingerprint)
        return transport, protocol


class PeerCertificateRefused(aiohttp.ClientConnectionError):
    def __init__(self, address: str, fingerprint: str) -> None:
        super().__init__(f"the gateway at {address} presented certificate {fingerprint[:16]}…")
        self.address = address
        self.fingerprint = fingerprint


@dataclass(slots=True)
class Inbound:
    """What the provider side has learnt of a request so far: what a refusal is bound to."""

    target: R1Target | None = None
    message_id: str | None = None
    client_id: str | None = None
    body: bytes | None = None
    parts: httpsig.RequestParts | None = None
    signature_base: bytes | None = None
    request_hash: str | None = None

    def identify(self, request: web.Request) -> None:
        """Take the service, message id and client as far as they can be read, so that even
        the first check's refusal can name them (and be signed); raises nothing."""
        with contextlib.suppress(xr.ExchangeError):
            self.target = split_target(request.rel_url.raw_path, request.rel_url.raw_query_string)
        ids = request.headers.getall(xr.X_ROAD_ID, ())
        if len(ids) == 1 and ids[0]:
            self.message_id = ids[0]
        clients = request.headers.getall(xr.X_ROAD_CLIENT, ())
        if len(clients) == 1:
            with contextlib.suppress(ValidationError):
                self.client_id = str(parse_client_header(clients[0]))


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


class Exchange:
    """A gateway's message path (both sides)."""

    def __init__(
        self,
        settings: GatewaySettings,
        identity: GatewayIdentity,
        trust: Trust,
        registry: Registry,
        message_log: MessageLog,
        monitor: Monitor,
        replays: ReplayMemory,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.trust = trust
        self.registry = registry
        self.message_log = message_log
        self.monitor = monitor
        self.replays = replays
        self._peer: aiohttp.ClientSession | None = None
        self._backend: aiohttp.ClientSession | None = None

    def _peer_session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=PinnedConnector(
                self._pins, ssl=self.identity.client_tls_context(), limit=0, keepalive_timeout=60
            ),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        )

    def _pins(self, address: str) -> Collection[str]:
        conf = self.trust.conf(xr.OutdatedGlobalConf)
        return {
            fingerprint
            for gateway in conf.gateways
            if gateway.address == address
            for fingerprint in gateway.auth_certificates
        }

    async def start(self) -> None:
        self._peer = self._peer_session()
        self._backend = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=30),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        )

    async def stop(self) -> None:
        for session in (self._peer, self._backend):
            if session is not None:
                await session.close()

    def reload_tls(self) -> None:
        """New peer connections from now on: after a renewal (our certificate changed) or a new
        configuration (a peer's certificate may have been revoked)."""
        old = self._peer
        self._peer = self._peer_session()
        if old is not None:
            asyncio.get_running_loop().create_task(old.close())

    # --- client side ------------------------------------------------------------------------

    async def client_handler(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        message_id = request.headers.getall("X-Road-Id", [None])[-1] or str(uuid.uuid4())
        try:
            response = await self._client_exchange(request, message_id)
        except xr.ExchangeError as error:
            response = error_response(error, message_id)
            self.monitor.record("client", error.xroad_type, started, request, response)
            return response
        self.monitor.record("client", None, started, request, response)
        return response

    def _check_local_caller(self, request: web.Request, client_id: str) -> None:
        client = self.registry.client(client_id)
        if client is None:
            raise xr.UnknownClient(f"{client_id} is not a client of this gateway")
        if self.settings.client_tls:
            fingerprint = peer_certificate_fingerprint(request)
            if fingerprint is None or fingerprint not in client.certificate_fingerprints:
                raise xr.UnknownClient(
                    f"the TLS client certificate is not registered for {client_id}"
                )
            return
        remote = request.remote or ""
        try:
            loopback = ipaddress.ip_address(remote).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise xr.UnknownClient(
                "plain HTTP is accepted from this host only; use HTTPS with a client certificate"
            )

    async def _client_exchange(self, request: web.Request, message_id: str) -> web.Response:
        if not 0 < len(message_id) <= 255 or not all(33 <= ord(c) <= 126 for c in message_id):
            raise xr.BadRequest(
                "X-Road-Id must be 1 to 255 visible ASCII characters (a UUID is recommended)"
            )
        clients = request.headers.getall("X-Road-Client", [])
        if not clients:
            raise xr.InvalidClientIdentifier("the X-Road-Client header is missing")
        try:
            client = parse_client_header(clients[-1])  # the last one wins
        except ValidationError as error:
            raise xr.InvalidClientIdentifier(error.detail) from error
        target = parse_target(request.rel_url.raw_path, request.rel_url.raw_query_string)
        check_header_text(request.headers, xr.BadRequest)
        client_id = str(client)
        await self.registry.current()
        self._check_local_caller(request, client_id)
        conf = self.trust.conf(xr.OutdatedGlobalConf)
        if not self.message_log.timestamping_ok():
            raise xr.TimestampingFailed(
                "the message log has not been timestamped within the grace period"
            )
        provider_member = str(target.service.subsystem.member)
        member = conf.member(provider_member)
        if member is None:
            raise xr.UnknownMember(f"{provider_member} is not in the global configuration")
        if target.service.subsystem.subsystem_code not in member.subsystems:
            raise xr.UnknownMember(f"{target.service.subsystem} is not in the global configuration")
        gateways = conf.gateway_for_member(provider_member)
        if not gateways:
            raise xr.UnknownMember(f"{provider_member} has no gateway in the global configuration")
        body = await read_body(request, self.settings.max_body_bytes, xr.RequestTooLarge)

        signer = self.identity.signer(
            str(client.member if isinstance(client, SubsystemId) else client)
        )
        headers = CIMultiDict(end_to_end(request.headers.items()))
        headers[xr.X_ROAD_CLIENT] = client_id
        headers[xr.X_ROAD_ID] = message_id
        for name in REQUEST_OPTIONAL_HEADERS[:4]:
            values = request.headers.getall(name, [])
            if values:
                headers[name] = values[-1]
        headers[xr.CONTENT_DIGEST] = httpsig.content_digest(body)
        headers[xr.SIGNER_CERTIFICATE] = signer.certificate_header
        components = list(REQUEST_BASE_COMPONENTS) + [
            f'"{name}"' for name in REQUEST_OPTIONAL_HEADERS if name in headers
        ]
        last_error: xr.ExchangeError | None = None
        for gateway in gateways:
            target_uri = f"https://{gateway.address}{target.path_and_query}"
            parts = httpsig.RequestParts(request.method, target_uri, combined_headers(headers))
            try:
                signed = httpsig.sign_request(
                    parts,
                    components=components,
                    key=signer.key,
                    key_id=signer.key_id,
                    created=int(time.time()),
                    nonce=message_id,
                    label=LABEL,
                )
            except CryptoError as error:
                raise xr.BadRequest(
                    f"a signed header cannot be carried as sent: {error.detail} (X-Road headers "
                    "and Content-Type must be ASCII; percent-encode other text)"
                ) from error
            headers[xr.SIGNATURE_INPUT] = signed.signature_input
            headers[xr.SIGNATURE] = signed.signature
            sent = httpsig.RequestParts(request.method, target_uri, combined_headers(headers))
            try:
                return await self._send(
                    request.method, target_uri, headers, body, sent, signed, target, gateway,
                    client_id, message_id, conf,
                )  # fmt: skip
            except (xr.ClientNetworkError, xr.ClientSslAuthenticationFailed) as error:
                last_error = error  # try the member's next gateway, if any
        assert last_error is not None
        raise last_error

    async def _send(
        self,
        method: str,
        target_uri: str,
        headers: CIMultiDict[str],
        body: bytes,
        sent: httpsig.RequestParts,
        signed: httpsig.SignedFields,
        target: R1Target,
        gateway: gc.GatewayEntry,
        client_id: str,
        message_id: str,
        conf: gc.GlobalConf,
    ) -> web.Response:
        """Send one signed request to one provider gateway; log the request with its answer,
        or with the error that ended the attempt, before answering."""
        keep_body = self._body_logging(client_id)
        request_record = self._entry(
            "request", "client", message_id, client_id, str(target.service), method,
            target.path_and_query, None, combined_headers(headers), body, target_uri, keep_body,
        )  # fmt: skip
        try:
            status, answer_headers, answer_body = await self._exchange_with_peer(
                method, target_uri, headers, body, sent, signed, target, gateway, message_id, conf
            )
        except xr.ExchangeError as error:
            failure = {
                xr.X_ROAD_ERROR: error.xroad_type,
                "content-type": "application/json; charset=utf-8",
            }
            error_body = error.body(message_id)
            error_record = self._entry(
                "response", "client", message_id, client_id, str(target.service), method, None,
                error.status, failure, error_body, None, keep_body,
            )  # fmt: skip
            await self._log(request_record, error_record)
            raise
        response_record = self._entry(
            "response", "client", message_id, client_id, str(target.service), method, None, status,
            combined_headers(answer_headers), answer_body, None, keep_body,
        )  # fmt: skip
        await self._log(request_record, response_record)
        return self._to_information_system(status, answer_headers, answer_body, message_id)

    async def _exchange_with_peer(
        self,
        method: str,
        target_uri: str,
        headers: CIMultiDict[str],
        body: bytes,
        sent: httpsig.RequestParts,
        signed: httpsig.SignedFields,
        target: R1Target,
        gateway: gc.GatewayEntry,
        message_id: str,
        conf: gc.GlobalConf,
    ) -> tuple[int, CIMultiDict[str], bytes]:
        assert self._peer is not None
        timeout = aiohttp.ClientTimeout(
            total=self.settings.peer_timeout, connect=self.settings.connect_timeout
        )
        try:
            async with self._peer.request(
                method,
                URL(target_uri, encoded=True),
                headers=headers,
                data=body if body else None,
                allow_redirects=False,
                timeout=timeout,
            ) as answer:
                limit = self.settings.max_body_bytes
                if answer.content_length is not None and answer.content_length > limit:
                    raise xr.ClientInternalError("the provider's answer is too large")
                answer_body = await answer.content.read(limit + 1)
                if len(answer_body) > limit:
                    raise xr.ClientInternalError("the provider's answer is too large")
                status = answer.status
                answer_headers = CIMultiDict(answer.headers)
        except TimeoutError as error:
            raise xr.ClientTimeout(
                f"the provider gateway {gateway.id} did not answer within "
                f"{self.settings.peer_timeout:g} s"
            ) from error
        except PeerCertificateRefused as error:
            raise xr.ClientSslAuthenticationFailed(
                f"the gateway at {gateway.address} presented a certificate that the global "
                f"configuration does not name for {gateway.id}"
            ) from error
        except aiohttp.ClientConnectorCertificateError as error:
            raise xr.ClientSslAuthenticationFailed(
                f"the gateway at {gateway.address} has no valid instance certificate: {error}"
            ) from error
        except (aiohttp.ClientError, OSError) as error:
            raise xr.ClientNetworkError(
                f"cannot reach the provider gateway {gateway.id} at {gateway.address}: {error}"
            ) from error

        received = combined_headers(answer_headers)
        if xr.SIGNATURE not in received or xr.SIGNATURE_INPUT not in received:
            # Only a signed answer is evidence and only a signed answer is passed on: a party
            # holding no more than the peer's TLS key must not speak for the provider.
            raise xr.UnsignedAnswer(
                f"the provider gateway {gateway.id} answered without a signature; nothing of "
                "its answer is passed on",
                detail=quoted_answer(status, received, answer_body),
            )
        provider_member = str(target.service.subsystem.member)
        refusal = xr.X_ROAD_ERROR in received
        required: tuple[str, ...] = RESPONSE_COMPONENTS
        if refusal and xr.X_ROAD_REQUEST_HASH not in received:
            # Refused before the provider read the body: bound by the request's signature.
            required = tuple(c for c in required if c != '"x-road-request-hash"')
        if refusal:
            required += ('"x-road-error"',)
        try:
            httpsig.verify_content_digest(received.get(xr.CONTENT_DIGEST, ""), answer_body)
            httpsig.verify_response(
                httpsig.ResponseParts(status, received),
                request=sent,
                resolve_key=lambda params: self.trust.signer_key(
                    conf, received.get(xr.SIGNER_CERTIFICATE), provider_member, params.key_id
                ),
                required=required,
                now=int(time.time()),
                max_skew=self.settings.max_clock_skew,
                label=LABEL,
            )
        except CryptoError as error:
            raise xr.ClientInvalidSignature(
                f"the provider's answer does not verify: {error.detail}",
                detail=quoted_answer(status, received, answer_body),
            ) from error
        if xr.X_ROAD_REQUEST_HASH in received and received[
            xr.X_ROAD_REQUEST_HASH
        ] != xr.request_hash(signed.signature_base, body):
            raise xr.ClientInvalidSignature(
                "the provider's answer is bound to another request (X-Road-Request-Hash differs)"
            )
        if received.get(xr.X_ROAD_ID) != message_id:
            raise xr.ClientInvalidSignature("the provider's answer carries another X-Road-Id")
        return status, answer_headers, answer_body
        provider_member = str(target.service.subsystem.member)
        try:
            httpsig.verify_content_digest(received.get(xr.CONTENT_DIGEST, ""), answer_body)
            httpsig.verify_response(
                httpsig.ResponseParts(status, received),
                request=sent,
                resolve_key=lambda params: self.trust.signer_key(
                    conf, received.get(xr.SIGNER_CERTIFICATE), provider_member, params.key_id
                ),
                required=RESPONSE_COMPONENTS
                + (('"x-road-error"',) if xr.X_ROAD_ERROR in received else ()),
                now=int(time.time()),
                max_skew=self.settings.max_clock_skew,
                label=LABEL,
            )
        except CryptoError as error:
            raise xr.ClientInvalidSignature(
                f"the provider's answer does not verify: {error.detail}"
            ) from error
        if received.get(xr.X_ROAD_REQUEST_HASH) != xr.request_hash(signed.signature_base, body):
            raise xr.ClientInvalidSignature(
                "the provider's answer is bound to another request (X-Road-Request-Hash differs)"
            )
        if received.get(xr.X_ROAD_ID) != message_id:
            raise xr.ClientInvalidSignature("the provider's answer carries another X-Road-Id")
        return status, answer_headers, answer_body

    @staticmethod
    def _to_information_system(
        status: int, headers: Mapping[str, str], body: bytes, message_id: str
    ) -> web.Response:
        out: CIMultiDict[str] = CIMultiDict()
        for name, value in headers.items():
            key = name.lower()
            if key in xr.FILTERED_HEADERS or key in (
                xr.SIGNATURE,
                xr.SIGNATURE_INPUT,
                xr.SIGNER_CERTIFICATE,
                xr.CONTENT_DIGEST,
            ):
                continue
            out.add(name, value)
        out[xr.X_ROAD_ID] = message_id
        return web.Response(status=status, body=body, headers=out)

    # --- server side ------------------------------------------------------------------------

    async def peer_handler(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        inbound = Inbound()
        try:
            response = await self._server_exchange(request, inbound)
        except xr.ExchangeError as error:
            response = self._refusal(request, inbound, error)
            self.monitor.record("server", error.xroad_type, started, request, response)
            return response
        self.monitor.record("server", None, started, request, response)
        return response

    async def _server_exchange(self, request: web.Request, inbound: Inbound) -> web.Response:
        inbound.identify(request)
        conf = self.trust.conf(xr.ServerOutdatedGlobalConf)
        if not self.message_log.timestamping_ok():
            raise xr.ServerTimestampingFailed(
                "the message log has not been timestamped within the grace period"
            )
        target = parse_target(request.rel_url.raw_path, request.rel_url.raw_query_string)
        for name in xr.SIGNED_REQUEST_HEADERS:
            if len(request.headers.getall(name, ())) > 1:
                raise xr.InvalidMessage(
                    f"{name} appears on more than one line; between gateways it has one value"
                )
        message_id = request.headers.get(xr.X_ROAD_ID)
        client_header = request.headers.get(xr.X_ROAD_CLIENT)
        if not message_id or not client_header:
            raise xr.InvalidMessage("X-Road-Id and X-Road-Client are required between gateways")
        check_header_text(request.headers, xr.InvalidMessage)
        try:
            client = parse_client_header(client_header)
        except ValidationError as error:
            raise xr.InvalidMessage(error.detail) from error
        client_id = str(client)
        client_member = str(client.member if isinstance(client, SubsystemId) else client)
        fingerprint = peer_certificate_fingerprint(request)
        if fingerprint is None or not self.trust.gateway_allowed(conf, client_member, fingerprint):
            raise xr.ServerSslAuthenticationFailed(
                f"the calling gateway's TLS certificate is not one the global configuration "
                f"names for {client_member}"
            )
        await self.registry.current()
        provider = str(target.service.subsystem)
        service = self.registry.service(provider, target.service.service_code)
        limit = (service.max_body_bytes if service else None) or self.settings.max_body_bytes
        body = await read_body(request, limit, xr.ServerRequestTooLarge)
        inbound.body = body
        received = combined_headers(request.headers)
        target_uri = f"https://{request.host}{target.path_and_query}"
        parts = httpsig.RequestParts(request.method, target_uri, received)
        inbound.parts = parts
        required = list(REQUEST_BASE_COMPONENTS) + [
            f'"{name}"' for name in REQUEST_OPTIONAL_HEADERS if name in received
        ]
        try:
            httpsig.verify_content_digest(received.get(xr.CONTENT_DIGEST, ""), body)
        except CryptoError as error:
            raise xr.InvalidMessage(
                f"the body does not match its digest: {error.detail}"
            ) from error
        try:
            verified = httpsig.verify_request(
                parts,
                resolve_key=lambda params: self.trust.signer_key(
                    conf, received.get(xr.SIGNER_CERTIFICATE), client_member, params.key_id
                ),
                required=required,
                now=int(time.time()),
                max_skew=self.settings.max_clock_skew,
                label=LABEL,
            )
        except httpsig.StaleSignature as error:
            raise xr.ReplayedMessage(f"stale signature: {error.detail}") from error
        except CryptoError as error:
            raise xr.ServerInvalidSignature(
                f"the request's signature does not verify: {error.detail}"
            ) from error
        inbound.signature_base = verified.signature_base
        if verified.params.nonce != message_id:
            raise xr.ServerInvalidSignature("the signature's nonce is not the X-Road-Id")
        self.replays.check_started(verified.params.created)
        await self.replays.claim(verified.params.key_id, message_id, verified.params.created)
        if str(target.service.subsystem.member) not in self.identity.signers:
            raise xr.UnknownService(
                f"this gateway does not serve {target.service.subsystem.member}"
            )
        inbound.request_hash = xr.request_hash(verified.signature_base, body)
        request_record = self._entry(
            "request", "server", message_id, client_id, str(target.service), request.method,
            target.path_and_query, None, received, body, target_uri, self._body_logging(provider),
        )  # fmt: skip

        xroad_error: str | None = None
        try:
            self._check_client_known(client, conf)
            if service is None:
                if target.service.service_code not in metaservices.NAMES:
                    raise xr.UnknownService(f"{target.service} is not a service of this gateway")
                status, answer_headers, answer_body = metaservices.answer(
                    target.service.service_code,
                    registry=self.registry,
                    provider=provider,
                    client_id=client_id,
                    conf=conf,
                    query=request.rel_url.query,
                    accept=request.headers.get("accept", ""),
                )
            else:
                self._authorise(service, client_id, request.method, target, received, conf)
                status, answer_headers, answer_body = await self._call_backend(
                    service, request.method, target, request.headers, body
                )
        except xr.ExchangeError as error:
            # The caller is authenticated now: its refusal is signed and logged like an answer.
            xroad_error = error.xroad_type
            status, answer_body = error.status, error.body(message_id)
            answer_headers = CIMultiDict({"Content-Type": "application/json; charset=utf-8"})
        signer = self.identity.signer(str(target.service.subsystem.member))
        headers = self._signed_headers(
            inbound, signer, status, answer_headers, answer_body, xroad_error
        )
        response_record = self._entry(
            "response", "server", message_id, client_id, str(target.service), request.method,
            None, status, combined_headers(headers), answer_body, None,
            self._body_logging(provider),
        )  # fmt: skip
        await self._log(request_record, response_record)
        return web.Response(status=status, body=answer_body, headers=headers)

    @staticmethod
    def _check_client_known(client: SubsystemId | Any, conf: gc.GlobalConf) -> None:
        """The client (member, or subsystem of a member) is in the global configuration, as
        X-Road's server proxy requires of every client."""
        member_id = str(client.member if isinstance(client, SubsystemId) else client)
        member = conf.member(member_id)
        if member is None or (
            isinstance(client, SubsystemId) and client.subsystem_code not in member.subsystems
        ):
            raise xr.ServerUnknownMember(f"client {client} is not in the global configuration")

    def _refusal(
        self, request: web.Request, inbound: Inbound, error: xr.ExchangeError
    ) -> web.Response:
        """A refusal made before the request was authenticated, or when nothing could be
        logged (ZB-STD-004 §7.1): signed by the provider member named in the target whenever
        this gateway holds its key and the request carries the identifiers and the signature
        the answer is bound to; unsigned otherwise. It is not logged here."""
        message_id = inbound.message_id
        target = inbound.target
        signer = (
            self.identity.signers.get(str(target.service.subsystem.member))
            if target is not None
            else None
        )
        if message_id is None or target is None or signer is None:
            return error_response(error, message_id)
        parts = inbound.parts or httpsig.RequestParts(
            request.method,
            f"https://{request.host}{target.path_and_query}",
            combined_headers(request.headers),
        )
        if inbound.request_hash is None and inbound.body is not None:
            base = inbound.signature_base
            if base is None:
                with contextlib.suppress(CryptoError):
                    base = httpsig.request_signature_base(parts, label=LABEL)
            if base is not None:
                inbound.request_hash = xr.request_hash(base, inbound.body)
        inbound.parts = parts
        body = error.body(message_id)
        try:
            headers = self._signed_headers(
                inbound,
                signer,
                error.status,
                CIMultiDict({"Content-Type": "application/json; charset=utf-8"}),
                body,
                error.xroad_type,
            )
        except CryptoError:  # the request carries no signature this answer can cover
            return error_response(error, message_id)
        return web.Response(status=error.status, body=body, headers=headers)

    def _signed_headers(
        self,
        inbound: Inbound,
        signer: SigningIdentity,
        status: int,
        backend_headers: Mapping[str, str],
        body: bytes,
        xroad_error: str | None,
    ) -> CIMultiDict[str]:
        """The headers of an answer signed by the provider member and bound to the request
        (ZB-STD-004 §5.5, §7.6)."""
        assert inbound.target is not None
        assert inbound.message_id is not None
        assert inbound.parts is not None
        headers: CIMultiDict[str] = CIMultiDict()
        for name, value in backend_headers.items():
            key = name.lower()
            if key in xr.FILTERED_HEADERS or key in xr.GATEWAY_HEADERS or key.startswith("x-road-"):
                continue
            headers.add(name, value)
        headers[xr.X_ROAD_ID] = inbound.message_id
        if inbound.client_id is not None:
            headers[xr.X_ROAD_CLIENT] = inbound.client_id
        headers[xr.X_ROAD_SERVICE] = str(inbound.target.service)
        headers[xr.X_ROAD_REQUEST_ID] = str(uuid.uuid4())
        components: tuple[str, ...] = RESPONSE_COMPONENTS
        if inbound.request_hash is not None:
            headers[xr.X_ROAD_REQUEST_HASH] = inbound.request_hash
        else:  # a refusal before the body was read: bound by the request's signature only
            components = tuple(c for c in components if c != '"x-road-request-hash"')
        if xroad_error is not None:
            headers[xr.X_ROAD_ERROR] = xroad_error
            components += ('"x-road-error"',)
        headers[xr.CONTENT_DIGEST] = httpsig.content_digest(body)
        headers[xr.SIGNER_CERTIFICATE] = signer.certificate_header
        signed = httpsig.sign_response(
            httpsig.ResponseParts(status, combined_headers(headers)),
            request=inbound.parts,
            components=components,
            key=signer.key,
            key_id=signer.key_id,
            created=int(time.time()),
            label=LABEL,
        )
        headers[xr.SIGNATURE_INPUT] = signed.signature_input
        headers[xr.SIGNATURE] = signed.signature
        return headers

    def _authorise(
        self,
        service: ServiceEntry,
        client_id: str,
        method: str,
        target: R1Target,
        received: Mapping[str, str],
        conf: gc.GlobalConf,
    ) -> None:
        if not self.registry.is_allowed(service, client_id, method, target.backend_path, conf):
            raise xr.AccessDenied(
                f"{client_id} may not call {method} {target.backend_path} of {target.service}"
            )
        if service.personal_data and not (
            received.get(xr.X_ROAD_USER_ID) and received.get(xr.X_ROAD_PURPOSE)
        ):
            raise xr.PersonalDataRefused(
                f"{target.service} returns personal data: send X-Road-UserId and X-Road-Purpose"
            )

    async def _call_backend(
        self,
        service: ServiceEntry,
        method: str,
        target: R1Target,
        incoming: CIMultiDictProxy[str],
        body: bytes,
    ) -> tuple[int, CIMultiDict[str], bytes]:
        assert self._backend is not None
        url = service.backend_url.rstrip("/") + target.backend_path
        if target.query:
            url += "?" + target.query
        headers = CIMultiDict(end_to_end(incoming.items()))
        for name in BACKEND_XROAD_HEADERS:
            if name in incoming:
                headers[name] = incoming[name]
        timeout_s = service.timeout or self.settings.backend_timeout
        timeout = aiohttp.ClientTimeout(total=timeout_s, connect=self.settings.connect_timeout)
        limit = self.settings.max_body_bytes
        try:
            async with self._backend.request(
                method,
                URL(url, encoded=True),
                headers=headers,
                data=body if body else None,
                allow_redirects=False,
                timeout=timeout,
            ) as answer:
                answer_body = await answer.content.read(limit + 1)
                if len(answer_body) > limit:
                    raise xr.ServiceFailed(f"the backend's answer is larger than {limit} bytes")
                return answer.status, answer.headers.copy(), answer_body
        except TimeoutError as error:
            raise xr.ServerTimeout(
                f"the backend of {target.service} did not answer within {timeout_s:g} s"
            ) from error
        except (aiohttp.ClientError, OSError) as error:
            raise xr.ServiceFailed(f"the backend of {target.service} failed: {error}") from error

    # --- message log --------------------------------------------------------------------------

    def _body_logging(self, subsystem_id: str) -> bool:
        client = self.registry.client(subsystem_id)
        return client.body_logging if client is not None else True

    @staticmethod
    def _entry(
        kind: Kind,
        side: Side,
        message_id: str,
        client: str,
        service: str,
        method: str | None,
        target: str | None,
        status: int | None,
        headers: Mapping[str, str],
        body: bytes,
        target_uri: str | None,
        keep_body: bool,
    ) -> LogEntry:
        logged: dict[str, Any] = {k: v for k, v in headers.items() if k in LOGGED_HEADERS}
        if target_uri is not None:
            logged["@target-uri"] = target_uri
        return LogEntry(
            message_id=message_id,
            kind=kind,
            side=side,
            client=client,
            service=service,
            method=method,
            target=target,
            status=status,
            headers=logged,
            body=body if keep_body else None,
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
