"""The identity provider's queries. Services take a session and call these; nothing else
writes SQL. Secrets are looked up by their hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.idp.models import (
    AccessToken,
    AuthorizationCode,
    AuthorizationRequest,
    Client,
    ProviderSession,
    User,
)


async def user(session: AsyncSession, subject: str) -> User | None:
    return await session.get(User, subject)


async def client(session: AsyncSession, client_id: str) -> Client | None:
    return await session.get(Client, client_id)


async def authorization_request(session: AsyncSession, id_hash: str) -> AuthorizationRequest | None:
    return await session.get(AuthorizationRequest, id_hash, with_for_update=True)


async def provider_session(session: AsyncSession, id_hash: str) -> ProviderSession | None:
    return await session.get(ProviderSession, id_hash)


async def end_sessions(
    session: AsyncSession, *, id_hash: str | None, sid: str | None, at: datetime
) -> int:
    """End the live sessions named by the cookie's hash or by the public ``sid``."""
    ended = 0
    for column, value in ((ProviderSession.id_hash, id_hash), (ProviderSession.sid, sid)):
        if value is None:
            continue
        result = await session.execute(
            update(ProviderSession)
            .where(column == value, ProviderSession.ended_at.is_(None))
            .values(ended_at=at)
        )
        ended += result.rowcount  # type: ignore[attr-defined]
    return ended


async def authorization_code(session: AsyncSession, code_hash: str) -> AuthorizationCode | None:
    return await session.get(AuthorizationCode, code_hash)


async def claim_code(session: AsyncSession, code_hash: str, at: datetime) -> bool:
    """Mark the code used, once: False when it was used already (a concurrent exchange too)."""
    result = await session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.code_hash == code_hash, AuthorizationCode.used_at.is_(None))
        .values(used_at=at)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def revoke_tokens_of_code(session: AsyncSession, code_hash: str, at: datetime) -> None:
    await session.execute(
        update(AccessToken)
        .where(AccessToken.code_hash == code_hash, AccessToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def access_token(session: AsyncSession, token_hash: str) -> AccessToken | None:
    return await session.get(AccessToken, token_hash)
