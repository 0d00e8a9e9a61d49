"""The tracker's merge, dedupe, order and filters, and its reading of sources, with entries
made here: a read two logs describe is one line confirmed by both, newest first, filters narrow,
a failing or silent source is named while the others show, and the subject is the viewer's."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from zistboom.core.errors import ValidationError
from zistboom.core.identifiers import SubsystemId
from zistboom.web.i18n import EN, FA
from zistboom.window.pages import merged_catalogue
from zistboom.window.sessions import Viewer
from zistboom.window.settings import WindowSettings
from zistboom.window.tracker.entries import EntryKind, Log, TrackerEntry
from zistboom.window.tracker.filter_form import parse_day, read_filter, tehran_midnight
from zistboom.window.tracker.merge import TrackerFilter, merge, narrowed
from zistboom.window.tracker.registry_usage import (
    PersonalDataUsage,
    UsagePage,
    entry_of,
    usage_subsystems,
)
from zistboom.window.tracker.service import tracker_of
from zistboom.window.tracker.sources import TrackerQuery, TrackerSource, UnreadableReason

T0 = datetime(2025, 8, 6, 9, 0, tzinfo=UTC)
TAX = "IR-DEMO/GOV/60711446972"
CIVIL = "IR-DEMO/GOV/52601815906"
PERSONS = f"{CIVIL}/registry/persons"


def entry(
    minutes: int,
    *,
    kind: EntryKind = EntryKind.REGISTRY_READ,
    reader: str | None = TAX,
    purpose: str | None = "tax-clearance:TRK-1",
    message_id: str | None = None,
    log: Log = Log.REGISTRY,
    records: tuple[str, ...] = ("0499370899",),
    fields: tuple[str, ...] = ("given_name",),
) -> TrackerEntry:
    return TrackerEntry(
        at=T0 + timedelta(minutes=minutes),
        kind=kind,
        reader_member=reader,
        reader_subsystem=f"{reader}/services" if reader else None,
        reader_user_id="IR4945689199",
        service=PERSONS if log is not Log.HUB else f"{CIVIL}/hub/lockers",
        records=records,
        fields=fields,
        purpose=purpose,
        message_id=message_id,
        sources=frozenset({log}),
    )


def test_entries_are_newest_first() -> None:
    merged = merge([entry(1, message_id="a"), entry(3, message_id="c"), entry(2)])
    assert [e.at for e in merged] == [T0 + timedelta(minutes=m) for m in (3, 2, 1)]


def test_the_window_pull_and_the_registry_entry_of_one_read_are_one_line_confirmed_by_both() -> (
    None
):
    pull = entry(
        0, kind=EntryKind.WINDOW_PULL, message_id="m-1", log=Log.WINDOW, records=(),
        fields=("given_name", "family_name"), purpose="single-window:application",
    )  # fmt: skip
    usage = entry(0, message_id="m-1", purpose="single-window:application")
    other = entry(5, message_id="m-2")
    merged = merge([pull, usage, other])
    assert len(merged) == 2, merged
    read = merged[1]
    assert read.message_id == "m-1"
    assert read.kind is EntryKind.REGISTRY_READ
    assert read.sources == {Log.REGISTRY, Log.WINDOW}
    assert read.confirmed_by_both
    assert read.records == ("0499370899",)  # the registry's
    assert read.fields == ("given_name", "family_name")  # the registry's, then the window's
    assert not merged[0].confirmed_by_both


def test_one_message_is_one_line_but_entries_without_an_id_are_never_joined() -> None:
    merged = merge(
        [
            entry(0, message_id="m-1", records=("1",)),
            entry(0, message_id="m-1", records=("2",)),
            entry(1),
            entry(1),
        ]
    )
    assert len(merged) == 3
    joined = [e for e in merged if e.message_id == "m-1"]
    assert [e.records for e in joined] == [("1", "2")]


def test_document_events_of_one_message_stay_apart_by_kind() -> None:
    share = entry(0, kind=EntryKind.DOCUMENT_SHARE, message_id="h-1", log=Log.HUB)
    fetch = entry(0, kind=EntryKind.DOCUMENT_FETCH, message_id="h-1", log=Log.HUB)
    assert {e.kind for e in merge([share, fetch])} == {
        EntryKind.DOCUMENT_SHARE,
        EntryKind.DOCUMENT_FETCH,
    }


def test_filters_narrow_by_kind_reader_purpose_and_period() -> None:
    entries = merge(
        [
            entry(0, message_id="a", purpose="بررسی مالیاتی"),  # Arabic yeh/kaf below
            entry(10, message_id="b", reader=CIVIL, purpose="single-window:profile-names"),
            entry(20, kind=EntryKind.DOCUMENT_SHARE, message_id="c", log=Log.HUB),
            entry(30, kind=EntryKind.WINDOW_PULL, message_id="d", log=Log.WINDOW),
            entry(30, message_id="d"),
        ]
    )

    def ids(chosen: TrackerFilter) -> list[str | None]:
        return [e.message_id for e in narrowed(entries, chosen)]

    assert ids(TrackerFilter()) == ["d", "c", "b", "a"]
    assert ids(TrackerFilter(kind=EntryKind.DOCUMENT_SHARE)) == ["c"]
    assert ids(TrackerFilter(kind=EntryKind.WINDOW_PULL)) == ["d"]
    assert ids(TrackerFilter(kind=EntryKind.REGISTRY_READ)) == ["d", "b", "a"]
    assert ids(TrackerFilter(reader_member=CIVIL)) == ["b"]
    assert ids(TrackerFilter(purpose="PROFILE")) == ["b"]
    assert ids(TrackerFilter(purpose="مالياتي")) == ["a"]  # ي for ی: the same word
    period = TrackerFilter(since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=30))
    assert ids(period) == ["c", "b"]  # since is inclusive, until is not
    assert ids(TrackerFilter(reader_member="IR-DEMO/GOV/nobody")) == []


def test_days_are_read_in_either_calendar_and_run_from_tehran_midnight() -> None:
    assert parse_day("1404/05/15", name="from") == parse_day("2025-08-06", name="from")
    assert parse_day("۱۴۰۴-۰۵-۱۵", name="from").isoformat() == "2025-08-06"
    for wrong in ("1404/13/01", "2025-02-30", "yesterday", "1404/05-15"):
        with pytest.raises(ValidationError) as refused:
            parse_day(wrong, name="to")
        assert refused.value.field == "to"
    form = read_filter(since="1404/05/15", until="1404/05/15")
    assert not form.errors
    # Tehran is UTC+03:30: the day 2025-08-06 starts at 20:30 UTC the day before.
    assert form.chosen.since == datetime(2025, 8, 5, 20, 30, tzinfo=UTC)
    assert form.chosen.until == datetime(2025, 8, 6, 20, 30, tzinfo=UTC)
    assert tehran_midnight(parse_day("2025-08-07", name="to")) == form.chosen.until


def test_a_filter_that_cannot_be_read_names_its_fields() -> None:
    form = read_filter(kind="teleport", since="1404/05/20", until="1404/05/15")
    assert form.errors == {"kind": "tracker.error.kind", "to": "tracker.error.order"}
    assert read_filter(since="tomorrow").errors == {"from": "tracker.error.day"}
    assert form.entered["kind"] == "teleport"  # shown back as typed


def test_a_usage_entry_in_govstack_shape_becomes_a_registry_read() -> None:
    page = UsagePage.model_validate(
        {
            "count": 1,
            "next": None,
            "later": "ignored",
            "results": [
                {
                    "ID": "1",
                    "ReaderID": "IR4945689199",
                    "ReaderInstitutionID": TAX,
                    "ReaderApplicationName": f"{TAX}/tax-services",
                    "SearchDateTime": "2026-12-01T13:46:02.118204+03:30",
                    "DatabaseID": "people",
                    "Refrences": [{"ReferenceID": "0499370899"}],
                    "Fields": ["birth_date", "given_name"],
                    "Purpose": "tax-clearance:TRK-1",
                    "MessageId": "4a7b2f26",
                    "AddedLater": True,
                }
            ],
        }
    )
    registry = SubsystemId.parse(f"{CIVIL}/registry")
    made = entry_of(registry, page.results[0])
    assert made.at == datetime(2026, 12, 1, 10, 16, 2, 118204, tzinfo=UTC)
    assert made.at.tzinfo is UTC
    assert made.service == f"{CIVIL}/registry/people"
    assert made.records == ("0499370899",)
    assert made.reader_member == TAX
    assert made.reader_subsystem == f"{TAX}/tax-services"
    assert made.message_id == "4a7b2f26"
    assert made.sources == {Log.REGISTRY}
    with pytest.raises(ValueError, match="SearchDateTime"):
        PersonalDataUsage.model_validate({**page.results[0].model_dump(), "SearchDateTime": "x"})


def test_the_registries_asked_are_the_distinct_subsystems_of_definitions_and_settings() -> None:
    settings = WindowSettings(
        persons_registry_service=PERSONS,
        foreign_nationals_registry_service="IR-DEMO/GOV/83016613182/fn/foreign-nationals",
    )
    asked = usage_subsystems(settings, [f"{CIVIL}/registry/addresses", PERSONS])
    assert [str(s) for s in asked] == [
        f"{CIVIL}/registry",
        "IR-DEMO/GOV/83016613182/fn",
    ]


VIEWER = Viewer(subject="IR0499370899", display_name="", session_hash="", locale="fa")


def test_a_failing_or_silent_source_is_named_while_the_others_show() -> None:
    asked: list[TrackerQuery] = []

    async def good(query: TrackerQuery) -> Sequence[TrackerEntry]:
        asked.append(query)
        return [entry(0, message_id="a"), entry(1, message_id="b", reader=CIVIL)]

    async def failing(query: TrackerQuery) -> Sequence[TrackerEntry]:
        raise httpx.ConnectError("refused")

    async def silent(query: TrackerQuery) -> Sequence[TrackerEntry]:
        await asyncio.Event().wait()  # never answers: the tracker's deadline ends it
        raise AssertionError("unreachable")

    sources = [
        TrackerSource("good", good),
        TrackerSource("failing", failing),
        TrackerSource("silent", silent),
    ]
    chosen = TrackerFilter(reader_member=TAX, since=T0 - timedelta(days=1))
    tracker = asyncio.run(tracker_of(VIEWER, sources, chosen, seconds_each=0.2))
    assert [e.message_id for e in tracker.entries] == ["a"]
    assert tracker.readers == (CIVIL, TAX)
    assert [(u.source, u.reason) for u in tracker.unreadable] == [
        ("failing", UnreadableReason.FAILED),
        ("silent", UnreadableReason.TIMEOUT),
    ]
    # Every source is asked about the viewer, for the filter's period.
    assert asked == [TrackerQuery("IR0499370899", since=T0 - timedelta(days=1))]


def test_every_kind_log_and_reason_has_its_words_in_both_languages() -> None:
    catalogue = merged_catalogue()
    for locale in (FA, EN):
        for kind in EntryKind:
            assert catalogue.text(locale, f"tracker.kind.{kind.value}")
        for log in Log:
            assert catalogue.text(locale, f"tracker.log.{log.value}")
        for reason in UnreadableReason:
            assert catalogue.text(locale, f"tracker.unreadable.reason.{reason.value}")
        for key in ("kind", "day", "order"):
            assert catalogue.text(locale, f"tracker.error.{key}")
