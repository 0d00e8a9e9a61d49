"""Central's tables: members, subsystems, gateways, certificates, enrolment tokens, global groups,
ecosystems, operators' API keys, the audit log, the global configuration's version history and
the trust list's issues.
Queries that more than one service function needs live here, beside the tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from zistboom.core.database import UTCDateTime, component_metadata


class Base(DeclarativeBase):
    metadata = component_metadata()
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("instance", "member_class", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance: Mapped[str] = mapped_column(String(16))
    member_class: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(11))
    name_fa: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    contact_name: Mapped[str | None] = mapped_column(String(255))
    contact_national_code: Mapped[str | None] = mapped_column(String(10))
    contact_mobile: Mapped[str | None] = mapped_column(String(11))
    contact_email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]

    subsystems: Mapped[list[Subsystem]] = relationship(
        back_populates="member", order_by="Subsystem.code", lazy="selectin"
    )
    gateways: Mapped[list[Gateway]] = relationship(
        back_populates="member", order_by="Gateway.code", lazy="selectin"
    )

    @property
    def identifier(self) -> str:
        return f"{self.instance}/{self.member_class}/{self.code}"


class Subsystem(Base):
    __tablename__ = "subsystems"
    __table_args__ = (UniqueConstraint("member_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    code: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

    member: Mapped[Member] = relationship(back_populates="subsystems", lazy="joined")


class Gateway(Base):
    __tablename__ = "gateways"
    __table_args__ = (UniqueConstraint("member_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    code: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]

    member: Mapped[Member] = relationship(back_populates="gateways", lazy="joined")


class Certificate(Base):
    """Every certificate the instance CA issued, with its revocation state."""

    __tablename__ = "certificates"

    serial: Mapped[str] = mapped_column(String(48), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    gateway_id: Mapped[int | None] = mapped_column(ForeignKey("gateways.id"))
    identity: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    pem: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(32))


class EnrolmentToken(Base):
    """A one-time token an operator issued for one member, gateway and certificate kind:
    ``auth``, ``sign``, or ``gateway`` (one of each, for setting up a gateway in one step)."""

    __tablename__ = "enrolment_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    gateway_id: Mapped[int | None] = mapped_column(ForeignKey("gateways.id"))
    kind: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
    """Set once every kind the token grants has been issued."""
    used_kinds: Mapped[str] = mapped_column(String(32), default="")
    """Comma-separated certificate kinds already issued with this token."""
    certificate_serial: Mapped[str | None] = mapped_column(String(48))


class GlobalGroup(Base):
    __tablename__ = "global_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]

    members: Mapped[list[GlobalGroupMember]] = relationship(
        order_by="GlobalGroupMember.client_id", lazy="selectin", cascade="all, delete-orphan"
    )


class GlobalGroupMember(Base):
    __tablename__ = "global_group_members"
    __table_args__ = (UniqueConstraint("group_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("global_groups.id"))
    client_id: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[datetime]


class Ecosystem(Base):
    __tablename__ = "ecosystems"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_fa: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str] = mapped_column(String(255))
    phase: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date | None] = mapped_column(Date)
    operator_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class ApiKey(Base):
    """An operator's API key, stored as the SHA-256 of its secret (the secret is high-entropy)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditRecord(Base):
    """Append-only, hash-chained record of every change made through central."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255))
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class GlobalConfVersion(Base):
    """One row per published content version of the global configuration."""

    __tablename__ = "global_conf_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class TrustListIssue(Base):
    """One row per trust list issued (ZB-STD-007): its sequence number, never reused, and the
    digest of the signed list as served, so that which list was current when can be shown."""

    __tablename__ = "trust_list_issues"

    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    next_update: Mapped[datetime]


async def find_member(
    session: AsyncSession, instance: str, member_class: str, code: str
) -> Member | None:
    result = await session.execute(
        select(Member).where(
            Member.instance == instance, Member.member_class == member_class, Member.code == code
        )
    )
    return result.scalar_one_or_none()


class CatalogueService(Base):
    """A service as its provider member last published it to the catalogue (signed)."""

    __tablename__ = "catalogue_services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[str] = mapped_column(String(255), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    subsystem_code: Mapped[str] = mapped_column(String(64))
    service_code: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    ecosystem: Mapped[str | None] = mapped_column(ForeignKey("ecosystems.key"), index=True)
    service_kind: Mapped[str | None] = mapped_column(String(64))
    personal_data: Mapped[bool]
    openapi: Mapped[dict[str, Any] | None]
    endpoints: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    search_text: Mapped[str] = mapped_column(Text)
    """Service id, codes and description, normalised and lower-cased, for ``q`` searches."""
    statement: Mapped[str] = mapped_column(Text)
    """The signed publication (compact JWS) as received, so anyone can check it again."""
    signer_serial: Mapped[str] = mapped_column(String(48))
    published_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class HostedMember(Base):
    """A member whose subsystems another member's gateway serves (multi-tenant hosting)."""

    __tablename__ = "gateway_hosted_members"
    __table_args__ = (UniqueConstraint("gateway_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    gateway_id: Mapped[int] = mapped_column(ForeignKey("gateways.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
