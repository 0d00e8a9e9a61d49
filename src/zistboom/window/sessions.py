"""Browser sessions at the window: opened at sign-in under a random cookie value (only its hash
is stored), over when idle for ``session_idle_seconds``, when ``session_absolute_seconds`` have
passed since sign-in, or at sign-out; and the signed-in **viewer** each request carries: who
they are and the roles they hold at each agency."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.window import identity_repository as repository
from zistboom.window.identity_models import Person, WebSession
from zistboom.window.settings import WindowSettings
from zistboom.window.signin import digest

SESSION_COOKIE: Final = "zb_window_session"
PENDING_COOKIE: Final = "zb_window_signin"
# A session's last use is written at most this often (not on every page).
TOUCH_SECONDS: Final = 30


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person signed in on this browser."""

    subject: str
    display_name: str
    session_hash: str
    locale: str
    roles: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Agency (member id) → the roles held there now."""

    @property
    def is_official(self) -> bool:
        return bool(self.roles)

    def holds(self, agency: str, role: str) -> bool:
        return role in self.roles.get(agency, frozenset())

    def works_at(self, agency: str) -> bool:
        return bool(self.roles.get(agency))


def display_name(person: Person, locale: str) -> str:
    """The registry's names in ``locale`` when read, else the provider's name, else the id."""
    if locale == "en" and person.given_name_en and person.family_name_en:
        return f"{person.given_name_en} {person.family_name_en}"
    if person.given_name_fa and person.family_name_fa:
        return f"{person.given_name_fa} {person.family_name_fa}"
    return person.provider_name or person.subject


async def open_session(
    session: AsyncSession,
    *,
    subject: str,
    id_token: str,
    provider_session: str | None,
    now: datetime,
    settings: WindowSettings,
) -> str:
    """A new session for ``subject``; the cookie value to give the browser."""
    value = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=digest(value),
            subject=subject,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=settings.session_absolute_seconds),
            ended_at=None,
            id_token=id_token,
            provider_session=provider_session,
        )
    )
    return value


def is_live(row: WebSession, now: datetime, settings: WindowSettings) -> bool:
    idle_until = row.last_seen_at + timedelta(seconds=settings.session_idle_seconds)
    return row.ended_at is None and now < row.expires_at and now < idle_until


async def viewer_of(
    session: AsyncSession,
    cookie: str,
    *,
    now: datetime,
    settings: WindowSettings,
    locale: str,
) -> Viewer | None:
    """The viewer of a session cookie, or None when the session is unknown or over (an idle
    or expired session is ended, so it cannot come back)."""
    id_hash = digest(cookie)
    row = await repository.web_session(session, id_hash)
    if row is None or row.ended_at is not None:
        return None
    if not is_live(row, now, settings):
        row.ended_at = now
        return None
    if (now - row.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        await repository.touch_session(session, id_hash, now)
    person = await repository.person(session, row.subject)
    if person is None:
        return None
    roles: dict[str, set[str]] = {}
    for grant in await repository.live_grants(session, row.subject):
        roles.setdefault(grant.agency, set()).add(grant.role)
    return Viewer(
        subject=person.subject,
        display_name=display_name(person, locale),
        session_hash=id_hash,
        locale=locale,
        roles={agency: frozenset(held) for agency, held in roles.items()},
    )


async def end_session(session: AsyncSession, cookie: str, now: datetime) -> WebSession | None:
    """End the session of ``cookie``; the row (for the provider's sign-out hint), or None."""
    row = await repository.web_session(session, digest(cookie))
    if row is None or row.ended_at is not None:
        return None
    row.ended_at = now
    return row
