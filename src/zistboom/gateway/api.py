"""The gateway's management API (served on the admin port, bound to localhost): local clients,
their certificates, services, endpoints, local groups, access rights and catalogue publishing.

Routes authenticate the operator's bearer token, parse, and call :mod:`zistboom.gateway.service`;
errors become RFC 9457 problem details in one place.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Response
from fastapi import Path as InPath
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom import __version__
from zistboom.core import identifiers
from zistboom.core.database import transaction
from zistboom.core.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    ValidationError,
)
from zistboom.core.problems import install_problem_handlers, problem_responses
from zistboom.core.tokens import ensure_token_file
from zistboom.gateway import service
from zistboom.gateway.catalogue import CataloguePublisher
from zistboom.gateway.schemas import (
    AccessRightCreate,
    AccessRightOut,
    ClientCertificateAdd,
    ClientCertificateOut,
    ClientCreate,
    ClientOut,
    ClientUpdate,
    ConfigurationVersionOut,
    EndpointCreate,
    EndpointOut,
    LocalGroupCreate,
    LocalGroupMemberAdd,
    LocalGroupOut,
    Method,
    PathPattern,
    PushEndpoint,
    ServiceCreate,
    ServiceOut,
    ServiceUpdate,
    SubjectKind,
    SubsystemIdText,
)
from zistboom.gateway.settings import GatewaySettings

ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105  (a file name, not a secret)
SUBSYSTEM_PATH = "{instance}/{member_class}/{member_code}/{subsystem_code}"


def ensure_admin_token(data_dir: Path) -> str:
    """The management API's bearer token from ``DATA_DIR/admin-token``, created (mode 0600)
    with 256 random bits on first use."""
    return ensure_token_file(data_dir / ADMIN_TOKEN_FILE, field="admin_token")


def _one_of(values: Any) -> str:
    return "^(?:" + "|".join(values) + ")$"


def _subsystem_id(
    instance: Annotated[str, InPath(pattern=_one_of(identifiers.INSTANCES))],
    member_class: Annotated[str, InPath(pattern=_one_of(identifiers.MEMBER_CLASSES))],
    member_code: Annotated[
        str,
        InPath(
            pattern=identifiers.MEMBER_CODE_PATTERN,
            json_schema_extra={"format": identifiers.LEGAL_ENTITY_ID_FORMAT},
        ),
    ],
    subsystem_code: Annotated[str, InPath(pattern=identifiers.CODE_PATTERN)],
) -> str:
    return f"{instance}/{member_class}/{member_code}/{subsystem_code}"


SubsystemPath = Annotated[str, Depends(_subsystem_id)]
# Declared as a security scheme, so the OpenAPI document says every operation needs the token.
_bearer = HTTPBearer(
    auto_error=False, description=f"the admin token from DATA_DIR/{ADMIN_TOKEN_FILE}"
)
AdminToken = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
CodePath = Annotated[str, InPath(pattern=identifiers.CODE_PATTERN)]
SubsystemQuery = Annotated[SubsystemIdText | None, Query(description="only this local client's")]
# Every route needs the token (401); what else each may answer, besides its success:
# 400 a body that is not JSON, 404 a client, service, group or right that does not exist,
# 409 one that exists already, 422 input against its rules.
READ = problem_responses(401, 404, 422)
WRITE = problem_responses(401, 400, 404, 409, 422)
REMOVE = problem_responses(401, 404, 422)


def _endpoint(method: str | None, path: str | None) -> tuple[str, str] | None:
    if method is None and path is None:
        return None
    if method is None or path is None:
        missing = "method" if method is None else "path"
        raise ValidationError(
            "an endpoint is named by both method and path; give both or neither", field=missing
        )
    return method, path


def _openapi(body: ServiceCreate | ServiceUpdate) -> dict[str, Any] | None:
    openapi, openapi_yaml = body.openapi, body.openapi_yaml
    if {"openapi", "openapi_yaml"} <= body.model_fields_set:
        raise ValidationError(
            "send the OpenAPI document once, as 'openapi' or as 'openapi_yaml'",
            field="openapi_yaml",
        )
    if openapi_yaml is not None:
        return service.openapi_from_yaml(openapi_yaml)
    return openapi


def create_management_app(
    sessions: async_sessionmaker[AsyncSession],
    settings: GatewaySettings,
    publisher: CataloguePublisher | None,
) -> FastAPI:
    """The management API as an ASGI app; every route needs the admin token."""
    admin_token = ensure_admin_token(settings.data_dir)

    async def authorised(
        authorization: AdminToken = None,
    ) -> None:
        presented = authorization.credentials.strip() if authorization else ""
        if not presented:
            raise AuthenticationError(
                f"send the admin token from {settings.data_dir / ADMIN_TOKEN_FILE} as "
                "'Authorization: Bearer <token>'",
                field="authorization",
            )
        if not hmac.compare_digest(presented.encode(), admin_token.encode()):
            raise AuthenticationError("wrong admin token", field="authorization")

    api = APIRouter(
        prefix="/api/v1",
        dependencies=[Depends(authorised)],
        responses=problem_responses(401),
    )

    # --- configuration version ---------------------------------------------------------------

    @api.get("/configuration-version", tags=["configuration"])
    async def configuration_version() -> ConfigurationVersionOut:
        async with transaction(sessions) as session:
            return ConfigurationVersionOut(version=await service.configuration_version(session))

    # --- clients -----------------------------------------------------------------------------

    @api.get("/clients", tags=["clients"])
    async def list_clients() -> list[ClientOut]:
        async with transaction(sessions) as session:
            return [ClientOut.of(e) for e in await service.list_clients(session)]

    @api.post("/clients", tags=["clients"], status_code=201, responses=WRITE)
    async def add_client(body: ClientCreate) -> ClientOut:
        async with transaction(sessions) as session:
            client = await service.add_client(
                session,
                body.subsystem_id,
                hosted_members=service.hosted_members(settings),
                body_logging=body.body_logging,
            )
            return ClientOut.of(await service.client_entry(session, client.subsystem_id))

    @api.get(f"/clients/{SUBSYSTEM_PATH}", tags=["clients"], responses=READ)
    async def get_client(subsystem_id: SubsystemPath) -> ClientOut:
        async with transaction(sessions) as session:
            return ClientOut.of(await service.client_entry(session, subsystem_id))

    @api.patch(f"/clients/{SUBSYSTEM_PATH}", tags=["clients"], responses=WRITE)
    async def update_client(subsystem_id: SubsystemPath, body: ClientUpdate) -> ClientOut:
        async with transaction(sessions) as session:
            await service.set_body_logging(session, subsystem_id, body.body_logging)
            return ClientOut.of(await service.client_entry(session, subsystem_id))

    @api.put(f"/clients/{SUBSYSTEM_PATH}/push-endpoint", tags=["clients"], responses=WRITE)
    async def set_push_endpoint(subsystem_id: SubsystemPath, body: PushEndpoint) -> ClientOut:
        """Push the subsystem's incoming asynchronous messages to this URL (ZB-STD-009)."""
        async with transaction(sessions) as session:
            await service.set_push_endpoint(session, subsystem_id, body.url, body.secret)
            return ClientOut.of(await service.client_entry(session, subsystem_id))

    @api.delete(f"/clients/{SUBSYSTEM_PATH}/push-endpoint", tags=["clients"], responses=REMOVE)
    async def remove_push_endpoint(subsystem_id: SubsystemPath) -> ClientOut:
        """Stop pushing: the subsystem's messages wait in its inbox to be pulled."""
        async with transaction(sessions) as session:
            await service.set_push_endpoint(session, subsystem_id, None)
            return ClientOut.of(await service.client_entry(session, subsystem_id))

    @api.delete(f"/clients/{SUBSYSTEM_PATH}", tags=["clients"], status_code=204, responses=REMOVE)
    async def remove_client(subsystem_id: SubsystemPath) -> Response:
        async with transaction(sessions) as session:
            await service.remove_client(session, subsystem_id)
        return Response(status_code=204)

    @api.post(
        f"/clients/{SUBSYSTEM_PATH}/certificates",
        tags=["clients"],
        status_code=201,
        responses=WRITE,
    )
    async def add_client_certificate(
        subsystem_id: SubsystemPath, body: ClientCertificateAdd
    ) -> ClientCertificateOut:
        async with transaction(sessions) as session:
            row = await service.add_client_certificate(session, subsystem_id, body.certificate)
            return ClientCertificateOut(fingerprint=row.fingerprint, created_at=row.created_at)

    @api.delete(
        f"/clients/{SUBSYSTEM_PATH}/certificates/{{fingerprint}}",
        tags=["clients"],
        status_code=204,
        responses=REMOVE,
    )
    async def remove_client_certificate(
        subsystem_id: SubsystemPath,
        fingerprint: Annotated[str, InPath(pattern="^[0-9A-Fa-f]{64}$")],
    ) -> Response:
        async with transaction(sessions) as session:
            await service.remove_client_certificate(session, subsystem_id, fingerprint)
        return Response(status_code=204)

    # --- services ----------------------------------------------------------------------------

    @api.get("/services", tags=["services"], responses=problem_responses(401, 404, 422))
    async def list_services(subsystem_id: SubsystemQuery = None) -> list[ServiceOut]:
        async with transaction(sessions) as session:
            return [ServiceOut.of(e) for e in await service.list_services(session, subsystem_id)]

    @api.post("/services", tags=["services"], status_code=201, responses=WRITE)
    async def add_service(body: ServiceCreate) -> ServiceOut:
        openapi = _openapi(body)
        async with transaction(sessions) as session:
            entry = await service.add_service(
                session,
                body.subsystem_id,
                body.code,
                body.backend_url,
                description=body.description,
                ecosystem=body.ecosystem,
                service_kind=body.service_kind,
                openapi=openapi,
                personal_data=body.personal_data,
                timeout=body.timeout,
                max_body_bytes=body.max_body_bytes,
                backend_secret=body.backend_secret,
                topic=body.topic,
                ordered=body.ordered,
            )
            return ServiceOut.of(entry)

    @api.get(f"/services/{SUBSYSTEM_PATH}/{{code}}", tags=["services"], responses=READ)
    async def get_service(subsystem_id: SubsystemPath, code: CodePath) -> ServiceOut:
        async with transaction(sessions) as session:
            return ServiceOut.of(await service.service_entry(session, subsystem_id, code))

    @api.get(f"/services/{SUBSYSTEM_PATH}/{{code}}/openapi", tags=["services"], responses=READ)
    async def get_service_openapi(subsystem_id: SubsystemPath, code: CodePath) -> dict[str, Any]:
        async with transaction(sessions) as session:
            entry = await service.service_entry(session, subsystem_id, code)
        if entry.service.openapi is None:
            raise NotFoundError(f"service {code} has no OpenAPI document", field="openapi")
        return entry.service.openapi

    @api.patch(f"/services/{SUBSYSTEM_PATH}/{{code}}", tags=["services"], responses=WRITE)
    async def update_service(
        subsystem_id: SubsystemPath, code: CodePath, body: ServiceUpdate
    ) -> ServiceOut:
        given = body.model_fields_set
        changes: dict[str, Any] = {}
        for name in ("backend_url", "description", "personal_data"):
            if name in given:
                if getattr(body, name) is None:
                    raise ValidationError(f"{name} cannot be null", field=name)
                changes[name] = getattr(body, name)
        for name in ("ecosystem", "service_kind", "timeout", "max_body_bytes", "backend_secret"):
            if name in given:
                changes[name] = getattr(body, name)
        if "openapi" in given or "openapi_yaml" in given:
            changes["openapi"] = _openapi(body)
        async with transaction(sessions) as session:
            entry = await service.update_service(session, subsystem_id, code, **changes)
            return ServiceOut.of(entry)

    @api.delete(
        f"/services/{SUBSYSTEM_PATH}/{{code}}", tags=["services"], status_code=204, responses=REMOVE
    )
    async def remove_service(subsystem_id: SubsystemPath, code: CodePath) -> Response:
        async with transaction(sessions) as session:
            await service.remove_service(session, subsystem_id, code)
        return Response(status_code=204)

    @api.post(
        f"/services/{SUBSYSTEM_PATH}/{{code}}/publish",
        tags=["services"],
        responses=problem_responses(400, 401, 403, 404, 409, 422, 500, 502),
    )
    async def publish_service(subsystem_id: SubsystemPath, code: CodePath) -> ServiceOut:
        """Publish the service to central's catalogue now, signed by its member's key."""
        async with transaction(sessions) as session:
            entry = await service.service_entry(session, subsystem_id, code)
        if publisher is None:
            raise ConfigurationError(
                "this gateway cannot publish: it has no central_url or no signing key yet",
                field="central_url",
            )
        # No transaction is held open while central is asked.
        await publisher.publish(entry)
        published_at = entry.service.published_at
        assert published_at is not None
        async with transaction(sessions) as session:
            await service.mark_published(session, subsystem_id, code, published_at)
            return ServiceOut.of(await service.service_entry(session, subsystem_id, code))

    # --- endpoints ---------------------------------------------------------------------------

    @api.post(
        f"/services/{SUBSYSTEM_PATH}/{{code}}/endpoints",
        tags=["services"],
        status_code=201,
        responses=WRITE,
    )
    async def add_endpoint(
        subsystem_id: SubsystemPath, code: CodePath, body: EndpointCreate
    ) -> EndpointOut:
        async with transaction(sessions) as session:
            endpoint = await service.add_endpoint(
                session, subsystem_id, code, body.method, body.path, summary=body.summary
            )
            return EndpointOut.of(endpoint)

    @api.delete(
        f"/services/{SUBSYSTEM_PATH}/{{code}}/endpoints",
        tags=["services"],
        status_code=204,
        responses=REMOVE,
    )
    async def remove_endpoint(
        subsystem_id: SubsystemPath,
        code: CodePath,
        method: Annotated[Method, Query()],
        path: Annotated[PathPattern, Query()],
    ) -> Response:
        """Remove an endpoint (named by the query parameters method and path) and its rights."""
        async with transaction(sessions) as session:
            await service.remove_endpoint(session, subsystem_id, code, method, path)
        return Response(status_code=204)

    # --- access rights -----------------------------------------------------------------------

    @api.get(f"/services/{SUBSYSTEM_PATH}/{{code}}/access", tags=["access rights"], responses=READ)
    async def list_access_rights(
        subsystem_id: SubsystemPath, code: CodePath
    ) -> list[AccessRightOut]:
        async with transaction(sessions) as session:
            rights = await service.list_access_rights(session, subsystem_id, code)
            return [AccessRightOut.of(r) for r in rights]

    @api.post(
        f"/services/{SUBSYSTEM_PATH}/{{code}}/access",
        tags=["access rights"],
        status_code=201,
        responses=WRITE,
    )
    async def grant(
        subsystem_id: SubsystemPath, code: CodePath, body: AccessRightCreate
    ) -> AccessRightOut:
        endpoint = _endpoint(body.method, body.path)
        async with transaction(sessions) as session:
            entry = await service.grant(
                session,
                subsystem_id,
                code,
                body.subject_kind,
                body.subject,
                endpoint,
                body.accreditation.requirement() if body.accreditation else None,
            )
            return AccessRightOut.of(entry)

    @api.delete(
        f"/services/{SUBSYSTEM_PATH}/{{code}}/access",
        tags=["access rights"],
        status_code=204,
        responses=REMOVE,
    )
    async def revoke(
        subsystem_id: SubsystemPath,
        code: CodePath,
        subject: Annotated[str, Query(max_length=300)],
        subject_kind: SubjectKind = "subsystem",
        method: Annotated[Method | None, Query()] = None,
        path: Annotated[PathPattern | None, Query()] = None,
    ) -> Response:
        """Revoke the access right named by the query parameters."""
        endpoint = _endpoint(method, path)
        async with transaction(sessions) as session:
            await service.revoke(session, subsystem_id, code, subject_kind, subject, endpoint)
        return Response(status_code=204)

    # --- local groups ------------------------------------------------------------------------

    @api.get("/local-groups", tags=["local groups"], responses=problem_responses(401, 404, 422))
    async def list_local_groups(subsystem_id: SubsystemQuery = None) -> list[LocalGroupOut]:
        async with transaction(sessions) as session:
            groups = await service.list_local_groups(session, subsystem_id)
            return [LocalGroupOut.of(g) for g in groups]

    @api.post("/local-groups", tags=["local groups"], status_code=201, responses=WRITE)
    async def add_local_group(body: LocalGroupCreate) -> LocalGroupOut:
        async with transaction(sessions) as session:
            await service.add_local_group(session, body.subsystem_id, body.code, body.description)
            entry = await service.local_group_entry(session, body.subsystem_id, body.code)
            return LocalGroupOut.of(entry)

    @api.get(f"/local-groups/{SUBSYSTEM_PATH}/{{code}}", tags=["local groups"], responses=READ)
    async def get_local_group(subsystem_id: SubsystemPath, code: CodePath) -> LocalGroupOut:
        async with transaction(sessions) as session:
            return LocalGroupOut.of(await service.local_group_entry(session, subsystem_id, code))

    @api.delete(
        f"/local-groups/{SUBSYSTEM_PATH}/{{code}}",
        tags=["local groups"],
        status_code=204,
        responses=REMOVE,
    )
    async def remove_local_group(subsystem_id: SubsystemPath, code: CodePath) -> Response:
        async with transaction(sessions) as session:
            await service.remove_local_group(session, subsystem_id, code)
        return Response(status_code=204)

    @api.post(
        f"/local-groups/{SUBSYSTEM_PATH}/{{code}}/members",
        tags=["local groups"],
        status_code=201,
        responses=WRITE,
    )
    async def add_local_group_member(
        subsystem_id: SubsystemPath, code: CodePath, body: LocalGroupMemberAdd
    ) -> LocalGroupOut:
        async with transaction(sessions) as session:
            entry = await service.add_local_group_member(
                session, subsystem_id, code, body.member_id
            )
            return LocalGroupOut.of(entry)

    @api.delete(
        f"/local-groups/{SUBSYSTEM_PATH}/{{code}}/members",
        tags=["local groups"],
        status_code=200,
        responses=REMOVE,
    )
    async def remove_local_group_member(
        subsystem_id: SubsystemPath,
        code: CodePath,
        member_id: Annotated[SubsystemIdText, Query()],
    ) -> LocalGroupOut:
        """Remove the subsystem named by the query parameter member_id from the group."""
        async with transaction(sessions) as session:
            entry = await service.remove_local_group_member(session, subsystem_id, code, member_id)
            return LocalGroupOut.of(entry)

    app = FastAPI(
        title="Zistboom gateway management",
        version=__version__,
        summary="Local clients, services, endpoints, local groups and access rights",
    )
    install_problem_handlers(app)
    app.include_router(api)

    return app
