"""How the hub appears on the exchange: three services of its subsystem (``documents``,
``lockers``, ``shared-documents``), each with a backend URL of its own (``/exchange/<service>``)
and the OpenAPI of its routes, registered (or updated) on the hub's gateway through the
gateway's management API with the backend secret. Access rights stay the gateway operator's to
grant: issuers to ``documents``, the single window (and businesses' systems) to ``lockers``,
recipients to ``shared-documents``."""

from __future__ import annotations

import copy
import logging
from typing import Any

from fastapi import FastAPI

from zistboom.core import backend
from zistboom.documents.hub.api import DOCUMENTS, LOCKERS, SHARED_DOCUMENTS, service_prefix
from zistboom.documents.hub.settings import HubSettings

log = logging.getLogger("zistboom.documents.hub.publishing")
SERVICES: dict[str, str] = {
    DOCUMENTS: "Issuers deposit documents and publish their status lists",
    LOCKERS: "Holders' lockers, shares and access events (the single window for a person)",
    SHARED_DOCUMENTS: "A share's recipient fetches the shared document",
}
# Registered without the gateway's personal-data rule (X-Road-UserId and X-Road-Purpose on
# every call): a business's own systems and a share's recipient call for no person, and who may
# act for whom is the hub's own rule (lockers.py), stricter than that one.


def service_openapi(app: FastAPI, service: str) -> dict[str, Any]:
    """The app's OpenAPI narrowed to one service, its paths as a client calls them."""
    document = copy.deepcopy(app.openapi())
    prefix = service_prefix(service)
    document["paths"] = {
        path[len(prefix) :]: item
        for path, item in document["paths"].items()
        if path.startswith(prefix + "/")
    }
    document["info"]["title"] = f"Zistboom documents hub: {service}"
    return document


async def register_services(settings: HubSettings, app: FastAPI) -> bool:
    """Register the three services on the hub's gateway; skipped (``False``) without gateway
    settings, so the hub serves its public API while nothing reaches its exchange services."""
    if not settings.gateway_admin_url:
        log.warning("no gateway configured: the hub's exchange services are not registered")
        return False
    secret = backend.gateway_secret(settings.data_dir)
    gateway = backend.Gateway(
        admin_url=settings.gateway_admin_url,
        admin_token_file=settings.gateway_admin_token_file,
        subsystem=settings.subsystem_id,
    )
    async with gateway:
        await gateway.ensure_client()
        for code, description in SERVICES.items():
            await gateway.put_service(
                code,
                {
                    "backend_url": settings.base_url + service_prefix(code),
                    "description": description,
                    "ecosystem": "national",
                    "service_kind": f"documents-hub-{code}",
                    "openapi": service_openapi(app, code),
                    "personal_data": False,
                    "backend_secret": secret,
                },
            )
    return True
