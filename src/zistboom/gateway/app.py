"""A running gateway: its three listeners and background work, assembled from its settings.

- the client port (information systems, X-Road REST ``r1``; plain HTTP from loopback only, or
  HTTPS with registered client certificates), with ``/listClients``, ``/health``, ``/ready``
  and ``/metrics``;
- the peer port (other gateways; TLS 1.3 with mutual authentication only);
- the admin port (the management API, loopback by default).
Background: the global configuration is fetched every minute, the message log is sealed and
timestamped every interval, certificates are renewed when due.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc as garbage_collector
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from aiohttp import web
from cryptography import x509 as cx509
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zistboom.core import exchange as xr
from zistboom.core import globalconf as gc
from zistboom.core.crypto import keys
from zistboom.core.database import create_engine, migrate, session_factory
from zistboom.core.errors import ConfigurationError, GlobalConfError
from zistboom.core.trustlist import TrustListClient
from zistboom.gateway import enrolment, metaservices
from zistboom.gateway.access import Registry
from zistboom.gateway.accreditation import Accreditations
from zistboom.gateway.api import create_management_app
from zistboom.gateway.catalogue import CataloguePublisher
from zistboom.gateway.limits import LISTENER, listeners
from zistboom.gateway.message import error_response as proxy_error
from zistboom.gateway.messagelog import MessageLog
from zistboom.gateway.messaging.api import MessagesApi
from zistboom.gateway.messaging.service import Messaging
from zistboom.gateway.monitoring import Monitor
from zistboom.gateway.proxy import Exchange
from zistboom.gateway.replay import ReplayMemory
from zistboom.gateway.settings import GatewaySettings
from zistboom.gateway.trust import GatewayIdentity, Trust, trust_client_certificates

log = logging.getLogger("zistboom.gateway")
MIGRATIONS = "zistboom.gateway:migrations"
# Every path, also one whose decoded form holds a line break (which ".*" would not match, and
# aiohttp would answer a bare 404 that looks like a backend's): the exchange refuses it itself.
ANY_PATH = r"/{tail:[\s\S]*}"


async def open_database(
    settings: GatewaySettings,
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.resolved_database_url("gateway"))
    await migrate(engine, MIGRATIONS)
    return engine, session_factory(engine)


def _peer_trust(conf: gc.GlobalConf) -> tuple[object, ...]:
    """What peer connections are pinned to: the gateways' addresses and certificates, the CA
    certificates and the revoked serials."""
    return (
        tuple((g.id, g.address, tuple(g.auth_certificates)) for g in conf.gateways),
        tuple(conf.ca_certificates),
        tuple(conf.revoked_serials),
    )


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server inside a loop that handles signals itself (uvicorn must not)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class Gateway:
    settings: GatewaySettings
    engine: AsyncEngine | None = None
    exchange: Exchange | None = None
    message_log: MessageLog | None = None
    replays: ReplayMemory | None = None
    conf_client: gc.GlobalConfClient | None = None
    accreditations: Accreditations | None = None
    runners: list[web.AppRunner] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    admin_server: uvicorn.Server | None = None
    messaging: Messaging | None = None

    async def start(self) -> None:
        settings = self.settings
        if not settings.gateway_id:
            raise ConfigurationError(
                f"{settings.data_dir} holds no gateway: run `zistboom gateway init` first"
            )
        self.engine, sessions = await open_database(settings)
        identity = GatewayIdentity.load(settings.data_dir, settings.gateway_id)
        anchor = gc.Anchor.from_json((settings.data_dir / enrolment.ANCHOR_FILE).read_text())
        self.conf_client = gc.GlobalConfClient(anchor, settings.data_dir / "global-conf")
        self.conf_client.load_cached()
        try:
            await self.conf_client.refresh()
        except GlobalConfError as error:
            log.warning("global configuration not refreshed at start: %s", error.detail)
        trust = Trust(self.conf_client)
        conf = self.conf_client.current
        self.accreditations = Accreditations(
            TrustListClient(conf.instance, settings.data_dir / "trust-list")
        )
        self.accreditations.load_cached(conf)
        await self.accreditations.follow(conf)
        registry = Registry(sessions)
        await registry.reload(force=True)
        self.message_log = MessageLog(
            self.engine,
            gateway_id=settings.gateway_id,
            instance=settings.instance_name,
            tsa_url=conf.central.tsa_url,
            ca_cert=lambda: trust.ca_certificate(self.conf_client.current),  # type: ignore[union-attr]
            batch_interval=settings.messagelog_interval,
            timestamp_grace=settings.timestamp_grace_seconds,
        )
        await self.message_log.start()
        client_limits, peer_limits = listeners(settings)
        monitor = Monitor(settings.gateway_id, operational_log=settings.operational_log)
        monitor.watch_limits((client_limits, peer_limits))
        # Started last of the exchange's parts: it waits for the next whole second, from which
        # requests are accepted (ZB-STD-004 §5.8).
        self.replays = ReplayMemory(self.engine, max_skew=settings.max_clock_skew)
        await self.replays.start()
        self.exchange = Exchange(
            settings,
            identity,
            trust,
            registry,
            self.message_log,
            monitor,
            self.replays,
            self.accreditations,
        )
        await self.exchange.start()
        self.messaging = Messaging(
            settings, registry, self.exchange.client_side, self.exchange.server_side, self.engine
        )
        monitor.registry.register(self.messaging.collector())

        client_app = web.Application(client_max_size=settings.max_body_bytes)
        client_app.router.add_get("/health", self._health)
        client_app.router.add_get("/ready", self._ready)
        client_app.router.add_get("/metrics", monitor.metrics)
        client_app.router.add_get("/listClients", self._list_clients)
        client_app.add_routes(MessagesApi(self.messaging, self.exchange.client_side).routes())
        client_app.router.add_route(
            "*", ANY_PATH, client_limits.releasing(self.exchange.client_side.client_handler)
        )
        client_app[LISTENER] = client_limits
        peer_app = web.Application(client_max_size=settings.max_body_bytes)
        peer_app.router.add_route(
            "*",
            "/messages/v1/{tail:[\\s\\S]*}",
            peer_limits.releasing(self.messaging.receiver.handler),
        )
        peer_app.router.add_route(
            "*", ANY_PATH, peer_limits.releasing(self.exchange.server_side.peer_handler)
        )
        peer_app[LISTENER] = peer_limits
        client_tls = identity.information_system_tls_context() if settings.client_tls else None
        if client_tls is not None:
            loaded: set[str] = set()
            trust_client_certificates(client_tls, registry.client_certificates(), loaded)
            registry.on_reload.append(
                lambda snapshot: trust_client_certificates(
                    client_tls, registry.client_certificates(), loaded
                )
            )
        peer_tls = identity.server_tls_context()
        for app, limits, host, port, tls in (
            (client_app, client_limits, settings.client_host, settings.client_port, client_tls),
            (peer_app, peer_limits, settings.peer_host, settings.peer_port, peer_tls),
        ):
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            # The site applies the header timeout and the connection cap (gateway/limits.py).
            await limits.site(runner, host, port, ssl_context=tls, backlog=1024).start()
            self.runners.append(runner)
        await self.messaging.start()

        publisher = CataloguePublisher(
            settings.central_url, lambda member: _signing_pair(identity, member)
        )
        admin = create_management_app(sessions, settings, publisher)
        self.admin_server = EmbeddedServer(
            uvicorn.Config(
                admin, host=settings.admin_host, port=settings.admin_port, log_level="warning"
            )
        )
        self.tasks.append(asyncio.create_task(self.admin_server.serve(), name="admin"))
        self.tasks.append(asyncio.create_task(self._refresh_conf(), name="global-conf"))

        def reload_certificates() -> None:
            identity.reload_certificates(settings.data_dir)
            assert self.exchange is not None
            self.exchange.reload_tls()

        self.tasks.append(
            asyncio.create_task(
                enrolment.renewal_loop(
                    settings.data_dir,
                    settings.central_url,
                    settings.renewal_check_seconds,
                    [reload_certificates],
                ),
                name="renewal",
            )
        )
        log.info(
            "gateway %s: information systems on %s:%s, peers on %s:%s (TLS), admin on %s:%s",
            settings.gateway_id,
            settings.client_host,
            settings.client_port,
            settings.peer_host,
            settings.peer_port,
            settings.admin_host,
            settings.admin_port,
        )

    async def stop(self) -> None:
        if self.admin_server is not None:
            self.admin_server.should_exit = True
        for task in self.tasks:
            if task.get_name() != "admin":
                task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.messaging is not None:
            await self.messaging.stop()
        for runner in self.runners:
            await runner.cleanup()
        if self.exchange is not None:
            await self.exchange.stop()
        if self.replays is not None:
            await self.replays.stop()
        if self.message_log is not None:
            await self.message_log.stop()
        if self.conf_client is not None:
            await self.conf_client.aclose()
        if self.accreditations is not None:
            await self.accreditations.client.aclose()
        if self.engine is not None:
            await self.engine.dispose()

    async def _refresh_conf(self) -> None:
        assert self.conf_client is not None
        peers = _peer_trust(self.conf_client.current)
        while True:
            await asyncio.sleep(self.settings.conf_refresh_seconds)
            try:
                conf = await self.conf_client.refresh()
            except GlobalConfError as error:
                log.warning("global configuration refresh failed: %s", error.detail)
                continue
            if self.accreditations is not None:
                # A newer trust list named: fetched now, so a change reaches the check within
                # one configuration refresh (ZB-STD-007 §8.2, ZB-STD-003 §10 item 7).
                await self.accreditations.follow(conf)
            if self.exchange is not None:
                # Signing keys of newly hosted members (`zistboom gateway member add`).
                self.exchange.identity.reload_certificates(self.settings.data_dir)
            if _peer_trust(conf) != peers and self.exchange is not None:
                # Certificates may have been revoked or replaced: pinned peer connections start
                # afresh. Other changes (a member, a group, a new trust list) leave them be.
                peers = _peer_trust(conf)
                self.exchange.reload_tls()

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "gateway": self.settings.gateway_id})

    async def _ready(self, _request: web.Request) -> web.Response:
        problems: list[str] = []
        assert self.conf_client is not None
        assert self.message_log is not None
        try:
            conf = self.conf_client.current
        except GlobalConfError as error:
            problems.append(f"global configuration: {error.detail}")
            conf = None
        if not self.message_log.timestamping_ok():
            problems.append("message log: not timestamped within the grace period")
        body: dict[str, object] = {
            "status": "ready" if not problems else "not ready",
            "global_conf_version": conf.version if conf else None,
            "trust_list_sequence": self.accreditations.sequence if self.accreditations else None,
            "problems": problems,
        }
        return web.json_response(body, status=200 if not problems else 503)

    async def _list_clients(self, request: web.Request) -> web.Response:
        """``GET /listClients``, answered locally from the global configuration."""
        assert self.conf_client is not None
        try:
            conf = self.conf_client.current
            status, headers, body = metaservices.answer_list_clients(
                conf, query=request.query, accept=request.headers.get("accept", "")
            )
        except GlobalConfError as error:
            return proxy_error(xr.OutdatedGlobalConf(error.detail), None)
        except xr.ExchangeError as error:
            return proxy_error(error, None)
        return web.Response(status=status, body=body, headers=headers)


def _signing_pair(
    identity: GatewayIdentity, member_id: str
) -> tuple[keys.PrivateKey, cx509.Certificate]:
    signer = identity.signer(member_id)
    return signer.key, signer.certificate


async def serve(settings: GatewaySettings) -> None:
    """Run the gateway until SIGINT or SIGTERM."""
    gateway = Gateway(settings)
    await gateway.start()
    # Long-lived objects made at start-up leave the cyclic collector's view, and collections
    # run less often: the message path allocates many short-lived objects (measured: +17 %
    # throughput, p99 at saturation 218 → 148 ms, bench/README.md).
    garbage_collector.collect()
    garbage_collector.freeze()
    garbage_collector.set_threshold(50_000, 50, 100)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await gateway.stop()


def data_dir_settings(data_dir: Path) -> GatewaySettings:
    return GatewaySettings.load(data_dir)
