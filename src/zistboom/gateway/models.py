"""The gateway's tables: its members and subsystems, services, endpoints and access rights.
The message log's tables are in ``messagelog.py`` on the same metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from zistboom.core.database import UTCDateTime, component_metadata


class Base(DeclarativeBase):
    metadata = component_metadata()
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class LocalClient(Base):
    """A subsystem this gateway serves, as consumer, provider or both."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subsystem_id: Mapped[str] = mapped_column(String(255), unique=True)
    body_logging: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    push_url: Mapped[str | None] = mapped_column(String(1000))
    """Where the gateway pushes the subsystem's incoming asynchronous messages (ZB-STD-009);
    without one they wait in its inbox to be pulled."""
    push_secret: Mapped[str | None] = mapped_column(Text)
    """Sent with each push in X-Zistboom-Gateway-Secret; never shown by the management API."""


class ClientCertificate(Base):
    """A TLS client certificate an information system presents to act as a local client."""

    __tablename__ = "client_certificates"
    __table_args__ = (UniqueConstraint("client_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    pem: Mapped[str] = mapped_column(Text)
    """The certificate itself: the client port trusts exactly the registered certificates."""
    created_at: Mapped[datetime]


class Service(Base):
    """A provider service: a service code of a local subsystem mapped to a backend URL."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("client_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    backend_url: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str] = mapped_column(Text, default="")
    ecosystem: Mapped[str | None] = mapped_column(String(64))
    service_kind: Mapped[str | None] = mapped_column(String(64))
    openapi: Mapped[dict[str, Any] | None]
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False)
    timeout: Mapped[float | None] = mapped_column(Float)
    max_body_bytes: Mapped[int | None] = mapped_column(Integer)
    # Sent to the backend in X-Zistboom-Gateway-Secret so that it can tell the gateway's calls
    # from anyone else's on its host (ZB-STD-004 §6.3); never shown by the management API.
    backend_secret: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]
    topic: Mapped[bool] = mapped_column(Boolean, default=False)
    """A topic of publish/subscribe (ZB-STD-009): subscribed to, not called."""
    ordered: Mapped[bool] = mapped_column(Boolean, default=False)
    """Asynchronous messages to it are delivered in order per sender."""


class Endpoint(Base):
    """A method and path pattern of a service (from its OpenAPI document or added by hand)."""

    __tablename__ = "endpoints"
    __table_args__ = (UniqueConstraint("service_id", "method", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(1000))
    operation_id: Mapped[str | None] = mapped_column(String(255))
    summary: Mapped[str | None] = mapped_column(Text)


class LocalGroup(Base):
    """A group of client subsystems defined by one local subsystem, for its access rights."""

    __tablename__ = "local_groups"
    __table_args__ = (UniqueConstraint("client_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime]


class LocalGroupMember(Base):
    __tablename__ = "local_group_members"
    __table_args__ = (UniqueConstraint("group_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("local_groups.id", ondelete="CASCADE"))
    member_id: Mapped[str] = mapped_column(String(255))
    """A subsystem id (``INSTANCE/CLASS/CODE/SUBSYSTEM``)."""


class AccessRight(Base):
    """Who may call a service, or one endpoint of it."""

    __tablename__ = "access_rights"
    __table_args__ = (UniqueConstraint("service_id", "endpoint_id", "subject_kind", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    subject_kind: Mapped[str] = mapped_column(String(16))
    """``subsystem``, ``local-group`` or ``global-group``."""
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    required_ecosystem: Mapped[str | None] = mapped_column(String(64))
    """With ``required_kind`` and ``required_level``: the right holds only while the client is
    accredited to provide that kind of service in that ecosystem at that level or higher."""
    required_kind: Mapped[str | None] = mapped_column(String(64))
    required_level: Mapped[str | None] = mapped_column(String(16))


class ConfigurationState(Base):
    """One row whose version increases on every management change, so replicas reload."""

    __tablename__ = "configuration_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
