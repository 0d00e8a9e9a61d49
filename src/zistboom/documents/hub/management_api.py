"""The hub operator's API (``/api/v1/admin``): registering another document type, on loopback
with the hub's admin token (``DATA_DIR/admin-token``), as the registry service's management API
is."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from zistboom.core.database import transaction
from zistboom.core.errors import AuthenticationError, PermissionDeniedError
from zistboom.core.problems import problem_responses
from zistboom.documents.hub import document_types
from zistboom.documents.hub.state import state_of
from zistboom.documents.types import DocumentTypeDefinition

# Declared as a security scheme; the refusal (401 with problem details) stays _admin's.
_bearer = HTTPBearer(
    auto_error=False, description="the hub's admin token, from DATA_DIR/admin-token"
)


def _admin(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise PermissionDeniedError("the hub's admin API answers on loopback only", field="host")
    token = state_of(request).admin_token
    if credentials is None or not hmac.compare_digest(
        credentials.credentials.encode(), token.encode()
    ):
        raise AuthenticationError(
            "send the hub's admin token (DATA_DIR/admin-token) as 'Authorization: Bearer <token>'",
            field="Authorization",
        )


management = APIRouter(prefix="/api/v1/admin", tags=["management"], dependencies=[Depends(_admin)])


@management.post(
    "/document-types",
    status_code=201,
    response_model_by_alias=True,
    responses=problem_responses(400, 401, 403, 409, 422),
)
async def register_type(request: Request, body: DocumentTypeDefinition) -> DocumentTypeDefinition:
    """Register another document type (409 if its code is taken: a type never changes)."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        row = await document_types.register(
            session, body, by=document_types.OPERATOR, clock=state.clock
        )
        return document_types.definition_of(row)
