"""The national seed: deterministic, valid against its schemas and the registry contract, with
valid identifiers and references that hold across the seven registries."""

from __future__ import annotations

import copy
import inspect
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from zistboom.central.service import programme_facts
from zistboom.core.errors import ValidationError
from zistboom.core.iran import (
    is_valid_foreign_national_id,
    is_valid_legal_entity_id,
    is_valid_national_code,
    is_valid_postal_code,
)
from zistboom.core.persian import ZWNJ, normalize_text, to_jalali_iso
from zistboom.demo.federation import ORGANISATIONS, PERSON
from zistboom.registries import seed_names
from zistboom.registries.seed import (
    BELOW_PRIVATE_THRESHOLD,
    ECOSYSTEM_OPERATORS,
    OWNERS,
    PERSON_INDEX,
    SeedRegistry,
    national_registries,
)
from zistboom.registries.seed_numbering import (
    MAX_PERSONS,
    REFERENCE_DAY,
    generated_company_id,
    person_code,
    postal_code,
)

N = 2_000
Records = dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module")
def registries() -> list[SeedRegistry]:
    return national_registries(size=N)


@pytest.fixture(scope="module")
def seeded(registries: list[SeedRegistry]) -> Records:
    return {registry.code: list(registry.records()) for registry in registries}


def by_key(records: Records, code: str, key: str) -> dict[str, dict[str, Any]]:
    return {record[key]: record for record in records[code]}


def ecosystem_keys() -> list[str]:
    return [e["key"] for phase in programme_facts()["phases"] for e in phase["ecosystems"]]


# --- determinism and sizes ------------------------------------------------------------------


def test_two_runs_give_the_same_records(registries: list[SeedRegistry], seeded: Records) -> None:
    again = national_registries(size=N)
    assert [r.code for r in again] == list(seeded)
    for registry in again:
        assert list(registry.records()) == seeded[registry.code], registry.code
    # and each registry regenerates its own records, as a stream, on every call
    for registry in registries:
        stream = registry.records()
        assert inspect.isgenerator(stream)
        assert next(stream) == seeded[registry.code][0]


def test_another_seed_gives_other_records_under_the_same_identifiers(seeded: Records) -> None:
    other = {r.code: list(r.records()) for r in national_registries(size=N, seed=7)}
    persons = [p["national_code"] for p in other["persons"]]
    assert persons == [p["national_code"] for p in seeded["persons"]]
    assert other["persons"] != seeded["persons"]
    assert other["addresses"] != seeded["addresses"]


def test_counts_follow_the_size(registries: list[SeedRegistry], seeded: Records) -> None:
    counts = {r.code: r.count for r in registries}
    assert counts == {code: len(records) for code, records in seeded.items()}
    assert counts["persons"] == N
    assert counts["companies"] == N // 20
    assert counts["addresses"] == N // 3
    assert counts["land-parcels"] == N // 5
    assert counts["foreign-nationals"] == N // 20
    assert counts["taxpayers"] == N // 20 + N // 5
    assert counts["insured"] == pytest.approx(0.9 * N, abs=10)
    small = {r.code: r.count for r in national_registries(size="small")}
    assert small["persons"] == 10_000
    large = {r.code: r.count for r in national_registries(size="large")}
    assert large["persons"] == 1_000_000
    assert 2_700_000 < sum(large.values()) < 2_900_000


@pytest.mark.parametrize("size", [999, MAX_PERSONS + 1, "medium", True])
def test_a_size_out_of_range_is_refused(size: Any) -> None:
    with pytest.raises(ValidationError, match="persons") as caught:
        national_registries(size=size)
    assert caught.value.field == "size"


def test_a_partial_last_family_keeps_its_references() -> None:
    for size in (1_001, 1_003, 1_005):
        records = {r.code: (r.count, list(r.records())) for r in national_registries(size=size)}
        persons = {p["national_code"]: p for p in records["persons"][1]}
        for code, (count, rows) in records.items():
            assert len(rows) == count, (size, code)
        for person in persons.values():
            for field in ("father_national_code", "mother_national_code", "spouse_national_code"):
                assert person.get(field, person["national_code"]) in persons
        assert all(i["national_code"] in persons for i in records["insured"][1])


# --- schemas and records ----------------------------------------------------------------------


def test_every_record_validates_against_its_schema(
    registries: list[SeedRegistry], seeded: Records
) -> None:
    for registry in registries:
        validator = Draft202012Validator(
            registry.schema, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        for record in seeded[registry.code]:
            errors = list(validator.iter_errors(record))
            assert not errors, (registry.code, record, errors[0].message)


def test_the_validator_can_refuse_a_record(seeded: Records) -> None:
    persons = next(r for r in national_registries(size=N) if r.code == "persons")
    validator = Draft202012Validator(
        persons.schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    broken = dict(seeded["persons"][0], birth_date="1350-02-30")
    assert not validator.is_valid(broken)
    assert not validator.is_valid(dict(seeded["persons"][0], sex="X"))


def test_keys_and_unique_fields_are_unique(registries: list[SeedRegistry], seeded: Records) -> None:
    for registry in registries:
        properties = registry.schema["properties"]
        unique = [n for n, f in properties.items() if f.get("x-key") or f.get("x-unique")]
        assert unique, registry.code
        for name in unique:
            values = [record[name] for record in seeded[registry.code]]
            assert len(set(values)) == len(values), (registry.code, name)


def test_every_identifier_has_a_valid_check_digit(seeded: Records) -> None:
    for person in seeded["persons"]:
        for field in ("national_code", "father_national_code", "mother_national_code",
                      "spouse_national_code"):  # fmt: skip
            if field in person:
                assert is_valid_national_code(person[field]), person
    for company in seeded["companies"]:
        assert is_valid_legal_entity_id(company["national_id"]), company
        assert is_valid_postal_code(company["postal_code"]), company
        assert all(is_valid_national_code(d["national_code"]) for d in company["directors"])
        for holder in company.get("shareholders", []):
            check = (
                is_valid_national_code
                if holder["holder_kind"] == "person"
                else (is_valid_legal_entity_id)
            )
            assert check(holder["holder_id"]), holder
    assert all(is_valid_postal_code(a["postal_code"]) for a in seeded["addresses"])
    for parcel in seeded["land-parcels"]:
        assert is_valid_postal_code(parcel["postal_code"])
        assert all(is_valid_national_code(o["national_code"]) for o in parcel["owners"])
    assert all(is_valid_foreign_national_id(f["foreign_national_id"])
               for f in seeded["foreign-nationals"])  # fmt: skip
    for taxpayer in seeded["taxpayers"]:
        check = (
            is_valid_national_code
            if taxpayer["taxpayer_kind"] == "person"
            else (is_valid_legal_entity_id)
        )
        assert check(taxpayer["taxpayer_id"]), taxpayer
    assert all(is_valid_national_code(i["national_code"]) for i in seeded["insured"])


@given(st.integers(min_value=0, max_value=MAX_PERSONS - 1))
def test_every_person_index_gives_a_valid_national_code(index: int) -> None:
    assert is_valid_national_code(person_code(index))
    assert is_valid_legal_entity_id(generated_company_id(index // 20))
    assert is_valid_postal_code(postal_code(index // 3))


def test_the_person_numbering_never_reaches_a_repeated_digit_code() -> None:
    # person_code is affine on the first nine digits: recover the map from two points.
    b = int(person_code(0)[:9])
    a = (int(person_code(1)[:9]) - b) % 10**9
    assert math.gcd(a, 10) == 1  # a bijection
    inverse = pow(a, -1, 10**9)
    for digit in range(10):
        assert (digit * 111_111_111 - b) * inverse % 10**9 >= MAX_PERSONS


def test_generated_companies_never_take_a_fixed_entity_id(seeded: Records) -> None:
    fixed = {o.member.code for o in ORGANISATIONS} | {o.code for o in OWNERS}
    fixed |= set(ECOSYSTEM_OPERATORS.values())
    ids = [c["national_id"] for c in seeded["companies"]]
    assert fixed <= set(ids[: len(fixed)])
    assert not fixed & {generated_company_id(i) for i in range(0, 5_000_000, 997)}


# --- references across registries -------------------------------------------------------------


def test_references_between_registries_hold(seeded: Records) -> None:
    persons = by_key(seeded, "persons", "national_code")
    companies = by_key(seeded, "companies", "national_id")
    addresses = by_key(seeded, "addresses", "postal_code")
    state_members = {
        o.member.code for o in ORGANISATIONS if o.member.member_class in ("GOV", "PUB")
    } | {o.code for o in OWNERS if o.member_class in ("GOV", "PUB")}

    def alive_adult(code: str) -> bool:
        person = persons[code]
        return person["alive"] and date.fromisoformat(person["birth_date"]) < date(2007, 1, 1)

    for company in companies.values():
        assert company["postal_code"] in addresses
        assert addresses[company["postal_code"]]["province"] == company["province"]
        assert company["directors"]
        assert all(alive_adult(d["national_code"]) for d in company["directors"])
        holders = company.get("shareholders", [])
        if holders:
            assert sum(h["share_percent"] for h in holders) == pytest.approx(100)
        for holder in holders:
            kind, holder_id = holder["holder_kind"], holder["holder_id"]
            assert holder_id != company["national_id"]
            if kind == "person":
                assert alive_adult(holder_id) and holder["state"] is False
            elif kind == "member":
                assert holder_id in state_members and holder["state"] is True
            else:
                assert holder["state"] is companies[holder_id]["state_owned"]
    for parcel in seeded["land-parcels"]:
        assert parcel["postal_code"] in addresses
        assert all(alive_adult(o["national_code"]) for o in parcel["owners"])
        assert sum(o["share_percent"] for o in parcel["owners"]) == pytest.approx(100)
    taxpayer_ids = [t["taxpayer_id"] for t in seeded["taxpayers"]]
    for taxpayer in seeded["taxpayers"]:
        known = persons if taxpayer["taxpayer_kind"] == "person" else companies
        assert taxpayer["taxpayer_id"] in known
    assert set(companies) <= set(taxpayer_ids)
    assert all(persons[i["national_code"]]["alive"] for i in seeded["insured"])


def test_families_are_consistent(seeded: Records) -> None:
    persons = by_key(seeded, "persons", "national_code")
    statuses = Counter(p["marital_status"] for p in persons.values())
    assert statuses["married"] > N / 3 and statuses["divorced"] and statuses["widowed"]
    assert 0 < sum(not p["alive"] for p in persons.values()) < N / 10
    for person in persons.values():
        born = date.fromisoformat(person["birth_date"])
        assert born < REFERENCE_DAY
        assert person["birth_date_jalali"] == to_jalali_iso(born)
        assert person["alive"] is ("death_date" not in person)
        if "death_date" in person:
            assert born < date.fromisoformat(person["death_date"]) < REFERENCE_DAY
        for field, sex in (("father_national_code", "M"), ("mother_national_code", "F")):
            if field in person:
                parent = persons[person[field]]
                assert parent["sex"] == sex
                assert date.fromisoformat(parent["birth_date"]).year + 18 <= born.year
        if "spouse_national_code" in person:
            spouse = persons[person["spouse_national_code"]]
            assert spouse["spouse_national_code"] == person["national_code"]
            assert person["marital_status"] == spouse["marital_status"] == "married"
            assert person["alive"] and spouse["alive"] and spouse["sex"] != person["sex"]
        elif person["alive"]:
            assert person["marital_status"] != "married"


def test_the_demo_person_is_an_adult_alive_married_child(seeded: Records) -> None:
    assert person_code(PERSON_INDEX) == PERSON
    persons = by_key(seeded, "persons", "national_code")
    person = persons[PERSON]
    assert person["alive"] and date.fromisoformat(person["birth_date"]) < date(2000, 1, 1)
    assert persons[person["spouse_national_code"]]["spouse_national_code"] == PERSON
    assert person["father_national_code"] in persons
    assert person["mother_national_code"] in persons
    assert PERSON in {i["national_code"] for i in seeded["insured"]}
    assert PERSON in {t["taxpayer_id"] for t in seeded["taxpayers"]}


def test_the_demo_organisations_and_the_owners_are_legal_entities(
    registries: list[SeedRegistry], seeded: Records
) -> None:
    companies = by_key(seeded, "companies", "national_id")
    for org in ORGANISATIONS:
        assert companies[org.member.code]["name_fa"] == org.member.name_fa
        assert companies[org.member.code]["state_owned"] is (org.member.member_class != "COM")
    owners = {owner.key: owner for owner in OWNERS}
    assert len(owners) == len(OWNERS)
    for owner in OWNERS:
        assert is_valid_legal_entity_id(owner.code)
        assert owner.member_class in ("GOV", "PUB", "COM")
        assert companies[owner.code]["name_en"] == owner.name_en
    for org in ORGANISATIONS:
        if org.key in owners:
            assert owners[org.key].code == org.member.code
    ecosystems = set(ecosystem_keys()) | {"national"}
    assert {r.owner for r in registries} <= set(owners)
    assert {r.ecosystem for r in registries} <= ecosystems
    assert len({r.code for r in registries}) == 7
    assert all(re.fullmatch(r"[a-z][a-z0-9-]{1,31}", r.code) for r in registries)


def private_share(company: dict[str, Any]) -> float:
    return float(sum(h["share_percent"] for h in company["shareholders"] if not h["state"]))


def test_each_ecosystem_has_one_operator_and_one_is_below_51_percent_private(
    seeded: Records,
) -> None:
    assert sorted(ECOSYSTEM_OPERATORS) == sorted(ecosystem_keys())
    assert len(ecosystem_keys()) == 13
    finance = next(o for o in ORGANISATIONS if o.key == "finance-ecosystem")
    assert ECOSYSTEM_OPERATORS["finance"] == finance.member.code == "88135404915"
    companies = by_key(seeded, "companies", "national_id")
    shares = {key: private_share(companies[code]) for key, code in ECOSYSTEM_OPERATORS.items()}
    below = [key for key, share in shares.items() if share < 51]
    assert below == [BELOW_PRIVATE_THRESHOLD], shares
    assert all(not companies[code]["state_owned"] for code in ECOSYSTEM_OPERATORS.values())
    # the shareholdings are known: the same for any seed and size
    other = next(r for r in national_registries(size=5_000, seed=99) if r.code == "companies")
    other_companies = {c["national_id"]: c for c in other.records()}
    for code in ECOSYSTEM_OPERATORS.values():
        assert other_companies[code]["shareholders"] == companies[code]["shareholders"]


# --- the contract's schema rules ---------------------------------------------------------------

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
GENERIC = {"title", "description", "default", "examples", "x-title-en", "x-title-fa"}
FLAGS = {"x-key", "x-unique", "x-searchable", "x-personal", "x-subject"}
KIND_KEYWORDS = {
    "text": {"type", "minLength", "maxLength", "pattern"},
    "number": {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
    "integer": {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
    "boolean": {"type"},
    "date": {"type", "format"},
    "date-time": {"type", "format"},
    "time": {"type", "format"},
    "file": {"type", "contentEncoding", "contentMediaType", "x-max-bytes"},
    "code-list": {"type", "enum", "x-code-list"},
    "geo-point": {"type", "x-geo-point", "properties", "required", "additionalProperties"},
    "array": {"type", "items", "minItems", "maxItems"},
    "object": {"type", "properties", "required", "additionalProperties"},
}
SEARCHABLE = {"text", "number", "integer", "boolean", "date", "date-time", "time", "code-list"}
TOP_LEVEL = {"$schema", "title", "description", "type", "properties", "required",
             "additionalProperties", "x-search-indexes"}  # fmt: skip


def kind_of(field: dict[str, Any]) -> str:
    kind = field.get("type")
    if kind == "string":
        if "enum" in field:
            return "code-list"
        if "format" in field:
            return str(field["format"])
        return "file" if "contentEncoding" in field else "text"
    if kind == "object":
        return "geo-point" if field.get("x-geo-point") is True else "object"
    return str(kind)


def field_problems(pointer: str, field: dict[str, Any], *, top: bool) -> list[str]:
    kind = kind_of(field)
    if kind not in KIND_KEYWORDS:
        return [f"{pointer}: unknown kind {kind}"]
    top_flags = FLAGS | {"x-subject-kind"} if top else set()
    problems = [f"{pointer}/{k}: not allowed" for k in field
                if k not in KIND_KEYWORDS[kind] | GENERIC | top_flags]  # fmt: skip
    for flag in FLAGS - {"x-subject"}:
        if flag in field and field[flag] is not True:
            problems.append(f"{pointer}/{flag}: must be true")
    if field.get("x-searchable") and kind not in SEARCHABLE:
        problems.append(f"{pointer}: {kind} cannot be searchable")
    if field.get("x-unique") and kind not in ("text", "integer", "date"):
        problems.append(f"{pointer}: {kind} cannot be unique")
    if field.get("x-subject-kind") not in (
        None,
        "national-code",
        "legal-entity",
        "foreign-national",
    ):
        problems.append(f"{pointer}/x-subject-kind: unknown kind")
    subject = field.get("x-subject")
    if subject is True and not (
        kind == "text" or (kind == "array" and kind_of(field["items"]) == "text")
    ):
        problems.append(f"{pointer}: x-subject true on {kind}")  # fmt: skip
    if isinstance(subject, str):
        items = field.get("items", {})
        if kind != "array" or kind_of(items.get("properties", {}).get(subject, {})) != "text":
            problems.append(f"{pointer}: x-subject {subject!r} names no text sub-field")
    if kind == "code-list":
        labels = field["x-code-list"]
        if set(labels) != set(field["enum"]):
            problems.append(f"{pointer}: enum and x-code-list differ")
        if not all(
            label.get("fa") and label.get("en") and len(label) == 2 for label in labels.values()
        ):
            problems.append(f"{pointer}: a code without fa and en labels")  # fmt: skip
    if field.get("maxLength", 0) > 10_000 or field.get("maxItems", 0) > 1000:
        problems.append(f"{pointer}: bound too large")
    if kind == "geo-point":
        properties = field.get("properties", {})
        if set(properties) != {"lat", "lon"} or set(field.get("required", [])) != {"lat", "lon"}:
            problems.append(f"{pointer}: a geo point has exactly lat and lon")
    if kind == "array":
        problems += field_problems(f"{pointer}/items", field["items"], top=False)
    if kind in ("object", "geo-point"):
        problems += object_problems(pointer, field, top=False)
    return problems


def object_problems(pointer: str, node: dict[str, Any], *, top: bool) -> list[str]:
    properties = node.get("properties", {})
    problems = [] if properties else [f"{pointer}/properties: empty"]
    if node.get("additionalProperties", False) is not False:
        problems.append(f"{pointer}/additionalProperties: must be false")
    problems += [f"{pointer}/required: {name} is not a field"
                 for name in node.get("required", []) if name not in properties]  # fmt: skip
    for name, field in properties.items():
        if not FIELD_NAME.fullmatch(name):
            problems.append(f"{pointer}/properties/{name}: bad field name")
        if node.get("x-geo-point") and name in ("lat", "lon"):
            continue
        problems += field_problems(f"{pointer}/properties/{name}", field, top=top)
    return problems


def contract_problems(schema: dict[str, Any]) -> list[str]:
    problems = [f"/{k}: not allowed at the top" for k in schema if k not in TOP_LEVEL]
    if schema.get("$schema", "https://json-schema.org/draft/2020-12/schema") != (
        "https://json-schema.org/draft/2020-12/schema"
    ):
        problems.append("/$schema: not 2020-12")
    if schema.get("type") != "object":
        problems.append("/type: must be object")
    problems += object_problems("", schema, top=True)
    properties = schema.get("properties", {})
    keys = [n for n, f in properties.items() if f.get("x-key")]
    if len(keys) != 1 or kind_of(properties[keys[0]]) not in ("text", "integer"):
        problems.append(f"x-key: exactly one text or integer key, got {keys}")
    personal = any(f.get("x-personal") for f in properties.values())
    if personal and not any(f.get("x-subject") for f in properties.values()):
        problems.append("personal fields but no subject field")
    return problems


def test_every_schema_follows_the_contract(registries: list[SeedRegistry]) -> None:
    for registry in registries:
        assert contract_problems(registry.schema) == [], registry.code
        properties = registry.schema["properties"]
        assert all(f.get("title") and f.get("description") for f in properties.values())


def test_the_contract_checker_finds_broken_schemas(registries: list[SeedRegistry]) -> None:
    schemas = {r.code: r.schema for r in registries}

    def problems_after(code: str, change: Callable[[dict[str, Any]], object]) -> list[str]:
        schema = copy.deepcopy(schemas[code])
        change(schema["properties"])
        return contract_problems(schema)

    assert problems_after("persons", lambda p: p.__setitem__("Bad-Name", {"type": "string"}))
    assert problems_after("persons", lambda p: p["sex"]["x-code-list"].pop("F"))
    assert problems_after("persons", lambda p: p["sex"].__setitem__("oneOf", []))
    assert problems_after("persons", lambda p: p["alive"].__setitem__("x-key", True))
    assert problems_after("persons", lambda p: p["national_code"].pop("x-subject"))
    assert problems_after("addresses", lambda p: p["location"].__setitem__("x-searchable", True))
    assert problems_after("companies", lambda p: p["directors"].__setitem__("x-subject", "x"))
    assert problems_after(
        "companies", lambda p: p["directors"]["items"].__setitem__("x-personal", True)
    )


# --- names -------------------------------------------------------------------------------


def test_names_are_persian_with_english_transliterations() -> None:
    names = (seed_names.MALE_GIVEN_NAMES + seed_names.FEMALE_GIVEN_NAMES
             + seed_names.FAMILY_NAMES)  # fmt: skip
    assert len(names) >= 300
    for label in names:
        assert normalize_text(label.fa) == label.fa, label
        assert "\u064a" not in label.fa and "\u0643" not in label.fa, label  # Arabic yeh, kaf
        assert all(unicodedata.name(c).startswith(("ARABIC", "SPACE", "ZERO WIDTH NON-JOINER"))
                   for c in label.fa), label  # fmt: skip
        assert re.fullmatch(r"[A-Za-z][A-Za-z' -]*", label.en), label
    spellings = {label.fa for label in names}
    assert {"محمدحسین", f"محمد{ZWNJ}حسین", "محمد حسین"} <= spellings
    assert sum(ZWNJ in fa for fa in spellings) >= 30
