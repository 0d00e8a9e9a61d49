"""A schema's JSON and YAML text: read into the value it means (YAML's 1.1 surprises kept out),
refused with the line and column when it is not one, and written so that it reads back the
same."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from registry_schemas import person_document
from zistboom.core.errors import ValidationError
from zistboom.registries.schema import SchemaFormat, dump_schema, load_schema_text, parse_schema


@pytest.mark.parametrize("form", ["json", "yaml"])
def test_the_contract_example_round_trips(form: SchemaFormat) -> None:
    document = person_document()
    text = dump_schema(document, format=form)
    assert load_schema_text(text, format=form) == document
    assert list(load_schema_text(text, format=form)["properties"]) == list(document["properties"])
    assert "کد ملی" in text  # Persian as it is, not escaped
    parse_schema(load_schema_text(text, format=form))


def test_json_is_indented_and_keeps_the_key_order() -> None:
    text = dump_schema({"b": 1, "a": {"c": [1]}}, format="json")
    assert text == '{\n  "b": 1,\n  "a": {\n    "c": [\n      1\n    ]\n  }\n}\n'


def test_yaml_is_block_style_in_document_order() -> None:
    assert dump_schema({"type": "object", "title": "اشخاص"}, format="yaml") == (
        "type: object\ntitle: اشخاص\n"
    )


def test_yaml_reads_scalars_as_json_would() -> None:
    text = (
        "codes: [NO, yes, off, On, y]\n"
        "born: 2025-03-21\n"
        "at: 2025-03-21T08:30:00Z\n"
        "sexagesimal: 1:30\n"
        "octal: 012\n"
        "hex: 0x1F\n"
        "underscored: 1_000\n"
        "infinite: .inf\n"
        "exponent: 1e3\n"
        "float: -2.5\n"
        "flags: [true, False, TRUE]\n"
        "nothing: ~\n"
        "empty:\n"
    )
    assert load_schema_text(text, format="yaml") == {
        "codes": ["NO", "yes", "off", "On", "y"],
        "born": "2025-03-21",
        "at": "2025-03-21T08:30:00Z",
        "sexagesimal": "1:30",
        "octal": 12,
        "hex": "0x1F",
        "underscored": "1_000",
        "infinite": ".inf",
        "exponent": 1000.0,
        "float": -2.5,
        "flags": [True, False, True],
        "nothing": None,
        "empty": None,
    }


def test_strings_that_yaml_1_1_would_misread_are_quoted_when_written() -> None:
    document = {"codes": ["NO", "yes", "2025-03-21", "1:30", "012", "1e3", "null", "~"]}
    text = dump_schema(document, format="yaml")
    assert load_schema_text(text, format="yaml") == document
    assert yaml.safe_load(text) == document  # any YAML 1.1 reader agrees


def test_written_yaml_has_no_aliases() -> None:
    shared = {"type": "string"}
    document = {"properties": {"a": shared, "b": shared}}
    text = dump_schema(document, format="yaml")
    assert "&" not in text and "*" not in text
    assert load_schema_text(text, format="yaml") == document


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ('{"type": "object",\n "properties": }', "Expecting value at line 2, column 16", 2, 16),
        ("{'type': 1}", "Expecting property name enclosed in double quotes", 1, 2),
        ('{"a": 1} x', "Extra data at line 1, column 10", 1, 10),
    ],
)
def test_json_syntax_errors_say_where(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(ValidationError, match="the schema is not valid JSON") as caught:
        load_schema_text(text, format="json")
    assert message in caught.value.detail
    assert (caught.value.extra["line"], caught.value.extra["column"]) == (line, column)


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ("type: object\nproperties: [1, 2\n", "expected ',' or ']'", 3, 1),
        ("a:\n  b: 1\n c: 2\n", "expected <block end>", 3, 2),
        ("a: &x 1\nb: *x\n", "aliases (*name) are not allowed", 2, 4),
        ("type: object\ntype: array\n", "duplicate key 'type'", 2, 1),
        ("1: a\n", "keys are strings", 1, 1),
        ("a: !!int 0x10\n", "'0x10' is not a decimal integer", 1, 4),
        ("a: !!float .inf\n", "'.inf' is not a decimal number", 1, 4),
        ("a: !!python/object:os.system {}\n", "could not determine a constructor", 1, 4),
    ],
)
def test_yaml_errors_say_where(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(ValidationError, match="the schema is not valid YAML") as caught:
        load_schema_text(text, format="yaml")
    assert message in caught.value.detail
    assert (caught.value.extra["line"], caught.value.extra["column"]) == (line, column)


@pytest.mark.parametrize(
    ("text", "form", "message"),
    [
        ('{"a": 1, "a": 2}', "json", "the key 'a' twice"),
        ('{"a": NaN}', "json", "NaN is not a JSON number"),
        ('{"a": -Infinity}', "json", "-Infinity is not a JSON number"),
        ("[1, 2]", "json", "a JSON object at the top level"),
        ("- 1\n", "yaml", "a JSON object at the top level"),
        ("", "yaml", "a JSON object at the top level"),
        ("a: !!timestamp 2025-03-21\n", "yaml", "/a: a date has no JSON form"),
        ("a: !!binary aGVsbG8=\n", "yaml", "/a: a bytes has no JSON form"),
        ("a: [!!set {x}]\n", "yaml", "/a/0: a set has no JSON form"),
    ],
)
def test_text_that_is_no_json_object_is_refused(
    text: str, form: SchemaFormat, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        load_schema_text(text, format=form)
    assert message in caught.value.detail


def test_text_nesting_without_end_is_refused() -> None:
    with pytest.raises(ValidationError, match="nests too deeply"):
        load_schema_text("[" * 100_000 + "]" * 100_000, format="json")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_any_json_object_round_trips_in_both_forms(document: dict[str, Any]) -> None:
    forms: tuple[SchemaFormat, ...] = ("json", "yaml")
    for form in forms:
        assert load_schema_text(dump_schema(document, format=form), format=form) == document
    assert json.loads(dump_schema(document, format="json")) == document
