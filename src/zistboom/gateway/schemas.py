"""Request and response models of the gateway's management API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from zistboom.gateway.models import Endpoint
from zistboom.gateway.service import (
    MAX_DESCRIPTION,
    MAX_OPENAPI_BYTES,
    AccessRightEntry,
    ClientEntry,
    LocalGroupEntry,
    ServiceEntry,
)

SubjectKind = Literal["subsystem", "local-group", "global-group"]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- clients ---------------------------------------------------------------------------------


class ClientCreate(Input):
    subsystem_id: str = Field(max_length=300, description="INSTANCE/CLASS/CODE/SUBSYSTEM")
    body_logging: bool = Field(
        default=True, description="keep message bodies in the message log for this subsystem"
    )


class ClientUpdate(Input):
    body_logging: bool


class ClientCertificateAdd(Input):
    certificate: str = Field(
        max_length=20_000, description="PEM certificate the information system presents over TLS"
    )


class ClientCertificateOut(BaseModel):
    fingerprint: str = Field(description="SHA-256 of the certificate's DER, lower-case hex")
    created_at: datetime


class ClientOut(BaseModel):
    subsystem_id: str
    body_logging: bool
    certificates: list[ClientCertificateOut]
    created_at: datetime

    @classmethod
    def of(cls, entry: ClientEntry) -> ClientOut:
        return cls(
            subsystem_id=entry.client.subsystem_id,
            body_logging=entry.client.body_logging,
            certificates=[
                ClientCertificateOut(fingerprint=c.fingerprint, created_at=c.created_at)
                for c in entry.certificates
            ],
            created_at=entry.client.created_at,
        )


# --- services and endpoints ------------------------------------------------------------------


class ServiceFields(Input):
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    ecosystem: str | None = Field(
        default=None, max_length=64, description="key of the ecosystem, as in central's list"
    )
    service_kind: str | None = Field(default=None, max_length=64)
    personal_data: bool = Field(
        default=False,
        description="the service returns personal data: calls need X-Road-UserId and a purpose",
    )
    timeout: float | None = Field(default=None, description="backend timeout in seconds")
    max_body_bytes: int | None = None
    openapi: dict[str, Any] | None = Field(
        default=None, description="OpenAPI 3.x document; its operations become endpoints"
    )
    openapi_yaml: str | None = Field(
        default=None,
        max_length=MAX_OPENAPI_BYTES,
        description="the OpenAPI document as YAML text, instead of 'openapi'",
    )


class ServiceCreate(ServiceFields):
    subsystem_id: str = Field(max_length=300, description="the provider: a local client")
    code: str = Field(max_length=64, description="service code, unique within the subsystem")
    backend_url: str = Field(max_length=1000, description="absolute http(s) URL of the backend")


class ServiceUpdate(Input):
    """Only the fields sent are changed; a new OpenAPI document reconciles the endpoints."""

    backend_url: str | None = Field(default=None, max_length=1000)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    ecosystem: str | None = Field(default=None, max_length=64)
    service_kind: str | None = Field(default=None, max_length=64)
    personal_data: bool | None = None
    timeout: float | None = None
    max_body_bytes: int | None = None
    openapi: dict[str, Any] | None = None
    openapi_yaml: str | None = Field(default=None, max_length=MAX_OPENAPI_BYTES)


class EndpointCreate(Input):
    method: str = Field(max_length=10, description="HTTP method, or '*' for every method")
    path: str = Field(
        max_length=1000,
        description="path pattern: '/persons/{nationalCode}', '*' one segment, final '**' any rest",
    )
    summary: str | None = Field(default=None, max_length=2000)


class EndpointOut(BaseModel):
    method: str
    path: str
    operation_id: str | None
    summary: str | None

    @classmethod
    def of(cls, endpoint: Endpoint) -> EndpointOut:
        return cls(
            method=endpoint.method,
            path=endpoint.path,
            operation_id=endpoint.operation_id,
            summary=endpoint.summary,
        )


class ServiceOut(BaseModel):
    service_id: str
    subsystem_id: str
    code: str
    backend_url: str
    description: str
    ecosystem: str | None
    service_kind: str | None
    personal_data: bool
    timeout: float | None
    max_body_bytes: int | None
    has_openapi: bool
    endpoints: list[EndpointOut]
    created_at: datetime
    published_at: datetime | None

    @classmethod
    def of(cls, entry: ServiceEntry) -> ServiceOut:
        service = entry.service
        return cls(
            service_id=entry.service_id,
            subsystem_id=entry.subsystem_id,
            code=service.code,
            backend_url=service.backend_url,
            description=service.description,
            ecosystem=service.ecosystem,
            service_kind=service.service_kind,
            personal_data=service.personal_data,
            timeout=service.timeout,
            max_body_bytes=service.max_body_bytes,
            has_openapi=service.openapi is not None,
            endpoints=[EndpointOut.of(e) for e in entry.endpoints],
            created_at=service.created_at,
            published_at=service.published_at,
        )


# --- local groups ----------------------------------------------------------------------------


class LocalGroupCreate(Input):
    subsystem_id: str = Field(max_length=300, description="the local client defining the group")
    code: str = Field(max_length=64)
    description: str = Field(default="", max_length=255)


class LocalGroupMemberAdd(Input):
    member_id: str = Field(max_length=300, description="subsystem id INSTANCE/CLASS/CODE/SUB")


class LocalGroupOut(BaseModel):
    subsystem_id: str
    code: str
    description: str
    members: list[str]

    @classmethod
    def of(cls, entry: LocalGroupEntry) -> LocalGroupOut:
        return cls(
            subsystem_id=entry.subsystem_id,
            code=entry.group.code,
            description=entry.group.description,
            members=entry.members,
        )


# --- access rights ---------------------------------------------------------------------------


class AccessRightCreate(Input):
    subject_kind: SubjectKind = "subsystem"
    subject: str = Field(
        max_length=300,
        description="a subsystem id, or the code of a local group or of a global group",
    )
    method: str | None = Field(
        default=None, max_length=10, description="with 'path': limit the right to one endpoint"
    )
    path: str | None = Field(default=None, max_length=1000)


class AccessRightOut(BaseModel):
    subject_kind: str
    subject: str
    method: str | None = Field(description="null: the right covers the whole service")
    path: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: AccessRightEntry) -> AccessRightOut:
        return cls(
            subject_kind=entry.right.subject_kind,
            subject=entry.right.subject,
            method=entry.method,
            path=entry.path,
            created_at=entry.right.created_at,
        )


class ConfigurationVersionOut(BaseModel):
    version: int
