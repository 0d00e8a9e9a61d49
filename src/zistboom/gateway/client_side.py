"""The client side of the message path: information system → gateway (X-Road REST ``r1``) →
provider's gateway.

Validate the ``r1`` request, find the provider's gateway in the global configuration, sign the
request as the client member (RFC 9421 over method, path, query, Content-Digest and the X-Road
headers), send it over mutual TLS to a peer whose certificate the configuration pins, accept
only an answer signed by the provider member and bound to our request (anything else becomes
our own error, and nothing of it is passed on), log both messages durably, answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.client_proto import ResponseHandler
from multidict import CIMultiDict
from yarl import URL

from zistboom.core import exchange as xr
from zistboom.core import globalconf as gc
from zistboom.core.crypto import httpsig, keys
from zistboom.core.errors import CryptoError, ValidationError
from zistboom.core.identifiers import SubsystemId, parse_client_header
from zistboom.gateway.message import (
    LABEL,
    REQUEST_BASE_COMPONENTS,
    REQUEST_OPTIONAL_HEADERS,
    RESPONSE_COMPONENTS,
    ExchangeSide,
    MessageFacts,
    check_header_text,
    combined_headers,
    end_to_end,
    error_response,
    peer_certificate_fingerprint,
    quoted_answer,
    read_answer,
    read_body,
)
from zistboom.gateway.target import R1Target, parse_target


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


@dataclass(frozen=True, slots=True)
class Attempt:
    """One signed request on its way to one of the provider member's gateways."""

    method: str
    target_uri: str
    headers: CIMultiDict[str]
    body: bytes
    sent: httpsig.RequestParts
    """The request as sent, with its signature fields (what the answer must be bound to)."""
    signed: httpsig.SignedFields
    target: R1Target
    gateway: gc.GatewayEntry
    client_id: str
    message_id: str
    conf: gc.GlobalConf


class ClientSide(ExchangeSide):
    """Information systems' requests, sent on to the provider's gateway."""

    def __init__(self, *parts: Any) -> None:
        super().__init__(*parts)
        self._peer: aiohttp.ClientSession | None = None
        self._retired: set[aiohttp.ClientSession] = set()
        self._closing: set[asyncio.Task[None]] = set()

    def _peer_session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=PinnedConnector(
                self._pins,
                ssl=self.identity.client_tls_context(),
                limit=0,
                # Well inside the peers' header timeout, after which they close idle
                # connections: a request is never sent on a connection being closed.
                keepalive_timeout=min(60.0, self.settings.header_timeout / 2),
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

    async def stop(self) -> None:
        for closing in list(self._closing):
            closing.cancel()
        for session in self._retired:
            await session.close()
        if self._peer is not None:
            await self._peer.close()

    def reload_tls(self) -> None:
        """New peer connections from now on: after a renewal (our certificate changed) or a new
        configuration (a peer's certificate may have been revoked). Requests already sent on
        the old pool finish on it (closing it at once would cut them off); it is closed once
        they have had ``peer_timeout`` to do so."""
        old = self._peer
        self._peer = self._peer_session()
        if old is not None:
            self._retired.add(old)
            closing = asyncio.get_running_loop().create_task(self._close_later(old))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    async def _close_later(self, session: aiohttp.ClientSession) -> None:
        await asyncio.sleep(self.settings.peer_timeout + 1)
        self._retired.discard(session)
        await session.close()

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
                    Attempt(
                        method=request.method,
                        target_uri=target_uri,
                        headers=headers,
                        body=body,
                        sent=sent,
                        signed=signed,
                        target=target,
                        gateway=gateway,
                        client_id=client_id,
                        message_id=message_id,
                        conf=conf,
                    )
                )
            except (xr.ClientNetworkError, xr.ClientSslAuthenticationFailed) as error:
                last_error = error  # try the member's next gateway, if any
        assert last_error is not None
        raise last_error

    async def _send(self, attempt: Attempt) -> web.Response:
        """Send one signed request to one provider gateway; log the request with its answer,
        or with the error that ended the attempt, before answering."""
        keep_body = self._body_logging(attempt.client_id)
        facts = MessageFacts(
            message_id=attempt.message_id,
            client=attempt.client_id,
            service=str(attempt.target.service),
            method=attempt.method,
            keep_body=keep_body,
        )
        request_record = self._entry(
            "request",
            "client",
            facts,
            target=attempt.target.path_and_query,
            headers=combined_headers(attempt.headers),
            body=attempt.body,
            target_uri=attempt.target_uri,
        )
        try:
            status, answer_headers, answer_body = await self._exchange_with_peer(attempt)
        except xr.ExchangeError as error:
            failure = {
                xr.X_ROAD_ERROR: error.xroad_type,
                "content-type": "application/json; charset=utf-8",
            }
            error_body = error.body(attempt.message_id)
            error_record = self._entry(
                "response",
                "client",
                facts,
                status=error.status,
                headers=failure,
                body=error_body,
            )
            await self._log(request_record, error_record)
            raise
        response_record = self._entry(
            "response",
            "client",
            facts,
            status=status,
            headers=combined_headers(answer_headers),
            body=answer_body,
        )
        await self._log(request_record, response_record)
        return self._to_information_system(status, answer_headers, answer_body, attempt.message_id)

    async def _request_peer(
        self, attempt: Attempt, limits: aiohttp.ClientTimeout
    ) -> tuple[int, CIMultiDict[str], bytes]:
        """One HTTP exchange with the provider's gateway. A pooled connection that the peer
        closed as the request went out ends with no answer at all; the same signed bytes are
        then sent once more on another connection, as aiohttp itself does for idempotent
        methods. This is safe for every method: had the first copy been carried out, the
        provider's replay memory (ZB-STD-004 §5.8) would refuse the second."""
        assert self._peer is not None
        for last_try in (False, True):
            try:
                async with self._peer.request(
                    attempt.method,
                    URL(attempt.target_uri, encoded=True),
                    headers=attempt.headers,
                    data=attempt.body if attempt.body else None,
                    allow_redirects=False,
                    timeout=limits,
                ) as answer:
                    limit = self.settings.max_body_bytes
                    if answer.content_length is not None and answer.content_length > limit:
                        raise xr.ClientInternalError("the provider's answer is too large")
                    answer_body = await read_answer(answer, limit)
                    if answer_body is None:
                        raise xr.ClientInternalError("the provider's answer is too large")
                    return answer.status, CIMultiDict(answer.headers), answer_body
            except aiohttp.ServerDisconnectedError:
                if last_try:
                    raise
        raise AssertionError("unreachable")

    async def _exchange_with_peer(self, attempt: Attempt) -> tuple[int, CIMultiDict[str], bytes]:
        assert self._peer is not None
        gateway = attempt.gateway
        timeout = aiohttp.ClientTimeout(
            total=self.settings.peer_timeout, connect=self.settings.connect_timeout
        )
        try:
            status, answer_headers, answer_body = await self._request_peer(attempt, timeout)
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
        provider_member = str(attempt.target.service.subsystem.member)
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
                request=attempt.sent,
                resolve_key=lambda params: self.trust.signer_key(
                    attempt.conf,
                    received.get(xr.SIGNER_CERTIFICATE),
                    provider_member,
                    params.key_id,
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
        ] != xr.request_hash(attempt.signed.signature_base, attempt.body):
            raise xr.ClientInvalidSignature(
                "the provider's answer is bound to another request (X-Road-Request-Hash differs)"
            )
        if received.get(xr.X_ROAD_ID) != attempt.message_id:
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
