"""The registry reads of an application through a real exchange (central, the operator's and
the civil registry's gateways, the persons registry): a record found by the applicant's
identifier, one found by a key the person gives, and record matching — an answer about
someone else is refused and nothing of it is kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from window.exchange_world import Exchange, exchange
from zistboom.window.applications import pulls
from zistboom.window.catalogue.definitions import AskedKey, BaseDataItem

APPLICANT = "0499370899"
OTHER = "3610107235"  # both synthetic, with valid check digits


@pytest.fixture(scope="module")
def world(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Exchange]:
    with exchange(tmp_path_factory.mktemp("reads"), backend_database) as ex:
        for code, given in ((APPLICANT, "نرگس"), (OTHER, "مریم")):
            ex.add_person({
                "national_code": code, "given_name_fa": given, "family_name_fa": "رضایی",
                "given_name_en": "Narges", "family_name_en": "Rezaei",
            })  # fmt: skip
        yield ex


def _item(world: Exchange, **how: object) -> BaseDataItem:
    return BaseDataItem.model_validate({
        "registry": world.persons_service, "items": ["national_code", "given_name_fa"],
        "why_fa": "شناسایی", "why_en": "Identification", **how,
    })  # fmt: skip


async def _read(
    world: Exchange, items: list[BaseDataItem], asked: dict[str, str]
) -> list[pulls.Pulled]:
    planned = pulls.pulls_for(items, "IR" + APPLICANT, asked)
    async with httpx.AsyncClient(base_url=world.gateway.url, timeout=30) as http:
        return await pulls.read_all(
            http, planned, client=world.window_subsystem, applicant="IR" + APPLICANT,
            purpose=pulls.purpose_of("IR-TEST/GOV/1", "svc", "1"), registry_version="1.0",
            now=datetime.now(UTC),
        )  # fmt: skip


async def test_a_record_found_by_the_applicant_is_read_with_its_message_id(world: Exchange) -> None:
    [result] = await _read(world, [_item(world, find_by="national_code")], {})
    assert result.outcome == "read", result.reason
    assert result.values == {"national_code": APPLICANT, "given_name_fa": "نرگس"}
    assert result.message_id


async def test_an_answer_about_someone_else_is_refused_and_nothing_kept(world: Exchange) -> None:
    asked = AskedKey(field="national_code", title_fa="کد ملی", title_en="National code")
    item = _item(world, asked=asked.model_dump(), about="national_code")
    [result] = await _read(world, [item], {"0": OTHER})
    assert result.outcome == "refused"
    assert result.reason == "the record is about someone else"
    assert result.values == {}
    [own] = await _read(world, [item], {"0": APPLICANT})
    assert own.outcome == "read"


async def test_a_missing_record_is_not_found_and_an_unread_item_is_not_asked(
    world: Exchange,
) -> None:
    asked = AskedKey(field="national_code", title_fa="کد ملی", title_en="National code")
    item = _item(world, asked=asked.model_dump(), about="national_code")
    [missing] = await _read(world, [item], {"0": "0000000000"})
    assert missing.outcome == "not-found"
    assert await _read(world, [item, _item(world)], {}) == []


def test_names_applicant_reads_arrays_of_objects() -> None:
    record = {"owners": [{"national_code": OTHER}, {"national_code": APPLICANT}]}
    assert pulls.names_applicant(record, "owners.national_code", APPLICANT)
    assert not pulls.names_applicant(record, "owners.national_code", "1111111111")
    assert not pulls.names_applicant({"owners": "x"}, "owners.national_code", APPLICANT)
    assert pulls.names_applicant({"ids": [APPLICANT]}, "ids", APPLICANT)
