"""Request and response models of central's API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from zistboom.central.models import (
    ApiKey,
    AuditRecord,
    Certificate,
    Ecosystem,
    Gateway,
    GlobalGroup,
    Member,
)
from zistboom.core.persian import format_jalali, to_jalali_iso


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MemberCreate(Input):
    member_class: Literal["GOV", "PUB", "COM", "NGO"] = Field(
        description="GOV executive agency, PUB public non-government body, COM company, NGO"
    )
    code: str = Field(description="11-digit legal-entity national ID (شناسه ملی)", max_length=32)
    name_fa: str = Field(max_length=255)
    name_en: str = Field(max_length=255)
    kind: Literal["agency", "public-body", "company", "ecosystem-operator"]
    contact_name: str | None = Field(default=None, max_length=255)
    contact_national_code: str | None = Field(
        default=None, description="national code (کد ملی) of the technical contact", max_length=32
    )
    contact_mobile: str | None = Field(default=None, max_length=32)
    contact_email: str | None = Field(default=None, max_length=255)


class SubsystemOut(BaseModel):
    id: str
    code: str


class GatewayCreate(Input):
    code: str = Field(max_length=64, description="gateway code, unique within the member")
    address: str = Field(max_length=300, description="host:port of the gateway's peer port")


class HostedMemberAdd(Input):
    member_id: str = Field(max_length=300, description="the hosted member, INSTANCE/CLASS/CODE")


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
    code: str = Field(max_length=64)


class GlobalGroupCreate(Input):
    code: str = Field(max_length=64)
    description: str = Field(max_length=255)


class GlobalGroupMemberAdd(Input):
    client_id: str = Field(max_length=300, description="subsystem id INSTANCE/CLASS/CODE/SUBSYSTEM")


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
    member_id: str = Field(max_length=300, description="INSTANCE/CLASS/CODE")
    kind: str = Field(
        description="'auth' (gateway TLS), 'sign' (member signatures) or 'gateway' (both)"
    )
    gateway_code: str | None = Field(default=None, max_length=64)
    expires_in_minutes: int | None = None


class EnrolmentTokenOut(BaseModel):
    token: str = Field(description="shown once; central keeps only its hash")
    member_id: str
    kind: str
    gateway_code: str | None
    expires_at: datetime


class EnrolRequest(Input):
    token: str = Field(max_length=200)
    csr: str = Field(max_length=20_000, description="PEM certificate signing request")
    kind: str | None = Field(
        default=None, description="'auth' or 'sign', when the token grants both ('gateway')"
    )


class RevokeRequest(Input):
    reason: str = "unspecified"


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
    name: str = Field(max_length=255)
    role: str
    member_id: str | None = Field(default=None, max_length=300)


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


class AnchorOut(BaseModel):
    instance: str
    url: str
    key_fingerprint: str
