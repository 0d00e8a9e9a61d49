"""How a registry appears on the exchange (ZB-STD-006 §4): each registry is one service of the
agency's registry subsystem (service code = the registry's code, backend = this service's
``/data/<code>``, endpoints from the generated OpenAPI of every published version, kind
``base-registry``), beside two services of the registry service itself:
``personal-data-usage`` and ``registry-database``. Publishing registers or updates them through
the gateway's management API (``core/backend.py``'s client; never hand-edited files), with the
backend secret, and publishes them to central's catalogue. Access rights stay the gateway
operator's to grant."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core import backend
from zistboom.core.database import transaction
from zistboom.core.errors import NotFoundError
from zistboom.registries import repository, service
from zistboom.registries.openapi import data_api_openapi, database_api_openapi, usage_api_openapi
from zistboom.registries.settings import RegistrySettings

log = logging.getLogger("zistboom.registries.publishing")
USAGE_SERVICE = "personal-data-usage"
DATABASE_SERVICE = "registry-database"
BASE_REGISTRY = "base-registry"
SECRET_FILE = backend.SECRET_FILE


async def registry_openapi(
    session: AsyncSession, schemas: service.Schemas, code: str
) -> dict[str, Any]:
    registry = await service.get_registry(session, code)
    versions = [
        (v.version, schemas.of(v))
        for v in await repository.versions_of(session, registry)
        if v.published_at is not None
    ]
    if not versions:
        raise NotFoundError(
            f"registry {code!r} has no published version, so no Data API yet: publish it first",
            field="code",
        )
    return data_api_openapi(
        code=registry.code,
        title_en=registry.name_en,
        title_fa=registry.name_fa,
        description_en=registry.description_en,
        versions=versions,
    )


def gateway_secret(settings: RegistrySettings) -> str:
    """The secret the gateway sends with every call (created on first use, 0600)."""
    return backend.gateway_secret(settings.data_dir)


def gateway(settings: RegistrySettings) -> backend.Gateway:
    """The agency gateway's management API, acting on the registry subsystem."""
    return backend.Gateway(
        admin_url=settings.gateway_admin_url,
        admin_token_file=settings.gateway_admin_token_file,
        subsystem=f"{settings.member_id}/{settings.subsystem}",
    )


async def publish(
    settings: RegistrySettings,
    sessions: async_sessionmaker[AsyncSession],
    schemas: service.Schemas,
    code: str,
    *,
    catalogue: bool = True,
) -> None:
    """Register (or update) the registry's service and the two services of the registry
    service on the gateway. Without gateway settings this is skipped with a warning: the
    registry serves, but nothing reaches it until an operator registers it."""
    if not settings.gateway_admin_url:
        log.warning("registry %s published locally; no gateway configured to register it", code)
        return
    async with transaction(sessions) as session:
        registry = await service.get_registry(session, code)
        document = await registry_openapi(session, schemas, code)
        personal = any(
            schemas.of(v).has_personal
            for v in await repository.versions_of(session, registry)
            if v.published_at is not None
        )
    base, secret = settings.base_url, gateway_secret(settings)
    ecosystem = registry.ecosystem
    async with gateway(settings) as agency_gateway:
        await agency_gateway.ensure_client()
        await agency_gateway.put_service(
            code,
            {
                "backend_url": f"{base}/data/{code}",
                "description": f"{registry.name_en} — {registry.name_fa}",
                "ecosystem": ecosystem,
                "service_kind": BASE_REGISTRY,
                "openapi": document,
                "personal_data": personal,
                "backend_secret": secret,
            },
        )
        await agency_gateway.put_service(
            USAGE_SERVICE,
            {
                "backend_url": f"{base}/data/MyPersonalDataUsage",
                "description": "Who read a person's data in this agency's registries, and why",
                "ecosystem": "national",
                "service_kind": "personal-data-usage",
                "openapi": usage_api_openapi(),
                "personal_data": True,
                "backend_secret": secret,
            },
        )
        await agency_gateway.put_service(
            DATABASE_SERVICE,
            {
                "backend_url": f"{base}/database-api",
                "description": "The agency's own Database API (its own systems only)",
                "service_kind": "registry-database",
                "openapi": database_api_openapi(),
                "personal_data": False,
                "backend_secret": secret,
            },
        )
        if catalogue:
            await agency_gateway.publish_to_catalogue(code)


async def withdraw(settings: RegistrySettings, code: str) -> None:
    if not settings.gateway_admin_url:
        return
    async with gateway(settings) as agency_gateway:
        await agency_gateway.remove_service(code)
