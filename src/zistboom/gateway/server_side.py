"""The server side of the message path: peer gateway → gateway → provider backend.

Check the calling gateway's TLS certificate against the configuration, verify the digest, the
signature and its freshness, claim the signature in the replay memory, check that the client is
known, find the service, check access rights, call the backend (redirects passed, never
followed), sign the answer bound to the request, log both messages durably, answer. Nothing is
forwarded before every check passed, and every answer, refusals included, is signed whenever
the gateway holds the provider member's key (ZB-STD-004 §7.1).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from zistboom.core import exchange as xr
from zistboom.core import globalconf as gc
from zistboom.core.crypto import httpsig
from zistboom.core.errors import CryptoError, ValidationError
from zistboom.core.identifiers import MemberId, SubsystemId, parse_client_header
from zistboom.gateway import metaservices
from zistboom.gateway.access import ServiceEntry
from zistboom.gateway.accreditation import Accreditations
from zistboom.gateway.message import (
    BACKEND_XROAD_HEADERS,
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
    read_answer,
    read_body,
)
from zistboom.gateway.replay import ReplayMemory
from zistboom.gateway.target import R1Target, parse_target, split_target
from zistboom.gateway.trust import SigningIdentity


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


class ServerSide(ExchangeSide):
    """Peers' requests, carried out by the provider's backend or a metaservice."""

    def __init__(
        self, *parts: Any, replays: ReplayMemory, accreditations: Accreditations | None = None
    ) -> None:
        super().__init__(*parts)
        self.replays = replays
        self.accreditations = accreditations
        self._backend: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._backend = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=30),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        )

    async def stop(self) -> None:
        if self._backend is not None:
            await self._backend.close()

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
        facts = MessageFacts(
            message_id=message_id,
            client=client_id,
            service=str(target.service),
            method=request.method,
            keep_body=self._body_logging(provider),
        )
        request_record = self._entry(
            "request",
            "server",
            facts,
            target=target.path_and_query,
            headers=received,
            body=body,
            target_uri=target_uri,
        )

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
            "response",
            "server",
            facts,
            status=status,
            headers=combined_headers(headers),
            body=answer_body,
        )
        await self._log(request_record, response_record)
        return web.Response(status=status, body=answer_body, headers=headers)

    @staticmethod
    def _check_client_known(client: SubsystemId | MemberId, conf: gc.GlobalConf) -> None:
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
        access = self.registry.access(service, client_id, method, target.backend_path, conf)
        if not access.allowed:
            if not access.required:
                raise xr.AccessDenied(
                    f"{client_id} may not call {method} {target.backend_path} of {target.service}"
                )
            if self.accreditations is None:
                raise xr.OutdatedTrustList("this gateway does not follow the trust list")
            self.accreditations.check(client_id, access.required)
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
        if service.backend_secret is not None:
            headers[xr.GATEWAY_SECRET] = service.backend_secret
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
                answer_body = await read_answer(answer, limit)
                if answer_body is None:
                    raise xr.ServiceFailed(f"the backend's answer is larger than {limit} bytes")
                return answer.status, answer.headers.copy(), answer_body
        except TimeoutError as error:
            raise xr.ServerTimeout(
                f"the backend of {target.service} did not answer within {timeout_s:g} s"
            ) from error
        except (aiohttp.ClientError, OSError) as error:
            raise xr.ServiceFailed(f"the backend of {target.service} failed: {error}") from error
