"""The registries' personal-data-usage logs, read through the exchange (ZB-STD-006 §9.3): one
:class:`~zistboom.window.tracker.sources.TrackerSource` per registry subsystem, calling
``GET /r1/{subsystem}/personal-data-usage/1.0?userID=…`` through the window's gateway as the
window's subsystem with ``X-Road-UserId`` the signed-in person, following ``next`` page by page.

Which registries: every subsystem named by the catalogue's definitions' ``base_data`` and by the
window's persons and foreign-nationals registry settings. An answer is read in GovStack's
``PersonalDataUsage`` shape (its spelling ``Refrences`` included); members a later version adds
are ignored."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Final

import httpx
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from zistboom.core import exchange as xr
from zistboom.core.errors import ZistboomError
from zistboom.core.identifiers import ServiceId, SubsystemId
from zistboom.window.settings import WindowSettings
from zistboom.window.tracker.entries import EntryKind, Log, TrackerEntry
from zistboom.window.tracker.sources import TrackerQuery, TrackerSource

log = logging.getLogger("zistboom.window.tracker")

PURPOSE: Final = "single-window:data-tracker"
USAGE_SERVICE: Final = "personal-data-usage"
USAGE_VERSION: Final = "1.0"
PAGE_SIZE: Final = 100
MAX_PAGES: Final = 50
"""At most this many pages of one registry's log per look (5,000 entries): beyond it the
person is asked to choose a shorter period rather than shown a list cut somewhere."""


class UsageReadError(ZistboomError):
    """A registry's usage log could not be read through the exchange."""

    status = 502
    code = "usage-read-failed"
    title = "The registry's usage log could not be read"


class UsageLogTooLongError(ZistboomError):
    """A registry's usage log for the period has more entries than one look reads."""

    status = 422
    code = "usage-log-too-long"
    title = "Too many entries for one look"


class _Open(BaseModel):
    model_config = ConfigDict(extra="ignore")


class UsageReference(_Open):
    ReferenceID: str


class PersonalDataUsage(_Open):
    """GovStack's ``PersonalDataUsage``, as a registry of ZB-STD-006 §9.3 answers it."""

    ID: str
    ReaderID: str
    ReaderInstitutionID: str
    ReaderApplicationName: str
    SearchDateTime: AwareDatetime
    DatabaseID: str
    Refrences: list[UsageReference] = Field(default_factory=list)
    Fields: list[str] = Field(default_factory=list)
    Purpose: str
    MessageId: str | None = None


class UsagePage(_Open):
    count: int = Field(ge=0)
    next: str | None = None
    results: list[PersonalDataUsage]


def entry_of(registry: SubsystemId, usage: PersonalDataUsage) -> TrackerEntry:
    """A usage entry of ``registry``'s log as a tracker entry."""
    return TrackerEntry(
        at=usage.SearchDateTime.astimezone(UTC),
        kind=EntryKind.REGISTRY_READ,
        reader_member=usage.ReaderInstitutionID or None,
        reader_subsystem=usage.ReaderApplicationName or None,
        reader_user_id=usage.ReaderID or None,
        service=f"{registry}/{usage.DatabaseID}",
        records=tuple(reference.ReferenceID for reference in usage.Refrences),
        fields=tuple(usage.Fields),
        purpose=usage.Purpose or None,
        message_id=usage.MessageId or None,
        sources=frozenset({Log.REGISTRY}),
    )


def usage_subsystems(
    settings: WindowSettings, registry_services: Iterable[str]
) -> list[SubsystemId]:
    """The distinct registry subsystems to ask, in a stable order: those of
    ``registry_services`` (the definitions' ``base_data`` registries) and of the window's
    persons and foreign-nationals registries."""
    named = list(registry_services)
    for setting in ("persons_registry_service", "foreign_nationals_registry_service"):
        value = getattr(settings, setting)
        if value:
            named.append(value)
    found = {str(ServiceId.parse(text, field="registry").subsystem): text for text in named}
    return [SubsystemId.parse(subsystem) for subsystem in sorted(found)]


def _query(query: TrackerQuery) -> dict[str, str]:
    params = {"userID": query.subject, "page_size": str(PAGE_SIZE)}
    if query.since is not None:
        params["from"] = query.since.astimezone(UTC).isoformat()
    if query.until is not None:
        params["to"] = query.until.astimezone(UTC).isoformat()
    return params


async def read_usage(
    http: httpx.AsyncClient, settings: WindowSettings, registry: SubsystemId, query: TrackerQuery
) -> list[TrackerEntry]:
    """Every entry of ``registry``'s usage log about ``query.subject`` in its period."""
    path = f"/{xr.PROTOCOL_VERSION}/{registry.to_path()}/{USAGE_SERVICE}/{USAGE_VERSION}"
    headers = {
        "X-Road-Client": settings.subsystem_id,
        "X-Road-UserId": query.subject,
        "X-Road-Purpose": PURPOSE,
    }
    entries: list[TrackerEntry] = []
    url: str = path
    params: dict[str, str] | None = _query(query)
    for _ in range(MAX_PAGES):
        page = await _page(http, registry, url, params, headers)
        entries.extend(entry_of(registry, usage) for usage in page.results)
        if not page.next:
            return entries
        if not page.next.startswith("?"):
            raise UsageReadError(f"{registry} gave a next page that is not a query: {page.next}")
        url, params = path + page.next, None
    raise UsageLogTooLongError(
        f"{registry} holds more than {MAX_PAGES * PAGE_SIZE} entries for the period; choose a "
        "shorter period",
        field="from",
    )


async def _page(
    http: httpx.AsyncClient,
    registry: SubsystemId,
    url: str,
    params: dict[str, str] | None,
    headers: dict[str, str],
) -> UsagePage:
    answer = await http.get(url, params=params, headers=headers)
    if answer.headers.get(xr.X_ROAD_ERROR) or answer.status_code != 200:
        said = answer.headers.get(xr.X_ROAD_ERROR) or answer.text[:300]
        raise UsageReadError(f"{registry} answered {answer.status_code}: {said}")
    try:
        return UsagePage.model_validate_json(answer.content)
    except PydanticValidationError as error:
        raise UsageReadError(
            f"{registry}'s answer is not a usage list: {error.error_count()} problems"
        ) from error


def registry_sources(
    http: httpx.AsyncClient, settings: WindowSettings, registries: Sequence[SubsystemId]
) -> list[TrackerSource]:
    """One source per registry subsystem, each reading through ``http`` (the gateway)."""

    def source(registry: SubsystemId) -> TrackerSource:
        async def read(query: TrackerQuery) -> list[TrackerEntry]:
            return await read_usage(http, settings, registry, query)

        return TrackerSource(str(registry), read)

    return [source(registry) for registry in registries]
