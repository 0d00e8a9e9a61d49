"""What the window's routes share while it runs (made in ``app.py``'s lifespan), and how a
route finds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.errors import ConfigurationError
from zistboom.window.catalogue.central_catalogue import CentralCatalogue
from zistboom.window.catalogue.search import CatalogueSearch
from zistboom.window.pages import WindowPages
from zistboom.window.settings import WindowSettings
from zistboom.window.signin import OpenIdClient

Clock = Callable[[], datetime]


@dataclass(slots=True)
class WindowState:
    settings: WindowSettings
    sessions: async_sessionmaker[AsyncSession]
    pages: WindowPages
    admin_token: str
    """The window operator's bearer token for the management API (DATA_DIR/admin-token)."""
    clock: Clock
    central: httpx.AsyncClient
    """Central's public API (its catalogue), ``base_url`` central's URL."""
    exchange: httpx.AsyncClient
    """The client interface of the operator's gateway: every call to registries, the documents
    hub and agencies goes through it."""
    oidc_client: OpenIdClient | None
    """None when no identity provider is configured (the catalogue still serves)."""
    central_catalogue: CentralCatalogue
    """Central's catalogue, read through ``central`` and kept a short while."""
    catalogue_search: CatalogueSearch
    """The catalogue's search index, rebuilt when the definitions change."""

    @property
    def oidc(self) -> OpenIdClient:
        """The identity provider's client; a sign-in without one is a configuration error."""
        if self.oidc_client is None:
            raise ConfigurationError(
                "the window signs people in through OpenID Connect: set ZB_OIDC_ISSUER and "
                "ZB_OIDC_CLIENT_SECRET_FILE (zistboom window init --oidc-issuer …)"
            )
        return self.oidc_client


def state_of(request: Request) -> WindowState:
    state: WindowState = request.app.state.window
    return state
