"""The rules of the person's data tracker: every source read at once, each within its time,
for the signed-in person only; a source that fails is named, never dropped in silence; the
entries merged (``merge.py``) and narrowed by the person's filter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.errors import ZistboomError
from zistboom.window.catalogue import service as catalogue
from zistboom.window.sessions import Viewer
from zistboom.window.settings import WindowSettings
from zistboom.window.tracker import registry_usage, window_sources
from zistboom.window.tracker.entries import TrackerEntry
from zistboom.window.tracker.merge import TrackerFilter, merge, narrowed
from zistboom.window.tracker.sources import (
    TrackerQuery,
    TrackerSource,
    Unreadable,
    UnreadableReason,
)

log = logging.getLogger("zistboom.window.tracker")


@dataclass(frozen=True, slots=True)
class Tracker:
    """What the page shows: the entries the filter admits, every reading member seen in the
    period (the filter's choices), and the sources that could not be read."""

    entries: tuple[TrackerEntry, ...]
    readers: tuple[str, ...]
    unreadable: tuple[Unreadable, ...]


async def registry_services(session: AsyncSession) -> list[str]:
    """The registry services the catalogue's definitions read base data from."""
    stored = await catalogue.all_definitions(session)
    return [item.registry for row in stored for item in row.definition.base_data]


def sources_for(
    http: httpx.AsyncClient,
    settings: WindowSettings,
    registry_services: Sequence[str],
    sessions: async_sessionmaker[AsyncSession],
) -> list[TrackerSource]:
    """Every source of the tracker: the registries' usage logs, the window's own reads (from
    ``sessions``) and, when configured, the documents hub's access events."""
    registries = registry_usage.usage_subsystems(settings, registry_services)
    found = registry_usage.registry_sources(http, settings, registries)
    return found + window_sources.window_sources(http, settings, sessions)


async def _read(
    source: TrackerSource, query: TrackerQuery, seconds: float
) -> Sequence[TrackerEntry] | Unreadable:
    try:
        async with asyncio.timeout(seconds):
            return await source.read(query)
    except TimeoutError:
        log.warning("tracker source %s did not answer within %ss", source.name, seconds)
        return Unreadable(source.name, UnreadableReason.TIMEOUT, f"no answer in {seconds}s")
    except registry_usage.UsageLogTooLongError as error:
        return Unreadable(source.name, UnreadableReason.TOO_MANY, error.detail)
    except (ZistboomError, httpx.HTTPError) as error:
        detail = getattr(error, "detail", None) or f"{type(error).__name__}: {error}"
        log.warning("tracker source %s could not be read: %s", source.name, detail)
        return Unreadable(source.name, UnreadableReason.FAILED, detail)


async def tracker_of(
    viewer: Viewer,
    sources: Sequence[TrackerSource],
    chosen: TrackerFilter,
    *,
    seconds_each: float,
) -> Tracker:
    """The signed-in ``viewer``'s tracker: their entries only (the subject is theirs, never a
    parameter), every source read concurrently within ``seconds_each``."""
    query = TrackerQuery(viewer.subject, since=chosen.since, until=chosen.until)
    readings = await asyncio.gather(*(_read(source, query, seconds_each) for source in sources))
    found: list[TrackerEntry] = []
    unreadable: list[Unreadable] = []
    for reading in readings:
        if isinstance(reading, Unreadable):
            unreadable.append(reading)
        else:
            found.extend(reading)
    # A source may give more than the period: the period is applied to every entry.
    in_period = narrowed(merge(found), TrackerFilter(since=chosen.since, until=chosen.until))
    readers = sorted({e.reader_member for e in in_period if e.reader_member is not None})
    return Tracker(tuple(narrowed(in_period, chosen)), tuple(readers), tuple(unreadable))
