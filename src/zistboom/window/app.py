"""The window's ASGI application, made by a factory from its settings. On start it opens (and
migrates) its database, reads its operator token and secrets (0600 files, created on first use)
and opens its HTTP clients: central's public API, the gateway's client interface, the identity
provider; then it runs its workers (hand-overs to agencies, notices to people) until it stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from zistboom import __version__
from zistboom.core.database import transaction, utc_now
from zistboom.core.problems import install_problem_handlers
from zistboom.core.tokens import ensure_token_file
from zistboom.web.csrf import CsrfProtection, load_or_create_secret
from zistboom.web.i18n import request_locale
from zistboom.web.rendering import STATIC_URL, origin_of, static_files
from zistboom.window import identity_api, identity_pages, sessions
from zistboom.window.applications import api as application_api
from zistboom.window.applications import pages as application_pages
from zistboom.window.applications.handover import HandoverWorker
from zistboom.window.applications.notifying import NoticeWorker
from zistboom.window.catalogue import management_api as catalogue_api
from zistboom.window.catalogue import pages as catalogue_pages
from zistboom.window.catalogue.central_catalogue import CentralCatalogue
from zistboom.window.catalogue.search import CatalogueSearch
from zistboom.window.database import open_database
from zistboom.window.error_pages import install_error_pages
from zistboom.window.locker import pages as locker_pages
from zistboom.window.pages import WindowPages
from zistboom.window.settings import ADMIN_TOKEN_FILE, CSRF_SECRET_FILE, WindowSettings
from zistboom.window.signin import OpenIdClient
from zistboom.window.state import Clock, WindowState, state_of
from zistboom.window.tracker import pages as tracker_pages

log = logging.getLogger("zistboom.window")
CSRF_COOKIE = "zb_window_csrf"


def create_app(settings: WindowSettings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    """The window; ``clock`` is the time its rules read (sessions, grants), injectable."""
    settings = settings or WindowSettings()
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The forms' CSRF secret is read when the app is made: its routes are built with it. Its
    # cookie is the window's own: cookies are shared by every port of a host, and the identity
    # provider's forms on the same host (the demo) keep theirs.
    csrf = CsrfProtection(
        load_or_create_secret(settings.data_dir / CSRF_SECRET_FILE),
        cookie_name=CSRF_COOKIE,
        secure=settings.cookies_secure,
    )
    # Sign-out is a form whose answer continues at the identity provider.
    pages = WindowPages(
        csrf, form_origins=[origin_of(settings.oidc_issuer)] if settings.oidc_issuer else []
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = await open_database(settings.resolved_database_url("window"))
        central = httpx.AsyncClient(
            base_url=settings.central_url.rstrip("/"),
            timeout=settings.exchange_timeout_seconds,
            trust_env=False,
        )
        exchange = httpx.AsyncClient(
            base_url=settings.gateway_url.rstrip("/"),
            timeout=settings.exchange_timeout_seconds,
            trust_env=False,
        )
        oidc = (
            OpenIdClient.from_secret_file(
                settings.oidc_client_secret_file,
                issuer=settings.oidc_issuer,
                client_id=settings.oidc_client_id,
                redirect_uri=settings.base_url + "/signin/callback",
                scopes=settings.oidc_scopes,
                timeout=settings.exchange_timeout_seconds,
            )
            if settings.oidc_issuer
            else None
        )
        try:
            app.state.window = WindowState(
                settings=settings,
                sessions=opened.sessions,
                pages=pages,
                admin_token=ensure_token_file(settings.data_dir / ADMIN_TOKEN_FILE, field="admin"),
                clock=clock,
                central=central,
                exchange=exchange,
                oidc_client=oidc,
                central_catalogue=CentralCatalogue(central, clock),
                catalogue_search=CatalogueSearch(),
            )
            workers = [
                asyncio.create_task(
                    HandoverWorker(settings, opened.sessions, exchange, clock).run(),
                    name="window-handover",
                ),
                asyncio.create_task(
                    NoticeWorker(settings, opened.sessions, clock).run(), name="window-notices"
                ),
            ]
            log.info("window ready at %s", settings.base_url)
            try:
                yield
            finally:
                for worker in workers:
                    worker.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
        finally:
            await central.aclose()
            await exchange.aclose()
            if oidc is not None:
                await oidc.close()
            await opened.engine.dispose()

    app = FastAPI(
        title="Zistboom single service window",
        version=__version__,
        summary=(
            "The single service window: sign-in through OpenID Connect, people and officials, "
            "and one catalogue of every service of every agency and ecosystem"
        ),
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    install_error_pages(app, pages)
    app.mount(STATIC_URL, static_files(), name="static")
    app.include_router(identity_pages.router(csrf))
    app.include_router(identity_api.management)

    @app.middleware("http")
    async def signed_in_viewer(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Every page knows who is signed in (``request.state.viewer``); a session that is over
        loses its cookie."""
        request.state.viewer = None
        cookie = request.cookies.get(sessions.SESSION_COOKIE)
        if cookie is None or request.url.path.startswith((STATIC_URL + "/", "/health")):
            return await call_next(request)
        state = state_of(request)
        async with transaction(state.sessions) as session:
            request.state.viewer = await sessions.viewer_of(
                session, cookie, now=state.clock(), settings=state.settings,
                locale=request_locale(request).code,
            )  # fmt: skip
        response = await call_next(request)
        if request.state.viewer is None:
            response.delete_cookie(sessions.SESSION_COOKIE, path="/")
        return response

    app.include_router(catalogue_api.api)
    app.include_router(catalogue_pages.pages)
    app.include_router(tracker_pages.pages)
    app.include_router(locker_pages.router(csrf))
    app.include_router(application_pages.router(csrf))
    app.include_router(application_api.api)

    @app.get("/", response_class=HTMLResponse, tags=["pages"])
    async def home(request: Request) -> HTMLResponse:
        """The window's front page: what it is, and the catalogue's search."""
        return state_of(request).pages.page(request, "home.html")

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
