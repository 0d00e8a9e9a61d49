"""What a source of the tracker is: a name (shown when it cannot be read) and an async callable
that reads the person's entries for a period. A source that fails raises (one of our errors, an
HTTP error, or a timeout); the tracker then names it as unreadable and shows the others.

The registries' usage logs are sources made by ``registry_usage.py``; the documents hub's
access events and the window's own pulls are plugged in by their owners with
:func:`TrackerSource` (see ``service.sources_for``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from zistboom.window.tracker.entries import TrackerEntry


@dataclass(frozen=True, slots=True)
class TrackerQuery:
    """Whose entries, and of which period; the subject is always the signed-in person's."""

    subject: str
    since: datetime | None = None
    until: datetime | None = None


Reader = Callable[[TrackerQuery], Awaitable[Sequence[TrackerEntry]]]


@dataclass(frozen=True, slots=True)
class TrackerSource:
    name: str
    """What the page names when the source cannot be read: a registry's subsystem id, or
    ``documents-hub``, ``window``."""
    read: Reader


class UnreadableReason(StrEnum):
    """Why a source was not read (the page says it in the person's language)."""

    TIMEOUT = "timeout"
    TOO_MANY = "too-many"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Unreadable:
    source: str
    reason: UnreadableReason
    detail: str
    """What went wrong, in English, for the log."""
