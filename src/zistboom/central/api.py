"""Central's HTTP API: routes parse and authenticate, then call a service function."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from zistboom.central import audit, ca, operators, service
from zistboom.central.ca import InstanceKeys
from zistboom.central.publisher import Publisher
from zistboom.central.schemas import (
    AnchorOut,
    ApiKeyCreate,
    ApiKeyOut,
    AuditRecordOut,
    AuditVerificationOut,
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
    MemberOut,
    RevokeRequest,
    SubsystemCreate,
    SubsystemOut,
)
from zistboom.central.settings import CentralSettings
from zistboom.core.crypto import timestamp, x509
from zistboom.core.database import transaction
from zistboom.core.errors import ConfigurationError, ValidationError
from zistboom.core.persian import to_jalali_iso

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

    @property
    def ca_pem(self) -> str:
        return x509.certificate_pem(self.keys.ca_cert)


def state_of(request: Request) -> CentralState:
    state: CentralState = request.app.state.central
    return state


State = Annotated[CentralState, Depends(state_of)]
Authorization = Annotated[str | None, Header(description="Bearer <API key>")]


async def _operator(state: CentralState, authorization: str | None) -> operators.Operator:
    presented = None
    if authorization and authorization.lower().startswith("bearer "):
        presented = authorization[7:].strip()
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
    responses={200: {"content": {GLOBAL_CONF_MEDIA_TYPE: {}}}, 304: {"description": "unchanged"}},
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
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {TIMESTAMP_QUERY: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={200: {"content": {TIMESTAMP_REPLY: {}}}},
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
        return [EcosystemOut.of(e) for e in await service.list_ecosystems(session)]


@api.get("/ecosystems/{key}", tags=["ecosystems"], response_model=EcosystemOut)
async def get_ecosystem(key: str, state: State) -> EcosystemOut:
    async with transaction(state.sessions) as session:
        return EcosystemOut.of(await service.get_ecosystem(session, key))


# --- members, subsystems, gateways ----------------------------------------------------------------


@api.post("/members", tags=["members"], status_code=201, response_model=MemberOut)
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


@api.get("/members", tags=["members"], response_model=list[MemberOut])
async def list_members(state: State, authorization: Authorization = None) -> list[MemberOut]:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        return [MemberOut.of(m) for m in await service.list_members(session, actor=actor)]


@api.get("/members/{member_class}/{code}", tags=["members"], response_model=MemberOut)
async def get_member(
    member_class: str, code: str, state: State, authorization: Authorization = None
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
)
async def add_subsystem(
    member_class: str,
    code: str,
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
)
async def register_gateway(
    member_class: str,
    code: str,
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
)
async def host_member(
    member_class: str,
    code: str,
    gateway_code: str,
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


@api.post("/global-groups", tags=["global groups"], status_code=201, response_model=GlobalGroupOut)
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
)
async def add_global_group_member(
    code: str, body: GlobalGroupMemberAdd, state: State, authorization: Authorization = None
) -> GlobalGroupOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        group = await service.get_global_group(session, code)
        await service.add_global_group_member(session, group, body.client_id, actor=actor)
        return GlobalGroupOut.of(group)


# --- instance CA -----------------------------------------------------------------------------


@api.post("/enrolment-tokens", tags=["CA"], status_code=201, response_model=EnrolmentTokenOut)
async def create_enrolment_token(
    body: EnrolmentTokenCreate, state: State, authorization: Authorization = None
) -> EnrolmentTokenOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        member = await service.member_by_id(session, body.member_id, field="member_id")
        row, token = await ca.create_enrolment_token(
            session,
            state.settings,
            member=member,
            kind=body.kind,
            gateway_code=body.gateway_code,
            expires_in_minutes=body.expires_in_minutes,
            actor=actor,
        )
        return EnrolmentTokenOut(
            token=token,
            member_id=member.identifier,
            kind=row.kind,
            gateway_code=body.gateway_code if row.kind in ("auth", "gateway") else None,
            expires_at=row.expires_at,
        )


@api.post("/ca/enrol", tags=["CA"], status_code=201, response_model=CertificateOut)
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


@api.get("/ca/certificate", tags=["CA"], response_class=PlainTextResponse)
async def ca_certificate(state: State) -> PlainTextResponse:
    return PlainTextResponse(state.ca_pem, media_type="application/x-pem-file")


@api.get("/ca/certificates", tags=["CA"], response_model=list[CertificateOut])
async def list_certificates(
    state: State, member_id: str | None = None, authorization: Authorization = None
) -> list[CertificateOut]:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        member = (
            await service.member_by_id(session, member_id, field="member_id") if member_id else None
        )
        rows = await ca.list_certificates(session, member=member, actor=actor)
        return [CertificateOut.of(c, state.ca_pem) for c in rows]


@api.post("/ca/certificates/{serial}/revoke", tags=["CA"], response_model=CertificateOut)
async def revoke(
    serial: str, body: RevokeRequest, state: State, authorization: Authorization = None
) -> CertificateOut:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        cert = await ca.revoke(session, serial, body.reason, actor=actor)
        return CertificateOut.of(cert, state.ca_pem)


# --- operators and audit ---------------------------------------------------------------------


@api.post("/api-keys", tags=["operators"], status_code=201, response_model=ApiKeyOut)
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


@api.get("/audit", tags=["operators"], response_model=list[AuditRecordOut])
async def audit_log(
    state: State, after: int = 0, limit: int = 100, authorization: Authorization = None
) -> list[AuditRecordOut]:
    actor = await _operator(state, authorization)
    async with transaction(state.sessions) as session:
        rows = await audit.list_records(
            session, actor=actor, after=after, limit=min(max(limit, 1), 1000)
        )
        return [AuditRecordOut.of(r) for r in rows]


@api.get("/audit/verify", tags=["operators"], response_model=AuditVerificationOut)
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

from datetime import datetime  # noqa: E402

from pydantic import BaseModel  # noqa: E402

from zistboom.central import catalogue  # noqa: E402
from zistboom.central.models import CatalogueService, Member  # noqa: E402


class CatalogueEndpointOut(BaseModel):
    method: str
    path: str
    operation_id: str | None = None
    summary: str | None = None


class CatalogueEntryOut(BaseModel):
    service_id: str
    member_id: str
    member_name_fa: str
    member_name_en: str
    subsystem_code: str
    service_code: str
    description: str
    ecosystem: str | None
    service_kind: str | None
    personal_data: bool
    endpoints: list[CatalogueEndpointOut]
    published_at: datetime
    published_at_jalali: str
    updated_at: datetime

    @classmethod
    def of(cls, row: CatalogueService, member: Member) -> CatalogueEntryOut:
        return cls(
            service_id=row.service_id,
            member_id=member.identifier,
            member_name_fa=member.name_fa,
            member_name_en=member.name_en,
            subsystem_code=row.subsystem_code,
            service_code=row.service_code,
            description=row.description,
            ecosystem=row.ecosystem,
            service_kind=row.service_kind,
            personal_data=row.personal_data,
            endpoints=[CatalogueEndpointOut(**e) for e in row.endpoints],
            published_at=row.published_at,
            published_at_jalali=to_jalali_iso(row.published_at),
            updated_at=row.updated_at,
        )


class CatalogueEntryDetailOut(CatalogueEntryOut):
    openapi: dict[str, object] | None
    statement: str

    @classmethod
    def detail(cls, row: CatalogueService, member: Member) -> CatalogueEntryDetailOut:
        summary = CatalogueEntryOut.of(row, member).model_dump()
        return cls(**summary, openapi=row.openapi, statement=row.statement)


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
        row = await catalogue.publish(session, state.settings, state.keys, statement=statement)
        member = await session.get(Member, row.member_id)
        assert member is not None
        return CatalogueEntryOut.of(row, member)


@api.get("/catalogue", tags=["catalogue"], response_model=list[CatalogueEntryOut])
async def list_catalogue(
    state: State,
    ecosystem: str | None = None,
    member_id: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[CatalogueEntryOut]:
    async with transaction(state.sessions) as session:
        rows = await catalogue.list_entries(
            session, ecosystem=ecosystem, member_id=member_id, q=q, limit=limit, offset=offset
        )
        return [CatalogueEntryOut.of(row, member) for row, member in rows]


@api.get("/catalogue/{service_id:path}", tags=["catalogue"], response_model=CatalogueEntryDetailOut)
async def get_catalogue_entry(service_id: str, state: State) -> CatalogueEntryDetailOut:
    async with transaction(state.sessions) as session:
        row, member = await catalogue.get_entry(session, service_id)
        return CatalogueEntryDetailOut.detail(row, member)
