"""The authorization request's rules (OpenID Connect Core §3.1.2, RFC 6749 §4.1, RFC 7636):
the client must be registered and the redirect URI one of its own, exactly, before anything is
redirected; then the request must ask for ``response_type=code`` and the ``openid`` scope,
carry a nonce and an S256 PKCE challenge (plain is refused). A request that passes is kept
server-side (its random id travels in the sign-in pages' hidden field) until the person has
signed in or it expires."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.idp import repository
from zistboom.idp.errors import AuthorizationError, UnknownClientError
from zistboom.idp.models import AuthorizationRequest, Client
from zistboom.idp.service import secret_hash

SCOPES: Final = ("openid", "profile", "email", "phone")
PKCE_VALUE: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
"""RFC 7636 §4.1: a verifier (and an S256 challenge, 43 characters) of the unreserved set."""


@dataclass(frozen=True, slots=True)
class AuthorizationParameters:
    """The query of ``GET /authorize`` as the client sent it."""

    client_id: str | None
    redirect_uri: str | None
    response_type: str | None
    scope: str | None
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    prompt: str | None
    max_age: str | None
    """Seconds since the person last signed in at the provider, at most (OIDC Core §3.1.2.1)."""
    request: str | None
    request_uri: str | None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> AuthorizationParameters:
        """The parameters from the request's query (each absent one None)."""
        return cls(**{item.name: query.get(item.name) for item in fields(cls)})


async def registered_client(
    session: AsyncSession, client_id: str | None, redirect_uri: str | None
) -> Client:
    """The client, when it is registered and ``redirect_uri`` is one of its URIs exactly; else
    :class:`UnknownClientError` (an error page: an unchecked URI is never redirected to)."""
    if not client_id:
        raise UnknownClientError("the request names no client_id", message_key="error.no_client")
    client = await repository.client(session, client_id)
    if client is None:
        raise UnknownClientError(
            f"client {client_id!r} is not registered at this provider",
            message_key="error.unknown_client",
        )
    if not redirect_uri or redirect_uri not in client.redirect_uris:
        raise UnknownClientError(
            f"the redirect_uri is not one that client {client_id!r} registered",
            message_key="error.unknown_redirect_uri",
        )
    return client


def granted_scope(scope: str) -> str:
    """The scopes asked for that the provider knows, in its order (others are ignored)."""
    asked = set(scope.split())
    return " ".join(name for name in SCOPES if name in asked)


def check(parameters: AuthorizationParameters) -> None:
    """:class:`AuthorizationError` (redirected to the client) for a request the provider
    will not serve."""
    p = parameters
    if p.request is not None:
        raise AuthorizationError("request_not_supported", "request objects are not supported")
    if p.request_uri is not None:
        raise AuthorizationError("request_uri_not_supported", "request_uri is not supported")
    if p.response_type != "code":
        raise AuthorizationError(
            "unsupported_response_type", "only response_type=code (the code flow) is supported"
        )
    if "openid" not in (p.scope or "").split():
        raise AuthorizationError("invalid_scope", "the scope must contain openid")
    if not p.nonce:
        raise AuthorizationError("invalid_request", "a nonce is required")
    if not p.code_challenge:
        raise AuthorizationError("invalid_request", "PKCE is required: send a code_challenge")
    if p.code_challenge_method != "S256":
        raise AuthorizationError(
            "invalid_request", "code_challenge_method must be S256 (plain is not accepted)"
        )
    if not PKCE_VALUE.fullmatch(p.code_challenge):
        raise AuthorizationError(
            "invalid_request", "code_challenge must be 43 to 128 unreserved characters"
        )
    if p.max_age is not None and not (p.max_age.isascii() and p.max_age.isdigit()):
        raise AuthorizationError("invalid_request", "max_age must be a number of seconds")


async def start(
    session: AsyncSession, parameters: AuthorizationParameters, *, now: datetime, life: int
) -> str:
    """Keep a checked request; returns its id (for the pages' hidden field)."""
    p = parameters
    if not (p.client_id and p.redirect_uri and p.nonce and p.code_challenge and p.scope):
        raise AssertionError("start() takes a request that registered_client() and check() passed")
    request_id = secrets.token_urlsafe(32)
    session.add(
        AuthorizationRequest(
            id_hash=secret_hash(request_id),
            client_id=p.client_id,
            redirect_uri=p.redirect_uri,
            scope=granted_scope(p.scope),
            state=p.state,
            nonce=p.nonce,
            code_challenge=p.code_challenge,
            created_at=now,
            expires_at=now + timedelta(seconds=life),
            attempts=0,
            codes_sent=0,
        )
    )
    await session.flush()
    return request_id


def redirect_to(uri: str, values: dict[str, str | None]) -> str:
    """``uri`` with ``values`` (those not None) added to its query, as RFC 6749 §4.1.2 asks."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(name, value) for name, value in values.items() if value is not None]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
