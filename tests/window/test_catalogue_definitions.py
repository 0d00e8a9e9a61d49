"""The definitions' checker, property-tested: every seeded definition passes and validates
against the published schema; removing any required member, or giving a form field a type,
format or key the window cannot render, is refused with exactly that field named; a valid
definition's published schema and the checker agree."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from zistboom.window.catalogue.definitions import (
    ServiceDefinition,
    check_definition,
    published_schema,
)
from zistboom.window.catalogue.seed import load_seed


@cache
def seeded() -> list[dict[str, Any]]:
    return [
        d.model_dump(mode="json", exclude_none=True)
        for ds in load_seed().services.values()
        for d in ds
    ]


@cache
def validator() -> Draft202012Validator:
    return Draft202012Validator(published_schema())


REQUIRED = sorted(
    name for name, field in ServiceDefinition.model_fields.items() if field.is_required()
)


def fields_refused(raw: dict[str, Any]) -> set[str]:
    definition, problems = check_definition(raw)
    assert definition is None
    return {p["field"] for p in problems}


def test_every_seeded_definition_passes_and_fits_the_schema() -> None:
    for raw in seeded():
        assert check_definition(raw)[1] == []
        validator().validate(raw)


@given(st.sampled_from(range(9)), st.sampled_from(REQUIRED))
def test_a_missing_required_member_is_named(index: int, name: str) -> None:
    raw = copy.deepcopy(seeded()[index])
    del raw[name]
    assert fields_refused(raw) == {name}
    assert not validator().is_valid(raw)


@given(
    st.sampled_from(range(9)),
    st.sampled_from(
        [
            ("type", "array", "type"),
            ("type", "object", "type"),
            ("format", "uri", "format"),
            ("x-widget", "slider", "x-widget"),
            ("title", "   ", "title"),
        ]
    ),
)
def test_a_form_field_the_window_cannot_render_is_named(
    index: int, change: tuple[str, str, str]
) -> None:
    raw = copy.deepcopy(seeded()[index])
    name = sorted(raw["form"]["properties"])[0]
    key, value, named = change
    raw["form"]["properties"][name][key] = value
    assert f"form.properties.{name}.{named}" in fields_refused(raw)
    assert not validator().is_valid(raw)
