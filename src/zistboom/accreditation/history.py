"""The append-only histories every accreditation record keeps: when a change happens, that it
comes after the record's last one (a history is in time order and never rewritten), and the
reason every change must give."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from zistboom.core.database import utc_now
from zistboom.core.errors import ConflictError, ValidationError
from zistboom.core.persian import normalize_text

MAX_TEXT = 4000


class Event(Protocol):
    @property
    def at(self) -> datetime: ...


class Change(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def status(self) -> str: ...


def status_at(events: Sequence[Change], at: datetime) -> str | None:
    """The status in force at ``at``: the last change at or before it (``None`` before the
    first), as ``core.accreditation.status_at`` reads a trust list's histories."""
    current = None
    for event in events:
        if event.at > at:
            break
        current = event.status
    return current


def moment(at: datetime | None) -> datetime:
    """The time of a change: ``at`` when the caller chose one (seeding, tests), else now."""
    if at is None:
        return utc_now()
    if at.tzinfo is None:
        raise ValidationError("a change's time must be timezone-aware", field="at")
    return at


def after_last(events: Sequence[Event], at: datetime, what: str) -> None:
    """Refuse a change dated before the record's last one: histories stay in time order."""
    if events and at < events[-1].at:
        raise ConflictError(
            f"{what} last changed at {iso(events[-1].at)}; a change cannot be dated before "
            f"that ({iso(at)})",
            field="at",
        )


def text(value: str | None, field: str, *, required: bool = True) -> str:
    """A reason, note or statement: normalised, non-empty when required, bounded."""
    cleaned = normalize_text(value or "")
    if required and not cleaned:
        raise ValidationError(f"{field} must not be empty: say why", field=field)
    if len(cleaned) > MAX_TEXT:
        raise ValidationError(f"{field} is longer than {MAX_TEXT} characters", field=field)
    return cleaned


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
