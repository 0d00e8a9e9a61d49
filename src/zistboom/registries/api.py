"""The registry service's routes: the GovStack Data API (``/data/...``), the personal-data-usage
API (``/data/MyPersonalDataUsage/1.0``) and the Database API (``/database-api/...``), which
answer only calls through the agency's own gateway; and the management API (``/api/v1``),
loopback and admin token only. Routes parse and identify the caller, then call
``service.py``."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core import exchange as xr
from zistboom.core.database import transaction
from zistboom.core.errors import (
    AuthenticationError,
    PermissionDeniedError,
    ValidationError,
)
from zistboom.core.identifiers import SubsystemId, parse_client_header
from zistboom.core.problems import problem_responses
from zistboom.registries import publishing, service
from zistboom.registries.models import Registry, Usage
from zistboom.registries.query import parse_as_of, parse_list_query
from zistboom.registries.schema import dump_schema
from zistboom.registries.settings import RegistrySettings

JSON = "application/json"
MAX_BODY = 12 * 1024 * 1024


@dataclass(slots=True)
class RegistryState:
    settings: RegistrySettings
    sessions: async_sessionmaker[AsyncSession]
    schemas: service.Schemas
    gateway_secret: str
    admin_token: str


def state_of(request: Request) -> RegistryState:
    state: RegistryState = request.app.state.registry
    return state


def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type=JSON)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ValidationError(f"the body is larger than {MAX_BODY} bytes", field="/")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ValidationError(f"the body is not JSON: {error}", field="/") from error


def _from_gateway(request: Request) -> service.Caller:
    """The caller as the gateway vouches for it. A call that does not come from the gateway
    (its address and its secret) is refused before anything is read."""
    state = state_of(request)
    host = request.client.host if request.client else ""
    presented = request.headers.get(xr.GATEWAY_SECRET, "")
    if host not in state.settings.gateway_hosts or not hmac.compare_digest(
        presented.encode(), state.gateway_secret.encode()
    ):
        raise PermissionDeniedError(
            "this registry answers only calls that come through its own gateway "
            "(ZB-STD-006 §3.2): call it at /r1/… on your gateway",
            field=xr.GATEWAY_SECRET,
        )
    client_text = request.headers.get(xr.X_ROAD_CLIENT)
    if not client_text:
        raise ValidationError("X-Road-Client is missing", field="X-Road-Client")
    client = parse_client_header(client_text)
    return service.Caller(
        client=str(client),
        member=str(client.member) if isinstance(client, SubsystemId) else str(client),
        user_id=request.headers.get(xr.X_ROAD_USER_ID) or None,
        purpose=request.headers.get(xr.X_ROAD_PURPOSE) or None,
        message_id=request.headers.get(xr.X_ROAD_ID) or None,
    )


GatewayCaller = Annotated[service.Caller, Depends(_from_gateway)]
READ = problem_responses(403, 404, 409, 422)
WRITE = problem_responses(403, 404, 409, 422)

data = APIRouter(tags=["Data API"])


# --- the personal-data-usage API (before /data/{code}/{version}, which would match it) ------


class PersonalDataUsage(BaseModel):
    ID: str
    ReaderID: str
    ReaderInstitutionID: str
    ReaderApplicationName: str
    SearchDateTime: datetime
    DatabaseID: str
    Refrences: list[dict[str, str]]
    Fields: list[str]
    Purpose: str
    MessageId: str | None

    @classmethod
    def of(cls, usage: Usage) -> PersonalDataUsage:
        client = usage.client.split("/")
        return cls(
            ID=str(usage.id),
            ReaderID=usage.user_id,
            ReaderInstitutionID="/".join(client[:3]),
            ReaderApplicationName=usage.client,
            SearchDateTime=usage.at,
            DatabaseID=usage.registry_code,
            Refrences=[{"ReferenceID": usage.record_key}],
            Fields=list(usage.fields.get("names", [])),
            Purpose=usage.purpose,
            MessageId=usage.message_id,
        )


class UsagePage(BaseModel):
    count: int
    next: str | None
    results: list[PersonalDataUsage]


@data.get(
    "/data/MyPersonalDataUsage/1.0",
    tags=["MyPersonalDataUsage API"],
    responses=problem_responses(403, 422),
    operation_id="myPersonalDataUsage",
)
async def personal_data_usage(
    request: Request,
    caller: GatewayCaller,
    user_id: Annotated[str | None, Query(alias="userID", max_length=40)] = None,
    since: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[int | None, Query(ge=0)] = None,
) -> UsagePage:
    """Who read the person's data (the person named by X-Road-UserId, only), when, which
    record and fields, why, and under which message."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        rows = await service.usage_list(
            session,
            caller,
            asked_for=user_id,
            since=parse_as_of(since, field="from") if since else None,
            until=parse_as_of(until, field="to") if until else None,
            after_id=cursor,
            limit=page_size + 1,
        )
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_link = None
    if more:
        next_link = "?" + request.url.include_query_params(cursor=rows[-1].id).query
    return UsagePage(
        count=len(rows), next=next_link, results=[PersonalDataUsage.of(r) for r in rows]
    )


# --- the Data API ----------------------------------------------------------------------------


async def _target(request: Request, session: AsyncSession, code: str, version: str) -> Any:
    return await service.resolve(session, state_of(request).schemas, code, version)


@data.get("/data/{code}/{version}", responses=READ, operation_id="list")
async def list_records(
    request: Request, code: str, version: str, caller: GatewayCaller
) -> Response:
    """Records matching the search and filters, one page at a time (ZB-STD-006 §8)."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        target = await _target(request, session, code, version)
        query = parse_list_query(target.schema, list(request.query_params.multi_items()))
        page = await service.list_records(session, target, query, caller)

    def link(cursor: Any) -> str | None:
        """A relative reference (``?…``): it resolves against whatever URL the caller used,
        through its gateway, which the registry cannot know."""
        if cursor is None:
            return None
        return "?" + request.url.include_query_params(cursor=cursor.encode()).query

    return _json(
        {
            "count": page.count,
            "count_exact": page.count_exact,
            "next": link(page.next),
            "previous": link(page.previous),
            "results": page.results,
        }
    )


@data.post("/data/{code}/{version}/read", responses=READ, operation_id="read")
async def read(
    request: Request,
    code: str,
    version: str,
    caller: GatewayCaller,
    as_of: Annotated[str | None, Query(alias="asOf", max_length=40)] = None,
) -> Response:
    body = await _body(request)
    state = state_of(request)
    async with transaction(state.sessions) as session:
        target = await _target(request, session, code, version)
        moment = parse_as_of(as_of) if as_of else None
        return _json(await service.read_record(session, target, body, caller, as_of=moment))


@data.post("/data/{code}/{version}/exists", responses=READ, operation_id="exists")
async def exists(request: Request, code: str, version: str, caller: GatewayCaller) -> Response:
    body = await _body(request)
    state = state_of(request)
    async with transaction(state.sessions) as session:
        target = await _target(request, session, code, version)
        return _json(await service.exists(session, target, body, caller))


@data.post("/data/{code}/{version}/create", responses=WRITE, operation_id="create")
async def create(request: Request, code: str, version: str, caller: GatewayCaller) -> Response:
    body = await _body(request)
    state = state_of(request)
    async with transaction(state.sessions) as session:
        target = await _target(request, session, code, version)
        return _json(await service.create(session, target, body, caller))


@data.put("/data/{code}/{version}/update", responses=WRITE, operation_id="update")
async def update(request: Request, code: str, version: str, caller: GatewayCaller) -> Response:
    body = await _body(request)
    state = state_of(request)
    async with transaction(state.sessions) as session:
        target = await _target(request, session, code, version)
        return _json(await service.update(session, target, body, caller))


@data.put("/data/{code}/{version}/update-entries", responses=WRITE, operation_id="update-entries")
async def update_entries(
    request: Request, code: str, version: str, caller: GatewayCaller
) -> Response:
    body = await _body(request)
    state = state_of(request)
    async with transaction(state.sessions) as session:
        target = await _target(request, session, code, version)
        return _json(await service.update_entries(session, target, body, caller))


@data.post(
    "/data/{code}/{version}/update-or-create", responses=WRITE, operation_id="update-or-create"
)
async def update_or_create(
    request: Request, code: str, version: str, caller: GatewayCaller
) -> Response:
    body = await _body(request)
    state = state_of(request)
    async with transaction(state.sessions) as session:
        target = await _target(request, session, code, version)
        return _json(await service.update_or_create(session, target, body, caller))


@data.delete(
    "/data/{code}/{version}/{key}/delete",
    status_code=204,
    responses=WRITE,
    operation_id="delete",
)
async def delete(
    request: Request, code: str, version: str, key: str, caller: GatewayCaller
) -> Response:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        target = await _target(request, session, code, version)
        await service.delete(session, target, key, caller)
    return Response(status_code=204)


@data.get(
    "/data/{code}/{version}/{key}/read-value/{value_file}",
    responses=READ,
    operation_id="read-value",
)
async def read_value(
    request: Request, code: str, version: str, key: str, value_file: str, caller: GatewayCaller
) -> Response:
    """``…/read-value/<field>.<ext>``: ``.json`` for any field, a file field's own extension
    for its bytes."""
    field_name, dot, extension = value_file.rpartition(".")
    if not dot:
        raise ValidationError("name the field as <field>.<ext>, e.g. birth_date.json", field="ext")
    state = state_of(request)
    async with transaction(state.sessions) as session:
        target = await _target(request, session, code, version)
        value, media_type = await service.read_value(
            session, target, key, field_name, extension, caller
        )
    if media_type is not None:
        return Response(value, media_type=media_type)
    return _json(value)


# --- the Database API (the agency's own systems only) ----------------------------------------

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


@database.get("/databases", responses=problem_responses(403))
async def databases(request: Request, caller: OwnSystem) -> Response:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        registries = await service.registries(session)
        return _json(
            {
                "name": "registries",
                "code": state.settings.subsystem,
                "databases": [await _database_info(session, r) for r in registries],
            }
        )


@database.get("/database/{registry_id}", responses=problem_responses(403, 404))
async def database_info(request: Request, registry_id: int, caller: OwnSystem) -> Response:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        registry = await service.registry_by_id(session, registry_id)
        return _json(await _database_info(session, registry))


@database.delete("/database/{registry_id}", responses=problem_responses(403, 404, 409))
async def database_delete(request: Request, registry_id: int, caller: OwnSystem) -> Response:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        registry = await service.registry_by_id(session, registry_id)
        code = registry.code
        await service.delete_registry(session, code)
    await publishing.withdraw(state.settings, code)
    return _json("Success")


class DatabaseModify(BaseModel):
    """Create a registry, or give it a new version; either way it is published at once."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=32)
    name_fa: str | None = Field(default=None, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    description_fa: str = Field(default="", max_length=4000)
    description_en: str = Field(default="", max_length=4000)
    ecosystem: str = Field(default="national", max_length=64)
    group_name: str | None = Field(default=None, max_length=200)
    catalog_name: str | None = Field(default=None, max_length=200)
    schema_: dict[str, Any] = Field(alias="schema")


@database.post("/database/modify", responses=problem_responses(403, 404, 409, 422))
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
            await service.define_registry(session, definition, body.schema_)
        else:
            await service.propose_version(session, state.schemas, body.code, body.schema_)
        await service.publish(session, state.schemas, body.code)
    await publishing.publish(state.settings, state.sessions, state.schemas, body.code)
    async with transaction(state.sessions) as session:
        registry = await service.get_registry(session, body.code)
        return _json(await _database_info(session, registry))


# --- management (loopback, admin token) ------------------------------------------------------

_bearer = HTTPBearer(auto_error=False)


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
        raise PermissionDeniedError("the management API answers on loopback only", field="host")
    token = state_of(request).admin_token
    if credentials is None or not hmac.compare_digest(
        credentials.credentials.encode(), token.encode()
    ):
        raise AuthenticationError(
            "send the registry's admin token (DATA_DIR/admin-token) as "
            "'Authorization: Bearer <token>'",
            field="Authorization",
        )


management = APIRouter(prefix="/api/v1", tags=["management"], dependencies=[Depends(_admin)])


class RegistryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=32)
    name_fa: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    description_fa: str = Field(default="", max_length=4000)
    description_en: str = Field(default="", max_length=4000)
    owner: str | None = Field(default=None, max_length=255, description="default: this agency")
    ecosystem: str = Field(default="national", max_length=64)
    schema_: dict[str, Any] = Field(alias="schema")


class VersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_: dict[str, Any] = Field(alias="schema")


class VersionOut(BaseModel):
    version: str
    published_at: datetime | None


class RegistryOut(BaseModel):
    code: str
    name_fa: str
    name_en: str
    description_fa: str
    description_en: str
    owner: str
    ecosystem: str
    records: int
    versions: list[VersionOut]


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


@management.post("/registries", status_code=201, responses=problem_responses(401, 403, 409, 422))
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
        await service.define_registry(session, definition, body.schema_)
        return await _registry_out(session, body.code)


@management.get("/registries/{code}", responses=problem_responses(401, 403, 404))
async def get_registry(request: Request, code: str) -> RegistryOut:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        return await _registry_out(session, code)


@management.post(
    "/registries/{code}/versions",
    status_code=201,
    responses=problem_responses(401, 403, 404, 422),
)
async def propose_version(request: Request, code: str, body: VersionCreate) -> VersionOut:
    """A new draft version from a schema; a change that would break stored records is refused
    with each field and the reason."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        row = await service.propose_version(session, state.schemas, code, body.schema_)
        return VersionOut(version=row.version, published_at=row.published_at)


@management.post(
    "/registries/{code}/publish", responses=problem_responses(401, 403, 404, 409, 422, 502)
)
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
    "/registries/{code}/versions/{version}/schema", responses=problem_responses(401, 403, 404)
)
async def export_schema(
    request: Request,
    code: str,
    version: str,
    format: Annotated[str, Query(pattern="^(json|yaml)$")] = "json",
) -> Response:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        row = await service.version_row(session, code, version)
    media = JSON if format == "json" else "application/yaml"
    return Response(dump_schema(row.schema, format=format), media_type=media)  # type: ignore[arg-type]


@management.get("/registries/{code}/openapi", responses=problem_responses(401, 403, 404))
async def registry_openapi(request: Request, code: str) -> dict[str, Any]:
    """The Data API of every published version, as the gateway's service describes it."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        return await publishing.registry_openapi(session, state.schemas, code)
