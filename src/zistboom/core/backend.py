"""A service behind its organisation's gateway (ZB-STD-006 §3.2, ZB-STD-004 §7.5): what every
such backend shares, whatever it serves (the registry service, the documents hub, the issuer).

- the backend secret its gateway sends with every call (``DATA_DIR/gateway-secret``, created
  on first use, 0600), with :func:`gateway_secret`;
- the refusal of a call that does not come from the gateway (the caller's address among the
  gateway's hosts **and** ``X-Zistboom-Gateway-Secret`` equal to that secret), as a FastAPI
  dependency made by :func:`through_gateway`, so its OpenAPI document names the scheme;
- :class:`Gateway`, the client of the gateway's management API (loopback, admin token), with
  which a backend registers its services on the gateway itself (never hand-edited files).

The X-Road headers a backend then reads are believed only because of these two checks: there
is no mutual TLS between a gateway and its backends yet.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from zistboom.core import exchange as xr
from zistboom.core.accreditation import Requirement
from zistboom.core.errors import ConfigurationError, PermissionDeniedError, ZistboomError
from zistboom.core.tokens import ensure_token_file

__all__ = [
    "SECRET_FILE",
    "SECRET_HEADER",
    "BehindGateway",
    "Gateway",
    "GatewayRefused",
    "gateway_secret",
    "through_gateway",
]

log = logging.getLogger("zistboom.backend")
SECRET_FILE = "gateway-secret"  # noqa: S105 (a file name)
SECRET_HEADER = "X-Zistboom-Gateway-Secret"  # noqa: S105 (a header name)
SECRET = re.compile(r"[!-~]{32,256}")


class GatewayRefused(ZistboomError):
    """The organisation's gateway refused to register one of the backend's services."""

    status = 502
    code = "gateway-refused"
    title = "The gateway refused the registration"


def gateway_secret(data_dir: Path) -> str:
    """The secret the gateway sends with every call (created on first use, 0600)."""
    path = data_dir / SECRET_FILE
    # The gateway takes 32 to 256 visible characters (ZB-STD-004 §7.5).
    secret = ensure_token_file(path, field="gateway_secret", minimum=32)
    if not SECRET.fullmatch(secret):
        raise ConfigurationError(
            f"{path} must hold 32 to 256 visible ASCII characters (what the gateway accepts); "
            "delete it to get a new one",
            field="gateway_secret",
        )
    return secret


@dataclass(frozen=True, slots=True)
class BehindGateway:
    """Who may call a backend: its gateway, from one of ``hosts``, sending ``secret``."""

    hosts: Collection[str]
    secret: str

    def check(self, host: str, presented: str | None, *, refusal: str) -> None:
        """:class:`PermissionDeniedError` (``refusal``) unless both hold."""
        if host not in self.hosts or not hmac.compare_digest(
            (presented or "").encode(), self.secret.encode()
        ):
            raise PermissionDeniedError(refusal, field=xr.GATEWAY_SECRET)


def through_gateway(
    behind: Callable[[Request], BehindGateway], *, refusal: str, who: str
) -> Callable[..., None]:
    """A dependency refusing, before anything else of it is read, a call that does not come
    from the gateway; ``behind`` finds the backend's :class:`BehindGateway` in the request's
    app, ``who`` names the gateway in the OpenAPI description ("the agency's gateway")."""
    # Declared as a security scheme, so the document says which routes need it; the refusal
    # (403 with problem details) stays the dependency's.
    scheme = APIKeyHeader(
        name=SECRET_HEADER,
        scheme_name="GatewaySecret",
        auto_error=False,
        description=(
            f"the secret {who} sends with every call (DATA_DIR/{SECRET_FILE}); calls from "
            "anywhere else are refused"
        ),
    )

    # The default, not ``Annotated``: a postponed annotation naming the local ``scheme`` could
    # not be resolved by FastAPI.
    def dependency(request: Request, presented: str | None = Depends(scheme)) -> None:
        host = request.client.host if request.client else ""
        behind(request).check(host, presented, refusal=refusal)

    return dependency


class Gateway:
    """A gateway's management API, on loopback, with its admin token, acting on one of its
    clients' subsystems (``subsystem``, ``INSTANCE/CLASS/CODE/SUBSYSTEM``)."""

    def __init__(self, *, admin_url: str, admin_token_file: str, subsystem: str) -> None:
        if not admin_url or not admin_token_file:
            raise ConfigurationError(
                "registering services needs ZB_GATEWAY_ADMIN_URL and ZB_GATEWAY_ADMIN_TOKEN_FILE "
                "(the gateway's management API and its admin-token file)",
                field="gateway_admin_url",
            )
        token = Path(admin_token_file).read_text().strip()
        self.client = httpx.AsyncClient(
            base_url=admin_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        self.subsystem = subsystem

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
