"""The hub's public HTTP API (no gateway, no caller identity): document types and their
schemas, the issuers' status lists as they signed them, verification in the W3C VC API shape
(``POST /credentials/verify``) and pull links (``GET /p/{token}``). Routes parse, then call the
service modules."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi import Path as InPath

from zistboom.core.database import transaction
from zistboom.core.problems import problem_responses
from zistboom.documents import profile
from zistboom.documents.hub import document_types, status_lists
from zistboom.documents.hub.api import LIST_ID, PURPOSE, VC_JWT
from zistboom.documents.hub.state import state_of
from zistboom.documents.types import TYPE_CODE, DocumentTypeDefinition

SCHEMA_JSON = "application/schema+json"
public = APIRouter(tags=["public"])
TypeCode = Annotated[str, InPath(pattern=TYPE_CODE)]


@public.get("/api/v1/document-types", response_model_by_alias=True)
async def list_types(request: Request) -> list[DocumentTypeDefinition]:
    """Every document type the hub registers."""
    async with transaction(state_of(request).sessions) as session:
        return [
            document_types.definition_of(row) for row in await document_types.all_types(session)
        ]


@public.get(
    "/api/v1/document-types/{code}",
    response_model_by_alias=True,
    responses=problem_responses(404, 422),
)
async def get_type(request: Request, code: TypeCode) -> DocumentTypeDefinition:
    """One document type: its schema, the accreditation its issuers need, its validity and
    templates."""
    async with transaction(state_of(request).sessions) as session:
        return document_types.definition_of(await document_types.get(session, code))


@public.get(
    "/api/v1/document-types/{code}/schema",
    responses={
        200: {
            "description": "the JSON Schema 2020-12 of the type's subject fields",
            "content": {SCHEMA_JSON: {"schema": {"type": "object"}}},
        },
        **problem_responses(404, 422),
    },
)
async def get_schema(request: Request, code: TypeCode) -> Response:
    """The subject schema a document's ``credentialSchema`` names (with ``$id`` its URL)."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        row = await document_types.get(session, code)
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": profile.schema_url(state.settings.base_url, code),
        **{k: v for k, v in row.subject_schema.items() if k not in ("$schema", "$id")},
    }
    return Response(orjson.dumps(schema), media_type=SCHEMA_JSON)


@public.get(
    "/status-lists/{list_id}/{purpose}",
    responses={
        200: {
            "description": "the BitstringStatusListCredential as its issuer signed it",
            "content": {VC_JWT: {"schema": {"type": "string"}}},
        },
        **problem_responses(404, 422),
    },
)
async def get_status_list(
    request: Request,
    list_id: Annotated[str, InPath(pattern=LIST_ID)],
    purpose: Annotated[str, InPath(pattern=PURPOSE)],
) -> Response:
    """A status list, exactly as the issuer signed it (``application/vc+jwt``)."""
    async with transaction(state_of(request).sessions) as session:
        held = await status_lists.held(session, list_id, purpose)
    return Response(
        held.credential.encode("ascii"),
        media_type=VC_JWT,
        headers={"Cache-Control": "public, max-age=60"},
    )
