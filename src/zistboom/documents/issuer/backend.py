"""The issuer as a backend of its gateway: a call that does not come from the gateway (its
address and backend secret, ``core/backend.py``) is refused before anything of it is read; the
caller is then the one the gateway vouches for (``X-Road-Client``, ``X-Road-UserId``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from pydantic.json_schema import SkipJsonSchema

from zistboom.core import backend, identifiers
from zistboom.core.identifiers import parse_client_header


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks, as the gateway vouches for it: the client (member or subsystem) and, when it
    acts for a person, that person (``X-Road-UserId``)."""

    client: str
    user_id: str | None


def _behind(request: Request) -> backend.BehindGateway:
    behind: backend.BehindGateway = request.app.state.behind_gateway
    return behind


_through_gateway = backend.through_gateway(
    _behind,
    refusal=(
        "this issuer answers only calls that come through the agency's gateway: call it at "
        "/r1/… on the gateway, with an access right for your subsystem"
    ),
    who="the agency's gateway",
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
