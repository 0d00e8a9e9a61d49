"""A component's operator API on loopback with its admin token (``DATA_DIR/admin-token``): the
one FastAPI dependency the registry service's and the documents hub's management routes share.

Declared as an HTTP bearer security scheme, so the OpenAPI says how to authenticate; the
refusals are the component's problem details (403 off loopback, 401 without the token), not
FastAPI's own."""

# No `from __future__ import annotations`: FastAPI reads the dependency's annotations at run
# time, and `bearer` is local to the factory.

import hmac
import ipaddress
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from zistboom.core.errors import AuthenticationError, PermissionDeniedError

AdminCheck = Callable[..., None]


def loopback_admin(whose: str, token_of: Callable[[Request], str]) -> AdminCheck:
    """The dependency that lets a request through only from loopback and with the token
    ``token_of(request)`` answers; ``whose`` names the component in the refusals ("the
    registry's", "the hub's")."""
    bearer = HTTPBearer(
        auto_error=False, description=f"{whose} admin token, from DATA_DIR/admin-token"
    )

    def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        host = request.client.host if request.client else ""
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise PermissionDeniedError(f"{whose} admin API answers on loopback only", field="host")
        if credentials is None or not hmac.compare_digest(
            credentials.credentials.encode(), token_of(request).encode()
        ):
            raise AuthenticationError(
                f"send {whose} admin token (DATA_DIR/admin-token) as "
                "'Authorization: Bearer <token>'",
                field="Authorization",
            )

    return check
