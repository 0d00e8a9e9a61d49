"""The identity provider's ASGI application, made by a factory from its settings. On start it
opens (and migrates) its database and loads its signing key (created by ``init``)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zistboom import __version__
from zistboom.core.database import (
    begin_immediately,
    create_engine,
    migrate,
    session_factory,
    utc_now,
)
from zistboom.core.notify import SmsAdapter
from zistboom.core.problems import install_problem_handlers
from zistboom.idp import api
from zistboom.idp.errors import OAuthError
from zistboom.idp.keys import SigningKey
from zistboom.idp.notify import Notifier, sms_adapter
from zistboom.idp.pages import SignInPages, catalogue
from zistboom.idp.service import Clock
from zistboom.idp.settings import CSRF_SECRET_FILE, IdpSettings
from zistboom.idp.state import IdpState
from zistboom.web.csrf import CsrfProtection, load_or_create_secret
from zistboom.web.rendering import STATIC_URL, static_files

CSRF_COOKIE = "zb_idp_csrf"
log = logging.getLogger("zistboom.idp")
MIGRATIONS = "zistboom.idp:migrations"


@dataclass(slots=True)
class Opened:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


async def open_database(settings: IdpSettings) -> Opened:
    """The provider's database, migrated to the newest revision."""
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url("idp"))
    begin_immediately(engine)
    await migrate(engine, MIGRATIONS)
    return Opened(engine, session_factory(engine))


def _security_schemes(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            document.setdefault("components", {})["securitySchemes"] = {
                "client_secret_basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            }
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point


def create_app(
    settings: IdpSettings | None = None, *, clock: Clock = utc_now, sms: SmsAdapter | None = None
) -> FastAPI:
    """The provider; ``clock`` is the time its rules read, ``sms`` how it sends text messages
    (by default the adapter the settings name)."""
    settings = settings or IdpSettings()
    messages = catalogue()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        key = SigningKey.ensure(settings.signing_key_path)
        opened = await open_database(settings)
        try:
            app.state.idp = IdpState(
                settings=settings,
                sessions=opened.sessions,
                key=key,
                notifier=Notifier(settings, messages, sms or sms_adapter(settings)),
                clock=clock,
            )
            log.info("identity provider ready at %s", settings.issuer_url)
            yield
        finally:
            await opened.engine.dispose()

    app = FastAPI(
        title="Zistboom identity provider",
        version=__version__,
        summary=(
            "A small OpenID Connect provider for development and the demo: authorization code "
            "with PKCE, one-time codes by SMS or e-mail, ES256 ID tokens, RP-initiated logout"
        ),
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    _security_schemes(app)

    @app.exception_handler(OAuthError)
    async def _oauth_error(request: Request, error: OAuthError) -> JSONResponse:
        return api.oauth_error_response(error)

    app.include_router(api.router)
    # The forms' cookie is the provider's own: cookies are shared by every port of a host, and
    # a client's forms on the same host (the window in the demo) keep theirs.
    csrf = CsrfProtection(
        load_or_create_secret(settings.data_dir / CSRF_SECRET_FILE), cookie_name=CSRF_COOKIE
    )
    app.include_router(SignInPages(csrf, messages).router())
    app.mount(STATIC_URL, static_files(), name="static")

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
