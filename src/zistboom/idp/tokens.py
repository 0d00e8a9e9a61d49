"""What the provider issues and checks after sign-in: the token exchange (RFC 6749 §4.1.3 with
client_secret_basic or client_secret_post, RFC 7636 §4.6 PKCE), the ID token (an ES256 JWS,
OpenID Connect Core §2 and §3.1.3.6), the opaque access token and what it opens at userinfo
(§5.3, with language-tagged names per §5.2), and the ID token hint of RP-initiated logout
(verified with the provider's own key; an expired hint is still its own)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.crypto.jws import sign_jws, verify_jws
from zistboom.core.crypto.keys import b64url_encode, sha256
from zistboom.core.database import transaction
from zistboom.core.errors import CryptoError
from zistboom.idp import repository
from zistboom.idp.authorization import PKCE_VALUE
from zistboom.idp.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidTokenError,
    UnknownClientError,
    UnsupportedGrantTypeError,
)
from zistboom.idp.keys import SigningKey
from zistboom.idp.models import AccessToken, Client, User
from zistboom.idp.service import Clock, new_secret, same_hash, secret_hash
from zistboom.idp.settings import IdpSettings

LANGUAGE_TAGS = {"fa": "fa-IR", "en": "en"}
# Compared against when the client is unknown, so that both answers take the same work.
_NO_CLIENT_HASH = secret_hash(secrets.token_urlsafe(32))


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """The client's id and secret as the token request carried them."""

    client_id: str
    secret: str
    method: str
    """``client_secret_basic`` or ``client_secret_post``."""


@dataclass(frozen=True, slots=True)
class TokenRequest:
    grant_type: str | None
    code: str | None
    redirect_uri: str | None
    code_verifier: str | None
    credentials: ClientCredentials | None


async def authenticate_client(
    session: AsyncSession, credentials: ClientCredentials | None
) -> Client:
    if credentials is None:
        raise InvalidClientError(
            "the client did not authenticate: use client_secret_basic or client_secret_post"
        )
    client = await repository.client(session, credentials.client_id)
    matches = same_hash(
        secret_hash(credentials.secret), client.secret_hash if client else _NO_CLIENT_HASH
    )
    if client is None or not matches:
        raise InvalidClientError("unknown client or wrong client secret")
    return client


def pkce_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge."""
    return same_hash(b64url_encode(sha256(verifier.encode("ascii"))), challenge)


def _names(user: User, locale: str) -> dict[str, str]:
    given = user.given_name_fa if locale == "fa" else user.given_name_en
    family = user.family_name_fa if locale == "fa" else user.family_name_en
    return {"given_name": given, "family_name": family, "name": f"{given} {family}"}


def claims_of(user: User, scope: str, *, tagged: bool) -> dict[str, Any]:
    """The person's claims the scope opens (OIDC Core §5.4); ``tagged`` adds the names in
    both languages as ``given_name#fa-IR`` and ``given_name#en`` (§5.2)."""
    scopes = set(scope.split())
    claims: dict[str, Any] = {"sub": user.subject}
    if "profile" in scopes:
        claims.update(_names(user, user.locale))
        claims["locale"] = LANGUAGE_TAGS.get(user.locale, user.locale)
        if tagged:
            for locale, tag in LANGUAGE_TAGS.items():
                claims.update({f"{k}#{tag}": v for k, v in _names(user, locale).items()})
            if user.birthdate is not None:
                claims["birthdate"] = user.birthdate.isoformat()
    if tagged and "email" in scopes and user.email:
        claims.update(email=user.email, email_verified=True)
    if tagged and "phone" in scopes and user.phone_number:
        claims.update(phone_number=user.phone_number, phone_number_verified=True)
    return claims


async def exchange(
    sessions: async_sessionmaker[AsyncSession],
    request: TokenRequest,
    *,
    key: SigningKey,
    settings: IdpSettings,
    clock: Clock,
) -> dict[str, Any]:
    """The token answer for an authorization code. It takes the session factory, not one
    session: a reused code's refusal must commit the revocation of the tokens issued from it
    (RFC 6749 §4.1.2) before it is raised."""
    if not request.grant_type:
        raise InvalidRequestError("grant_type is required")
    if request.grant_type != "authorization_code":
        raise UnsupportedGrantTypeError("only grant_type=authorization_code is supported")
    async with transaction(sessions) as session:
        client = await authenticate_client(session, request.credentials)
        code, redirect_uri, verifier = request.code, request.redirect_uri, request.code_verifier
        if not code or not redirect_uri or not verifier:
            raise InvalidRequestError("code, redirect_uri and code_verifier are required")
        if not PKCE_VALUE.fullmatch(verifier):
            raise InvalidRequestError("code_verifier must be 43 to 128 unreserved characters")
        now = clock()
        code_hash = secret_hash(code)
        record = await repository.authorization_code(session, code_hash)
        if record is None or record.client_id != client.client_id:
            raise InvalidGrantError("the authorization code is unknown or was not issued to you")
        reused = record.used_at is not None or not await repository.claim_code(
            session, code_hash, now
        )
        if reused:
            await repository.revoke_tokens_of_code(session, code_hash, now)
        else:
            if record.expires_at <= now:
                raise InvalidGrantError("the authorization code has expired")
            if record.redirect_uri != redirect_uri:
                raise InvalidGrantError("redirect_uri differs from the authorization request's")
            if not pkce_matches(verifier, record.code_challenge):
                raise InvalidGrantError("the code_verifier does not match the code_challenge")
            user = await repository.user(session, record.subject)
            if user is None:
                raise InvalidGrantError("the person of this code is no longer known")
            access_token, token_hash = new_secret()
            session.add(
                AccessToken(
                    token_hash=token_hash,
                    code_hash=code_hash,
                    client_id=client.client_id,
                    subject=user.subject,
                    scope=record.scope,
                    expires_at=now + timedelta(seconds=settings.access_token_seconds),
                )
            )
            claims: dict[str, Any] = {
                "iss": settings.issuer_url,
                "sub": user.subject,
                "aud": client.client_id,
                "exp": int((now + timedelta(seconds=settings.id_token_seconds)).timestamp()),
                "iat": int(now.timestamp()),
                "auth_time": int(record.auth_time.timestamp()),
                "nonce": record.nonce,
                "sid": record.sid,
                "amr": ["otp"],
                "at_hash": at_hash(access_token),
                **claims_of(user, record.scope, tagged=False),
            }
            return {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": settings.access_token_seconds,
                "id_token": sign_id_token(claims, key),
                "scope": record.scope,
            }
    raise InvalidGrantError(
        "the authorization code was used already; the tokens issued from it are revoked"
    )


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: the left half of the SHA-256 of the token, base64url (ES256)."""
    digest = sha256(access_token.encode("ascii"))
    return b64url_encode(digest[: len(digest) // 2])


def sign_id_token(claims: dict[str, Any], key: SigningKey) -> str:
    payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return sign_jws(payload, key.private_key, headers={"kid": key.kid, "typ": "JWT"})


async def userinfo(session: AsyncSession, token: str | None, now: datetime) -> dict[str, Any]:
    """The claims an access token opens; :class:`InvalidTokenError` for any other token."""
    if not token:
        raise InvalidTokenError("no access token: send Authorization: Bearer <access token>")
    record = await repository.access_token(session, secret_hash(token))
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        raise InvalidTokenError("the access token is unknown, expired or revoked")
    user = await repository.user(session, record.subject)
    if user is None:
        raise InvalidTokenError("the person of this access token is no longer known")
    return claims_of(user, record.scope, tagged=True)


@dataclass(frozen=True, slots=True)
class LogoutHint:
    client_id: str
    sid: str | None


def logout_hint(token: str, key: SigningKey, issuer: str) -> LogoutHint:
    """An ID token this provider issued (its signature and ``iss``; its expiry is not held
    against it, RP-Initiated Logout §2)."""
    try:
        _, payload = verify_jws(token, key.public_key, algorithms=("ES256",))
        claims = json.loads(payload)
    except (CryptoError, ValueError):
        raise UnknownClientError(
            "the id_token_hint is not an ID token of this provider",
            message_key="error.bad_hint",
        ) from None
    audience = claims.get("aud") if isinstance(claims, dict) else None
    if isinstance(audience, list) and len(audience) == 1:
        audience = audience[0]
    if claims.get("iss") != issuer or not isinstance(audience, str):
        raise UnknownClientError(
            "the id_token_hint was not issued by this provider", message_key="error.bad_hint"
        )
    sid = claims.get("sid")
    return LogoutHint(audience, sid if isinstance(sid, str) else None)


async def sign_out(
    session: AsyncSession,
    *,
    cookie: str | None,
    hint: LogoutHint | None,
    client_id: str | None,
    post_logout_redirect_uri: str | None,
    now: datetime,
) -> None:
    """End the provider session (the browser's, and the one the hint names), after checking
    that ``post_logout_redirect_uri``, if any, is one the hint's client registered."""
    if hint is not None and client_id is not None and client_id != hint.client_id:
        raise UnknownClientError(
            "client_id differs from the id_token_hint's audience", message_key="error.bad_hint"
        )
    if post_logout_redirect_uri is not None:
        named = hint.client_id if hint is not None else client_id
        client = await repository.client(session, named) if named else None
        if client is None or post_logout_redirect_uri not in client.post_logout_redirect_uris:
            raise UnknownClientError(
                "post_logout_redirect_uri is not one the client registered",
                message_key="error.unknown_logout_uri",
            )
    await repository.end_sessions(
        session,
        id_hash=secret_hash(cookie) if cookie else None,
        sid=hint.sid if hint is not None else None,
        at=now,
    )
