"""The documents hub's ASGI application, made by a factory from its settings. On start it opens
(and migrates) its database, loads its document-signing key and certificate, takes its copies
of the global configuration and trust list and keeps them refreshed, and reads its admin token
and gateway secret (0600 files, created on first use)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zistboom import __version__
from zistboom.core import backend
from zistboom.core.database import (
    begin_immediately,
    create_engine,
    migrate,
    session_factory,
    utc_now,
)
from zistboom.core.problems import install_problem_handlers
from zistboom.core.tokens import ensure_token_file
from zistboom.documents.hub import api, management_api, public_api, verify_api
from zistboom.documents.hub.identity import HubIdentity
from zistboom.documents.hub.pages import VerificationPage
from zistboom.documents.hub.service import Clock
from zistboom.documents.hub.settings import ADMIN_TOKEN_FILE, CSRF_SECRET_FILE, HubSettings
from zistboom.documents.hub.sources import Sources
from zistboom.documents.hub.state import HubState
from zistboom.web.csrf import CsrfProtection, load_or_create_secret
from zistboom.web.rendering import STATIC_URL, static_files

log = logging.getLogger("zistboom.documents.hub")
MIGRATIONS = "zistboom.documents.hub:migrations"


@dataclass(slots=True)
class Opened:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


async def open_database(settings: HubSettings) -> Opened:
    """The hub's database, migrated to the newest revision."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url("hub"))
    begin_immediately(engine)
    await migrate(engine, MIGRATIONS)
    return Opened(engine, session_factory(engine))


def create_app(settings: HubSettings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    """The hub; ``clock`` is the time its rules read (shares' periods, events), injectable."""
    settings = settings or HubSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        identity = HubIdentity.load(settings.data_dir, settings.member_id)
        opened = await open_database(settings)
        sources = Sources(settings.data_dir, refresh_seconds=settings.refresh_seconds)
        try:
            await sources.start()
            app.state.hub = HubState(
                settings=settings,
                sessions=opened.sessions,
                identity=identity,
                sources=sources,
                gateway=backend.BehindGateway(
                    tuple(settings.gateway_hosts), backend.gateway_secret(settings.data_dir)
                ),
                admin_token=ensure_token_file(settings.data_dir / ADMIN_TOKEN_FILE, field="admin"),
                clock=clock,
            )
            log.info("documents hub ready at %s", settings.base_url)
            yield
        finally:
            await sources.stop()
            await opened.engine.dispose()

    app = FastAPI(
        title="Zistboom documents hub",
        version=__version__,
        summary=(
            "Document types, the holders' lockers, the issuers' status lists, shares with "
            "signed consent and access events behind the hub's gateway; public verification"
        ),
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    for router in api.routers():
        app.include_router(router)
    app.include_router(public_api.public)
    app.include_router(verify_api.verify_routes)
    app.include_router(management_api.management)
    # The page's CSRF secret is read when the app is made: its routes are built with it.
    csrf = CsrfProtection(load_or_create_secret(settings.data_dir / CSRF_SECRET_FILE))
    page = VerificationPage(csrf)
    app.state.verification_page = page  # a pull link opened in a browser answers with it
    app.include_router(page.router())
    app.mount(STATIC_URL, static_files(), name="static")

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
