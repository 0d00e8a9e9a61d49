"""The hub operator's API (``/api/v1/admin``): registering another document type, on loopback
with the hub's admin token (``DATA_DIR/admin-token``), as the registry service's management API
is."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from zistboom.core.admin_token import loopback_admin
from zistboom.core.database import transaction
from zistboom.core.problems import problem_responses
from zistboom.documents.hub import document_types
from zistboom.documents.hub.state import state_of
from zistboom.documents.types import DocumentTypeDefinition

_admin = loopback_admin("the hub's", lambda request: state_of(request).admin_token)


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
