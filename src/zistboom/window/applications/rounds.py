"""What the window's background workers (hand-overs, notices) share: rounds repeated until the
worker is stopped, a failing round logged and not fatal; and claiming due rows by moving their
``next_attempt_at`` forward (a lease), so that two replicas of the window do not take the same
row at once (the update matches only while nobody else has moved it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("zistboom.window")


class Due(Protocol):
    id: Any
    next_attempt_at: Any


Row = TypeVar("Row", bound=Due)


async def run_rounds(tick: Callable[[], Awaitable[bool]], pause: float, what: str) -> None:
    """Call ``tick`` while it says more is waiting, then pause ``pause`` seconds; forever."""
    while True:
        try:
            while await tick():
                pass
        except asyncio.CancelledError:
            raise
        except Exception:  # a failing round must not stop the work for good
            log.exception("%s round failed", what)
        await asyncio.sleep(pause)


async def claim(
    session: AsyncSession, model: type[Row], due: Sequence[Row], now: datetime, lease: timedelta
) -> list[Row]:
    """The rows of ``due`` this caller leased until ``now + lease``."""
    claimed = []
    for row in due:
        moved = await session.execute(
            update(model)
            .where(model.id == row.id, model.next_attempt_at == row.next_attempt_at)
            .values(next_attempt_at=now + lease)
        )
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(row)
    return claimed
