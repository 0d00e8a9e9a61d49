"""Two sources of the tracker besides the registries' logs: the window's own registry reads for
applications (``registry_reads``, read from the window's database) and the documents hub's
access events of the person's documents (read through the exchange with the locker client).

Only the window's reads that gave data (outcome ``read``) are listed: a refused, failed or
not-found read returned nothing of the person's, and the entry cannot say it did not."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC
from typing import Final

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.database import transaction
from zistboom.core.errors import ZistboomError
from zistboom.core.identifiers import MemberId, SubsystemId, parse_client_header
from zistboom.window.applications import repository
from zistboom.window.applications.models import RegistryRead
from zistboom.window.locker.client import MAX_EVENTS, AccessEvent, LockerClient
from zistboom.window.locker.service import locker_client
from zistboom.window.settings import WindowSettings
from zistboom.window.tracker.entries import EntryKind, Log, TrackerEntry
from zistboom.window.tracker.registry_usage import UsageLogTooLongError
from zistboom.window.tracker.sources import TrackerQuery, TrackerSource

log = logging.getLogger("zistboom.window.tracker")

WINDOW_SOURCE: Final = "window"
HUB_SOURCE: Final = "hub"
READ: Final = "read"
PUBLIC: Final = "public"
"""The hub's actor for a verification or pull link by anyone."""

HUB_KINDS: Final[dict[str, EntryKind]] = {
    "issued": EntryKind.DOCUMENT_ISSUED,
    "shared": EntryKind.DOCUMENT_SHARE,
    "share-revoked": EntryKind.DOCUMENT_SHARE_REVOKED,
    "fetched": EntryKind.DOCUMENT_FETCH,
    "verified": EntryKind.DOCUMENT_VERIFICATION,
    "listed": EntryKind.DOCUMENT_LISTING,
}
"""The hub's event kinds (``documents/hub/access.py``) as the tracker's."""


def window_entry(read: RegistryRead, window: SubsystemId) -> TrackerEntry:
    """One registry read the window (subsystem ``window``) made, as a tracker entry."""
    at = read.at if read.at.tzinfo is not None else read.at.replace(tzinfo=UTC)
    return TrackerEntry(
        at=at.astimezone(UTC),
        kind=EntryKind.WINDOW_PULL,
        reader_member=str(window.member),
        reader_subsystem=str(window),
        reader_user_id=read.subject,
        service=read.registry_service,
        records=(read.record_key,) if read.record_key else (),
        fields=tuple(str(field) for field in read.fields),
        purpose=read.purpose or None,
        message_id=read.message_id or None,
        sources=frozenset({Log.WINDOW}),
    )


def window_entries(reads: Sequence[RegistryRead], window: SubsystemId) -> list[TrackerEntry]:
    """The reads that gave data, as entries, in their order."""
    return [window_entry(read, window) for read in reads if read.outcome == READ]


def _reader(actor: str) -> tuple[str | None, str | None]:
    """The member and subsystem of a hub actor; neither for the public."""
    if actor == PUBLIC:
        return None, None
    try:
        client = parse_client_header(actor, field="actor")
    except ZistboomError:
        return actor, None  # shown by what the hub said rather than dropped
    if isinstance(client, MemberId):
        return str(client), None
    return str(client.member), str(client)


def hub_entry(event: AccessEvent, service: str) -> TrackerEntry | None:
    """One hub access event as a tracker entry; None for a kind this window does not know."""
    kind = HUB_KINDS.get(event.kind)
    if kind is None:
        return None
    member, subsystem = _reader(event.actor)
    return TrackerEntry(
        at=event.at.astimezone(UTC),
        kind=kind,
        reader_member=member,
        reader_subsystem=subsystem,
        reader_user_id=event.user_id or None,
        service=service,
        records=(event.document_id,) if event.document_id else (),
        purpose=event.purpose or None,
        sources=frozenset({Log.HUB}),
    )


def hub_entries(events: Sequence[AccessEvent], service: str) -> list[TrackerEntry]:
    entries: list[TrackerEntry] = []
    for event in events:
        entry = hub_entry(event, service)
        if entry is None:
            log.warning("hub access event %s has an unknown kind %r", event.id, event.kind)
        else:
            entries.append(entry)
    return entries


def window_source(
    sessions: async_sessionmaker[AsyncSession], settings: WindowSettings
) -> TrackerSource:
    """The window's own registry reads about the person, from its database."""

    async def read(query: TrackerQuery) -> list[TrackerEntry]:
        window = SubsystemId.parse(settings.subsystem_id, field="subsystem_id")
        async with transaction(sessions) as session:
            reads = await repository.reads_about(session, query.subject)
        return window_entries(reads, window)

    return TrackerSource(WINDOW_SOURCE, read)


def hub_source(client: LockerClient, service: str) -> TrackerSource:
    """The hub's access events of the person's documents, through the exchange."""

    async def read(query: TrackerQuery) -> list[TrackerEntry]:
        events = await client.access_events(query.subject, since=query.since, limit=MAX_EVENTS)
        if len(events) >= MAX_EVENTS:
            # The hub gives one page of the newest: older events of the period are not in it.
            raise UsageLogTooLongError(
                f"the documents hub holds {MAX_EVENTS} or more access events for the period; "
                "choose a shorter period",
                field="from",
            )
        return hub_entries(events, service)

    return TrackerSource(HUB_SOURCE, read)


def window_sources(
    http: httpx.AsyncClient,
    settings: WindowSettings,
    sessions: async_sessionmaker[AsyncSession],
) -> list[TrackerSource]:
    """The window's reads, and the hub's events when the window is told where the hub is."""
    sources = [window_source(sessions, settings)]
    if settings.hub_lockers_service:
        client = locker_client(settings, http)
        sources.append(hub_source(client, settings.hub_lockers_service))
    return sources
