"""A window session's life, on a real database (SQLite and PostgreSQL) with the clock given:
it serves until it has been idle too long or its absolute life is over, and then never again;
its last use is written only now and then; sign-out ends it at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from zistboom.core.database import transaction
from zistboom.window import people, sessions
from zistboom.window.database import open_database
from zistboom.window.settings import WindowSettings

START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SUBJECT = "IR0499370899"


async def _opened(database_url: str, tmp_path: Path, **values: int):  # type: ignore[no-untyped-def]
    settings = WindowSettings(data_dir=tmp_path, database_url=database_url, **values)
    opened = await open_database(database_url)
    async with transaction(opened.sessions) as session:
        await people.signed_in(session, subject=SUBJECT, claims={"name": "Z"}, now=START)
        cookie = await sessions.open_session(
            session, subject=SUBJECT, id_token="t", provider_session=None, now=START,
            settings=settings,
        )  # fmt: skip
    return settings, opened, cookie


async def _viewer(opened, cookie: str, settings: WindowSettings, now: datetime):  # type: ignore[no-untyped-def]
    async with transaction(opened.sessions) as session:
        return await sessions.viewer_of(session, cookie, now=now, settings=settings, locale="fa")


async def test_an_idle_session_ends_and_stays_ended(database_url: str, tmp_path: Path) -> None:
    settings, opened, cookie = await _opened(
        database_url, tmp_path, session_idle_seconds=600, session_absolute_seconds=3600
    )
    try:
        used = START + timedelta(seconds=540)
        assert (await _viewer(opened, cookie, settings, used)) is not None
        # Used at 540 s: idle counts from there, so 1,100 s is still within 600 s of use.
        assert (
            await _viewer(opened, cookie, settings, START + timedelta(seconds=1100))
        ) is not None
        assert (await _viewer(opened, cookie, settings, START + timedelta(seconds=1800))) is None
        # Once over, it is over, even if asked for at a time it would have served.
        assert (await _viewer(opened, cookie, settings, START + timedelta(seconds=10))) is None
    finally:
        await opened.engine.dispose()


async def test_a_busy_session_ends_at_its_absolute_life(database_url: str, tmp_path: Path) -> None:
    settings, opened, cookie = await _opened(
        database_url, tmp_path, session_idle_seconds=600, session_absolute_seconds=1800
    )
    try:
        for minute in range(0, 30, 5):
            moment = START + timedelta(minutes=minute)
            assert (await _viewer(opened, cookie, settings, moment)) is not None, minute
        assert (await _viewer(opened, cookie, settings, START + timedelta(minutes=30))) is None
    finally:
        await opened.engine.dispose()


async def test_sign_out_ends_the_session_and_a_touch_is_written_only_now_and_then(
    database_url: str, tmp_path: Path
) -> None:
    settings, opened, cookie = await _opened(database_url, tmp_path)
    try:
        from zistboom.window import identity_repository
        from zistboom.window.signin import digest

        await _viewer(opened, cookie, settings, START + timedelta(seconds=10))
        async with transaction(opened.sessions) as session:
            row = await identity_repository.web_session(session, digest(cookie))
            assert row is not None and row.last_seen_at == START  # 10 s: not written
        await _viewer(opened, cookie, settings, START + timedelta(seconds=40))
        async with transaction(opened.sessions) as session:
            row = await identity_repository.web_session(session, digest(cookie))
            assert row is not None and row.last_seen_at == START + timedelta(seconds=40)
            ended = await sessions.end_session(session, cookie, START + timedelta(seconds=50))
            assert ended is not None and ended.id_token == "t"
        assert (await _viewer(opened, cookie, settings, START + timedelta(seconds=60))) is None
        assert (await _viewer(opened, "not-a-session", settings, START)) is None
    finally:
        await opened.engine.dispose()
