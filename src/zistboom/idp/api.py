"""The provider's OAuth 2.0 and OpenID Connect endpoints that answer JSON: discovery, the key
set, the token endpoint and userinfo (the sign-in pages and logout are in ``pages.py``). OAuth
errors answer in RFC 6749 §5.2 / RFC 6750 §3 shape, never as problem details, with
``WWW-Authenticate`` on a 401; token answers are never cached."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from zistboom.core.database import transaction
from zistboom.idp import tokens
from zistboom.idp.authorization import SCOPES
from zistboom.idp.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidTokenError,
    OAuthError,
)
from zistboom.idp.state import state_of

REALM = "zistboom-idp"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CLAIMS = (
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "amr", "at_hash",
    "given_name", "family_name", "name", "locale", "birthdate", "email", "email_verified",
    "phone_number", "phone_number_verified",
)  # fmt: skip


class OAuthErrorBody(BaseModel):
    """An OAuth error (RFC 6749 §5.2, RFC 6750 §3)."""

    error: str = Field(description="the protocol's error code, e.g. invalid_grant")
    error_description: str


class Discovery(BaseModel):
    """OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3)."""

    model_config = ConfigDict(extra="allow")

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str
    response_types_supported: list[str]
    grant_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    code_challenge_methods_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    claims_supported: list[str]


class Jwk(BaseModel):
    model_config = ConfigDict(extra="allow")

    kty: str
    crv: str
    x: str
    y: str
    kid: str
    alg: str
    use: str


class JwkSet(BaseModel):
    keys: list[Jwk]


class TokenAnswer(BaseModel):
    """A successful token answer (RFC 6749 §5.1, OIDC Core §3.1.3.3)."""

    access_token: str
    token_type: str = Field(description="always Bearer")
    expires_in: int
    id_token: str
    scope: str


class UserInfo(BaseModel):
    """The claims the access token's scope opens (OIDC Core §5.3.2); names also appear
    language-tagged, e.g. ``given_name#fa-IR`` and ``given_name#en``."""

    model_config = ConfigDict(extra="allow")

    sub: str


def _oauth_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": OAuthErrorBody, "description": "the request is refused"}
        for status in statuses
    }


def oauth_error_response(error: OAuthError) -> JSONResponse:
    """The answer of an OAuth error, with its ``WWW-Authenticate`` challenge on a 401."""
    headers = dict(NO_STORE)
    if isinstance(error, InvalidClientError):
        headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    elif isinstance(error, InvalidTokenError):
        description = error.detail.replace('"', "'")
        headers["WWW-Authenticate"] = (
            f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'
        )
    body = {"error": error.error, "error_description": error.detail}
    return JSONResponse(body, status_code=error.status, headers=headers)


def _credentials(
    authorization: str | None, client_id: str | None, client_secret: str | None
) -> tokens.ClientCredentials | None:
    """The client's credentials from HTTP Basic (RFC 6749 §2.3.1, form-encoded id and secret)
    or from the body; both at once is refused."""
    if authorization and authorization[:6].lower() == "basic ":
        if client_secret is not None:
            raise InvalidRequestError("use one client authentication method, not two")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidClientError("the Basic credentials are not base64 of id:secret") from None
        name, colon, secret = decoded.partition(":")
        if not colon:
            raise InvalidClientError("the Basic credentials are not base64 of id:secret")
        if client_id is not None and client_id != unquote(name):
            raise InvalidRequestError("client_id differs from the authenticated client")
        return tokens.ClientCredentials(unquote(name), unquote(secret), "client_secret_basic")
    if client_id is not None and client_secret is not None:
        return tokens.ClientCredentials(client_id, client_secret, "client_secret_post")
    return None


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None


Optional = Annotated[str | None, Form()]
router = APIRouter(tags=["OpenID Connect"])


@router.get("/.well-known/openid-configuration", response_model=Discovery)
async def discovery(request: Request) -> dict[str, Any]:
    """The provider's metadata."""
    issuer = state_of(request).settings.issuer_url
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "end_session_endpoint": f"{issuer}/end_session",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(SCOPES),
        "claims_supported": list(CLAIMS),
        "claims_locales_supported": ["fa-IR", "en"],
        "ui_locales_supported": ["fa-IR", "en"],
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
    }


@router.get("/jwks", response_model=JwkSet)
async def jwks(request: Request) -> dict[str, Any]:
    """The public key the ID tokens are signed with."""
    return {"keys": [state_of(request).key.jwk]}


@router.post(
    "/token",
    response_model=TokenAnswer,
    responses=_oauth_responses(400, 401),
    openapi_extra={"security": [{"client_secret_basic": []}, {}]},
)
async def token(
    request: Request,
    grant_type: Optional = None,
    code: Optional = None,
    redirect_uri: Optional = None,
    code_verifier: Optional = None,
    client_id: Optional = None,
    client_secret: Optional = None,
) -> JSONResponse:
    """Exchange an authorization code (with its PKCE verifier) for an ID token and an access
    token; the client authenticates with client_secret_basic or client_secret_post."""
    state = state_of(request)
    credentials = _credentials(request.headers.get("authorization"), client_id, client_secret)
    answer = await tokens.exchange(
        state.sessions,
        tokens.TokenRequest(grant_type, code, redirect_uri, code_verifier, credentials),
        key=state.key,
        settings=state.settings,
        clock=state.clock,
    )
    return JSONResponse(answer, headers=NO_STORE)


async def _userinfo(request: Request) -> JSONResponse:
    state = state_of(request)
    async with transaction(state.sessions) as session:
        claims = await tokens.userinfo(
            session, _bearer(request.headers.get("authorization")), state.clock()
        )
    return JSONResponse(claims, headers=NO_STORE)


_USERINFO: dict[str, Any] = {
    "response_model": UserInfo,
    "responses": _oauth_responses(401),
    "openapi_extra": {"security": [{"bearer": []}]},
}


@router.get("/userinfo", **_USERINFO)
async def userinfo_get(request: Request) -> JSONResponse:
    """The signed-in person's claims, as the access token's scope allows."""
    return await _userinfo(request)


@router.post("/userinfo", **_USERINFO)
async def userinfo_post(request: Request) -> JSONResponse:
    """The same as ``GET /userinfo``."""
    return await _userinfo(request)
