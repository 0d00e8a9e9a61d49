"""How a registry appears on the exchange (ZB-STD-006 §4): each registry is one service of the
agency's registry subsystem (service code = the registry's code, backend = this service's
``/data/<code>``, endpoints from the generated OpenAPI of every published version, kind
``base-registry``), beside two services of the registry service itself:
``personal-data-usage`` and ``registry-database``. Publishing registers or updates them through
the gateway's management API (never hand-edited files), with the backend secret, and publishes
them to central's catalogue. Access rights stay the gateway operator's to grant."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.accreditation import Requirement
from zistboom.core.database import transaction
from zistboom.core.errors import ConfigurationError, NotFoundError, ZistboomError
from zistboom.core.tokens import ensure_token_file
from zistboom.registries import repository, service
from zistboom.registries.openapi import data_api_openapi, database_api_openapi, usage_api_openapi
from zistboom.registries.settings import RegistrySettings

log = logging.getLogger("zistboom.registries.publishing")
USAGE_SERVICE = "personal-data-usage"
DATABASE_SERVICE = "registry-database"
BASE_REGISTRY = "base-registry"
SECRET_FILE = "gateway-secret"  # noqa: S105 (a file name)
SECRET = re.compile(r"[!-~]{32,256}")


class GatewayRefused(ZistboomError):
    """The agency's gateway refused to register a registry's service."""

    status = 502
    code = "gateway-refused"
    title = "The gateway refused the registration"


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
    # The gateway takes 32 to 256 visible characters (ZB-STD-004 §7.5).
    secret = ensure_token_file(settings.data_dir / SECRET_FILE, field="gateway_secret", minimum=32)
    if not SECRET.fullmatch(secret):
        raise ConfigurationError(
            f"{settings.data_dir / SECRET_FILE} must hold 32 to 256 visible ASCII characters "
            "(what the gateway accepts); delete it to get a new one",
            field="gateway_secret",
        )
    return secret


class Gateway:
    """The agency gateway's management API, on loopback, with its admin token."""

    def __init__(self, settings: RegistrySettings) -> None:
        if not settings.gateway_admin_url or not settings.gateway_admin_token_file:
            raise ConfigurationError(
                "publishing needs ZB_GATEWAY_ADMIN_URL and ZB_GATEWAY_ADMIN_TOKEN_FILE "
                "(the agency gateway's management API and its admin-token file)",
                field="gateway_admin_url",
            )
        token = Path(settings.gateway_admin_token_file).read_text().strip()
        self.client = httpx.AsyncClient(
            base_url=settings.gateway_admin_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        self.subsystem = f"{settings.member_id}/{settings.subsystem}"

    async def __aenter__(self) -> Gateway:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.aclose()

    async def ensure_client(self) -> None:
        response = await self.client.get(f"/clients/{self.subsystem}")
        if response.status_code == 404:
            response = await self.client.post("/clients", json={"subsystem_id": self.subsystem})
        _check(response, f"the client {self.subsystem}")

    async def put_service(self, code: str, fields: dict[str, Any]) -> None:
        """Add the service, or update it to ``fields`` when it exists."""
        path = f"/services/{self.subsystem}/{code}"
        existing = await self.client.get(path)
        if existing.status_code == 404:
            response = await self.client.post(
                "/services", json={"subsystem_id": self.subsystem, "code": code, **fields}
            )
        else:
            _check(existing, f"service {code}")
            response = await self.client.patch(path, json=fields)
        _check(response, f"service {code}")

    async def publish_to_catalogue(self, code: str) -> bool:
        response = await self.client.post(f"/services/{self.subsystem}/{code}/publish")
        if response.status_code >= 400:
            log.warning("service %s not published to the catalogue: %s", code, response.text)
            return False
        return True

    async def grant(
        self,
        code: str,
        subsystem: str,
        method: str | None = None,
        path: str | None = None,
        *,
        requirement: Requirement | None = None,
    ) -> None:
        """An access right to the service (or one endpoint of it), held only while the client
        is accredited when ``requirement`` is given; one that exists is kept."""
        body: dict[str, Any] = {"subject_kind": "subsystem", "subject": subsystem}
        if method is not None and path is not None:
            body.update(method=method, path=path)
        if requirement is not None:
            body["accreditation"] = {
                "ecosystem": requirement.ecosystem,
                "kind": requirement.kind,
                "level": requirement.level,
            }
        response = await self.client.post(f"/services/{self.subsystem}/{code}/access", json=body)
        if response.status_code != 409:
            _check(response, f"the access right of {subsystem} to {code}")

    async def remove_service(self, code: str) -> None:
        response = await self.client.delete(f"/services/{self.subsystem}/{code}")
        if response.status_code not in (204, 404):
            _check(response, f"service {code}")


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise GatewayRefused(f"the gateway refused {what}: {response.status_code} {detail}")


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
    async with Gateway(settings) as gateway:
        await gateway.ensure_client()
        await gateway.put_service(
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
        await gateway.put_service(
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
        await gateway.put_service(
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
            await gateway.publish_to_catalogue(code)


async def withdraw(settings: RegistrySettings, code: str) -> None:
    if not settings.gateway_admin_url:
        return
    async with Gateway(settings) as gateway:
        await gateway.remove_service(code)
