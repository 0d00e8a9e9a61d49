"""The catalogue's API: the window operator registers agencies and issues their keys; an
agency, with its key, writes its own service definitions (one by one, or a YAML import that is
all or nothing); anyone reads the definitions' schema and the parallel systems. Routes parse
and authenticate; the rules are ``service.py``'s."""

from __future__ import annotations

from typing import Annotated, Any, Final

import yaml
from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from zistboom.core import identifiers
from zistboom.core.database import transaction
from zistboom.core.errors import UnsupportedMediaError, ValidationError
from zistboom.core.problems import problem_responses
from zistboom.window.catalogue import service
from zistboom.window.catalogue.definitions import (
    ServiceDefinition,
    check_definitions,
    ensure_rules,
    published_schema,
)
from zistboom.window.catalogue.parallel import parallel_systems
from zistboom.window.catalogue.schemas import (
    AgencyCreate,
    AgencyOut,
    FindingOut,
    KeyOut,
    ServiceOut,
)
from zistboom.window.state import state_of

MAX_IMPORT_BYTES: Final = 2 * 1024 * 1024
YAML_TYPES: Final = ("application/yaml", "application/x-yaml", "text/yaml")
_bearer = HTTPBearer(
    auto_error=False, description="the window operator's token, or an agency's key (zbw_…)"
)
Authorization = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
MemberPath = Annotated[
    str,
    Path(
        pattern=identifiers.MEMBER_ID_PATTERN,
        description="the agency's member id, INSTANCE/CLASS/CODE",
        json_schema_extra={"format": identifiers.MEMBER_ID_FORMAT},
    ),
]
CodePath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
AgencyQuery = Annotated[
    str | None,
    Query(
        pattern=identifiers.MEMBER_ID_PATTERN,
        description="the agency (default: the key's own); INSTANCE/CLASS/CODE",
        json_schema_extra={"format": identifiers.MEMBER_ID_FORMAT},
    ),
]

api = APIRouter(prefix="/api/v1", tags=["catalogue"])


async def _caller(request: Request, authorization: Authorization = None) -> service.Caller:
    """The caller of a protected route, known before its other inputs are read (a call
    without a key is 401 whatever else it sends)."""
    state = state_of(request)
    async with transaction(state.sessions) as session:
        return await service.authenticate(
            session, authorization.credentials.strip() if authorization else None, state.admin_token
        )


Caller = Annotated[service.Caller, Depends(_caller)]


@api.get("/service-definitions/schema", summary="The JSON Schema of a service definition")
async def definition_schema() -> dict[str, Any]:
    """ZB-STD-010's schema (JSON Schema 2020-12); a definition's form is further restricted to
    what can be rendered as an accessible form."""
    return published_schema()


@api.post(
    "/agencies",
    status_code=201,
    summary="Register an agency (the window operator)",
    response_model=AgencyOut,
    responses=problem_responses(400, 401, 403, 409, 422),
)
async def register_agency(body: AgencyCreate, request: Request, caller: Caller) -> AgencyOut:
    state = state_of(request)
    service.require_operator(caller)
    async with transaction(state.sessions) as session:
        agency = await service.register_agency(
            session, **body.model_dump(), actor=caller.name, now=state.clock()
        )
        return AgencyOut.of(agency)


@api.get(
    "/agencies",
    summary="The agencies (the window operator)",
    response_model=list[AgencyOut],
    responses=problem_responses(401, 403),
)
async def list_agencies(request: Request, caller: Caller) -> list[AgencyOut]:
    state = state_of(request)
    service.require_operator(caller)
    async with transaction(state.sessions) as session:
        return [AgencyOut.of(a) for a in await service.agencies(session)]


@api.post(
    "/agencies/{member_id:path}/keys",
    status_code=201,
    summary="Issue an agency an API key, shown once (the window operator)",
    response_model=KeyOut,
    responses=problem_responses(401, 403, 404, 422),
)
async def issue_key(member_id: MemberPath, request: Request, caller: Caller) -> KeyOut:
    state = state_of(request)
    service.require_operator(caller)
    async with transaction(state.sessions) as session:
        issued = await service.issue_key(
            session, member_id=member_id, actor=caller.name, now=state.clock()
        )
    return KeyOut.of(issued)


@api.delete(
    "/agencies/{member_id:path}/keys/{key_id}",
    status_code=204,
    summary="Revoke an agency's key (the window operator)",
    responses=problem_responses(401, 403, 404, 422),
)
async def revoke_key(
    member_id: MemberPath, key_id: int, request: Request, caller: Caller
) -> Response:
    state = state_of(request)
    service.require_operator(caller)
    async with transaction(state.sessions) as session:
        await service.revoke_key(
            session, member_id=member_id, key_id=key_id, actor=caller.name, now=state.clock()
        )
    return Response(status_code=204)


@api.put(
    "/services/{code}",
    summary="Create or replace one of the agency's own service definitions",
    response_model=ServiceOut,
    responses={
        201: {"description": "Created", "model": ServiceOut},
        **problem_responses(400, 401, 403, 404, 422),
    },
)
async def put_service(
    code: CodePath,
    definition: Annotated[ServiceDefinition, Body()],
    request: Request,
    response: Response,
    caller: Caller,
    agency: AgencyQuery = None,
) -> ServiceOut:
    """Validated against ZB-STD-010; a refusal lists each offending field."""
    state = state_of(request)
    if definition.code != code:
        raise ValidationError(
            f"the body's code '{definition.code}' is not the path's '{code}'", field="code"
        )
    ensure_rules(definition)
    async with transaction(state.sessions) as session:
        stored, created = await service.put_definition(
            session, caller, definition, agency=agency, now=state.clock()
        )
    response.status_code = 201 if created else 200
    return ServiceOut.of(stored)


@api.get(
    "/services",
    summary="The agency's own service definitions (the operator: every agency's)",
    response_model=list[ServiceOut],
    responses=problem_responses(401, 403, 422),
)
async def list_services(
    request: Request, caller: Caller, agency: AgencyQuery = None
) -> list[ServiceOut]:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        stored = await service.definitions_for(session, caller, agency=agency)
    return [ServiceOut.of(s) for s in stored]


@api.post(
    "/services",
    summary="Import service definitions from YAML: all of them, or none",
    response_model=list[ServiceOut],
    responses=problem_responses(401, 403, 404, 415, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/yaml": {
                    "schema": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"$ref": "#/components/schemas/ServiceDefinition"},
                    }
                }
            },
        }
    },
)
async def import_services(
    request: Request, caller: Caller, agency: AgencyQuery = None
) -> list[ServiceOut]:
    """A YAML list of definitions (``POST`` on the collection: ``/services/import`` would be
    a service's address); one bad definition and nothing is written, the problem's
    ``errors`` naming each by its index and field (``2.form.type``)."""
    state = state_of(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in YAML_TYPES:
        raise UnsupportedMediaError(
            f"send the definitions as application/yaml, not {media or 'nothing'}"
        )
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise ValidationError("an import is at most 2 MiB", field="body")
    try:
        raws = yaml.safe_load(body.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValidationError(f"the body is not YAML (UTF-8): {error}", field="body") from None
    definitions = check_definitions(raws)
    async with transaction(state.sessions) as session:
        stored = await service.import_as(
            session, caller, definitions, agency=agency, now=state.clock()
        )
    return [ServiceOut.of(s) for s in stored]


@api.get(
    "/services/{code}",
    summary="One of the agency's service definitions (the operator names the agency)",
    response_model=ServiceOut,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_service(
    code: CodePath,
    request: Request,
    caller: Caller,
    agency: AgencyQuery = None,
) -> ServiceOut:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        return ServiceOut.of(await service.definition_for(session, caller, code, agency=agency))


@api.delete(
    "/services/{code}",
    status_code=204,
    summary="Delete one of the agency's own service definitions",
    responses=problem_responses(401, 403, 404, 422),
)
async def delete_service(
    code: CodePath,
    request: Request,
    caller: Caller,
    agency: AgencyQuery = None,
) -> Response:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        await service.delete_definition(session, caller, code, agency=agency, now=state.clock())
    return Response(status_code=204)


@api.get(
    "/parallel-systems",
    summary="Services at different agencies with the same outcome, audience and inputs (public)",
    response_model=list[FindingOut],
)
async def list_parallel_systems(request: Request) -> list[FindingOut]:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        definitions = await service.all_definitions(session)
    return [FindingOut.of(f) for f in parallel_systems(definitions)]
