"""The issuer as a backend of its gateway (ZB-STD-004 §6.3): the secret the gateway sends with
every call (``DATA_DIR/gateway-secret``, 0600, created once), and the caller the gateway vouches
for. A call from any other address, or without the secret, is refused before anything of it
is read; the same rule as ``registries/api.py``'s."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader
from pydantic.json_schema import SkipJsonSchema

from zistboom.core import exchange as xr
from zistboom.core import identifiers
from zistboom.core.errors import ConfigurationError, PermissionDeniedError
from zistboom.core.identifiers import parse_client_header
from zistboom.core.tokens import ensure_token_file
from zistboom.documents.issuer.settings import IssuerSettings

SECRET_FILE = "gateway-secret"  # noqa: S105 (a file name)
SECRET = re.compile(r"[!-~]{32,256}")


def gateway_secret(settings: IssuerSettings) -> str:
    """The secret (created on first use); the gateway takes 32 to 256 visible characters."""
    secret = ensure_token_file(settings.data_dir / SECRET_FILE, field="gateway_secret", minimum=32)
    if not SECRET.fullmatch(secret):
        raise ConfigurationError(
            f"{settings.data_dir / SECRET_FILE} must hold 32 to 256 visible ASCII characters "
            "(what the gateway accepts); delete it to get a new one",
            field="gateway_secret",
        )
    return secret


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks, as the gateway vouches for it: the client (member or subsystem) and, when it
    acts for a person, that person (``X-Road-UserId``)."""

    client: str
    user_id: str | None


_secret_header = APIKeyHeader(
    name="X-Zistboom-Gateway-Secret",
    scheme_name="GatewaySecret",
    auto_error=False,
    description=(
        f"the secret the agency's gateway sends with every call (DATA_DIR/{SECRET_FILE}); "
        "calls from anywhere else are refused"
    ),
)


def _through_gateway(
    request: Request, presented: Annotated[str | None, Depends(_secret_header)]
) -> None:
    expected: str = request.app.state.gateway_secret
    hosts: list[str] = request.app.state.gateway_hosts
    host = request.client.host if request.client else ""
    if host not in hosts or not hmac.compare_digest((presented or "").encode(), expected.encode()):
        raise PermissionDeniedError(
            "this issuer answers only calls that come through the agency's gateway: call it "
            "at /r1/… on the gateway, with an access right for your subsystem",
            field=xr.GATEWAY_SECRET,
        )


def _caller(
    _: Annotated[None, Depends(_through_gateway)],
    client: Annotated[
        str,
        Header(
            alias="X-Road-Client",
            pattern=identifiers.CLIENT_ID_PATTERN,
            max_length=300,
            json_schema_extra={"format": identifiers.CLIENT_ID_FORMAT},
            description="the client (INSTANCE/CLASS/MEMBER[/SUBSYSTEM]) the gateway vouches for",
        ),
    ],
    user_id: Annotated[
        str | SkipJsonSchema[None],
        Header(
            alias="X-Road-UserId",
            max_length=100,
            description="the person the client acts for, if any",
        ),
    ] = None,
) -> Caller:
    return Caller(str(parse_client_header(client)), user_id or None)


GatewayCaller = Annotated[Caller, Depends(_caller)]
