"""Request and response models of central's API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from zistboom.central.catalogue import Listing, ListingAccreditation
from zistboom.central.models import (
    ApiKey,
    AuditRecord,
    Certificate,
    Ecosystem,
    Gateway,
    GlobalGroup,
    Member,
)
from zistboom.core import identifiers
from zistboom.core.persian import format_jalali, to_jalali_iso


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# Rules the OpenAPI document states; what a pattern cannot (check digits, what exists) the
# service checks and answers 422, 404 or 409.
# A text with something left after persian.normalize_text: a character that is neither a space
# nor one of the invisible marks it deletes (controls, bidi marks, kashida, harakat, ZWNJ).
_DELETED = r"\u00ad\u061c\u0640\u064b-\u0652\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
NonBlank = Annotated[
    str,
    Field(min_length=1, max_length=255, pattern=f"[^{identifiers.SPACE_CHARACTERS}{_DELETED}]"),
]
Code = Annotated[str, Field(pattern=identifiers.CODE_PATTERN, max_length=64)]
MemberIdText = Annotated[
    str,
    Field(
        pattern=identifiers.MEMBER_ID_PATTERN,
        json_schema_extra={"format": identifiers.MEMBER_ID_FORMAT},
        max_length=300,
        description="INSTANCE/CLASS/CODE; CODE is a legal-entity ID with a valid check digit",
    ),
]
SubsystemIdText = Annotated[
    str,
    Field(
        pattern=identifiers.SUBSYSTEM_ID_PATTERN,
        json_schema_extra={"format": identifiers.SUBSYSTEM_ID_FORMAT},
        max_length=300,
        description="INSTANCE/CLASS/CODE/SUBSYSTEM of a registered subsystem",
    ),
]
MemberClass = Literal["GOV", "PUB", "COM", "NGO"]
ADDRESS_PATTERN = (
    r"^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]):"
    r"(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$"
)
# service._EMAIL, with its \s spelled out.
_NOT_IN_EMAIL = f"[^@{identifiers.SPACE_CHARACTERS}]"
EMAIL_PATTERN = f"^{_NOT_IN_EMAIL}{{1,64}}@{_NOT_IN_EMAIL}{{1,255}}\\.{_NOT_IN_EMAIL}{{2,}}$"
MOBILE_PATTERN = r"^(?:09|\+989|00989|989)[0-9]{9}$"
NATIONAL_CODE_PATTERN = r"^[0-9]{8,10}$"


def _when(field: str, values: list[str], then: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema rule: when ``field`` is one of ``values``, ``then`` applies too."""
    return {"if": {"properties": {field: {"enum": values}}, "required": [field]}, "then": then}


class MemberCreate(Input):
    """The kind decides the member class for agencies (GOV) and ecosystem operators (COM)."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                _when("kind", [kind], {"properties": {"member_class": {"const": member_class}}})
                for kind, member_class in (("agency", "GOV"), ("ecosystem-operator", "COM"))
            ]
        }
    )

    member_class: MemberClass = Field(
        description="GOV executive agency, PUB public non-government body, COM company, NGO"
    )
    kind: Literal["agency", "public-body", "company", "ecosystem-operator"]
    code: str = Field(
        description="11-digit legal-entity national ID (شناسه ملی) with a valid check digit",
        pattern=identifiers.MEMBER_CODE_PATTERN,
        json_schema_extra={"format": identifiers.LEGAL_ENTITY_ID_FORMAT},
    )
    name_fa: NonBlank
    name_en: NonBlank
    contact_name: str | None = Field(default=None, max_length=255)
    contact_national_code: str | None = Field(
        default=None,
        description="national code (کد ملی) of the technical contact, with a valid check digit",
        pattern=NATIONAL_CODE_PATTERN,
        json_schema_extra={"format": identifiers.NATIONAL_CODE_FORMAT},
    )
    contact_mobile: str | None = Field(default=None, pattern=MOBILE_PATTERN)
    contact_email: str | None = Field(default=None, max_length=255, pattern=EMAIL_PATTERN)


class SubsystemOut(BaseModel):
    id: str
    code: str


class GatewayCreate(Input):
    code: Code = Field(description="gateway code, unique within the member")
    address: str = Field(
        max_length=300, pattern=ADDRESS_PATTERN, description="host:port of the gateway's peer port"
    )


class HostedMemberAdd(Input):
    member_id: MemberIdText = Field(description="the hosted member, INSTANCE/CLASS/CODE")


class GatewayOut(BaseModel):
    id: str
    code: str
    address: str

    @classmethod
    def of(cls, gateway: Gateway, member: Member) -> GatewayOut:
        return cls(
            id=f"{member.identifier}/{gateway.code}", code=gateway.code, address=gateway.address
        )


class MemberOut(BaseModel):
    id: str
    instance: str
    member_class: str
    code: str
    name_fa: str
    name_en: str
    kind: str
    subsystems: list[SubsystemOut]
    gateways: list[GatewayOut]
    created_at: datetime

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls(
            id=member.identifier,
            instance=member.instance,
            member_class=member.member_class,
            code=member.code,
            name_fa=member.name_fa,
            name_en=member.name_en,
            kind=member.kind,
            subsystems=[
                SubsystemOut(id=f"{member.identifier}/{s.code}", code=s.code)
                for s in member.subsystems
            ],
            gateways=[GatewayOut.of(g, member) for g in member.gateways],
            created_at=member.created_at,
        )


class SubsystemCreate(Input):
    code: Code


class GlobalGroupCreate(Input):
    code: Code
    description: NonBlank


class GlobalGroupMemberAdd(Input):
    client_id: SubsystemIdText


class GlobalGroupOut(BaseModel):
    code: str
    description: str
    members: list[str]

    @classmethod
    def of(cls, group: GlobalGroup) -> GlobalGroupOut:
        return cls(
            code=group.code,
            description=group.description,
            members=[m.client_id for m in group.members],
        )


class EcosystemOut(BaseModel):
    key: str
    name_fa: str
    name_en: str
    phase: int
    deadline: date | None = Field(description="Gregorian date")
    deadline_jalali: str | None = Field(description="Jalali date, YYYY-MM-DD")
    deadline_fa: str | None = Field(description="Jalali date in Persian digits")
    operator: str | None

    @classmethod
    def of(cls, ecosystem: Ecosystem, operator: str | None = None) -> EcosystemOut:
        deadline = ecosystem.deadline
        return cls(
            key=ecosystem.key,
            name_fa=ecosystem.name_fa,
            name_en=ecosystem.name_en,
            phase=ecosystem.phase,
            deadline=deadline,
            deadline_jalali=to_jalali_iso(deadline) if deadline else None,
            deadline_fa=format_jalali(deadline) if deadline else None,
            operator=operator,
        )


class EnrolmentTokenCreate(Input):
    """An authentication certificate ('auth', or 'gateway': one of each) is for one gateway."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                _when(
                    "kind",
                    ["auth", "gateway"],
                    {
                        "required": ["gateway_code"],
                        "properties": {"gateway_code": {"type": "string"}},
                    },
                )
            ]
        }
    )

    member_id: MemberIdText
    kind: Literal["auth", "sign", "doc", "gateway"] = Field(
        description="'auth' (gateway TLS), 'sign' (member signatures), 'doc' (document "
        "signing, for the member's issuer service) or 'gateway' (auth and sign)"
    )
    gateway_code: Code | None = Field(
        default=None, description="the member's registered gateway; ignored for 'sign' and 'doc'"
    )
    expires_in_minutes: int | None = Field(
        default=None, ge=1, le=7 * 24 * 60, description="1 to 10080 (a week); default from settings"
    )


class EnrolmentTokenOut(BaseModel):
    token: str = Field(description="shown once; central keeps only its hash")
    member_id: str
    kind: str
    gateway_code: str | None
    expires_at: datetime


class EnrolRequest(Input):
    token: str = Field(max_length=200)
    csr: str = Field(max_length=20_000, description="PEM certificate signing request")
    kind: Literal["auth", "sign", "doc"] | None = Field(
        default=None,
        description="the certificate asked for: required when the token grants two ('gateway': "
        "'auth' or 'sign'); when given it must be one the token grants",
    )


RevocationReason = Literal[
    "unspecified", "keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation"
]


class RevokeRequest(Input):
    reason: RevocationReason = "unspecified"


class CertificateOut(BaseModel):
    serial: str
    kind: str
    identity: str
    fingerprint: str
    certificate: str
    ca_certificate: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None
    revocation_reason: str | None

    @classmethod
    def of(cls, cert: Certificate, ca_pem: str) -> CertificateOut:
        return cls(
            serial=cert.serial,
            kind=cert.kind,
            identity=cert.identity,
            fingerprint=cert.fingerprint,
            certificate=cert.pem,
            ca_certificate=ca_pem,
            not_before=cert.not_before,
            not_after=cert.not_after,
            revoked_at=cert.revoked_at,
            revocation_reason=cert.revocation_reason,
        )


class ApiKeyCreate(Input):
    """A key with role 'member' or 'assessor' names one member; keys of other roles none."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    **_when(
                        "role",
                        ["member", "assessor"],
                        {
                            "required": ["member_id"],
                            "properties": {"member_id": {"type": "string"}},
                        },
                    ),
                    "else": {"properties": {"member_id": {"type": "null"}}},
                }
            ]
        }
    )

    name: NonBlank
    role: Literal["admin", "registrar", "auditor", "member", "assessor"]
    member_id: MemberIdText | None = None


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    role: str
    secret: str | None = Field(default=None, description="shown once, at creation")

    @classmethod
    def of(cls, key: ApiKey, secret: str | None = None) -> ApiKeyOut:
        return cls(key_id=key.key_id, name=key.name, role=key.role, secret=secret)


class AuditRecordOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, object]
    hash: str

    @classmethod
    def of(cls, row: AuditRecord) -> AuditRecordOut:
        return cls(
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            target=row.target,
            details=row.details,
            hash=row.hash,
        )


class AuditVerificationOut(BaseModel):
    ok: bool
    records: int
    first_bad_seq: int | None
    problem: str | None


# Pages: a limit with a documented maximum, and positions that SQLite's and PostgreSQL's
# 64-bit integers (and JSON clients' doubles) hold exactly.
MAX_PAGE = 1000
MAX_POSITION = 2**53 - 1


class AnchorOut(BaseModel):
    instance: str
    url: str
    key_fingerprint: str


# --- catalogue ---------------------------------------------------------------------------


class CatalogueEndpointOut(BaseModel):
    method: str
    path: str
    operation_id: str | None = None
    summary: str | None = None


class CatalogueAccreditationOut(BaseModel):
    """The accreditation a service of a regulated kind needs to be listed (ZB-STD-007)."""

    resource: str = Field(description="`<ecosystem>:<kind>` the scheme regulates")
    scheme: str
    status: Literal["current", "lapsed"] = Field(
        description="lapsed listings are shown to operators and the provider member only"
    )
    message: str = Field(description="the accreditation it rests on, or what is missing")

    @classmethod
    def of(cls, accreditation: ListingAccreditation) -> CatalogueAccreditationOut:
        return cls(
            resource=accreditation.resource,
            scheme=accreditation.scheme,
            status="current" if accreditation.current else "lapsed",
            message=accreditation.message,
        )


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
    accreditation: CatalogueAccreditationOut | None = Field(
        description="null when the service's kind is not regulated in its ecosystem"
    )

    @classmethod
    def of(cls, listing: Listing) -> CatalogueEntryOut:
        row, member = listing.service, listing.member
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
            accreditation=CatalogueAccreditationOut.of(listing.accreditation)
            if listing.accreditation
            else None,
        )


class CatalogueEntryDetailOut(CatalogueEntryOut):
    openapi: dict[str, object] | None
    statement: str

    @classmethod
    def detail(cls, listing: Listing) -> CatalogueEntryDetailOut:
        summary = CatalogueEntryOut.of(listing).model_dump()
        row = listing.service
        return cls(**summary, openapi=row.openapi, statement=row.statement)
