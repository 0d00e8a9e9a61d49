"""The tracker's window and hub sources: a registry read the window made is a window pull by
the window's own subsystem (only a read that gave data), a hub access event is the document
entry of its kind by its actor, and the window's source reads only the asked person's reads
from its database, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zistboom.core.database import transaction
from zistboom.core.identifiers import SubsystemId
from zistboom.window.applications.models import Application, RegistryRead
from zistboom.window.database import open_database
from zistboom.window.locker.client import AccessEvent
from zistboom.window.settings import WindowSettings
from zistboom.window.tracker.entries import EntryKind, Log
from zistboom.window.tracker.sources import TrackerQuery
from zistboom.window.tracker.window_sources import (
    hub_entries,
    hub_entry,
    window_entries,
    window_entry,
    window_source,
    window_sources,
)

T0 = datetime(2025, 8, 6, 9, 0, tzinfo=UTC)
WINDOW = "IR-DEMO/GOV/10101010103/single-window"
PERSONS = "IR-DEMO/GOV/52601815906/registry/persons"
LOCKERS = "IR-DEMO/GOV/10203040508/hub/lockers"
APPLICANT = "IR4945689199"
OTHER = "IR0499370899"


def registry_read(
    subject: str = APPLICANT,
    *,
    minutes: int = 0,
    outcome: str = "read",
    record_key: str | None = "0499370899",
    application_id: str = "app-1",
) -> RegistryRead:
    return RegistryRead(
        application_id=application_id, subject=subject, source_index=0,
        registry_service=PERSONS, record_key=record_key, fields=["given_name", "birth_date"],
        purpose="tax-clearance:TRK-1", message_id=f"msg-{subject}-{minutes}",
        at=T0 + timedelta(minutes=minutes), outcome=outcome, reason=None,
    )  # fmt: skip


def access_event(kind: str, actor: str = "IR-DEMO/GOV/60711446972/services") -> AccessEvent:
    return AccessEvent(
        id=7, document_id="doc-1", kind=kind, actor=actor, user_id="official-3",
        purpose="loan-check", share_id=None, at=T0,
    )  # fmt: skip


def test_a_registry_read_is_a_window_pull_by_the_windows_subsystem() -> None:
    entry = window_entry(registry_read(), SubsystemId.parse(WINDOW))
    assert entry.kind is EntryKind.WINDOW_PULL
    assert entry.at == T0
    assert entry.reader_member == "IR-DEMO/GOV/10101010103"
    assert entry.reader_subsystem == WINDOW
    assert entry.reader_user_id == APPLICANT
    assert entry.service == PERSONS
    assert entry.records == ("0499370899",)
    assert entry.fields == ("given_name", "birth_date")
    assert entry.purpose == "tax-clearance:TRK-1"
    assert entry.message_id == f"msg-{APPLICANT}-0"
    assert entry.sources == frozenset({Log.WINDOW})


def test_a_read_without_a_record_key_names_no_record() -> None:
    assert window_entry(registry_read(record_key=None), SubsystemId.parse(WINDOW)).records == ()


def test_only_reads_that_gave_data_are_listed() -> None:
    reads = [registry_read(minutes=m, outcome=o) for m, o in
             enumerate(("read", "refused", "failed", "not-found", "read"))]  # fmt: skip
    entries = window_entries(reads, SubsystemId.parse(WINDOW))
    assert [e.message_id for e in entries] == [f"msg-{APPLICANT}-0", f"msg-{APPLICANT}-4"]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("issued", EntryKind.DOCUMENT_ISSUED),
        ("shared", EntryKind.DOCUMENT_SHARE),
        ("share-revoked", EntryKind.DOCUMENT_SHARE_REVOKED),
        ("fetched", EntryKind.DOCUMENT_FETCH),
        ("verified", EntryKind.DOCUMENT_VERIFICATION),
        ("listed", EntryKind.DOCUMENT_LISTING),
    ],
)
def test_each_hub_event_kind_is_its_document_entry(kind: str, expected: EntryKind) -> None:
    entry = hub_entry(access_event(kind), LOCKERS)
    assert entry is not None
    assert entry.kind is expected
    assert entry.at == T0
    assert entry.reader_member == "IR-DEMO/GOV/60711446972"
    assert entry.reader_subsystem == "IR-DEMO/GOV/60711446972/services"
    assert entry.reader_user_id == "official-3"
    assert entry.service == LOCKERS
    assert entry.records == ("doc-1",)
    assert entry.purpose == "loan-check"
    assert entry.sources == frozenset({Log.HUB})


def test_a_member_actor_has_no_subsystem_and_the_public_has_no_reader() -> None:
    by_member = hub_entry(access_event("fetched", actor="IR-DEMO/COM/11112222333"), LOCKERS)
    assert by_member is not None
    assert (by_member.reader_member, by_member.reader_subsystem) == (
        "IR-DEMO/COM/11112222333",
        None,
    )
    public = hub_entry(access_event("verified", actor="public"), LOCKERS)
    assert public is not None
    assert (public.reader_member, public.reader_subsystem) == (None, None)


def test_an_unknown_hub_kind_is_left_out_and_the_others_kept() -> None:
    entries = hub_entries([access_event("archived"), access_event("shared")], LOCKERS)
    assert [e.kind for e in entries] == [EntryKind.DOCUMENT_SHARE]


def test_the_hub_is_a_source_only_when_configured() -> None:
    http = httpx.AsyncClient(base_url="http://127.0.0.1:9")  # building a source calls nothing
    sessions: async_sessionmaker[AsyncSession] = async_sessionmaker()
    bare = WindowSettings(subsystem_id=WINDOW)
    with_hub = WindowSettings(subsystem_id=WINDOW, hub_lockers_service=LOCKERS)
    assert [s.name for s in window_sources(http, bare, sessions)] == ["window"]
    assert [s.name for s in window_sources(http, with_hub, sessions)] == ["window", "hub"]


async def test_the_window_source_reads_only_the_asked_persons_reads_newest_first(
    database_url: str,
) -> None:
    opened = await open_database(database_url)
    try:
        async with transaction(opened.sessions) as session:
            for number, subject in enumerate((APPLICANT, OTHER), start=1):
                session.add(Application(
                    id=f"app-{number}", tracking_code=f"TRK-{number}", subject=subject,
                    agency="IR-DEMO/GOV/60711446972", service_code="tax-clearance",
                    definition={}, state="submitted", stage="form", fetch_choice="fetch",
                    asked_keys={}, form_values={}, created_at=T0, updated_at=T0,
                    submitted_at=T0, ended_at=None,
                ))  # fmt: skip
            await session.flush()
            session.add_all([
                registry_read(APPLICANT, minutes=1, application_id="app-1"),
                registry_read(APPLICANT, minutes=5, application_id="app-1"),
                registry_read(APPLICANT, minutes=3, outcome="refused", application_id="app-1"),
                registry_read(OTHER, minutes=9, application_id="app-2"),
            ])  # fmt: skip
        source = window_source(opened.sessions, WindowSettings(subsystem_id=WINDOW))
        entries = await source.read(TrackerQuery(APPLICANT))
        assert [e.message_id for e in entries] == [f"msg-{APPLICANT}-5", f"msg-{APPLICANT}-1"]
        assert {e.reader_user_id for e in entries} == {APPLICANT}
        assert entries[0].at == T0 + timedelta(minutes=5)
        assert await source.read(TrackerQuery("IR0000000000")) == []
    finally:
        await opened.engine.dispose()
