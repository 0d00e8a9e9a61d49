"""Central's HTTP API: routes parse and authenticate, then call a service function."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zistboom.central import audit, ca, catalogue, operators, service
from zistboom.central.ca import InstanceKeys
from zistboom.central.publisher import Publisher
from zistboom.central.schemas import (
    MAX_PAGE,
    MAX_POSITION,
    AnchorOut,
    ApiKeyCreate,
    ApiKeyOut,
    AuditRecordOut,
    AuditVerificationOut,
    CatalogueEntryDetailOut,
    CatalogueEntryOut,
    CertificateOut,
    EcosystemOut,
    EnrolmentTokenCreate,
    EnrolmentTokenOut,
    EnrolRequest,
    GatewayCreate,
    GatewayOut,
    GlobalGroupCreate,
    GlobalGroupMemberAdd,
    GlobalGroupOut,
    HostedMemberAdd,
    MemberCreate,
    MemberIdText,
    MemberOut,
    RevokeRequest,
    SubsystemCreate,
    SubsystemOut,
)
from zistboom.central.settings import CentralSettings
from zistboom.core import identifiers
from zistboom.core.accreditation import TrustIndex
from zistboom.core.crypto import timestamp, x509
from zistboom.core.database import transaction
from zistboom.core.errors import ConfigurationError, MethodNotAllowedError, ValidationError
from zistboom.core.persian import to_jalali_iso
from zistboom.core.problems import problem_responses

log = logging.getLogger("zistboom.central")
GLOBAL_CONF_MEDIA_TYPE = "application/jose"
TIMESTAMP_QUERY = "application/timestamp-query"
TIMESTAMP_REPLY = "application/timestamp-reply"
MAX_TIMESTAMP_QUERY = 16 * 1024


@dataclass(slots=True)
class CentralState:
    settings: CentralSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keys: InstanceKeys
    publisher: Publisher
    trust_index: Callable[[], TrustIndex]
    """The current trust list, arranged for checks (the catalogue's accreditation rule)."""

    @property
    def ca_pem(self) -> str:
        return x509.certificate_pem(self.keys.ca_cert)


def state_of(request: Request) -> CentralState:
    state: CentralState = request.app.state.central
    return state


State = Annotated[CentralState, Depends(state_of)]
# Declared as a security scheme, so the OpenAPI document says which operations need a key; the
# refusal (401 with problem details) stays ours.
_bearer = HTTPBearer(auto_error=False, description="an API key: 'Authorization: Bearer zb_…'")
Authorization = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
# For operations anyone may call, which answer more to a key: "no key" is a requirement too
# (FastAPI adds it to the bearer requirement it states).
OPTIONAL_KEY: dict[str, object] = {"security": [{}]}
# What every operation that needs an API key may answer besides its own errors, and what
# every operation with a JSON body may (400: not JSON at all; 422: against its schema).
KEYED = (401, 403)
BODY = (400, 422)
Position = Annotated[int, Query(ge=0, le=MAX_POSITION)]
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"at most {MAX_PAGE}")]
MemberClassPath = Annotated[str, Path(pattern="^(?:" + "|".join(identifiers.MEMBER_CLASSES) + ")$")]
MemberCodePath = Annotated[
    str,
    Path(
        pattern=identifiers.MEMBER_CODE_PATTERN,
        json_schema_extra={"format": identifiers.LEGAL_ENTITY_ID_FORMAT},
    ),
]
CodePath = Annotated[str, Path(pattern=identifiers.CODE_PATTERN)]


async def _operator(
    state: CentralState, authorization: HTTPAuthorizationCredentials | None
) -> operators.Operator:
    presented = authorization.credentials.strip() if authorization else None
    async with transaction(state.sessions) as session:
        return await operators.authenticate(session, presented)


public = APIRouter(tags=["public"])
api = APIRouter(prefix="/api/v1")


# --- public: health, global configuration, TSA, anchor ------------------------------------------


@public.get("/health", summary="Liveness")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@public.get("/ready", summary="Readiness: the database answers and a configuration is signed")
async def ready(state: State) -> dict[str, object]:
    current = await state.publisher.current()
    return {"status": "ready", "global_conf_version": current.document.version}


@public.get(
    "/global-conf",
    summary="The signed global configuration (compact JWS)",
    response_class=Response,
    responses={
        200: {"description": "the compact JWS", "content": {GLOBAL_CONF_MEDIA_TYPE: {}}},
        304: {"description": "unchanged"},
    },
)
async def global_conf(
    state: State, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    current = await state.publisher.current()
    headers = {"ETag": current.etag, "Cache-Control": "no-cache"}
    if if_none_match and current.etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(current.token, media_type=GLOBAL_CONF_MEDIA_TYPE, headers=headers)


@public.get("/anchor", summary="The configuration anchor", response_model=AnchorOut)
async def anchor(state: State) -> AnchorOut:
    a = state.publisher.anchor
    return AnchorOut(instance=a.instance, url=a.url, key_fingerprint=a.key_fingerprint)


@public.post(
    "/tsa",
    summary="RFC 3161 timestamping",
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {TIMESTAMP_QUERY: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={
        200: {"description": "a granted timestamp", "content": {TIMESTAMP_REPLY: {}}},
        400: {"description": "a rejection (not DER)", "content": {TIMESTAMP_REPLY: {}}},
        **problem_responses(422),
        503: {"description": "the TSA cannot sign now", "content": {TIMESTAMP_REPLY: {}}},
    },
)
async def tsa(request: Request, state: State) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != TIMESTAMP_QUERY:
        raise ValidationError(
            f"send the query as {TIMESTAMP_QUERY}, not {content_type or 'no content type'}",
            field="content-type",
        )
    body = await request.body()
    if len(body) > MAX_TIMESTAMP_QUERY:
        raise ValidationError("a timestamp query is at most 16 KiB", field="timestamp_query")
    try:
        reply = ca.timestamp_reply(state.keys, body)
    except ValidationError as error:
        fail_info = error.extra.get("fail_info", "bad_data_format")
        rejection = timestamp.create_rejection_response(fail_info, error.detail)
        return Response(rejection, status_code=400, media_type=TIMESTAMP_REPLY)
    except ConfigurationError as error:
        log.error("the TSA cannot sign: %s", error.detail)
        failure = timestamp.create_rejection_response("system_failure", "the TSA cannot sign now")
        return Response(failure, status_code=503, media_type=TIMESTAMP_REPLY)
    return Response(reply, media_type=TIMESTAMP_REPLY)


# --- ecosystems and the programme ---------------------------------------------------------------


@api.get("/programme", tags=["ecosystems"], summary="The programme's facts")
async def programme() -> dict[str, object]:
    facts = service.programme_facts()["programme"]
    directive = service.directive_date()
    return {
        "name_fa": facts["name_fa"],
        "name_en": facts["name_en"],
        "directive_date": directive.isoformat(),
        "directive_date_jalali": to_jalali_iso(directive),
        "deliverables": facts["deliverables"],
        "obligations": facts["obligations"],
        "minimum_private_share_percent": facts["minimum_private_share_percent"],
    }


@api.get("/ecosystems", tags=["ecosystems"], response_model=list[EcosystemOut])
async def list_ecosystems(state: State) -> list[EcosystemOut]:
    async with transaction(state.sessions) as session:
        operated = await service.ecosystem_operators(session)
        return [
            EcosystemOut.of(e, operated[e.key].identifier if e.key in operated else None)
            for e in await service.list_ecosystems(session)
        ]


@api.get(
    "/ecosystems/{key}",
    tags=["ecosystems"],
    response_model=EcosystemOut,
    responses=problem_responses(404),
)
async def get_ecosystem(key: str, state: State) -> EcosystemOut:
    async with transaction(state.sessions) as session:
        ecosystem = await service.get_ecosystem(session, key)
        operator = (await service.ecosystem_operators(session)).get(key)
        return EcosystemOut.of(ecosystem, operator.identifier if operator else None)


# --- members, subsystems, gateways ----------------------------------------------------------------


@api.post(
    "/members",
    tags=["members"],
    status_code=201,
    response_model=MemberOut,
    responses=problem_responses(*KEYED, 409, *BODY),
)
async def register_member(
    body: MemberCreate, state: State, authorization: Authorization = None
) -> MemberOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        member = await service.register_member(
            session,
            state.settings.instance,
            service.MemberInput(**body.model_dump()),
            actor=actor,
        )
        return MemberOut.of(member)


@api.get(
    "/members",
    tags=["members"],
    response_model=list[MemberOut],
    responses=problem_responses(*KEYED),
)
async def list_members(state: State, authorization: Authorization = None) -> list[MemberOut]:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        return [MemberOut.of(m) for m in await service.list_members(session, actor=actor)]


@api.get(
    "/members/{member_class}/{code}",
    tags=["members"],
    response_model=MemberOut,
    responses=problem_responses(*KEYED, 404, 422),
)
async def get_member(
    member_class: MemberClassPath,
    code: MemberCodePath,
    state: State,
    authorization: Authorization = None,
) -> MemberOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        member = await service.get_member(
            session, state.settings.instance, member_class, code, actor=actor
        )
        return MemberOut.of(member)


@api.post(
    "/members/{member_class}/{code}/subsystems",
    tags=["members"],
    status_code=201,
    response_model=SubsystemOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def add_subsystem(
    member_class: MemberClassPath,
    code: MemberCodePath,
    body: SubsystemCreate,
    state: State,
    authorization: Authorization = None,
) -> SubsystemOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        member = await service.get_member(
            session, state.settings.instance, member_class, code, actor=actor
        )
        subsystem = await service.add_subsystem(session, member, body.code, actor=actor)
        return SubsystemOut(id=f"{member.identifier}/{subsystem.code}", code=subsystem.code)


@api.post(
    "/members/{member_class}/{code}/gateways",
    tags=["members"],
    status_code=201,
    response_model=GatewayOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def register_gateway(
    member_class: MemberClassPath,
    code: MemberCodePath,
    body: GatewayCreate,
    state: State,
    authorization: Authorization = None,
) -> GatewayOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        member = await service.get_member(
            session, state.settings.instance, member_class, code, actor=actor
        )
        gateway = await service.register_gateway(
            session, member, body.code, body.address, actor=actor
        )
        return GatewayOut.of(gateway, member)


@api.post(
    "/members/{member_class}/{code}/gateways/{gateway_code}/hosted-members",
    tags=["members"],
    status_code=201,
    response_model=GatewayOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def host_member(
    member_class: MemberClassPath,
    code: MemberCodePath,
    gateway_code: CodePath,
    body: HostedMemberAdd,
    state: State,
    authorization: Authorization = None,
) -> GatewayOut:
    """Let this gateway also serve another member's subsystems (multi-tenant hosting)."""
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        owner = await service.get_member(
            session, state.settings.instance, member_class, code, actor=actor
        )
        gateway = service.find_gateway(owner, gateway_code)
        hosted = await service.member_by_id(session, body.member_id, field="member_id")
        await service.host_member(session, gateway, hosted, actor=actor)
        return GatewayOut.of(gateway, owner)


# --- global groups -------------------------------------------------------------------------------


@api.post(
    "/global-groups",
    tags=["global groups"],
    status_code=201,
    response_model=GlobalGroupOut,
    responses=problem_responses(*KEYED, 409, *BODY),
)
async def create_global_group(
    body: GlobalGroupCreate, state: State, authorization: Authorization = None
) -> GlobalGroupOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        group = await service.create_global_group(session, body.code, body.description, actor=actor)
        return GlobalGroupOut.of(group)


@api.get("/global-groups", tags=["global groups"], response_model=list[GlobalGroupOut])
async def list_global_groups(state: State) -> list[GlobalGroupOut]:
    async with transaction(state.sessions) as session:
        return [GlobalGroupOut.of(g) for g in await service.list_global_groups(session)]


@api.post(
    "/global-groups/{code}/members",
    tags=["global groups"],
    status_code=201,
    response_model=GlobalGroupOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def add_global_group_member(
    code: CodePath, body: GlobalGroupMemberAdd, state: State, authorization: Authorization = None
) -> GlobalGroupOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        group = await service.get_global_group(session, code)
        await service.add_global_group_member(session, group, body.client_id, actor=actor)
        return GlobalGroupOut.of(group)


# --- instance CA -----------------------------------------------------------------------------


@api.post(
    "/enrolment-tokens",
    tags=["CA"],
    status_code=201,
    response_model=EnrolmentTokenOut,
    responses=problem_responses(*KEYED, 404, *BODY),
)
async def create_enrolment_token(
    body: EnrolmentTokenCreate, state: State, authorization: Authorization = None
) -> EnrolmentTokenOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        member = await service.member_by_id(session, body.member_id, field="member_id")
        gateway_code = body.gateway_code if body.kind in ("auth", "gateway") else None
        row, token = await ca.create_enrolment_token(
            session,
            state.settings,
            member=member,
            kind=body.kind,
            gateway_code=gateway_code,
            expires_in_minutes=body.expires_in_minutes,
            actor=actor,
        )
        return EnrolmentTokenOut(
            token=token,
            member_id=member.identifier,
            kind=row.kind,
            gateway_code=gateway_code,
            expires_at=row.expires_at,
        )


@api.post(
    "/ca/enrol",
    tags=["CA"],
    status_code=201,
    response_model=CertificateOut,
    responses=problem_responses(401, 409, *BODY),
)
async def enrol(body: EnrolRequest, state: State) -> CertificateOut:
    async with transaction(state.sessions) as session:
        cert = await ca.enrol(
            session, state.settings, state.keys, token=body.token, csr_pem=body.csr, kind=body.kind
        )
        return CertificateOut.of(cert, state.ca_pem)


@api.post(
    "/ca/renew",
    tags=["CA"],
    status_code=201,
    response_model=CertificateOut,
    responses=problem_responses(400, 401, 404, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/jose": {"schema": {"type": "string"}}},
        }
    },
)
async def renew(request: Request, state: State) -> CertificateOut:
    body = (await request.body())[: 64 * 1024].decode("ascii", errors="replace").strip()
    async with transaction(state.sessions) as session:
        cert = await ca.renew(session, state.settings, state.keys, request_jws=body)
        return CertificateOut.of(cert, state.ca_pem)


@api.get(
    "/ca/certificate",
    tags=["CA"],
    response_class=Response,
    responses={
        200: {
            "description": "the instance CA's certificate",
            "content": {"application/x-pem-file": {"schema": {"type": "string"}}},
        }
    },
)
async def ca_certificate(state: State) -> Response:
    return Response(state.ca_pem, media_type="application/x-pem-file")


@api.get(
    "/ca/certificates",
    tags=["CA"],
    response_model=list[CertificateOut],
    responses=problem_responses(*KEYED, 404, 422),
)
async def list_certificates(
    state: State,
    member_id: Annotated[MemberIdText | None, Query()] = None,
    authorization: Authorization = None,
) -> list[CertificateOut]:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        member = (
            await service.member_by_id(session, member_id, field="member_id") if member_id else None
        )
        rows = await ca.list_certificates(session, member=member, actor=actor)
        return [CertificateOut.of(c, state.ca_pem) for c in rows]


@api.post(
    "/ca/certificates/{serial}/revoke",
    tags=["CA"],
    response_model=CertificateOut,
    responses=problem_responses(*KEYED, 404, 409, *BODY),
)
async def revoke(
    serial: Annotated[str, Path(pattern="^[0-9A-Fa-f]{1,40}$")],
    body: RevokeRequest,
    state: State,
    authorization: Authorization = None,
) -> CertificateOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        cert = await ca.revoke(session, serial, body.reason, actor=actor)
        return CertificateOut.of(cert, state.ca_pem)


# --- operators and audit ---------------------------------------------------------------------


@api.post(
    "/api-keys",
    tags=["operators"],
    status_code=201,
    response_model=ApiKeyOut,
    responses=problem_responses(*KEYED, 404, *BODY),
)
async def create_api_key(
    body: ApiKeyCreate, state: State, authorization: Authorization = None
) -> ApiKeyOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        member = (
            await service.member_by_id(session, body.member_id, field="member_id")
            if body.member_id
            else None
        )
        row, secret = await operators.create_api_key(
            session, name=body.name, role=body.role, member=member, actor=actor
        )
        return ApiKeyOut.of(row, secret)


@api.get(
    "/audit",
    tags=["operators"],
    response_model=list[AuditRecordOut],
    responses=problem_responses(*KEYED, 422),
)
async def audit_log(
    state: State,
    after: Annotated[Position, Query(description="the last seq already read")] = 0,
    limit: PageLimit = 100,
    authorization: Authorization = None,
) -> list[AuditRecordOut]:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        rows = await audit.list_records(session, actor=actor, after=after, limit=limit)
        return [AuditRecordOut.of(r) for r in rows]


@api.get(
    "/audit/verify",
    tags=["operators"],
    response_model=AuditVerificationOut,
    responses=problem_responses(*KEYED),
)
async def audit_verify(state: State, authorization: Authorization = None) -> AuditVerificationOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        result = await audit.verify(session, actor=actor)
        return AuditVerificationOut(
            ok=result.ok,
            records=result.records,
            first_bad_seq=result.first_bad_seq,
            problem=result.problem,
        )


# --- catalogue -------------------------------------------------------------------------------
# The service catalogue: providers publish signed descriptions of their services; anyone reads.


async def _limited_body(request: Request, limit: int) -> bytes:
    received = bytearray()
    async for chunk in request.stream():
        received.extend(chunk)
        if len(received) > limit:
            raise ValidationError(
                f"a catalogue publication is at most {limit // (1024 * 1024)} MiB",
                field="statement",
            )
    return bytes(received)


@api.post(
    "/catalogue/services",
    tags=["catalogue"],
    summary="Publish (add or replace) a service, signed by its provider member",
    response_model=CatalogueEntryOut,
    responses=problem_responses(400, 401, 403, 404, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/jose": {"schema": {"type": "string"}}},
        }
    },
)
async def publish_catalogue_service(request: Request, state: State) -> CatalogueEntryOut:
    body = await _limited_body(request, catalogue.MAX_STATEMENT_BYTES)
    statement = body.decode("ascii", errors="replace").strip()
    async with transaction(state.sessions) as session:
        listing = await catalogue.publish(
            session,
            state.settings,
            state.keys,
            statement=statement,
            trust_index=state.trust_index(),
        )
        return CatalogueEntryOut.of(listing)


@api.api_route(
    "/catalogue/services",
    methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"],
    include_in_schema=False,
)
async def catalogue_services_other_methods() -> None:
    """Only POST: without this, GET would be read as a lookup of a service named 'services'."""
    raise MethodNotAllowedError("publish a service with POST", allow=("POST",))


async def _viewer(
    state: CentralState, authorization: HTTPAuthorizationCredentials | None
) -> operators.Operator | None:
    """The operator reading the catalogue, if a key was sent (a wrong key is refused)."""
    return await _operator(state, authorization) if authorization is not None else None


@api.get(
    "/catalogue",
    tags=["catalogue"],
    summary="The catalogue (public; with an operator's key, lapsed listings too, marked)",
    response_model=list[CatalogueEntryOut],
    responses=problem_responses(401, 422),
    openapi_extra=OPTIONAL_KEY,
)
async def list_catalogue(
    state: State,
    ecosystem: Annotated[str | None, Query(max_length=64)] = None,
    member_id: Annotated[MemberIdText | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: PageLimit = 100,
    offset: Position = 0,
    authorization: Authorization = None,
) -> list[CatalogueEntryOut]:
    """Without a key: the public view, which leaves out services whose accreditation has
    lapsed. With an admin's, registrar's or auditor's key (or the provider member's own): those
    too, with ``accreditation.status`` ``lapsed``."""
    viewer = await _viewer(state, authorization)
    async with transaction(state.sessions) as session:
        listings = await catalogue.list_entries(
            session,
            trust_index=state.trust_index(),
            viewer=viewer,
            ecosystem=ecosystem,
            member_id=member_id,
            q=q,
            limit=limit,
            offset=offset,
        )
        return [CatalogueEntryOut.of(listing) for listing in listings]


@api.get(
    "/catalogue/{service_id:path}",
    tags=["catalogue"],
    response_model=CatalogueEntryDetailOut,
    responses=problem_responses(401, 404, 422),
    openapi_extra=OPTIONAL_KEY,
)
async def get_catalogue_entry(
    service_id: Annotated[
        str,
        Path(
            pattern=identifiers.SERVICE_ID_PATTERN,
            json_schema_extra={"format": identifiers.SERVICE_ID_FORMAT},
            description="INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE",
        ),
    ],
    state: State,
    authorization: Authorization = None,
) -> CatalogueEntryDetailOut:
    """One service; one whose accreditation has lapsed only with a key that sees it (as the
    list)."""
    viewer = await _viewer(state, authorization)
    async with transaction(state.sessions) as session:
        listing = await catalogue.get_entry(
            session, service_id, trust_index=state.trust_index(), viewer=viewer
        )
        return CatalogueEntryDetailOut.detail(listing)
