"""Central's ASGI application, made by a factory from its settings.

On first start it creates the data directory, the keys, the database (migrated to the newest
revision), the programme's ecosystems and the first admin API key, which it prints once. It
serves the trust list and the trust-registry queries (``zistboom.accreditation``) beside its own
API, and re-issues the trust list and then the global configuration after every change.
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
from zistboom.accreditation import publication, trqp
from zistboom.accreditation.api import router as accreditation_api
from zistboom.accreditation.listing import build_trust_list_content
from zistboom.accreditation.ownership import OwnershipChecker
from zistboom.accreditation.ownership_api import router as ownership_router
from zistboom.accreditation.publication import TrustListBuilder, TrustListPublisher
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
ACCREDITATION_API = "/api/v1/accreditation"


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


# Ecosystem operators and their shareholding are not in the trust list: a change to them
# re-issues only the global configuration, not a list with a new sequence for every gateway.
NOT_LISTED = (f"{ACCREDITATION_API}/operators", f"{ACCREDITATION_API}/findings")


def _changes_accreditation(path: str) -> bool:
    if any(path == prefix or path.startswith(prefix + "/") for prefix in NOT_LISTED):
        return False
    return path == ACCREDITATION_API or path.startswith(ACCREDITATION_API + "/")


def create_app(
    settings: CentralSettings | None = None,
    *,
    trust_list_builder: TrustListBuilder = build_trust_list_content,
) -> FastAPI:
    """Central, whose trust list ``trust_list_builder`` makes from the accreditation tables."""
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
        trust_lists = TrustListPublisher(
            settings, prepared.keys.trust_list_key, prepared.sessions, trust_list_builder
        )
        await trust_lists.refresh()
        publisher = Publisher(
            settings,
            prepared.keys,
            prepared.sessions,
            trust_list=trust_lists.pointer,
            on_issue=lambda conf: trust_lists.named(conf.trust_list),
        )
        await publisher.refresh()
        # The anchor as served, for `zistboom central anchor` and for the operator to hand out.
        (settings.data_dir / ANCHOR_FILE).write_text(publisher.anchor.to_json())
        app.state.trust_lists = trust_lists
        app.state.central = CentralState(
            settings,
            prepared.engine,
            prepared.sessions,
            prepared.keys,
            publisher,
            trust_index=lambda: trust_lists.index,
        )
        app.state.ownership = OwnershipChecker.from_settings(settings, prepared.sessions)
        tasks = [
            asyncio.create_task(publisher.run(), name="global-conf-refresh"),
            asyncio.create_task(trust_lists.run(then=publisher.refresh), name="trust-list-refresh"),
            asyncio.create_task(app.state.ownership.run(), name="ownership-refresh"),
        ]
        log.info("central for %s ready at %s", settings.instance, settings.base_url)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
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
    app.include_router(publication.router)
    app.include_router(trqp.router)
    app.include_router(api)
    app.include_router(accreditation_api)
    app.include_router(ownership_router)

    @app.middleware("http")
    async def reissue_after_change(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Every successful change re-issues the global configuration at once; a change of the
        accreditations re-issues the trust list first, so that the configuration names it."""
        response = await call_next(request)
        path = request.url.path
        if (
            request.method in ("POST", "PUT", "PATCH", "DELETE")
            and path.startswith("/api/")
            and response.status_code < 400
        ):
            if _changes_accreditation(path):
                await request.app.state.trust_lists.refresh()
            await request.app.state.central.publisher.refresh()
        return response

    return app
