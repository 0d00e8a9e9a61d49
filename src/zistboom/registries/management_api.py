"""The registry service's management API (``/api/v1``): defining, versioning, publishing and
exporting registries, on loopback with the admin token only. Routes call ``service.py`` and
``publishing.py``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.admin_token import loopback_admin
from zistboom.core.database import transaction
from zistboom.core.problems import problem_responses
from zistboom.registries import publishing, service
from zistboom.registries.api import JSON, SCHEMA, state_of
from zistboom.registries.api_models import RegistryCreate, RegistryOut, VersionCreate, VersionOut
from zistboom.registries.schema import dump_schema

_admin = loopback_admin("the registry's", lambda request: state_of(request).admin_token)


management = APIRouter(prefix="/api/v1", tags=["management"], dependencies=[Depends(_admin)])
# Every route: 401 without the token, 403 off loopback; 422 input against its rules.
ADMIN = (401, 403, 422)


async def _registry_out(session: AsyncSession, code: str) -> RegistryOut:
    registry = await service.get_registry(session, code)
    described = await service.describe(session, registry)
    return RegistryOut(
        code=registry.code,
        name_fa=registry.name_fa,
        name_en=registry.name_en,
        description_fa=registry.description_fa,
        description_en=registry.description_en,
        owner=registry.owner,
        ecosystem=registry.ecosystem,
        records=described.records,
        versions=[
            VersionOut(version=v.version, published_at=v.published_at) for v in described.versions
        ],
    )


@management.get("/registries", responses=problem_responses(401, 403))
async def registries(request: Request) -> list[RegistryOut]:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        rows = await service.registries(session)
        return [await _registry_out(session, r.code) for r in rows]


@management.post("/registries", status_code=201, responses=problem_responses(*ADMIN, 400, 409))
async def create_registry(request: Request, body: RegistryCreate) -> RegistryOut:
    """Define a registry with its first version (1.0) as a draft; publish it to serve it."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        definition = service.Definition(
            code=body.code,
            name_fa=body.name_fa,
            name_en=body.name_en,
            owner=body.owner or state.settings.member_id,
            ecosystem=body.ecosystem,
            description_fa=body.description_fa,
            description_en=body.description_en,
        )
        await service.define_registry(session, definition, body.schema_, pointer=SCHEMA)
        return await _registry_out(session, body.code)


@management.get("/registries/{code}", responses=problem_responses(*ADMIN, 404))
async def get_registry(request: Request, code: str) -> RegistryOut:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        return await _registry_out(session, code)


@management.post(
    "/registries/{code}/versions",
    status_code=201,
    responses=problem_responses(*ADMIN, 400, 404),
)
async def propose_version(request: Request, code: str, body: VersionCreate) -> VersionOut:
    """A new draft version from a schema; a change that would break stored records is refused
    with each field and the reason."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        row = await service.propose_version(
            session, state.schemas, code, body.schema_, pointer=SCHEMA
        )
        return VersionOut(version=row.version, published_at=row.published_at)


@management.post("/registries/{code}/publish", responses=problem_responses(*ADMIN, 404, 409, 502))
async def publish(request: Request, code: str) -> VersionOut:
    """Publish the draft: the Data API serves it, and the registry's services are registered
    (or updated) on the agency's gateway."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        row = await service.publish(session, state.schemas, code)
        out = VersionOut(version=row.version, published_at=row.published_at)
    await publishing.publish(state.settings, state.sessions, state.schemas, code)
    return out


@management.get(
    "/registries/{code}/versions/{version}/schema",
    response_class=Response,
    responses={
        200: {
            "description": "The version's registry schema",
            "content": {
                JSON: {"schema": {"type": "object"}},
                "application/yaml": {"schema": {"type": "object"}},
            },
        },
        **problem_responses(*ADMIN, 404),
    },
)
async def export_schema(
    request: Request,
    code: str,
    version: str,
    format: Annotated[Literal["json", "yaml"], Query()] = "json",
) -> Response:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        row = await service.version_row(session, code, version)
    media = JSON if format == "json" else "application/yaml"
    return Response(dump_schema(row.schema, format=format), media_type=media)


@management.get("/registries/{code}/openapi", responses=problem_responses(*ADMIN, 404))
async def registry_openapi(request: Request, code: str) -> dict[str, Any]:
    """The Data API of every published version, as the gateway's service describes it."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        return await publishing.registry_openapi(session, state.schemas, code)
