"""Bounded resources of a gateway's two message listeners, the client port and the peer port:
how long a request head may take, how long its body may take, how many connections a listener
holds, and how many bytes of request bodies the process holds at once (ZB-STD-004, limits).

- Header timeout: aiohttp's keep-alive timer already has the semantics wanted. It is armed when
  a connection is made and again when a response has been written, and when it fires it closes
  the connection unless a request head has been parsed since (a handler runs, or a request
  waits for one). So the header timeout *is* that timer, set to ``header_timeout``: nothing is
  added to the message path, and an idle kept-alive connection is closed after the same time.
  A TLS handshake gets the same time (``ssl_handshake_timeout``); the timer starts after it.
- Body timeout: the whole body within ``body_timeout`` of the handler asking for it; one timer
  handle, armed only when the body has not already arrived with the head.
- Connection cap: beyond ``max_connections`` established connections on a listener, a new one
  is closed as soon as it is made, without reading from it (an answer would cost what the cap
  saves). TLS connections count once their handshake is done.
- Body budget: bytes of request bodies held by the process, shared by both listeners; reserved
  when a head announces its length (Content-Length), or chunk by chunk as a chunked body is
  read, and released when the handler has answered. A body that does not fit is refused with
  the listener's ``busy`` error (HTTP 503) before it is read; a body larger than the whole
  budget with the listener's "too large" error (413).

Counters are plain integers read by the metrics collector (gateway/monitoring.py) when scraped.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.streams import StreamReader

from zistboom.core import exchange as xr
from zistboom.core.errors import ConfigurationError
from zistboom.gateway.settings import GatewaySettings

CHUNK = 64 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BodyBudget:
    """Bytes of request bodies in flight in the process, never more than ``limit``; each
    request's reservation is kept by the request's identity until it is released."""

    __slots__ = ("_held", "in_flight", "limit", "peak")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self.peak = 0
        self._held: dict[int, int] = {}

    def reserve(self, request: web.BaseRequest, size: int) -> bool:
        in_flight = self.in_flight + size
        if in_flight > self.limit:
            return False
        self.in_flight = in_flight
        if in_flight > self.peak:
            self.peak = in_flight
        key = id(request)
        self._held[key] = self._held.get(key, 0) + size
        return True

    def release(self, request: web.BaseRequest) -> None:
        if self._held:
            self.in_flight -= self._held.pop(id(request), 0)


class Listener:
    """One port's limits and counters: reads bodies within them, and makes the site whose
    connections obey them."""

    def __init__(
        self,
        name: str,
        budget: BodyBudget,
        *,
        header_timeout: float,
        body_timeout: float,
        max_connections: int,
        busy: type[xr.ExchangeError],
        timeout: type[xr.ExchangeError],
    ) -> None:
        self.name = name
        self.budget = budget
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_connections = max_connections
        self.busy = busy
        self.timeout = timeout
        self.connections = 0
        self.refused_connections = 0
        self.refused_bodies = 0
        self.body_timeouts = 0

    async def read_body(
        self, request: web.BaseRequest, limit: int, too_large: type[xr.ExchangeError]
    ) -> bytes:
        """The request's whole body: at most ``limit`` bytes, within the body timeout, and
        reserved in the budget until the handler made with :meth:`releasing` has answered."""
        length = request.content_length
        if length is not None:
            if length > limit:
                raise too_large(f"the body has {length} bytes; at most {limit} allowed")
            if not length:
                return b""
            if length > self.budget.limit:
                raise too_large(
                    f"the body has {length} bytes; this gateway holds at most "
                    f"{self.budget.limit} bytes of bodies at once"
                )
            if not self.budget.reserve(request, length):
                raise self._refuse(length)
        elif not request.body_exists:
            return b""
        content = request.content
        if content.is_eof():  # arrived with the head: nothing to wait for
            return await self._collect(request, content, limit, too_large, length is None)
        try:
            async with asyncio.timeout(self.body_timeout):
                return await self._collect(request, content, limit, too_large, length is None)
        except TimeoutError:
            self.body_timeouts += 1
            raise self.timeout(
                f"the body was not received within {self.body_timeout:g} s"
            ) from None

    async def _collect(
        self,
        request: web.BaseRequest,
        content: StreamReader,
        limit: int,
        too_large: type[xr.ExchangeError],
        chunked: bool,
    ) -> bytes:
        body = bytearray()
        async for chunk in content.iter_chunked(CHUNK):
            if chunked:
                if len(body) + len(chunk) > limit:
                    raise too_large(f"the body is larger than the {limit} bytes allowed")
                if not self.budget.reserve(request, len(chunk)):
                    raise self._refuse(len(chunk))
            body += chunk
        return bytes(body)

    def _refuse(self, size: int) -> xr.ExchangeError:
        self.refused_bodies += 1
        budget = self.budget
        return self.busy(
            f"this gateway holds {budget.in_flight} bytes of request bodies and its budget is "
            f"{budget.limit} bytes: {size} more do not fit now; retry later"
        )

    def releasing(self, handler: Handler) -> Handler:
        """``handler``, releasing what its request reserved once it has answered."""
        release = self.budget.release

        async def bounded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            finally:
                release(request)

        return bounded

    def site(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        backlog: int,
    ) -> web.BaseSite:
        return ListenerSite(runner, self, host, port, ssl_context=ssl_context, backlog=backlog)


LISTENER = web.AppKey("zistboom.listener", Listener)
"""The listener an application serves on (its handlers read bodies through it)."""


def listeners(settings: GatewaySettings) -> tuple[Listener, Listener]:
    """The client port's and the peer port's limits, sharing one body budget."""
    if settings.body_budget_bytes < settings.max_body_bytes:
        raise ConfigurationError(
            f"body_budget_bytes ({settings.body_budget_bytes}) must hold at least one body of "
            f"max_body_bytes ({settings.max_body_bytes})"
        )
    budget = BodyBudget(settings.body_budget_bytes)
    client = Listener(
        "client",
        budget,
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_connections=settings.max_connections,
        busy=xr.ClientBusy,
        timeout=xr.RequestTimeout,
    )
    peer = Listener(
        "peer",
        budget,
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_connections=settings.max_connections,
        busy=xr.ServerBusy,
        timeout=xr.ServerRequestTimeout,
    )
    return client, peer


class LimitedRequestHandler(web.RequestHandler):
    """aiohttp's HTTP/1.1 protocol, counted against its listener's connection cap; its
    keep-alive timer is the header timeout (see the module's docstring)."""

    __slots__ = ("_counted", "_listener")

    def __init__(
        self,
        manager: web.Server,
        listener: Listener,
        loop: asyncio.AbstractEventLoop,
        **options: Any,
    ) -> None:
        super().__init__(manager, loop=loop, keepalive_timeout=listener.header_timeout, **options)
        self._listener = listener
        self._counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        listener = self._listener
        if listener.connections >= listener.max_connections:
            listener.refused_connections += 1
            transport.close()
            return
        listener.connections += 1
        self._counted = True
        super().connection_made(transport)

    def connection_lost(self, exc: BaseException | None) -> None:
        if self._counted:
            self._counted = False
            self._listener.connections -= 1
            super().connection_lost(exc)


class ListenerSite(web.BaseSite):
    """A TCP site whose connections are :class:`LimitedRequestHandler` of its listener."""

    __slots__ = ("_host", "_listener", "_port")

    def __init__(
        self,
        runner: web.BaseRunner,
        listener: Listener,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        backlog: int,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context, backlog=backlog)
        self._listener = listener
        self._host = host
        self._port = port

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None
        listener = self._listener

        def connection() -> LimitedRequestHandler:
            return LimitedRequestHandler(server, listener, loop, access_log=None)

        self._server = await loop.create_server(
            connection,
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            ssl_handshake_timeout=listener.header_timeout if self._ssl_context else None,
        )
