"""The catalogue's search: folding is idempotent and makes Arabic letters, Persian and
Arabic-Indic digits, ZWNJ and joined words meet; ranking puts a name match above a keyword
match above a summary match, more matched terms higher and a prefix below a whole term; the
filters and paging cut the results; the index follows the catalogue's version."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from zistboom.core.persian import ZWNJ
from zistboom.window.catalogue.definitions import ServiceDefinition
from zistboom.window.catalogue.search import CatalogueSearch, SearchIndex, fold, indexed_terms
from zistboom.window.catalogue.seed import load_seed
from zistboom.window.catalogue.service import StoredDefinition

NOW = datetime(2026, 12, 3, tzinfo=UTC)
ARABIC = str.maketrans(
    {"ی": "ي", "ک": "ك", **{p: a for p, a in zip("۰۱۲۳۴۵۶۷۸۹", "٠١٢٣٤٥٦٧٨٩", strict=True)}}
)
PERSIAN_WORDS = ["کارت", "ملی", "هوشمند", "گواهی", "مالیاتی", "کیف", "یکی", "فرم", "۲", "۱۴۰۴"]


@cache
def seeded() -> list[StoredDefinition]:
    return [
        StoredDefinition(member, definition, NOW)
        for member, definitions in load_seed().services.items()
        for definition in definitions
    ]


def stored(code: str, agency: str = "IR-DEMO/GOV/10380284790", **fields: Any) -> StoredDefinition:
    base = seeded()[0].definition.model_dump()
    base.update(
        code=code,
        name_fa="خدمت",
        name_en="Service",
        summary_fa="خلاصه",
        summary_en="Summary",
        keywords_fa=[],
        keywords_en=[],
    )
    base.update(fields)
    return StoredDefinition(agency, ServiceDefinition.model_validate(base), NOW)


@given(st.text(max_size=60))
def test_folding_is_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)


@given(st.lists(st.sampled_from(PERSIAN_WORDS), min_size=1, max_size=3), st.data())
def test_a_name_typed_in_arabic_letters_digits_or_with_zwnj_finds_the_same_service(
    words: list[str], data: st.DataObject
) -> None:
    name = " ".join(words)
    index = SearchIndex.of([stored("target", name_fa=name), stored("other", name_fa="دیگر")])
    joiners = [data.draw(st.sampled_from([" ", ZWNJ, ""])) for _ in words[1:]]
    typed = words[0] + "".join(j + w for j, w in zip(joiners, words[1:], strict=True))
    if data.draw(st.booleans()):
        typed = typed.translate(ARABIC)
    persian = [h.stored.definition.code for h in index.search(name).hits]
    variant = [h.stored.definition.code for h in index.search(typed).hits]
    assert persian[0] == "target"
    assert variant and variant[0] == "target", (typed, variant)


def test_joined_adjacent_terms_are_indexed() -> None:
    assert {"کارت", "ملی", "کارتملی"} <= indexed_terms("کارت‌ملی")
    assert indexed_terms("كارت ملي") == indexed_terms("کارت ملی")
    assert "2" in indexed_terms("فرم ۲") and "2" in indexed_terms("فرم ٢")


def test_a_name_match_ranks_above_a_keyword_match_above_a_summary_match() -> None:
    index = SearchIndex.of(
        [
            stored("in-summary", summary_en="About a passport"),
            stored("in-keyword", keywords_en=["passport"]),
            stored("in-name", name_en="Passport"),
        ]
    )
    assert [h.stored.definition.code for h in index.search("PASSPORT").hits] == [
        "in-name",
        "in-keyword",
        "in-summary",
    ]


def test_more_matched_terms_rank_higher_and_a_prefix_counts_less() -> None:
    index = SearchIndex.of(
        [
            stored("one", name_en="Passport"),
            stored("two", name_en="Passport renewal"),
            stored("prefix", name_en="Passports office"),
        ]
    )
    assert index.search("passport renewal").hits[0].stored.definition.code == "two"
    ranked = [h.stored.definition.code for h in index.search("passport").hits]
    assert ranked.index("one") < ranked.index("prefix")
    assert index.search("zebra").total == 0


def test_filters_and_paging_on_the_seed() -> None:
    index = SearchIndex.of(seeded())
    everything = index.search()
    assert everything.total == 9
    assert {h.stored.definition.ecosystem for h in index.search(ecosystem="land").hits} == {"land"}
    assert all(
        "business" in h.stored.definition.audience for h in index.search(audience="business").hits
    )
    tax = index.search(agency="IR-DEMO/GOV/60711446972")
    assert {h.stored.definition.code for h in tax.hits} == {
        "tax-clearance",
        "taxpayer-registration",
    }
    pages = [index.search(offset=o, limit=4) for o in (0, 4, 8)]
    assert [len(p.hits) for p in pages] == [4, 4, 1] and all(p.total == 9 for p in pages)
    paged = [h.stored.definition.code for p in pages for h in p.hits]
    assert sorted(paged) == sorted(h.stored.definition.code for h in everything.hits)


def test_persian_spellings_people_type_find_the_seeded_services() -> None:
    index = SearchIndex.of(seeded())

    def top(query: str) -> str:
        return index.search(query).hits[0].stored.definition.code

    assert top("كارت ملي") == "smart-national-card"
    assert top("کارتملی") == "smart-national-card"
    assert top("مفاصا حساب") == "tax-clearance"
    assert top("سند تک برگ") == "single-sheet-deed"
    assert top("کدپستی") == "postal-code-certificate"


def test_the_index_is_rebuilt_when_the_version_moves() -> None:
    search = CatalogueSearch()
    assert search.current(0) is None
    first = search.rebuild(3, seeded())
    assert search.current(3) is first and search.current(4) is None
