"""The identity provider's tables: the people it knows, its registered clients, pending
authorization requests (with their one-time code), provider sessions, authorization codes and
access tokens. Every secret (client secret, one-time code, session cookie, authorization code,
access token, request id) is stored as its SHA-256 only. Queries are in ``repository.py``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from zistboom.core.database import UTCDateTime, component_metadata

Json = JSON().with_variant(JSONB(), "postgresql")
Hash = String(64)
"""A lowercase hex SHA-256."""


class Base(DeclarativeBase):
    metadata = component_metadata()
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        date: Date(),
        list[str]: Json,
    }


class User(Base):
    """A person the provider signs in: ``IR`` + national code, or ``FN`` + foreign-national ID."""

    __tablename__ = "users"

    subject: Mapped[str] = mapped_column(String(24), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    """``person`` or ``foreign-national``."""
    given_name_fa: Mapped[str] = mapped_column(Text)
    family_name_fa: Mapped[str] = mapped_column(Text)
    given_name_en: Mapped[str] = mapped_column(Text)
    family_name_en: Mapped[str] = mapped_column(Text)
    birthdate: Mapped[date | None]
    phone_number: Mapped[str | None] = mapped_column(String(16))
    """E.164, ``+98…``."""
    email: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))
    """``fa`` or ``en``: the language of the messages sent to the person."""
    updated_at: Mapped[datetime]


class Client(Base):
    """A registered relying party; redirect URIs match exactly."""

    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(Hash)
    name: Mapped[str] = mapped_column(Text)
    redirect_uris: Mapped[list[str]]
    post_logout_redirect_uris: Mapped[list[str]]
    updated_at: Mapped[datetime]


class AuthorizationRequest(Base):
    """A checked authorization request waiting for the person to sign in, with the one-time
    code sent for it (its hash, expiry and wrong attempts). Its id travels in the sign-in
    pages' hidden field; only its hash is kept."""

    __tablename__ = "authorization_requests"

    id_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(Text)
    nonce: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    subject: Mapped[str | None] = mapped_column(String(24))
    """Whom the current one-time code is for; None when the identifier is nobody's."""
    code_hash: Mapped[str | None] = mapped_column(Hash)
    code_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    codes_sent: Mapped[int] = mapped_column(Integer, default=0)
    """How many one-time codes were made for this request (each replacing the last)."""
    completed_at: Mapped[datetime | None]


class ProviderSession(Base):
    """A person signed in at the provider (the cookie's value hashed); ``sid`` is the public
    session id the ID tokens carry."""

    __tablename__ = "provider_sessions"

    id_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(ForeignKey("users.subject", ondelete="CASCADE"))
    auth_time: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class AuthorizationCode(Base):
    """An authorization code, bound to its client, redirect URI, PKCE challenge, nonce, scope,
    person and session; usable once."""

    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.client_id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    code_challenge: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(ForeignKey("users.subject", ondelete="CASCADE"))
    auth_time: Mapped[datetime]
    sid: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AccessToken(Base):
    """An opaque access token for userinfo, revoked with its code when the code is reused."""

    __tablename__ = "access_tokens"
    __table_args__ = (Index("ix_access_tokens_code_hash", "code_hash"),)

    token_hash: Mapped[str] = mapped_column(Hash, primary_key=True)
    code_hash: Mapped[str] = mapped_column(Hash)
    client_id: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(ForeignKey("users.subject", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
