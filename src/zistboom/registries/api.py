"""The registry service's routes behind its gateway: the GovStack Data API (``/data/...``)
and the personal-data-usage API (``/data/MyPersonalDataUsage/1.0``), and what every route
behind the gateway shares: the service's state and the caller the gateway vouches for (the
Database API, ``database_api.py``, takes it too; the management API is ``management_api.py``).
Routes parse and identify the caller, then call ``service.py``; their answers are
``api_models.py``'s."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi import Path as InPath
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core import backend, identifiers
from zistboom.core.database import transaction
from zistboom.core.errors import ValidationError
from zistboom.core.identifiers import SubsystemId, parse_client_header
from zistboom.core.problems import problem_responses
from zistboom.registries import service
from zistboom.registries.api_models import (
    ExistsAnswer,
    PersonalDataUsage,
    RecordAnswer,
    RecordPage,
    UpdatedAnswer,
    UpsertAnswer,
    UsagePage,
    ValueAnswer,
)
from zistboom.registries.group_commit import GroupCommit
from zistboom.registries.openapi_document import closed, with_content
from zistboom.registries.query import parse_as_of, parse_list_query
from zistboom.registries.settings import RegistrySettings

JSON = "application/json"
MAX_BODY = 12 * 1024 * 1024
SCHEMA = "/schema"  # where a registry schema sits in a body, for its refusals' pointers


@dataclass(slots=True)
class RegistryState:
    settings: RegistrySettings
    sessions: async_sessionmaker[AsyncSession]
    schemas: service.Schemas
    gateway_secret: str
    admin_token: str
    reads: GroupCommit
    """Reads that log usage, in shared transactions."""


def state_of(request: Request) -> RegistryState:
    state: RegistryState = request.app.state.registry
    return state


def json_response(value: Any, status: int = 200) -> Response:
    """A JSON answer, serialised by orjson."""
    return Response(orjson.dumps(value), status_code=status, media_type=JSON)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ValidationError(f"the body is larger than {MAX_BODY} bytes", field="/")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise ValidationError(f"the body is not JSON: {error}", field="/") from error


# --- who is calling: the gateway, on behalf of a client ---------------------------------------


def _behind_gateway(request: Request) -> backend.BehindGateway:
    state = state_of(request)
    return backend.BehindGateway(state.settings.gateway_hosts, state.gateway_secret)


# A call that does not come from the gateway (its address and its secret) is refused before
# anything else of it is read.
_through_gateway = backend.through_gateway(
    _behind_gateway,
    refusal=(
        "this registry answers only calls that come through its own gateway "
        "(ZB-STD-006 §3.2): call it at /r1/… on your gateway"
    ),
    who="the agency's gateway",
)
Through = Annotated[None, Depends(_through_gateway)]
# Optional parameters: absent, or text (never null, which a header or query cannot carry).
OptionalText = str | SkipJsonSchema[None]
INSTANT: dict[str, Any] = {"format": "date-time"}
ClientHeader = Annotated[
    str,
    Header(
        alias="X-Road-Client",
        pattern=identifiers.CLIENT_ID_PATTERN,
        max_length=300,
        json_schema_extra={"format": identifiers.CLIENT_ID_FORMAT},
        description="the client (INSTANCE/CLASS/MEMBER[/SUBSYSTEM]), as the gateway vouches for it",
    ),
]
UserIdHeader = Annotated[
    OptionalText,
    Header(alias="X-Road-UserId", description="who the call is made on behalf of"),
]
PersonHeader = Annotated[
    OptionalText,
    Header(
        alias="X-Road-UserId",
        pattern=identifiers.PERSON_ID_PATTERN,
        json_schema_extra={"format": identifiers.PERSON_ID_FORMAT},
        description="the person the list is about: IR and a national code, or FN and a "
        "foreign national ID",
    ),
]
PurposeHeader = Annotated[OptionalText, Header(alias="X-Road-Purpose", description="why")]
MessageIdHeader = Annotated[
    OptionalText, Header(alias="X-Road-Id", description="the exchange's message id")
]


def _caller(
    client: str, user_id: str | None, purpose: str | None, message_id: str | None
) -> service.Caller:
    parsed = parse_client_header(client)
    return service.Caller(
        client=str(parsed),
        member=str(parsed.member) if isinstance(parsed, SubsystemId) else str(parsed),
        user_id=user_id or None,
        purpose=purpose or None,
        message_id=message_id or None,
    )


def _from_gateway(
    _: Through,
    client: ClientHeader,
    user_id: UserIdHeader = None,
    purpose: PurposeHeader = None,
    message_id: MessageIdHeader = None,
) -> service.Caller:
    """The caller as the gateway vouches for it."""
    return _caller(client, user_id, purpose, message_id)


def _person_from_gateway(
    _: Through,
    client: ClientHeader,
    user_id: PersonHeader = None,
    purpose: PurposeHeader = None,
    message_id: MessageIdHeader = None,
) -> service.Caller:
    """The caller of the usage list, whose X-Road-UserId names a person."""
    return _caller(client, user_id, purpose, message_id)


GatewayCaller = Annotated[service.Caller, Depends(_from_gateway)]
PersonCaller = Annotated[service.Caller, Depends(_person_from_gateway)]
# 403: not through the gateway (or, for a registry with personal data, without X-Road-UserId
# and X-Road-Purpose); 404: no such registry, version or record; 409: a unique value taken,
# or a query matching several records; 422: input against its rules.
DATA = problem_responses(403, 404, 409, 422)


def _body_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` stating a JSON body the route reads itself (``_body``): a record is
    each registry's own, so the registry's generated document states it exactly."""
    return {"requestBody": {"required": True, "content": {JSON: {"schema": schema}}}}


_FIELDS = {"type": "object", "minProperties": 1, "description": "fields of the registry's records"}
_RECORD = {"type": "object", "description": "a record of the registry"}
QUERY_BODY = _body_schema(closed({"query": with_content(_FIELDS)}))
CREATE_BODY = _body_schema(closed({"write": with_content(_RECORD)}))
UPDATE_BODY = _body_schema(closed({"query": with_content(_FIELDS), "write": with_content(_FIELDS)}))

data = APIRouter(tags=["Data API"])


# --- the personal-data-usage API (before /data/{code}/{version}, which would match it) ------


@data.get(
    "/data/MyPersonalDataUsage/1.0",
    tags=["MyPersonalDataUsage API"],
    responses=problem_responses(403, 422),
    operation_id="myPersonalDataUsage",
)
async def personal_data_usage(
    request: Request,
    caller: PersonCaller,
    user_id: Annotated[OptionalText, Query(alias="userID", max_length=40)] = None,
    since: Annotated[
        OptionalText, Query(alias="from", max_length=40, json_schema_extra=INSTANT)
    ] = None,
    until: Annotated[
        OptionalText, Query(alias="to", max_length=40, json_schema_extra=INSTANT)
    ] = None,
    page_size: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[int | SkipJsonSchema[None], Query(ge=0)] = None,
) -> UsagePage:
    """Who read the person's data (the person named by X-Road-UserId, only), when, which
    record and fields, why, and under which message."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        rows = await service.usage_list(
            session,
            caller,
            asked_for=user_id,
            since=parse_as_of(since, field="from") if since is not None else None,
            until=parse_as_of(until, field="to") if until is not None else None,
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


async def _with_body(
    request: Request,
    code: str,
    version: str,
    caller: service.Caller,
    operation: Callable[[AsyncSession, service.Target, Any, service.Caller], Awaitable[Any]],
) -> Response:
    """An operation on the body (exists and the writes), in a transaction of its own."""
    body = await _body(request)
    state = state_of(request)
    async with transaction(state.sessions) as session:
        target = await _target(request, session, code, version)
        return json_response(await operation(session, target, body, caller))


@data.get("/data/{code}/{version}", response_model=RecordPage, responses=DATA, operation_id="list")
async def list_records(
    request: Request, code: str, version: str, caller: GatewayCaller
) -> Response:
    """Records matching the search and filters, one page at a time (ZB-STD-006 §8). The
    parameters (``search``, ``filter``, ``ordering``, ``query.<field>[.<operator>]``,
    ``page_size``, ``cursor``, ``asOf``) are each registry's: its own document lists them."""
    state = state_of(request)
    parameters = list(request.query_params.multi_items())

    async def job(session: AsyncSession) -> service.Page:
        target = await _target(request, session, code, version)
        query = parse_list_query(target.schema, parameters)
        return await service.list_records(session, target, query, caller)

    page = await state.reads.run(job)

    def link(cursor: Any) -> str | None:
        """A relative reference (``?…``): it resolves against whatever URL the caller used,
        through its gateway, which the registry cannot know."""
        if cursor is None:
            return None
        return "?" + request.url.include_query_params(cursor=cursor.encode()).query

    return json_response(
        {
            "count": page.count,
            "count_exact": page.count_exact,
            "next": link(page.next),
            "previous": link(page.previous),
            "results": page.results,
        }
    )


@data.post(
    "/data/{code}/{version}/read",
    response_model=RecordAnswer,
    responses=DATA,
    operation_id="read",
    openapi_extra=QUERY_BODY,
)
async def read(
    request: Request,
    code: str,
    version: str,
    caller: GatewayCaller,
    as_of: Annotated[
        OptionalText, Query(alias="asOf", max_length=40, json_schema_extra=INSTANT)
    ] = None,
) -> Response:
    body = await _body(request)
    state = state_of(request)
    moment = parse_as_of(as_of) if as_of is not None else None

    async def job(session: AsyncSession) -> dict[str, Any]:
        target = await _target(request, session, code, version)
        return await service.read_record(session, target, body, caller, as_of=moment)

    return json_response(await state.reads.run(job))


@data.post(
    "/data/{code}/{version}/exists",
    response_model=ExistsAnswer,
    responses=DATA,
    operation_id="exists",
    openapi_extra=QUERY_BODY,
)
async def exists(request: Request, code: str, version: str, caller: GatewayCaller) -> Response:
    return await _with_body(request, code, version, caller, service.exists)


@data.post(
    "/data/{code}/{version}/create",
    response_model=RecordAnswer,
    responses=DATA,
    operation_id="create",
    openapi_extra=CREATE_BODY,
)
async def create(request: Request, code: str, version: str, caller: GatewayCaller) -> Response:
    return await _with_body(request, code, version, caller, service.create)


@data.put(
    "/data/{code}/{version}/update",
    response_model=RecordAnswer,
    responses=DATA,
    operation_id="update",
    openapi_extra=UPDATE_BODY,
)
async def update(request: Request, code: str, version: str, caller: GatewayCaller) -> Response:
    return await _with_body(request, code, version, caller, service.update)


@data.put(
    "/data/{code}/{version}/update-entries",
    response_model=UpdatedAnswer,
    responses=DATA,
    operation_id="update-entries",
    openapi_extra=UPDATE_BODY,
)
async def update_entries(
    request: Request, code: str, version: str, caller: GatewayCaller
) -> Response:
    return await _with_body(request, code, version, caller, service.update_entries)


@data.post(
    "/data/{code}/{version}/update-or-create",
    response_model=UpsertAnswer,
    responses=DATA,
    operation_id="update-or-create",
    openapi_extra=UPDATE_BODY,
)
async def update_or_create(
    request: Request, code: str, version: str, caller: GatewayCaller
) -> Response:
    return await _with_body(request, code, version, caller, service.update_or_create)


@data.delete(
    "/data/{code}/{version}/{key}/delete",
    status_code=204,
    response_class=Response,
    responses=DATA,
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
    responses={
        200: {
            "description": "With .json, the value; with a file field's own extension, the file",
            "content": {JSON: {"schema": ValueAnswer.model_json_schema()}, "*/*": {}},
        },
        **DATA,
    },
    response_class=Response,
    operation_id="read-value",
)
async def read_value(
    request: Request,
    code: str,
    version: str,
    key: str,
    value_file: Annotated[str, InPath(pattern=r"\.", description="<field>.<ext>")],
    caller: GatewayCaller,
) -> Response:
    """``…/read-value/<field>.<ext>``: ``.json`` for any field, a file field's own extension
    for its bytes."""
    field_name, _, extension = value_file.rpartition(".")
    state = state_of(request)

    async def job(session: AsyncSession) -> tuple[Any, str | None]:
        target = await _target(request, session, code, version)
        return await service.read_value(session, target, key, field_name, extension, caller)

    value, media_type = await state.reads.run(job)
    if media_type is not None:
        return Response(value, media_type=media_type)
    return json_response(value)
