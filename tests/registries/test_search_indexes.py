"""``x-search-indexes``: compound indexes a schema asks for, over searchable fields."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from zistboom.core.errors import ValidationError
from zistboom.registries.schema import load_schema_text, parse_schema

PEOPLE = load_schema_text(
    (Path(__file__).parent / "data" / "people-1.0.yaml").read_text(), format="yaml"
)


def with_indexes(value: Any) -> dict[str, Any]:
    document = copy.deepcopy(PEOPLE)
    document["x-search-indexes"] = value
    return document


def test_a_compound_index_over_searchable_fields_is_accepted() -> None:
    schema = parse_schema(with_indexes([["family_name", "birth_date"], ["sex", "height_cm"]]))
    assert schema.search_indexes == (("family_name", "birth_date"), ("sex", "height_cm"))
    assert parse_schema(PEOPLE).search_indexes == (("family_name", "birth_date"),)


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("family_name", "lists of field names"),
        ([], "lists of field names"),
        ([["family_name"]], "2 to 4 different fields"),
        ([["family_name", "family_name"]], "2 to 4 different fields"),
        ([["family_name", "photo"]], "'photo' is not a searchable"),
        ([["family_name", "nothing"]], "'nothing' is not a searchable"),
        ([["family_name", "mobile"]], "'mobile' is not a searchable"),
    ],
)
def test_a_search_index_the_rules_forbid_is_refused(value: Any, said: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_schema(with_indexes(value))
    problem = refused.value.to_problem()
    assert problem["errors"][0]["field"].startswith("/x-search-indexes"), problem
    assert said in problem["detail"], problem
