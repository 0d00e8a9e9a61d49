"""The registry service's ASGI application, made by a factory from its settings. On start it
creates its data directory, its database (migrated), its admin token and the secret its gateway
sends (both 0600 files)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zistboom import __version__
from zistboom.core.database import begin_immediately, create_engine, migrate, session_factory
from zistboom.core.problems import install_problem_handlers
from zistboom.core.tokens import ensure_token_file
from zistboom.registries import api, database_api, management_api, service
from zistboom.registries.group_commit import GroupCommit
from zistboom.registries.publishing import gateway_secret
from zistboom.registries.settings import RegistrySettings

log = logging.getLogger("zistboom.registries")
MIGRATIONS = "zistboom.registries:migrations"
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 (a file name)


@dataclass(slots=True)
class Opened:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


async def open_database(settings: RegistrySettings) -> Opened:
    """The registry's database, migrated to the newest revision."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url("registry"))
    begin_immediately(engine)
    await migrate(engine, MIGRATIONS)
    return Opened(engine, session_factory(engine))


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = await open_database(settings)
        reads = GroupCommit(opened.sessions)
        reads.start()
        app.state.registry = api.RegistryState(
            settings=settings,
            sessions=opened.sessions,
            schemas=service.Schemas(),
            gateway_secret=gateway_secret(settings),
            admin_token=ensure_token_file(settings.data_dir / ADMIN_TOKEN_FILE, field="admin"),
            reads=reads,
        )
        log.info("registry service ready at %s", settings.base_url)
        try:
            yield
        finally:
            await reads.stop()
            await opened.engine.dispose()

    app = FastAPI(
        title="Zistboom registry service",
        version=__version__,
        summary=(
            "Schema-driven base registries: the GovStack Digital Registries Data and Database "
            "APIs behind the agency's gateway, the personal-data-usage log, and management"
        ),
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(api.data)
    app.include_router(database_api.database)
    app.include_router(management_api.management)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
