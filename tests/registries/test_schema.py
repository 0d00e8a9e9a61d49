"""Registry schemas: every kind of field, every refusal of the documented subset (each naming its
JSON pointer), the flags and the record helpers, and the match form."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registry_schemas import one_field_document, person_document, person_record
from zistboom.core.errors import ValidationError
from zistboom.core.persian import normalize_text
from zistboom.registries.schema import KINDS, Field, match_form, parse_schema


def refusals(document: Any) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as caught:
        parse_schema(document)
    error = caught.value
    errors: list[dict[str, str]] = error.extra["errors"]
    assert error.field == errors[0]["field"]
    assert error.detail == errors[0]["message"]
    for entry in errors:  # each message says where, then what
        assert entry["message"].startswith(f"{entry['field']}: ") or not entry["field"]
    return errors


def refused_at(document: Any, pointer: str) -> str:
    """The message of the refusal at ``pointer`` (the test fails if there is none)."""
    errors = refusals(document)
    messages = [e["message"] for e in errors if e["field"] == pointer]
    assert messages, f"no refusal at {pointer}: {errors}"
    return messages[0]


# --- the contract's example ------------------------------------------------------------------


def test_the_contract_example_parses_into_its_fields() -> None:
    schema = parse_schema(person_document())
    assert schema.names == (
        "national_code",
        "family_name_fa",
        "birth_date",
        "sex",
        "height_cm",
        "alive",
        "photo",
        "location",
        "owners",
        "registered_at",
        "opens_at",
    )
    kinds = {field.name: field.kind for field in schema.fields}
    assert kinds == {
        "national_code": "text",
        "family_name_fa": "text",
        "birth_date": "date",
        "sex": "code-list",
        "height_cm": "integer",
        "alive": "boolean",
        "photo": "file",
        "location": "geo-point",
        "owners": "array",
        "registered_at": "date-time",
        "opens_at": "time",
    }
    key = schema.key
    assert (key.name, key.required, key.unique, key.subject, key.personal) == (
        "national_code",
        True,
        True,
        True,
        True,
    )
    assert schema.searchable == ("family_name_fa", "birth_date", "registered_at")
    assert schema.personal == ("national_code", "family_name_fa")
    assert schema.has_personal
    assert [f.name for f in schema.subject_fields] == ["national_code", "owners"]
    assert [f.name for f in schema.file_fields] == ["photo"]
    assert schema.field("sex").code_list == {
        "F": {"fa": "زن", "en": "Female"},
        "M": {"fa": "مرد", "en": "Male"},
    }
    alive = schema.field("alive")
    assert (alive.has_default, alive.default, alive.required) == (True, True, False)
    photo = schema.field("photo")
    assert (photo.media_type, photo.max_bytes, photo.file_extension) == ("image/jpeg", 64, "jpg")
    owners = schema.field("owners")
    assert owners.subject == "national_code"
    assert owners.items is not None and owners.items.path == "owners"
    share = owners.items.properties[1]
    assert (share.name, share.path, share.kind, share.required) == (
        "share",
        "owners.share",
        "number",
        False,
    )
    assert owners.items.properties[0].required
    location = schema.field("location")
    assert [(f.path, f.kind) for f in location.properties] == [
        ("location.lat", "number"),
        ("location.lon", "number"),
    ]


def test_parsing_copies_the_document() -> None:
    document = person_document()
    schema = parse_schema(document)
    document["properties"]["sex"]["enum"].append("X")
    del document["properties"]["alive"]
    assert schema.document["properties"]["sex"]["enum"] == ["F", "M"]
    assert "alive" in schema.names


def test_a_field_that_is_not_there() -> None:
    schema = parse_schema(person_document())
    with pytest.raises(ValidationError, match="'nickname' is not a field of this version"):
        schema.field("nickname")


# --- every kind ------------------------------------------------------------------------------

KIND_EXAMPLES: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "minLength": 1, "maxLength": 10_000, "pattern": "^[a-z]+$"},
    "number": {"type": "number", "exclusiveMinimum": 0, "maximum": 1.5},
    "integer": {"type": "integer", "minimum": -5, "exclusiveMaximum": 5},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "date-time": {"type": "string", "format": "date-time"},
    "time": {"type": "string", "format": "time"},
    "file": {
        "type": "string",
        "contentEncoding": "base64",
        "contentMediaType": "application/pdf",
        "x-max-bytes": 10 * 1024 * 1024,
    },
    "code-list": {
        "type": "string",
        "enum": ["A"],
        "x-code-list": {"A": {"fa": "الف", "en": "A"}},
    },
    "geo-point": {
        "type": "object",
        "x-geo-point": True,
        "properties": {
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
        },
        "required": ["lon", "lat"],
    },
    "array": {"type": "array", "items": {"type": "integer"}, "minItems": 0, "maxItems": 1000},
    "object": {
        "type": "object",
        "properties": {"inner": {"type": "object", "properties": {"deep": {"type": "boolean"}}}},
        "required": ["inner"],
        "additionalProperties": False,
    },
}


def test_the_examples_cover_every_kind() -> None:
    assert set(KIND_EXAMPLES) == set(KINDS)
    assert len(KINDS) == 12


@pytest.mark.parametrize("kind", sorted(KIND_EXAMPLES))
def test_every_kind_is_accepted(kind: str) -> None:
    fragment = {
        **KIND_EXAMPLES[kind],
        "title": "عنوان",
        "description": "What it holds",
        "x-title-en": "Title",
        "x-title-fa": "عنوان",
    }
    schema = parse_schema(one_field_document("f", fragment))
    field = schema.field("f")
    assert field.kind == kind
    assert field.fragment == fragment


def test_a_file_field_has_one_mib_unless_it_says() -> None:
    fragment = {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"}
    field = parse_schema(one_field_document("scan", fragment)).field("scan")
    assert (field.max_bytes, field.file_extension) == (1024 * 1024, "png")
    odd = {**fragment, "contentMediaType": "application/x-zistboom-unknown"}
    assert parse_schema(one_field_document("scan", odd)).field("scan").file_extension == "bin"


def test_defaults_and_examples_that_validate_are_accepted() -> None:
    fragment = {
        "type": "object",
        "properties": {"at": {"type": "string", "format": "date-time"}},
        "default": {"at": "2025-01-01T00:00:00Z"},
        "examples": [{"at": "2025-01-01T12:00:00+03:30"}, {}],
    }
    field = parse_schema(one_field_document("seen", fragment)).field("seen")
    assert field.default == {"at": "2025-01-01T00:00:00Z"}


# --- refusals: every path names its pointer ---------------------------------------------------

FIELD_REFUSALS: list[tuple[str, Any, str, str]] = [
    # (case, fragment of field f, pointer, part of the message)
    ("$ref", {"$ref": "#/$defs/x"}, "/properties/f/$ref", "outside the registry"),
    ("$ref typed", {"type": "string", "$ref": "#/$defs/x"}, "/properties/f/$ref", "outside"),
    ("$ref, no type", {"$ref": "#/$defs/x"}, "/properties/f", "needs a type"),
    ("oneOf", {"type": "string", "oneOf": []}, "/properties/f/oneOf", "outside the registry"),
    ("anyOf", {"type": "string", "anyOf": []}, "/properties/f/anyOf", "outside the registry"),
    ("allOf", {"type": "string", "allOf": []}, "/properties/f/allOf", "outside the registry"),
    ("not", {"type": "string", "not": {}}, "/properties/f/not", "outside the registry"),
    ("if", {"type": "string", "if": {}}, "/properties/f/if", "outside the registry"),
    ("const", {"type": "string", "const": "a"}, "/properties/f/const", "outside the registry"),
    (
        "patternProperties",
        {"type": "object", "properties": {"a": {"type": "string"}}, "patternProperties": {}},
        "/properties/f/patternProperties",
        "outside the registry",
    ),
    ("unknown x-", {"type": "string", "x-colour": "red"}, "/properties/f/x-colour", "unknown"),
    ("type list", {"type": ["string", "null"]}, "/properties/f/type", "type lists"),
    ("type null", {"type": "null"}, "/properties/f/type", "is not one of"),
    ("no type", {"title": "x"}, "/properties/f", "needs a type"),
    ("not an object", True, "/properties/f", "described by a JSON object"),
    ("format", {"type": "string", "format": "email"}, "/properties/f/format", "not supported"),
    (
        "another kind's keyword",
        {"type": "string", "format": "date", "maxLength": 10},
        "/properties/f/maxLength",
        "does not apply to a date field",
    ),
    ("maxLength bound", {"type": "string", "maxLength": 10_001}, "/properties/f/maxLength", ""),
    ("negative", {"type": "string", "maxLength": -1}, "/properties/f/maxLength", "≥ 0"),
    (
        "empty length range",
        {"type": "string", "minLength": 5, "maxLength": 4},
        "/properties/f/minLength",
        "no value would do",
    ),
    ("bad pattern", {"type": "string", "pattern": "(["}, "/properties/f/pattern", "not a valid"),
    ("bound type", {"type": "number", "minimum": "0"}, "/properties/f/minimum", "is a number"),
    ("bound bool", {"type": "integer", "maximum": True}, "/properties/f/maximum", "is a number"),
    (
        "empty range",
        {"type": "integer", "exclusiveMinimum": 3, "maximum": 3},
        "/properties/f/exclusiveMinimum",
        "leave no valid value",
    ),
    ("multipleOf", {"type": "integer", "multipleOf": 2}, "/properties/f/multipleOf", "outside"),
    (
        "encoding",
        {"type": "string", "contentEncoding": "base32", "contentMediaType": "image/png"},
        "/properties/f/contentEncoding",
        "'base64'",
    ),
    (
        "no encoding",
        {"type": "string", "contentMediaType": "image/png"},
        "/properties/f",
        "needs contentEncoding",
    ),
    (
        "no media type",
        {"type": "string", "contentEncoding": "base64"},
        "/properties/f",
        "needs contentMediaType",
    ),
    (
        "media type",
        {"type": "string", "contentEncoding": "base64", "contentMediaType": "Image/PNG; q=1"},
        "/properties/f/contentMediaType",
        "not a media type",
    ),
    (
        "file size",
        {
            "type": "string",
            "contentEncoding": "base64",
            "contentMediaType": "image/png",
            "x-max-bytes": 10 * 1024 * 1024 + 1,
        },
        "/properties/f/x-max-bytes",
        "from 1 to 10485760",
    ),
    (
        "enum without labels",
        {"type": "string", "enum": ["A"]},
        "/properties/f",
        "needs x-code-list",
    ),
    (
        "labels without enum",
        {"type": "string", "x-code-list": {"A": {"fa": "الف", "en": "A"}}},
        "/properties/f/enum",
        "non-empty array",
    ),
    (
        "code without label",
        {"type": "string", "enum": ["A", "B"], "x-code-list": {"A": {"fa": "الف", "en": "A"}}},
        "/properties/f/x-code-list/B",
        "has no label",
    ),
    (
        "label without code",
        {
            "type": "string",
            "enum": ["A"],
            "x-code-list": {"A": {"fa": "الف", "en": "A"}, "Z": {"fa": "ی", "en": "Z"}},
        },
        "/properties/f/x-code-list/Z",
        "not in enum",
    ),
    (
        "half a label",
        {"type": "string", "enum": ["A"], "x-code-list": {"A": {"fa": "الف"}}},
        "/properties/f/x-code-list/A",
        "both given",
    ),
    (
        "empty label",
        {"type": "string", "enum": ["A"], "x-code-list": {"A": {"fa": " ", "en": "A"}}},
        "/properties/f/x-code-list/A",
        "non-empty strings",
    ),
    (
        "code twice",
        {"type": "string", "enum": ["A", "A"], "x-code-list": {"A": {"fa": "الف", "en": "A"}}},
        "/properties/f/enum/1",
        "listed twice",
    ),
    (
        "code not a string",
        {"type": "string", "enum": [1], "x-code-list": {}},
        "/properties/f/enum/0",
        "non-empty string",
    ),
    (
        "enum on an integer",
        {"type": "integer", "enum": [1, 2]},
        "/properties/f/enum",
        "does not apply to a integer field",
    ),
    (
        "geo-point false",
        {**KIND_EXAMPLES["geo-point"], "x-geo-point": False},
        "/properties/f/x-geo-point",
        "is true",
    ),
    (
        "geo-point altitude",
        {
            **KIND_EXAMPLES["geo-point"],
            "properties": {**KIND_EXAMPLES["geo-point"]["properties"], "alt": {"type": "number"}},
        },
        "/properties/f/properties",
        "exactly the properties lat and lon",
    ),
    (
        "geo-point bounds",
        {
            **KIND_EXAMPLES["geo-point"],
            "properties": {
                "lat": {"type": "number", "minimum": -91, "maximum": 90},
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
            },
        },
        "/properties/f/properties/lat",
        '"minimum": -90',
    ),
    (
        "geo-point optional",
        {**KIND_EXAMPLES["geo-point"], "required": ["lat"]},
        "/properties/f/required",
        "requires both",
    ),
    ("no items", {"type": "array"}, "/properties/f", "needs items"),
    (
        "maxItems bound",
        {"type": "array", "items": {"type": "string"}, "maxItems": 1001},
        "/properties/f/maxItems",
        "above the bound 1000",
    ),
    (
        "uniqueItems",
        {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "/properties/f/uniqueItems",
        "outside",
    ),
    (
        "flag in items",
        {"type": "array", "items": {"type": "string", "x-personal": True}},
        "/properties/f/items/x-personal",
        "top-level fields only",
    ),
    ("no properties", {"type": "object"}, "/properties/f", "needs properties"),
    (
        "empty properties",
        {"type": "object", "properties": {}},
        "/properties/f/properties",
        "non-empty",
    ),
    (
        "open object",
        {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {}},
        "/properties/f/additionalProperties",
        "must be false",
    ),
    (
        "required unknown",
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]},
        "/properties/f/required/0",
        "not one of the properties",
    ),
    (
        "nested name",
        {"type": "object", "properties": {"Bad": {"type": "string"}}},
        "/properties/f/properties/Bad",
        "field name 'Bad'",
    ),
    (
        "nested flag",
        {"type": "object", "properties": {"a": {"type": "string", "x-searchable": True}}},
        "/properties/f/properties/a/x-searchable",
        "top-level fields only",
    ),
    (
        "nested refusal",
        {"type": "object", "properties": {"a": {"type": "string", "anyOf": []}}},
        "/properties/f/properties/a/anyOf",
        "outside",
    ),
    ("bad default", {"type": "integer", "default": "3"}, "/properties/f/default", "not an integer"),
    (
        "nested bad default",
        {**KIND_EXAMPLES["geo-point"], "default": {"lat": 91, "lon": 0}},
        "/properties/f/default",
        "the default is not valid for the field: /lat: 91 is greater than the maximum 90",
    ),
    (
        "bad example",
        {"type": "string", "format": "date", "examples": ["2025-02-30"]},
        "/properties/f/examples/0",
        "example 0 is not valid for the field: '2025-02-30' is not a date",
    ),
    ("examples not a list", {"type": "string", "examples": "a"}, "/properties/f/examples", ""),
    ("title", {"type": "string", "title": 3}, "/properties/f/title", "is a string"),
    ("x-key kind", {"type": "boolean", "x-key": True}, "/properties/f/x-key", "text or integer"),
    ("second key", {"type": "integer", "x-key": True}, "/properties/f/x-key", "only one field"),
    ("x-unique kind", {"type": "number", "x-unique": True}, "/properties/f/x-unique", "not number"),
    (
        "x-searchable kind",
        {"type": "array", "items": {"type": "string"}, "x-searchable": True},
        "/properties/f/x-searchable",
        "cannot be searched",
    ),
    ("flag value", {"type": "string", "x-personal": "yes"}, "/properties/f/x-personal", "true or"),
    (
        "x-subject kind",
        {"type": "integer", "x-subject": True},
        "/properties/f/x-subject",
        "goes on a text field",
    ),
    (
        "x-subject string on text",
        {"type": "string", "x-subject": "code"},
        "/properties/f/x-subject",
        "x-subject is true",
    ),
    (
        "x-subject true on objects",
        {
            "type": "array",
            "items": {"type": "object", "properties": {"code": {"type": "string"}}},
            "x-subject": True,
        },
        "/properties/f/x-subject",
        "names the sub-field",
    ),
    (
        "x-subject names nothing",
        {
            "type": "array",
            "items": {"type": "object", "properties": {"code": {"type": "string"}}},
            "x-subject": "national_code",
        },
        "/properties/f/x-subject",
        "'national_code' is not a text field of the items (code)",
    ),
    (
        "x-subject names a number",
        {
            "type": "array",
            "items": {"type": "object", "properties": {"code": {"type": "integer"}}},
            "x-subject": "code",
        },
        "/properties/f/x-subject",
        "not a text field",
    ),
    (
        "personal without subject",
        {"type": "string", "x-personal": True},
        "/properties/f/x-personal",
        "names whom each record is about",
    ),
]


@pytest.mark.parametrize(
    ("fragment", "pointer", "message"),
    [case[1:] for case in FIELD_REFUSALS],
    ids=[case[0] for case in FIELD_REFUSALS],
)
def test_each_refusal_names_its_pointer(fragment: Any, pointer: str, message: str) -> None:
    assert message in refused_at(one_field_document("f", fragment), pointer)


@pytest.mark.parametrize(
    "name", ["Name", "1st", "a-b", "a" * 64, "نام", "", "_a"], ids=lambda name: repr(name[:8])
)
def test_field_names_are_refused_unless_lower_snake_case(name: str) -> None:
    pointer = "/properties/" + name.replace("~", "~0").replace("/", "~1")
    assert "is not allowed" in refused_at(one_field_document(name, {"type": "string"}), pointer)


def test_the_longest_field_name_is_accepted() -> None:
    name = "a" + "_" * 62
    assert parse_schema(one_field_document(name, {"type": "string"})).field(name).kind == "text"


TOP_REFUSALS: list[tuple[str, dict[str, Any], str, str]] = [
    ("dialect", {"$schema": "http://json-schema.org/draft-07/schema#"}, "/$schema", "2020-12"),
    ("type", {"type": "array"}, "/type", "'object'"),
    ("open", {"additionalProperties": True}, "/additionalProperties", "must be false"),
    ("$defs", {"$defs": {}}, "/$defs", "not allowed at the top level"),
    ("examples", {"examples": []}, "/examples", "not allowed at the top level"),
    ("required unknown", {"required": ["nobody"]}, "/required/0", "not one of the properties"),
    ("required twice", {"required": ["id", "id"]}, "/required/1", "listed twice"),
    ("required shape", {"required": "id"}, "/required", "array of field names"),
    ("title", {"title": ["x"]}, "/title", "is a string"),
]


@pytest.mark.parametrize(
    ("top", "pointer", "message"),
    [case[1:] for case in TOP_REFUSALS],
    ids=[case[0] for case in TOP_REFUSALS],
)
def test_each_top_level_refusal_names_its_pointer(
    top: dict[str, Any], pointer: str, message: str
) -> None:
    document = {**one_field_document("f", {"type": "string"}), **top}
    assert message in refused_at(document, pointer)


@pytest.mark.parametrize(
    ("document", "pointer", "message"),
    [
        ({"type": "object", "properties": {}}, "/properties", "at least one"),
        ({"type": "object"}, "/properties", "at least one"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}},
            "/properties",
            "needs one key",
        ),
    ],
    ids=["empty", "absent", "no key"],
)
def test_a_schema_needs_fields_and_a_key(document: Any, pointer: str, message: str) -> None:
    assert message in refused_at(document, pointer)


@pytest.mark.parametrize("document", [[], "schema", None])
def test_a_schema_is_an_object(document: Any) -> None:
    with pytest.raises(ValidationError, match="is a JSON object") as caught:
        parse_schema(document)
    assert caught.value.field == ""


def test_a_document_nesting_without_end_is_refused_before_anything_recurses() -> None:
    fragment: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
    for _ in range(2000):
        fragment = {"type": "array", "items": fragment}
    with pytest.raises(ValidationError, match="nests deeper than 64 levels"):
        parse_schema(one_field_document("f", fragment))


def test_fields_nest_eight_levels_at_most() -> None:
    def nested(depth: int) -> dict[str, Any]:
        fragment: dict[str, Any] = {"type": "string"}
        for _ in range(depth):
            fragment = {"type": "object", "properties": {"a": fragment}}
        return fragment

    assert parse_schema(one_field_document("f", nested(8))).field("f").kind == "object"
    message = refused_at(one_field_document("f", nested(9)), "/properties/f" + "/properties/a" * 9)
    assert "at most 8 levels" in message


def test_every_refusal_of_a_document_is_listed_in_its_order() -> None:
    document = one_field_document("f", {"type": "string", "oneOf": [], "x-colour": 1})
    document["properties"]["Bad"] = {"type": "string"}
    document["$id"] = "x"
    fields = [e["field"] for e in refusals(document)]
    assert fields == ["/$id", "/properties/f/oneOf", "/properties/f/x-colour", "/properties/Bad"]


def test_at_most_twenty_refusals_are_listed() -> None:
    document = one_field_document("f", {"type": "string"})
    for index in range(30):
        document["properties"][f"F{index}"] = {"type": "string"}
    errors = refusals(document)
    assert len(errors) == 20
    assert errors[0]["field"] == "/properties/F0"


# --- flags -----------------------------------------------------------------------------------


def test_the_key_is_required_and_unique_without_saying_so() -> None:
    schema = parse_schema(
        {"type": "object", "properties": {"n": {"type": "integer", "x-key": True}}}
    )
    assert (schema.key.name, schema.key.required, schema.key.unique) == ("n", True, True)
    with pytest.raises(ValidationError, match="/n: is missing"):
        schema.validate_record({}, pointer="")


def test_the_key_has_no_default() -> None:
    document = {
        "type": "object",
        "properties": {"n": {"type": "integer", "x-key": True, "default": 1}},
    }
    assert "no default" in refused_at(document, "/properties/n/default")


@pytest.mark.parametrize("kind", ["text", "integer", "date"])
def test_x_unique_goes_on_text_integer_and_date(kind: str) -> None:
    field = parse_schema(one_field_document("f", {**KIND_EXAMPLES[kind], "x-unique": True}))
    assert field.field("f").unique


@pytest.mark.parametrize(
    "kind", ["text", "number", "integer", "boolean", "date", "date-time", "time", "code-list"]
)
def test_x_searchable_goes_on_the_scalar_kinds(kind: str) -> None:
    schema = parse_schema(one_field_document("f", {**KIND_EXAMPLES[kind], "x-searchable": True}))
    assert schema.searchable == ("f",)


@pytest.mark.parametrize("kind", ["file", "geo-point", "array", "object"])
def test_x_searchable_is_refused_on_the_other_kinds(kind: str) -> None:
    document = one_field_document("f", {**KIND_EXAMPLES[kind], "x-searchable": True})
    assert "cannot be searched" in refused_at(document, "/properties/f/x-searchable")


def test_personal_data_needs_a_subject_and_any_kind_of_subject_will_do() -> None:
    people = {"type": "array", "items": {"type": "string"}, "x-subject": True}
    document = one_field_document("notes", {"type": "string", "x-personal": True})
    assert "x-subject" in refused_at(document, "/properties/notes/x-personal")
    document["properties"]["people"] = people
    schema = parse_schema(document)
    assert schema.personal == ("notes",)
    assert schema.field("people").subject is True


def test_false_flags_are_flags_left_out() -> None:
    fragment = {"type": "string", "x-unique": False, "x-personal": False, "x-subject": False}
    field = parse_schema(one_field_document("f", fragment)).field("f")
    assert (field.unique, field.personal, field.subject) == (False, False, None)


# --- record helpers --------------------------------------------------------------------------


def test_defaults_are_added_for_absent_top_level_fields_only() -> None:
    document = person_document()
    document["properties"]["tags"] = {
        "type": "array",
        "items": {"type": "string"},
        "default": ["new"],
    }
    schema = parse_schema(document)
    record = {"national_code": "0012345678", "family_name_fa": "x", "alive": False}
    filled = schema.apply_defaults(record)
    assert filled == {**record, "tags": ["new"]}
    assert record == {"national_code": "0012345678", "family_name_fa": "x", "alive": False}
    filled["tags"].append("changed")
    assert schema.apply_defaults({})["tags"] == ["new"]
    assert schema.apply_defaults({})["alive"] is True


def test_project_keeps_only_the_versions_fields_in_schema_order() -> None:
    schema = parse_schema(person_document())
    stored = {"later_field": 1, "sex": "M", "national_code": "0012345678"}
    assert list(schema.project(stored).items()) == [("national_code", "0012345678"), ("sex", "M")]


def test_subjects_are_every_subject_value_once_in_order() -> None:
    document = person_document()
    document["properties"]["witnesses"] = {
        "type": "array",
        "items": {"type": "string"},
        "x-subject": True,
    }
    schema = parse_schema(document)
    record = {
        **person_record(),
        "owners": [
            {"national_code": "2222222222"},
            {"national_code": "0012345678"},
            {"share": 1},
        ],
        "witnesses": ["3333333333", "2222222222"],
    }
    assert schema.subjects(record) == ["0012345678", "2222222222", "3333333333"]
    assert schema.subjects({"owners": "not a list"}) == []


# --- the match form --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("علي", "علی"),  # Arabic yeh
        ("كتاب", "کتاب"),  # Arabic kaf
        ("می\u200cروم", "میروم"),  # ZWNJ dropped
        ("  محمد   رضا ", "محمد رضا"),
        ("۱۲۳٤", "1234"),
        ("Tehran STREET", "tehran street"),
        ("Straße", "strasse"),
    ],
)
def test_match_form(text: str, form: str) -> None:
    assert match_form(text) == form


def test_two_spellings_of_one_name_match() -> None:
    assert match_form("مهدي\u200cزاده") == match_form("مهدیزاده")


@given(st.text())
def test_match_form_is_idempotent(text: str) -> None:
    once = match_form(text)
    assert match_form(once) == once
    assert "\u200c" not in once
    assert once == normalize_text(text).replace("\u200c", "").casefold()


def test_fields_are_values() -> None:
    first = parse_schema(person_document()).field("owners")
    second = parse_schema(person_document()).field("owners")
    assert first == second
    assert isinstance(first.items, Field)
