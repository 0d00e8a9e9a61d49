"""Publishing the gateway's services to central's catalogue.

A publication is a compact JWS signed by the provider member's signing key, its certificate in
the protected header (``x5c``), so central can check who published what without an API key and
anyone can check the stored publication again later.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import httpx
import orjson
from cryptography import x509 as cx509

from zistboom.core.crypto import jws, x509
from zistboom.core.crypto.keys import PrivateKey
from zistboom.core.database import utc_now
from zistboom.core.errors import (
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    ZistboomError,
)
from zistboom.gateway.service import ServiceEntry
from zistboom.gateway.settings import GatewaySettings
from zistboom.gateway.trust import GatewayIdentity

PUBLISH_PATH = "/api/v1/catalogue/services"
JOSE = "application/jose"

SignKeyFor = Callable[[str], tuple[PrivateKey, cx509.Certificate]]
"""The signing key and certificate of a hosted member, by member id ``INSTANCE/CLASS/CODE``."""


class CentralUnavailableError(ZistboomError):
    """Central could not be reached, or failed, while the gateway was publishing."""

    status: ClassVar[int] = 502
    code: ClassVar[str] = "central-unavailable"
    title: ClassVar[str] = "Central unavailable"


def publication(entry: ServiceEntry, *, issued_at: float) -> dict[str, Any]:
    """What the catalogue is told about a service."""
    service = entry.service
    return {
        "service_id": entry.service_id,
        "description": service.description,
        "ecosystem": service.ecosystem,
        "service_kind": service.service_kind,
        "personal_data": service.personal_data,
        "openapi": service.openapi,
        "endpoints": [
            {
                "method": e.method,
                "path": e.path,
                "operation_id": e.operation_id,
                "summary": e.summary,
            }
            for e in entry.endpoints
        ],
        "iat": int(issued_at),
    }


class CataloguePublisher:
    """Signs service descriptions with the provider member's key and sends them to central."""

    def __init__(
        self,
        central_url: str,
        sign_key_for: SignKeyFor,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not central_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"central_url {central_url!r} must be an http(s) URL", field="central_url"
            )
        self.central_url = central_url.rstrip("/")
        self._sign_key_for = sign_key_for
        self._timeout = timeout
        self._transport = transport

    def statement(self, entry: ServiceEntry, *, issued_at: float | None = None) -> str:
        """The signed publication of ``entry`` (compact JWS)."""
        member_id = entry.subsystem_id.rsplit("/", 1)[0]
        key, certificate = self._sign_key_for(member_id)
        payload = publication(entry, issued_at=time.time() if issued_at is None else issued_at)
        chain = [base64.b64encode(x509.certificate_der(certificate)).decode("ascii")]
        return jws.sign_jws(orjson.dumps(payload), key, headers={"x5c": chain})

    async def publish(self, service_entry: ServiceEntry) -> None:
        """Publish one service; on success its ``published_at`` is set (the caller's session
        persists it). Central's refusals come back as our own errors, with central's words."""
        token = self.statement(service_entry)
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, transport=self._transport
            ) as client:
                response = await client.post(
                    self.central_url + PUBLISH_PATH,
                    content=token.encode("ascii"),
                    headers={"Content-Type": JOSE},
                )
        except httpx.HTTPError as error:
            raise CentralUnavailableError(
                f"central at {self.central_url} cannot be reached: {error}"
            ) from error
        if response.status_code >= 400:
            raise _refusal(response)
        service_entry.service.published_at = utc_now()


def signing_keys(data_dir: Path, gateway_id: str) -> SignKeyFor:
    """The hosted members' signing keys as the gateway keeps them in its data directory."""
    identity = GatewayIdentity.load(data_dir, gateway_id)

    def sign_key_for(member_id: str) -> tuple[PrivateKey, cx509.Certificate]:
        signer = identity.signers.get(member_id)
        if signer is None:
            raise ConfigurationError(
                f"this gateway holds no signing certificate for {member_id}; enrol one first",
                field="subsystem_id",
            )
        return signer.key, signer.certificate

    return sign_key_for


def publisher_for(settings: GatewaySettings) -> CataloguePublisher:
    """A publisher to the central and with the signing keys the gateway's settings name."""
    if not settings.central_url:
        raise ConfigurationError(
            "this gateway has no central_url; run 'zistboom gateway init' first",
            field="central_url",
        )
    return CataloguePublisher(
        settings.central_url, signing_keys(settings.data_dir, settings.gateway_id)
    )


def _refusal(response: httpx.Response) -> ZistboomError:
    """Central's problem details as the matching error here."""
    detail = f"central answered HTTP {response.status_code}"
    field: str | None = None
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict):
        detail = f"central refused the publication: {problem.get('detail') or detail}"
        errors = problem.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            field = str(errors[0].get("field")) if errors[0].get("field") else None
    status = response.status_code
    if status in (401, 403):
        return PermissionDeniedError(detail, field=field)
    if status == 404:
        return NotFoundError(detail, field=field)
    if 400 <= status < 500:
        return ValidationError(detail, field=field)
    return CentralUnavailableError(detail, field=field)
