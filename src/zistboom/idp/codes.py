"""Signing a person in: the one-time code (six digits from ``secrets``, only its hash kept,
bound to its authorization request, with an expiry and a count of wrong attempts after which
it is void), then, once the right code is given, the provider session and the authorization
code (random, kept hashed, bound to the client, redirect URI, PKCE challenge, nonce, scope,
person, ``auth_time`` and session; usable once within its short life).

An identifier that is nobody's is answered as a known one is: a code is made and kept (so
that its attempts count the same) but sent to no one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.idp import repository
from zistboom.idp.authorization import AuthorizationParameters, granted_scope, redirect_to
from zistboom.idp.errors import SignInError
from zistboom.idp.models import AuthorizationCode, AuthorizationRequest, ProviderSession, User
from zistboom.idp.service import new_secret, same_hash, secret_hash, subject_of
from zistboom.idp.settings import IdpSettings

Channel = Literal["sms", "email"]
CODE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class Delivery:
    """A one-time code to send, and to whom."""

    user: User
    code: str
    channel: Channel


@dataclass(frozen=True, slots=True)
class Grant:
    """What an authorization code is bound to: the request's client, redirect URI, PKCE
    challenge, nonce, scope and state, and the person's sign-in (subject, time, session)."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    scope: str
    state: str | None
    subject: str
    auth_time: datetime
    sid: str


@dataclass(frozen=True, slots=True)
class Verification:
    """What a code given on the code page led to; ``signed-in`` carries where to go and the
    session cookie's value."""

    outcome: Literal["signed-in", "wrong", "void", "expired", "no-code"]
    remaining: int = 0
    redirect: str = ""
    session_cookie: str = ""
    client_redirect_uri: str = ""
    """Where the code page's form leads once the code is right."""


def _code_hash(request: AuthorizationRequest, code: str) -> str:
    # Bound to its request: the same digits for another request hash differently.
    return secret_hash(f"{request.id_hash}:{code}")


async def pending_request(
    session: AsyncSession, request_id: str, now: datetime
) -> AuthorizationRequest:
    """The request the pages carry, while it waits; else :class:`SignInError`."""
    request = await repository.authorization_request(session, secret_hash(request_id))
    if request is None or request.completed_at is not None:
        raise SignInError(
            "this sign-in is unknown or already finished; start again from the service",
            message_key="error.request_unknown",
        )
    if request.expires_at <= now:
        raise SignInError(
            "this sign-in took too long and expired; start again from the service",
            message_key="error.request_expired",
        )
    return request


async def issue_code(
    session: AsyncSession,
    request_id: str,
    identifier: str,
    channel: Channel,
    *,
    now: datetime,
    settings: IdpSettings,
) -> tuple[str, Delivery | None]:
    """A new one-time code for the request (replacing any earlier one): the client's redirect
    URI (the code page's form leads there), and what to send (None when there is nobody, or
    no address, to send to).
    :class:`~zistboom.core.errors.ValidationError` for an identifier of no valid form."""
    request = await pending_request(session, request_id, now)
    subject = subject_of(identifier)
    if request.codes_sent >= settings.one_time_codes_per_request:
        raise SignInError(
            "this sign-in asked for too many codes; start again from the service",
            message_key="error.too_many_codes",
        )
    request.codes_sent += 1
    user = await repository.user(session, subject)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    request.subject = user.subject if user is not None else None
    request.code_hash = _code_hash(request, code)
    request.code_expires_at = now + timedelta(seconds=settings.one_time_code_seconds)
    request.attempts = 0
    await session.flush()
    address = None if user is None else user.phone_number if channel == "sms" else user.email
    if user is None or not address:
        return request.redirect_uri, None
    return request.redirect_uri, Delivery(user, code, channel)


async def verify_code(
    session: AsyncSession, request_id: str, code: str, *, now: datetime, settings: IdpSettings
) -> Verification:
    """Check a one-time code. A wrong one counts an attempt; at the limit the code is void;
    the right one signs the person in (once)."""
    request = await pending_request(session, request_id, now)
    limit = settings.one_time_code_attempts
    if request.code_hash is None or request.code_expires_at is None:
        return Verification("no-code", client_redirect_uri=request.redirect_uri)
    if request.attempts >= limit:
        return Verification("void", client_redirect_uri=request.redirect_uri)
    if request.code_expires_at <= now:
        return Verification("expired", client_redirect_uri=request.redirect_uri)
    given = code.strip()
    if request.subject is None or not same_hash(_code_hash(request, given), request.code_hash):
        request.attempts += 1
        await session.flush()
        remaining = limit - request.attempts
        outcome: Literal["void", "wrong"] = "void" if remaining <= 0 else "wrong"
        return Verification(outcome, max(remaining, 0), client_redirect_uri=request.redirect_uri)
    request.completed_at = now
    request.code_hash = None
    cookie, cookie_hash = new_secret()
    sid = secrets.token_urlsafe(16)
    session.add(
        ProviderSession(
            id_hash=cookie_hash,
            sid=sid,
            subject=request.subject,
            auth_time=now,
            expires_at=now + timedelta(seconds=settings.session_seconds),
        )
    )
    grant = Grant(
        client_id=request.client_id,
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        nonce=request.nonce,
        scope=request.scope,
        state=request.state,
        subject=request.subject,
        auth_time=now,
        sid=sid,
    )
    redirect = await _authorization_code(session, grant, now=now, settings=settings)
    return Verification("signed-in", redirect=redirect, session_cookie=cookie)


async def _authorization_code(
    session: AsyncSession, grant: Grant, *, now: datetime, settings: IdpSettings
) -> str:
    """A new authorization code for ``grant``; returns the redirect that carries it (with the
    request's ``state``)."""
    code, code_hash = new_secret()
    session.add(
        AuthorizationCode(
            code_hash=code_hash,
            client_id=grant.client_id,
            redirect_uri=grant.redirect_uri,
            code_challenge=grant.code_challenge,
            nonce=grant.nonce,
            scope=grant.scope,
            subject=grant.subject,
            auth_time=grant.auth_time,
            sid=grant.sid,
            expires_at=now + timedelta(seconds=settings.authorization_code_seconds),
        )
    )
    await session.flush()
    return redirect_to(grant.redirect_uri, {"code": code, "state": grant.state})


async def single_sign_on(
    session: AsyncSession,
    cookie: str | None,
    parameters: AuthorizationParameters,
    *,
    now: datetime,
    settings: IdpSettings,
) -> str | None:
    """With a live provider session (no ``prompt=login``, and not older than ``max_age``),
    the redirect with a new authorization code, without asking for a one-time code again;
    else None."""
    if not cookie or "login" in (parameters.prompt or "").split():
        return None
    live = await repository.provider_session(session, secret_hash(cookie))
    if live is None or live.ended_at is not None or live.expires_at <= now:
        return None
    if parameters.max_age is not None and (now - live.auth_time).total_seconds() > int(
        parameters.max_age
    ):
        return None  # signed in too long ago: the person signs in again
    p = parameters
    if not (p.client_id and p.redirect_uri and p.nonce and p.code_challenge and p.scope):
        raise AssertionError("single_sign_on() takes a request that check() passed")
    grant = Grant(
        client_id=p.client_id,
        redirect_uri=p.redirect_uri,
        code_challenge=p.code_challenge,
        nonce=p.nonce,
        scope=granted_scope(p.scope),
        state=p.state,
        subject=live.subject,
        auth_time=live.auth_time,
        sid=live.sid,
    )
    return await _authorization_code(session, grant, now=now, settings=settings)
