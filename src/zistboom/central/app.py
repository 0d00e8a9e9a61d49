"""Central's ASGI application, made by a factory from its settings.

On first start it creates the data directory, the keys, the database (migrated to the newest
revision), the programme's ecosystems and the first admin API key, which it prints once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zistboom import __version__
from zistboom.accreditation.ownership import OwnershipChecker
from zistboom.accreditation.ownership_api import router as ownership_router
from zistboom.central import operators, service
from zistboom.central.api import CentralState, api, public
from zistboom.central.ca import InstanceKeys, ensure_instance_keys
from zistboom.central.publisher import Publisher
from zistboom.central.settings import CentralSettings
from zistboom.core.database import create_engine, migrate, session_factory, transaction
from zistboom.core.problems import install_problem_handlers

log = logging.getLogger("zistboom.central")
MIGRATIONS = "zistboom.central:migrations"
ACCREDITATION_MIGRATIONS = "zistboom.accreditation:migrations"
ANCHOR_FILE = "anchor.json"


@dataclass(slots=True)
class Prepared:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keys: InstanceKeys
    first_admin_key: str | None


async def prepare(settings: CentralSettings, *, bootstrap_admin: bool = True) -> Prepared:
    """Create what a first start needs (idempotent): data directory, keys, schema, seed data."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    instance_keys = ensure_instance_keys(settings.data_dir, settings.instance)
    engine = create_engine(settings.resolved_database_url("central"))
    await migrate(engine, MIGRATIONS)
    await migrate(engine, ACCREDITATION_MIGRATIONS)
    sessions = session_factory(engine)
    first_admin_key = None
    async with transaction(sessions) as session:
        await service.seed_ecosystems(session)
        if bootstrap_admin and not await operators.has_any_key(session):
            _, first_admin_key = await operators.create_api_key(
                session, name="first admin", role="admin", member=None, actor=operators.SYSTEM
            )
    return Prepared(engine, sessions, instance_keys, first_admin_key)


def create_app(settings: CentralSettings | None = None) -> FastAPI:
    settings = settings or CentralSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepared = await prepare(settings)
        if prepared.first_admin_key:
            # Shown once, on the terminal only (never in the logs): central keeps just its hash.
            sys.stdout.write(
                f"First admin API key (shown once, keep it safe): {prepared.first_admin_key}\n"
            )
            sys.stdout.flush()
        publisher = Publisher(settings, prepared.keys, prepared.sessions)
        await publisher.refresh()
        # The anchor as served, for `zistboom central anchor` and for the operator to hand out.
        (settings.data_dir / ANCHOR_FILE).write_text(publisher.anchor.to_json())
        app.state.central = CentralState(
            settings, prepared.engine, prepared.sessions, prepared.keys, publisher
        )
        task = asyncio.create_task(publisher.run(), name="global-conf-refresh")
        app.state.ownership = OwnershipChecker.from_settings(settings, prepared.sessions)
        ownership_task = asyncio.create_task(app.state.ownership.run(), name="ownership-refresh")
        log.info("central for %s ready at %s", settings.instance, settings.base_url)
        try:
            yield
        finally:
            for running in (task, ownership_task):
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await running
            await app.state.ownership.close()
            await prepared.engine.dispose()

    app = FastAPI(
        title="Zistboom central",
        version=__version__,
        summary="Members, instance CA, timestamping and the signed global configuration",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(public)
    app.include_router(api)
    app.include_router(ownership_router)

    @app.middleware("http")
    async def reissue_after_change(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Every successful change re-issues the global configuration at once."""
        response = await call_next(request)
        if (
            request.method in ("POST", "PUT", "PATCH", "DELETE")
            and request.url.path.startswith("/api/")
            and response.status_code < 400
        ):
            await request.app.state.central.publisher.refresh()
        return response

    return app
