"""Keyset paging and ordering (ZB-STD-006 §8.4–8.5) on both databases: walking a list by its
next links, and back by its previous links, gives every match once, in the documented order
(a record without the ordering field sorts as the greatest value), and the SQL filters agree
with ListQuery.matches, the same grammar evaluated in Python."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from zistboom.core.database import transaction
from zistboom.core.iran import generate_national_code
from zistboom.registries import service
from zistboom.registries.app import Opened, open_database
from zistboom.registries.query import ListQuery, parse_list_query
from zistboom.registries.schema import load_schema_text
from zistboom.registries.settings import RegistrySettings

DATA = Path(__file__).parent / "data"
CALLER = service.Caller(
    client="IR-DEMO/GOV/12147922321/back-office",
    member="IR-DEMO/GOV/12147922321",
    user_id="IR0499370899",
    purpose="test",
)
FAMILIES = ("احمدی", "احمدزاده", "کریمی", "رضایی")


@pytest.fixture
async def people(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Opened, list[dict]]]:
    settings = RegistrySettings.load(tmp_path, database_url=database_url)
    opened = await open_database(settings)
    schemas = service.Schemas()
    document = load_schema_text((DATA / "people-1.0.yaml").read_text(), format="yaml")
    rng = random.Random(7)
    records: list[dict[str, Any]] = []
    async with transaction(opened.sessions) as session:
        definition = service.Definition(
            code="people", name_fa="افراد", name_en="People", owner="IR-DEMO/GOV/12147922321"
        )
        await service.define_registry(session, definition, document)
        await service.publish(session, schemas, "people")
        target = await service.resolve(session, schemas, "people", "1.0")
        for index in range(37):
            record: dict[str, Any] = {
                "national_code": generate_national_code(rng),
                "given_name": f"نام{index}",
                "family_name": rng.choice(FAMILIES),
                "birth_date": f"{rng.randrange(1950, 2010)}-0{rng.randrange(1, 10)}-1{index % 10}",
            }
            if index % 4:  # some records have no height: they sort as the greatest value
                record["height_cm"] = rng.choice((150, 160, 170, 180))  # many ties
            await service.create(session, target, {"write": {"content": record}}, CALLER)
            records.append(record)
    try:
        yield opened, records
    finally:
        await opened.engine.dispose()


async def page(opened: Opened, parameters: list[tuple[str, str]]) -> service.Page:
    async with transaction(opened.sessions) as session:
        target = await service.resolve(session, service.Schemas(), "people", "1.0")
        query: ListQuery = parse_list_query(target.schema, parameters)
        return await service.list_records(session, target, query, CALLER)


def expected_order(records: list[dict[str, Any]], ordering: str | None) -> list[str]:
    if ordering is None:
        return sorted(r["national_code"] for r in records)
    name = ordering.lstrip("-")
    descending = ordering.startswith("-")
    present = [r for r in records if name in r]
    missing = sorted((r["national_code"] for r in records if name not in r), reverse=descending)
    ordered = [
        r["national_code"]
        for r in sorted(present, key=lambda r: (r[name], r["national_code"]), reverse=descending)
    ]
    return missing + ordered if descending else ordered + missing


@pytest.mark.parametrize(
    "ordering", [None, "height_cm", "-height_cm", "family_name", "-birth_date"]
)
async def test_next_and_previous_links_walk_every_match_once_in_order(
    people: tuple[Opened, list[dict]], ordering: str | None
) -> None:
    opened, records = people
    base = [("page_size", "5")] + ([("ordering", ordering)] if ordering else [])
    walked: list[str] = []
    pages: list[service.Page] = []
    current = await page(opened, base)
    while True:
        pages.append(current)
        walked += [r["national_code"] for r in current.results]
        assert current.count == len(records) and current.count_exact
        if current.next is None:
            break
        current = await page(opened, [*base, ("cursor", current.next.encode())])
    assert walked == expected_order(records, ordering)
    # And back from the last page: each previous page is the one before it.
    back = pages[-1]
    for earlier in reversed(pages[:-1]):
        assert back.previous is not None
        back = await page(opened, [*base, ("cursor", back.previous.encode())])
        assert [r["national_code"] for r in back.results] == [
            r["national_code"] for r in earlier.results
        ]
    assert back.previous is None or pages[0].results == back.results


@pytest.mark.parametrize(
    "parameters",
    [
        [("query.family_name.prefix", "احمد")],
        [("query.family_name", "احمدي")],  # Arabic yeh finds Persian
        [("query.height_cm.gte", "160"), ("query.height_cm.lt", "180")],
        [("query.height_cm.in", "150,180")],
        [("query.birth_date.gt", "1980-01-01"), ("query.family_name.in", "کریمی,رضایی")],
        [("search", "کريم")],
    ],
)
async def test_sql_filters_agree_with_the_grammar_in_python(
    people: tuple[Opened, list[dict]], parameters: list[tuple[str, str]]
) -> None:
    opened, records = people
    async with transaction(opened.sessions) as session:
        target = await service.resolve(session, service.Schemas(), "people", "1.0")
        query = parse_list_query(target.schema, [*parameters, ("page_size", "100")])
        found = await service.list_records(session, target, query, CALLER)
        wanted = sorted(r["national_code"] for r in records if query.matches(target.terms(r)))
    assert [r["national_code"] for r in found.results] == wanted
    assert wanted, "the case should match something"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("query.height_cm.gte", "1_000"),
        ("query.height_cm.gte", "+5"),
        ("query.height_cm.gte", "١٧٠"),
        ("query.height_cm", " 170"),
        ("query.birth_date.gte", "20260321"),
        ("query.birth_date.gte", "2026-W12-6"),
        ("query.registered_at.gte", "2026-03-21T08:30+03:30"),
        ("query.registered_at.gte", "2026-03-21 08:30:00+03:30"),
        ("asOf", "20260321T083000Z"),
    ],
)
def test_filter_values_are_read_as_strictly_as_stored_values_are_written(
    name: str, value: str
) -> None:
    from zistboom.core.errors import ValidationError
    from zistboom.registries.schema import parse_schema

    schema = parse_schema(load_schema_text((DATA / "people-1.0.yaml").read_text(), format="yaml"))
    with pytest.raises(ValidationError) as refused:
        parse_list_query(schema, [(name, value)])
    assert refused.value.field == name


async def test_a_kept_target_outlives_a_rolled_back_request(
    people: tuple[Opened, list[dict]],
) -> None:
    """Targets are kept between requests: the one kept by a request that failed (its session
    rolled back) still serves the next (a regression: its rows had expired with the rollback)."""
    from zistboom.core.errors import NotFoundError

    opened, records = people
    schemas = service.Schemas()
    query = {"query": {"content": {"national_code": "0000000000"}}}
    with pytest.raises(NotFoundError):
        async with transaction(opened.sessions) as session:
            target = await service.resolve(session, schemas, "people", "1.0")
            await service.read_record(session, target, query, CALLER)
    async with transaction(opened.sessions) as session:
        kept = await service.resolve(session, schemas, "people", "1.0")
        assert kept is target
        wanted = {"query": {"content": {"national_code": records[0]["national_code"]}}}
        answer = await service.read_record(session, kept, wanted, CALLER)
    assert answer["content"]["national_code"] == records[0]["national_code"]
