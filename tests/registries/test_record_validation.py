"""Records against their version's schema: what is refused, where (the JSON pointer in the
request body) and in which words; formats, files and patterns as the contract means them; and
property tests that generated records pass and a record with one wrong-typed field does not."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry_schemas import one_field_document, person_document, person_record
from zistboom.core.errors import ValidationError
from zistboom.registries.schema import RegistrySchema, parse_schema

PERSONS = parse_schema(person_document())
CONTENT = "/write/content"


def problems(schema: RegistrySchema, content: Any, *, partial: bool = False) -> list[str]:
    """Every refusal of ``content`` as ``field → message``; empty when it is accepted."""
    check = schema.validate_partial if partial else schema.validate_record
    try:
        check(content, pointer=CONTENT)
    except ValidationError as error:
        refused = error
    else:
        return []
    errors = refused.extra["errors"]
    assert (refused.field, refused.detail) == (errors[0]["field"], errors[0]["message"])
    for entry in errors:
        assert entry["message"].startswith(entry["field"] + ": ")
    return [f"{e['field']} → {e['message'].removeprefix(e['field'] + ': ')}" for e in errors]


def test_a_valid_record_is_accepted() -> None:
    assert problems(PERSONS, person_record()) == []
    assert problems(PERSONS, {"national_code": "0012345678", "family_name_fa": "x"}) == []


def test_the_validator_refuses_what_the_contract_forbids() -> None:
    # The checker must be able to fail, or every acceptance above proves nothing.
    record = {
        **person_record(),
        "national_code": "۰۰۱۲۳۴۵۶۷۸",  # Persian digits: ^[0-9]{10}$ means ASCII
        "birth_date": "1990-13-01",
        "sex": "X",
        "height_cm": True,
        "photo": "aGVsbG8",  # no padding
        "location": {"lat": 91, "lon": 0, "alt": 3},  # an absent additionalProperties is false
        "owners": [{"share": 2}],
        "registered_at": "2025-03-21T08:30:00",  # no offset
        "opens_at": "8:00",
        "nickname": "x",
    }
    del record["family_name_fa"]
    assert problems(PERSONS, record) == [
        "/write/content/birth_date → '1990-13-01' is not a date (YYYY-MM-DD)",
        "/write/content/family_name_fa → is missing: the field is required",
        "/write/content/height_cm → true is not an integer",
        "/write/content/location/alt → is not a field here (the fields are: lat, lon)",
        "/write/content/location/lat → 91 is greater than the maximum 90",
        "/write/content/national_code → '۰۰۱۲۳۴۵۶۷۸' does not match the pattern ^[0-9]{10}$",
        "/write/content/nickname → is not a field here (the fields are: national_code, "
        "family_name_fa, birth_date, sex, height_cm, alive, photo, location, owners, "
        "registered_at, opens_at)",
        "/write/content/opens_at → '8:00' is not a time (HH:MM:SS with its offset, e.g. "
        "08:30:00+03:30)",
        "/write/content/owners/0/national_code → is missing: the field is required",
        "/write/content/owners/0/share → 2 is greater than the maximum 1",
        "/write/content/photo → is not valid base64: use the standard alphabet (A-Z a-z 0-9 + /) "
        "with '=' padding, without spaces or line breaks",
        "/write/content/registered_at → '2025-03-21T08:30:00' is not a date-time (RFC 3339 "
        "with its offset, e.g. 2025-03-21T08:30:00+03:30)",
        "/write/content/sex → 'X' is not one of the codes F, M",
    ]


def test_the_first_refusal_is_the_detail() -> None:
    with pytest.raises(ValidationError) as caught:
        PERSONS.validate_record({**person_record(), "birth_date": "1990-13-01"}, pointer=CONTENT)
    assert (
        caught.value.detail == "/write/content/birth_date: '1990-13-01' is not a date (YYYY-MM-DD)"
    )
    assert caught.value.field == "/write/content/birth_date"
    problem = caught.value.to_problem()
    assert problem["status"] == 422
    assert problem["errors"] == [
        {"field": "/write/content/birth_date", "message": caught.value.detail}
    ]


@pytest.mark.parametrize(
    ("content", "shown"), [([], "[]"), ("record", "'record'"), (None, "null"), (3, "3")]
)
def test_content_is_an_object(content: Any, shown: str) -> None:
    assert problems(PERSONS, content) == [f"/write/content → {shown} is not an object"]


def test_each_missing_field_is_listed_once() -> None:
    # jsonschema raises one error per missing field, each naming them all.
    assert problems(PERSONS, {}) == [
        "/write/content/family_name_fa → is missing: the field is required",
        "/write/content/national_code → is missing: the field is required",
    ]


def test_at_most_twenty_refusals_are_listed() -> None:
    record = {f"unknown_{index:02d}": index for index in range(30)}
    listed = problems(PERSONS, record)
    assert len(listed) == 20
    assert listed[0].startswith("/write/content/family_name_fa → is missing")


def test_pointers_escape_slashes_and_tildes() -> None:
    assert problems(PERSONS, {**person_record(), "a/b~c": 1}) == [
        "/write/content/a~1b~0c → is not a field here (the fields are: national_code, "
        "family_name_fa, birth_date, sex, height_cm, alive, photo, location, owners, "
        "registered_at, opens_at)"
    ]


def test_a_partial_content_needs_no_field_but_each_given_one_must_be_valid() -> None:
    assert problems(PERSONS, {}, partial=True) == []
    assert problems(PERSONS, {"sex": "M"}, partial=True) == []
    assert problems(PERSONS, {"sex": "m", "x": 1, "location": {"lat": 1}}, partial=True) == [
        "/write/content/location/lon → is missing: the field is required",
        "/write/content/sex → 'm' is not one of the codes F, M",
        "/write/content/x → is not a field here (the fields are: national_code, "
        "family_name_fa, birth_date, sex, height_cm, alive, photo, location, owners, "
        "registered_at, opens_at)",
    ]


# --- formats ---------------------------------------------------------------------------------

FORMATS: dict[str, tuple[list[str], list[str]]] = {
    "date": (
        ["2024-02-29", "0001-01-01", "9999-12-31"],
        ["2023-02-29", "2024-2-29", "2024/02/29", "۲۰۲۴-۰۲-۲۹", "2024-02-29T00:00:00Z", ""],
    ),
    "date-time": (
        [
            "2025-03-21T08:30:00+03:30",
            "2025-03-21t08:30:00z",
            "2025-03-21T08:30:00.123456789Z",
            "2025-03-21T23:59:59-12:00",
        ],
        [
            "2025-03-21T08:30:00",
            "2025-03-21 08:30:00Z",
            "2025-03-21T24:00:00Z",
            "2025-03-21T08:30:60Z",
            "2025-03-21T08:30:00+24:00",
            "2025-03-21T08:30:00+03:60",
            "2025-03-21T08:30Z",
            "2025-02-30T08:30:00Z",
        ],
    ),
    "time": (
        ["08:30:00Z", "23:59:59.5+03:30", "00:00:00-00:00"],
        ["08:30:00", "8:30:00Z", "08:30Z", "24:00:00Z", "08:30:00+0330"],
    ),
}


@pytest.mark.parametrize("kind", sorted(FORMATS))
def test_formats_are_checked_as_rfc_3339(kind: str) -> None:
    schema = parse_schema(one_field_document("at", {"type": "string", "format": kind}))
    valid, invalid = FORMATS[kind]
    for value in valid:
        assert problems(schema, {"id": "a", "at": value}) == [], value
    for value in invalid:
        listed = problems(schema, {"id": "a", "at": value})
        assert listed and f"is not a {kind}" in listed[0], value


# --- files -----------------------------------------------------------------------------------

SCANS = parse_schema(
    one_field_document(
        "scans",
        {
            "type": "array",
            "items": {
                "type": "string",
                "contentEncoding": "base64",
                "contentMediaType": "application/pdf",
                "x-max-bytes": 6,
            },
        },
    )
)


def test_files_are_base64_within_their_size() -> None:
    six, seven = base64.b64encode(b"sixbyt").decode(), base64.b64encode(b"seven!!").decode()
    assert problems(SCANS, {"id": "a", "scans": [six, "", "YQ==", "YWI="]}) == []
    assert problems(SCANS, {"id": "a", "scans": [six, seven, "YQ", "Y Q==", "YQ==\n", "*Q=="]}) == [
        "/write/content/scans/1 → the file is about 7 bytes; at most 6 are allowed",
        *(
            f"/write/content/scans/{index} → is not valid base64: use the standard alphabet "
            "(A-Z a-z 0-9 + /) with '=' padding, without spaces or line breaks"
            for index in range(2, 6)
        ),
    ]


def test_a_huge_file_is_refused_on_its_length() -> None:
    field = {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"}
    schema = parse_schema(one_field_document("scan", field))
    huge = "A" * (4 * 1024 * 1024)
    assert problems(schema, {"id": "a", "scan": huge}) == [
        "/write/content/scan → the file is about 3145728 bytes; at most 1048576 are allowed"
    ]


def test_a_file_of_the_wrong_type_is_refused_once() -> None:
    assert problems(SCANS, {"id": "a", "scans": [7]}) == [
        "/write/content/scans/0 → 7 is not a string"
    ]


# --- property tests --------------------------------------------------------------------------

SMALL = parse_schema(
    {
        "type": "object",
        "properties": {
            "national_code": {"type": "string", "pattern": "^[0-9]{10}$", "x-key": True},
            "name": {"type": "string", "minLength": 1, "maxLength": 20},
            "age": {"type": "integer", "minimum": 0, "maximum": 150},
            "born": {"type": "string", "format": "date"},
            "sex": {
                "type": "string",
                "enum": ["F", "M"],
                "x-code-list": {
                    "F": {"fa": "زن", "en": "Female"},
                    "M": {"fa": "مرد", "en": "Male"},
                },
            },
            "photo": {
                "type": "string",
                "contentEncoding": "base64",
                "contentMediaType": "image/png",
                "x-max-bytes": 48,
            },
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "maxItems": 3},
            "home": {
                "type": "object",
                "x-geo-point": True,
                "properties": {
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "lon": {"type": "number", "minimum": -180, "maximum": 180},
                },
                "required": ["lat", "lon"],
            },
        },
        "required": ["name"],
    }
)


def small_records() -> st.SearchStrategy[dict[str, Any]]:
    required = {
        "national_code": st.from_regex(r"\A[0-9]{10}\Z"),
        "name": st.text(min_size=1, max_size=20),
    }
    optional = {
        "age": st.integers(0, 150),
        "born": st.dates().map(lambda day: day.isoformat()),
        "sex": st.sampled_from(["F", "M"]),
        "photo": st.binary(max_size=48).map(lambda data: base64.b64encode(data).decode()),
        "tags": st.lists(st.text(max_size=5), max_size=3),
        "home": st.fixed_dictionaries(
            {
                "lat": st.floats(-90, 90) | st.integers(-90, 90),
                "lon": st.floats(-180, 180) | st.integers(-180, 180),
            }
        ),
    }
    return st.fixed_dictionaries(required, optional=optional)


# A value of another JSON type than each field takes (null is no field's type).
WRONG_TYPE = {
    "national_code": st.integers() | st.none(),
    "name": st.integers() | st.booleans() | st.lists(st.text(), max_size=1),
    "age": st.text()
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
    "born": st.integers() | st.none(),
    "sex": st.booleans() | st.dictionaries(st.text(), st.text(), max_size=1),
    "photo": st.binary(max_size=4).map(list),
    "tags": st.text() | st.dictionaries(st.text(), st.integers(), max_size=1),
    "home": st.text() | st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=2),
}


@given(small_records())
def test_generated_records_are_accepted(record: dict[str, Any]) -> None:
    assert problems(SMALL, record) == []


@given(small_records(), st.data())
def test_a_record_with_one_field_of_a_wrong_type_is_refused_at_that_field(
    record: dict[str, Any], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(WRONG_TYPE)))
    record[name] = data.draw(WRONG_TYPE[name])
    with pytest.raises(ValidationError) as caught:
        SMALL.validate_record(record, pointer=CONTENT)
    assert caught.value.field == f"/write/content/{name}"
    assert {e["field"] for e in caught.value.extra["errors"]} == {f"/write/content/{name}"}
