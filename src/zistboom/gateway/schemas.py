"""Request and response models of the gateway's management API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from zistboom.core import identifiers
from zistboom.core.accreditation import Requirement
from zistboom.core.trustlist import Level
from zistboom.gateway.models import Endpoint
from zistboom.gateway.service import (
    ANY_METHOD,
    HTTP_METHODS,
    MAX_DESCRIPTION,
    MAX_OPENAPI_BYTES,
    MAX_PATH_LENGTH,
    MAX_TIMEOUT_SECONDS,
    MAX_URL_LENGTH,
    AccessRightEntry,
    ClientEntry,
    LocalGroupEntry,
    ServiceEntry,
)

SubjectKind = Literal["subsystem", "local-group", "global-group"]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# Rules the OpenAPI document states; what a pattern cannot (check digits, what this gateway
# hosts, what exists) the service checks and answers 422, 404 or 409.


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


METHOD_PATTERN = (
    "^(?:" + "|".join(_any_case(m) for m in HTTP_METHODS) + "|" + "\\" + ANY_METHOD + ")$"
)
# service.validate_path: segments of URL path characters (not '.' or '..'), '*' for one
# segment, a final '**' for any rest; '/' alone is the root. How '%' and '{name}' are written
# inside a segment (percent-encoded octets, whole templates) only the service checks.
_CHAR = r"[A-Za-z0-9\-._~!$&'()+,;=:@%{}]"
_NOT_DOT = r"[A-Za-z0-9\-_~!$&'()+,;=:@%{}]"
_SEGMENT = f"(?:{_NOT_DOT}{_CHAR}*|\\.{_NOT_DOT}{_CHAR}*|\\.\\.{_CHAR}+|\\*)"
PATH_PATTERN = f"^/(?:{_SEGMENT}/)*(?:{_SEGMENT}|\\*\\*)?$"
# service.validate_backend_url: absolute http(s), no user@, no #fragment, no spaces/controls.
BACKEND_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9.\-]+(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}"
    r"|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(?:[/?][^#@\x00-\x1f\x7f"
    + identifiers.SPACE_CHARACTERS
    + "]*)?$"
)
ECOSYSTEM_PATTERN = r"^(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)?$"
Code = Annotated[str, Field(pattern=identifiers.CODE_PATTERN, max_length=64)]
REQUIRED_KEY = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
"""An ecosystem key or a kind of service, as the trust list spells them."""
# service.create_service and update_service: a code, or empty for none.
ServiceKind = Annotated[str, Field(pattern=f"^$|{identifiers.CODE_PATTERN}", max_length=64)]
SubsystemIdText = Annotated[
    str,
    Field(
        pattern=identifiers.SUBSYSTEM_ID_PATTERN,
        json_schema_extra={"format": identifiers.SUBSYSTEM_ID_FORMAT},
        max_length=300,
        description="INSTANCE/CLASS/CODE/SUBSYSTEM; CODE is a legal-entity ID with a valid "
        "check digit",
    ),
]
Method = Annotated[
    str, Field(pattern=METHOD_PATTERN, description="HTTP method (any case), or '*' for every")
]
PathPattern = Annotated[
    str,
    Field(
        pattern=PATH_PATTERN,
        max_length=MAX_PATH_LENGTH,
        description="path pattern: '/persons/{nationalCode}', '*' one segment, final '**' any rest",
    ),
]
BackendUrl = Annotated[
    str,
    Field(
        pattern=BACKEND_URL_PATTERN,
        max_length=MAX_URL_LENGTH,
        description="absolute http(s) URL of the backend, without user@ or #fragment",
    ),
]
Timeout = Annotated[
    float, Field(gt=0, le=MAX_TIMEOUT_SECONDS, description="backend timeout in seconds")
]
# Kept in an INTEGER column: SQLite's and PostgreSQL's both hold 2**31 - 1.
MaxBodyBytes = Annotated[int, Field(ge=1, le=2**31 - 1, description="largest request body")]
Ecosystem = Annotated[
    str,
    Field(
        pattern=ECOSYSTEM_PATTERN,
        max_length=64,
        description="key of the ecosystem, as in central's list ('' for none)",
    ),
]


# --- clients ---------------------------------------------------------------------------------


class ClientCreate(Input):
    subsystem_id: SubsystemIdText = Field(
        description="a subsystem of a member this gateway hosts, INSTANCE/CLASS/CODE/SUBSYSTEM"
    )
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
    push_url: str | None = None

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
            push_url=entry.client.push_url,
        )


# --- services and endpoints ------------------------------------------------------------------


# The OpenAPI document comes once: as 'openapi' or as 'openapi_yaml', never both keys.
_ONE_DOCUMENT: dict[str, Any] = {"not": {"required": ["openapi", "openapi_yaml"]}}


BackendSecret = Annotated[
    str,
    Field(
        pattern=r"^[!-~]{32,256}$",
        description=(
            "sent to the backend in X-Zistboom-Gateway-Secret with every call, so that the "
            "backend can tell the gateway's calls from others; write-only (never shown)"
        ),
    ),
]


class PushEndpoint(Input):
    url: BackendUrl = Field(description="where the gateway POSTs the subsystem's messages")
    secret: BackendSecret | None = None


class ServiceFields(Input):
    model_config = ConfigDict(json_schema_extra=_ONE_DOCUMENT)

    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    ecosystem: Ecosystem | None = None
    service_kind: ServiceKind | None = None
    personal_data: bool = Field(
        default=False,
        description="the service returns personal data: calls need X-Road-UserId and a purpose",
    )
    timeout: Timeout | None = None
    max_body_bytes: MaxBodyBytes | None = None
    backend_secret: BackendSecret | None = None
    topic: bool = Field(
        default=False, description="a topic of publish/subscribe: subscribed to, not called"
    )
    ordered: bool = Field(
        default=False, description="asynchronous messages to it are delivered in order per sender"
    )
    openapi: dict[str, Any] | None = Field(
        default=None, description="OpenAPI 3.x document; its operations become endpoints"
    )
    openapi_yaml: str | None = Field(
        default=None,
        max_length=MAX_OPENAPI_BYTES,
        description="the OpenAPI document as YAML text, instead of 'openapi'",
    )


class ServiceCreate(ServiceFields):
    subsystem_id: SubsystemIdText = Field(description="the provider: a local client")
    code: Code = Field(description="service code, unique within the subsystem")
    backend_url: BackendUrl


class ServiceUpdate(Input):
    """Only the fields sent are changed; a new OpenAPI document reconciles the endpoints."""

    model_config = ConfigDict(json_schema_extra=_ONE_DOCUMENT)

    # Not nullable: sent or not sent (None only marks "not sent"; a null is refused by the route).
    backend_url: BackendUrl | SkipJsonSchema[None] = None
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] | SkipJsonSchema[None] = None
    ecosystem: Ecosystem | None = None
    service_kind: ServiceKind | None = None
    personal_data: bool | SkipJsonSchema[None] = None
    timeout: Timeout | None = None
    max_body_bytes: MaxBodyBytes | None = None
    backend_secret: BackendSecret | None = None
    openapi: dict[str, Any] | None = None
    openapi_yaml: str | None = Field(default=None, max_length=MAX_OPENAPI_BYTES)


class EndpointCreate(Input):
    method: Method
    path: PathPattern
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
    backend_secret_set: bool
    topic: bool = False
    ordered: bool = False
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
            backend_secret_set=service.backend_secret is not None,
            topic=service.topic,
            ordered=service.ordered,
            has_openapi=service.openapi is not None,
            endpoints=[EndpointOut.of(e) for e in entry.endpoints],
            created_at=service.created_at,
            published_at=service.published_at,
        )


# --- local groups ----------------------------------------------------------------------------


class LocalGroupCreate(Input):
    subsystem_id: SubsystemIdText = Field(description="the local client defining the group")
    code: Code
    description: str = Field(default="", max_length=255)


class LocalGroupMemberAdd(Input):
    member_id: SubsystemIdText


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


class AccreditationRequirement(Input):
    """An accreditation the client must hold: to provide ``kind`` in ``ecosystem`` at
    ``level`` or higher (directly, or recognised from another ecosystem at a mapped level)."""

    ecosystem: str = Field(pattern=REQUIRED_KEY, max_length=64, examples=["tax"])
    kind: str = Field(pattern=REQUIRED_KEY, max_length=64, examples=["e-invoice-provider"])
    level: Level = "basic"

    def requirement(self) -> Requirement:
        return Requirement(self.ecosystem, self.kind, self.level)


class AccessRightCreate(Input):
    """A right to the whole service, or with both method and path to one endpoint."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {one: {"type": "string"}}, "required": [one]},
                    "then": {"properties": {other: {"type": "string"}}, "required": [other]},
                }
                for one, other in (("method", "path"), ("path", "method"))
            ]
        }
    )

    subject_kind: SubjectKind = "subsystem"
    subject: str = Field(
        max_length=300,
        description="a subsystem id, or the code of a local group or of a global group",
    )
    method: Method | None = Field(
        default=None, description="with 'path': limit the right to one endpoint"
    )
    path: PathPattern | None = Field(default=None, description="with 'method'")
    accreditation: AccreditationRequirement | None = Field(
        default=None,
        description="the right holds only while the calling client holds this accreditation "
        "(checked at call time against the trust list, ZB-STD-007)",
    )


class AccreditationRequirementOut(BaseModel):
    ecosystem: str
    kind: str
    level: str


class AccessRightOut(BaseModel):
    subject_kind: str
    subject: str
    method: str | None = Field(description="null: the right covers the whole service")
    path: str | None
    accreditation: AccreditationRequirementOut | None = Field(
        description="null: no accreditation is required of the client"
    )
    created_at: datetime

    @classmethod
    def of(cls, entry: AccessRightEntry) -> AccessRightOut:
        required = entry.requirement
        return cls(
            subject_kind=entry.right.subject_kind,
            subject=entry.right.subject,
            method=entry.method,
            path=entry.path,
            accreditation=AccreditationRequirementOut(
                ecosystem=required.ecosystem, kind=required.kind, level=required.level
            )
            if required
            else None,
            created_at=entry.right.created_at,
        )


class ConfigurationVersionOut(BaseModel):
    version: int
