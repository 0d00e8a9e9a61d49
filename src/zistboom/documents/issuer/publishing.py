"""How the issuer appears on the exchange: one service of its subsystem, ``credentials``
(``POST /issue``, ``POST /status``), its backend this service's ``/credentials``, its endpoints
from the app's own OpenAPI, registered (or updated) on the agency's gateway through the
gateway's management API with the backend secret. Who may call it stays the gateway operator's
to grant (the agency's own systems, the window's subsystem where the agency lets it)."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from zistboom.core import backend
from zistboom.documents.issuer.api import PREFIX, SERVICE
from zistboom.documents.issuer.settings import IssuerSettings

TIMEOUT_SECONDS = 120.0
"""An issuance timestamps twice and renders and signs a PDF: more than the gateway's default."""


def service_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI with the service's paths as a client calls them (below the code)."""
    document = copy.deepcopy(app.openapi())
    document["paths"] = {
        path[len(PREFIX) :]: item
        for path, item in document["paths"].items()
        if path.startswith(PREFIX + "/")
    }
    document["info"]["title"] = "Zistboom issuer: credentials"
    return document


async def register_service(
    settings: IssuerSettings, app: FastAPI, *, admin_url: str, admin_token_file: str
) -> None:
    """Register (or update) the ``credentials`` service on the agency's gateway."""
    gateway = backend.Gateway(
        admin_url=admin_url, admin_token_file=admin_token_file, subsystem=settings.client_id
    )
    async with gateway:
        await gateway.ensure_client()
        await gateway.put_service(
            SERVICE,
            {
                "backend_url": f"http://{settings.host}:{settings.port}{PREFIX}",
                "description": "Issue documents and change their status (W3C VC API)",
                "openapi": service_openapi(app),
                # Agencies' systems issue for no one person; the registry a subject is pulled
                # from applies the personal-data rule to that read itself.
                "personal_data": False,
                "timeout": TIMEOUT_SECONDS,
                "backend_secret": backend.gateway_secret(settings.data_dir),
            },
        )
