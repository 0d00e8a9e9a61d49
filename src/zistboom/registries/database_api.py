"""The registry service's Database API (``/database-api/...``, GovStack Digital Registries):
the registries of the service, for the agency's own information systems only, through its
gateway. Routes identify the caller (``api.GatewayCaller``), then call ``service.py``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.core.database import transaction
from zistboom.core.errors import PermissionDeniedError
from zistboom.core.problems import problem_responses
from zistboom.registries import publishing, service
from zistboom.registries.api import SCHEMA, GatewayCaller, json_response, state_of
from zistboom.registries.api_models import DatabaseInfo, DatabaseList, DatabaseModify
from zistboom.registries.models import Registry

database = APIRouter(prefix="/database-api", tags=["Database API"])


def _own_system(caller: GatewayCaller, request: Request) -> service.Caller:
    owner = state_of(request).settings.member_id
    if caller.member != owner:
        raise PermissionDeniedError(
            f"the Database API is for the information systems of {owner or 'the agency'} "
            f"only; {caller.client} is not one of them",
            field="X-Road-Client",
        )
    return caller


OwnSystem = Annotated[service.Caller, Depends(_own_system)]


async def _database_info(session: AsyncSession, registry: Registry) -> dict[str, Any]:
    versions = (await service.describe(session, registry)).versions
    latest = versions[-1]
    return {
        "id": registry.id,
        "code": registry.code,
        "name": registry.name_en,
        "name_fa": registry.name_fa,
        "description": registry.description_en,
        "description_fa": registry.description_fa,
        "institution": registry.owner,
        "ecosystem": registry.ecosystem,
        "version": latest.version,
        "is_draft": latest.published_at is None,
        "modified_at": (latest.published_at or latest.created_at).isoformat(),
        "schema": latest.schema,
        "versions": [
            {
                "version": v.version,
                "published_at": v.published_at.isoformat() if v.published_at else None,
            }
            for v in versions
        ],
    }


@database.get("/databases", response_model=DatabaseList, responses=problem_responses(403, 422))
async def databases(request: Request, caller: OwnSystem) -> Response:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        registries = await service.registries(session)
        return json_response(
            {
                "name": "registries",
                "code": state.settings.subsystem,
                "databases": [await _database_info(session, r) for r in registries],
            }
        )


@database.get(
    "/database/{registry_id:int}",
    response_model=DatabaseInfo,
    responses=problem_responses(403, 404, 422),
)
async def database_info(request: Request, registry_id: int, caller: OwnSystem) -> Response:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        registry = await service.registry_by_id(session, registry_id)
        return json_response(await _database_info(session, registry))


@database.delete(
    "/database/{registry_id:int}",
    response_model=Literal["Success"],
    responses=problem_responses(403, 404, 409, 422, 502),
)
async def database_delete(request: Request, registry_id: int, caller: OwnSystem) -> Response:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        registry = await service.registry_by_id(session, registry_id)
        code = registry.code
        await service.delete_registry(session, code)
    await publishing.withdraw(state.settings, code)
    return json_response("Success")


@database.post(
    "/database/modify",
    response_model=DatabaseInfo,
    responses=problem_responses(400, 403, 404, 409, 422, 502),
)
async def database_modify(request: Request, body: DatabaseModify, caller: OwnSystem) -> Response:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        if not await service.has_registry(session, body.code):
            definition = service.Definition(
                code=body.code,
                name_fa=body.name_fa or body.catalog_name or body.code,
                name_en=body.name_en or body.catalog_name or body.code,
                owner=state.settings.member_id,
                ecosystem=body.ecosystem,
                description_fa=body.description_fa,
                description_en=body.description_en,
            )
            await service.define_registry(session, definition, body.schema_, pointer=SCHEMA)
        else:
            await service.propose_version(
                session, state.schemas, body.code, body.schema_, pointer=SCHEMA
            )
        await service.publish(session, state.schemas, body.code)
    await publishing.publish(state.settings, state.sessions, state.schemas, body.code)
    async with transaction(state.sessions) as session:
        registry = await service.get_registry(session, body.code)
        return json_response(await _database_info(session, registry))
