"""ZB-STD-010 (service definitions) agrees with the reference implementation: the published
schema file is exactly what the code publishes; the example definition is taken by the model
and its rules and validates against the schema; the refused example is what the checker answers
for that definition broken in those two places; the parallel example is what the seed yields."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from standard_examples import fenced_examples
from zistboom.core.errors import ValidationError
from zistboom.window.catalogue.definitions import (
    check_definitions,
    parse_definition,
    published_schema,
)
from zistboom.window.catalogue.parallel import parallel_systems
from zistboom.window.catalogue.seed import load_seed
from zistboom.window.catalogue.service import StoredDefinition

STANDARDS = Path(__file__).parents[2] / "docs" / "standards"
STANDARD = STANDARDS / "ZB-STD-010-service-definitions.md"
SCHEMA = STANDARDS / "ZB-STD-010-service-definition.schema.json"


def examples() -> dict[str, Any]:
    return {name: yaml.safe_load(body) for name, body in fenced_examples(STANDARD.read_text())}


def test_the_schema_file_is_the_published_schema() -> None:
    assert json.loads(SCHEMA.read_text()) == published_schema()
    Draft202012Validator.check_schema(published_schema())


def test_the_example_definition_is_valid() -> None:
    example = examples()["definition"]
    Draft202012Validator(published_schema()).validate(example)
    assert parse_definition(example).code == "tax-clearance"


def refusal_of(example: dict[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(example)
    broken["expected_days"] = 0
    broken["form"]["properties"]["purpose"]["format"] = "uri"
    with pytest.raises(ValidationError) as refused:
        check_definitions([example, broken])
    problem = refused.value.to_problem()
    return {"status": problem["status"], "errors": problem["errors"]}


def test_the_refused_example_is_what_the_checker_answers() -> None:
    found = examples()
    assert refusal_of(found["definition"]) == found["refused"]


def test_the_parallel_example_is_the_seeds_finding() -> None:
    seed = load_seed()
    stored = [
        StoredDefinition(member, d, None)  # type: ignore[arg-type]
        for member, definitions in seed.services.items()
        for d in definitions
    ]
    [finding] = parallel_systems(stored)
    assert examples()["parallel"] == {
        "first": finding.first.definition.code,
        "second": finding.second.definition.code,
        "overlap": round(finding.overlap, 4),
        "only_first": finding.only_first,
        "only_second": finding.only_second,
    }


def test_the_checks_can_fail() -> None:
    found = examples()
    assert refusal_of(found["definition"]) != {**found["refused"], "errors": []}
    with pytest.raises(ValidationError):
        parse_definition({**found["definition"], "agency": "IR-DEMO/GOV/60711446972"})
