"""The issuer service's ASGI application, made by a factory from its settings. On start it opens
its database (migrated), loads the document-signing key and certificate ``init`` stored, takes
the global configuration and the trust list (the copies on disk first), and starts the
background work (their refresh, the status lists' re-signing and publication)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import httpx
from fastapi import FastAPI

from zistboom import __version__
from zistboom.core import backend
from zistboom.core import globalconf as gc
from zistboom.core.problems import install_problem_handlers
from zistboom.documents.issuer import api
from zistboom.documents.issuer.database import open_database
from zistboom.documents.issuer.exchange import ExchangeClient
from zistboom.documents.issuer.hub import HubClient
from zistboom.documents.issuer.service import Issuer
from zistboom.documents.issuer.settings import IssuerSettings
from zistboom.documents.issuer.signing import DocumentSigner
from zistboom.documents.issuer.trust import TrustSources

log = logging.getLogger("zistboom.documents.issuer")


@contextlib.asynccontextmanager
async def issuer_parts(
    settings: IssuerSettings, trust: TrustSources, *, clock: Callable[[], datetime]
) -> AsyncIterator[Issuer]:
    """The issuer service's ``Issuer`` as ``serve`` runs it: the signing key and certificate
    ``init`` stored, its database (migrated), its exchange, hub and TSA clients, all closed on
    exit. ``trust`` is the caller's, started and closed by it."""
    signer = DocumentSigner.load(settings)
    opened = await open_database(settings)
    exchange = ExchangeClient(
        settings.gateway_url, settings.client_id, timeout=settings.exchange_timeout_seconds
    )
    hub = HubClient(
        exchange,
        hub_service=settings.hub_service,
        hub_url=settings.hub_url,
        cache_seconds=settings.type_cache_seconds,
    )
    tsa_http = httpx.AsyncClient(timeout=30, trust_env=False)
    try:
        yield Issuer(settings, opened.sessions, signer, trust, exchange, hub, tsa_http, clock=clock)
    finally:
        await tsa_http.aclose()
        await hub.close()
        await exchange.close()
        await opened.engine.dispose()


def create_app(
    settings: IssuerSettings | None = None, *, clock: Callable[[], datetime] = gc.utc_now
) -> FastAPI:
    settings = settings or IssuerSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anchor = gc.Anchor.from_json(settings.anchor_path.read_bytes())
        trust = TrustSources(anchor, settings.data_dir, clock=clock)
        await trust.start()
        try:
            async with issuer_parts(settings, trust, clock=clock) as issuer:
                app.state.issuer = issuer
                app.state.behind_gateway = backend.BehindGateway(
                    settings.gateway_hosts, backend.gateway_secret(settings.data_dir)
                )
                background = asyncio.create_task(issuer.run_background(), name="issuer-background")
                log.info(
                    "issuer of %s ready at %s:%s", settings.member_id, settings.host, settings.port
                )
                try:
                    yield
                finally:
                    background.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await background
        finally:
            await trust.close()

    app = FastAPI(
        title="Zistboom issuer service",
        version=__version__,
        summary=(
            "An agency's document issuance (W3C VC API issue and updateStatus) behind its "
            "gateway: VC-JWT, QR and PAdES-signed PDF, with Bitstring Status Lists"
        ),
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(api.credentials)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
