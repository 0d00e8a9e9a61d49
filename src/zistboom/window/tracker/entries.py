"""One line of the person's data tracker, whichever log it came from: a registry's
personal-data-usage log, the documents hub's access events, or the window's own pulls. Every
source turns its records into :class:`TrackerEntry`; ``merge.py`` joins them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class EntryKind(StrEnum):
    """What was done with the person's data."""

    REGISTRY_READ = "registry-read"
    WINDOW_PULL = "window-pull"
    DOCUMENT_ISSUED = "document-issued"
    DOCUMENT_SHARE = "document-share"
    DOCUMENT_SHARE_REVOKED = "document-share-revoked"
    DOCUMENT_FETCH = "document-fetch"
    DOCUMENT_VERIFICATION = "document-verification"
    DOCUMENT_LISTING = "document-listing"


class Log(StrEnum):
    """Which log says so; an entry two logs confirm names both."""

    REGISTRY = "registry"
    """A base registry's personal-data-usage log (ZB-STD-006 §9.2)."""
    WINDOW = "window"
    """The window's own record of its registry reads for an application."""
    HUB = "hub"
    """The documents hub's access events of the person's locker."""


# The order in which logs are believed when two describe one exchange: the registry that
# answered knows best what it gave, the window what it asked for.
LOG_PRECEDENCE: tuple[Log, ...] = (Log.REGISTRY, Log.WINDOW, Log.HUB)


@dataclass(frozen=True, slots=True)
class TrackerEntry:
    """Who touched the person's data, when, through which service, which records and fields,
    why, and under which exchange message."""

    at: datetime
    """When (an aware datetime, UTC)."""
    kind: EntryKind
    reader_member: str | None
    """The reading organisation, ``INSTANCE/CLASS/CODE``; None for a public link."""
    reader_subsystem: str | None
    """The reading subsystem, ``INSTANCE/CLASS/CODE/SUBSYSTEM``, when known."""
    reader_user_id: str | None
    """``X-Road-UserId``: the official, or the person themself."""
    service: str
    """The registry service read (``INSTANCE/CLASS/CODE/SUBSYSTEM/REGISTRY``), or the hub's."""
    records: tuple[str, ...] = ()
    """The keys of the records (a registry's) or documents (the hub's) touched."""
    fields: tuple[str, ...] = ()
    purpose: str | None = None
    message_id: str | None = None
    """``X-Road-Id``, naming the exchange in both gateways' message logs."""
    sources: frozenset[Log] = frozenset()

    @property
    def confirmed_by_both(self) -> bool:
        """The window's pull and the registry's log agree on this read."""
        return Log.REGISTRY in self.sources and Log.WINDOW in self.sources
