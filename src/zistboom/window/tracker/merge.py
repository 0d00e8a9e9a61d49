"""The tracker's one list: entries of every log merged, an exchange that two logs describe
(the window's pull and the registry's usage entry share ``X-Road-Id``) shown once, newest
first, and the person's filters applied.

Entries are joined by ``message_id`` within a family: the reads (``registry-read`` and
``window-pull``) are one family; each document kind is its own, so a share and a fetch made
under one message stay two lines. An entry without a message id is never joined."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from zistboom.core.persian import normalize_text
from zistboom.window.tracker.entries import LOG_PRECEDENCE, EntryKind, Log, TrackerEntry

_READS = frozenset({EntryKind.REGISTRY_READ, EntryKind.WINDOW_PULL})


def _family(kind: EntryKind) -> str:
    return "read" if kind in _READS else kind.value


def _precedence(entry: TrackerEntry) -> int:
    """The rank of the most believed log among the entry's."""
    return min((LOG_PRECEDENCE.index(log) for log in entry.sources), default=len(LOG_PRECEDENCE))


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return first + tuple(item for item in second if item not in first)


def _joined(base: TrackerEntry, other: TrackerEntry) -> TrackerEntry:
    """``base`` (the more believed) with what only ``other`` says filled in."""
    kind = base.kind
    if _family(kind) == "read" and EntryKind.REGISTRY_READ in (base.kind, other.kind):
        kind = EntryKind.REGISTRY_READ  # the registry confirms the window's pull
    return replace(
        base,
        kind=kind,
        reader_member=base.reader_member or other.reader_member,
        reader_subsystem=base.reader_subsystem or other.reader_subsystem,
        reader_user_id=base.reader_user_id or other.reader_user_id,
        service=base.service or other.service,
        records=_union(base.records, other.records),
        fields=_union(base.fields, other.fields),
        purpose=base.purpose or other.purpose,
        sources=base.sources | other.sources,
    )


def merge(entries: Iterable[TrackerEntry]) -> list[TrackerEntry]:
    """One line per exchange, newest first (ties: by message id, so the order is stable)."""
    joined: dict[tuple[str, str], TrackerEntry] = {}
    alone: list[TrackerEntry] = []
    for entry in sorted(entries, key=_precedence):
        if entry.message_id is None:
            alone.append(entry)
            continue
        key = (entry.message_id, _family(entry.kind))
        known = joined.get(key)
        joined[key] = entry if known is None else _joined(known, entry)
    merged = [*joined.values(), *alone]
    merged.sort(key=lambda e: e.message_id or "", reverse=True)
    merged.sort(key=lambda e: e.at, reverse=True)
    return merged


@dataclass(frozen=True, slots=True)
class TrackerFilter:
    """What the person narrowed the list to; None (or empty) is "any"."""

    kind: EntryKind | None = None
    reader_member: str | None = None
    purpose: str = ""
    """Text the purpose contains, compared in the registries' match form."""
    since: datetime | None = None
    """At or after."""
    until: datetime | None = None
    """Before."""

    def admits(self, entry: TrackerEntry) -> bool:
        if self.kind is not None and not _of_kind(entry, self.kind):
            return False
        if self.reader_member and entry.reader_member != self.reader_member:
            return False
        if self.purpose and _match_form(self.purpose) not in _match_form(entry.purpose or ""):
            return False
        if self.since is not None and entry.at < self.since:
            return False
        return self.until is None or entry.at < self.until


def _of_kind(entry: TrackerEntry, kind: EntryKind) -> bool:
    """A read the window's pull and the registry both log is a window pull as well."""
    if kind is EntryKind.WINDOW_PULL:
        return entry.kind is kind or Log.WINDOW in entry.sources
    return entry.kind is kind


def _match_form(text: str) -> str:
    """As the registries compare text (ZB-STD-006 §8.9): normalised, without ZWNJ, casefolded."""
    return normalize_text(text).replace("\u200c", "").casefold()


def narrowed(entries: Sequence[TrackerEntry], chosen: TrackerFilter) -> list[TrackerEntry]:
    """The entries ``chosen`` admits, in their order."""
    return [entry for entry in entries if chosen.admits(entry)]
