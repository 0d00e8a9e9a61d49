"""A new version against the old one: each breaking rule of the contract, each compatible
change, at every depth (dotted paths), and the fields handed back for a uniqueness check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from registry_schemas import person_document
from zistboom.registries.schema import Comparison, Incompatibility, compare, parse_schema

Change = Callable[[dict[str, Any]], object]


def compared(change: Change, *, before: Change | None = None) -> Comparison:
    old = person_document()
    if before is not None:
        before(old)
    new = person_document()
    if before is not None:
        before(new)
    change(new)
    return compare(parse_schema(old), parse_schema(new))


def props(document: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = document["properties"]
    return properties


def owner(document: dict[str, Any]) -> dict[str, Any]:
    owner_properties: dict[str, Any] = props(document)["owners"]["items"]["properties"]
    return owner_properties


BREAKING: list[tuple[str, Change, Change | None, list[Incompatibility]]] = [
    (
        "removed",
        lambda d: props(d).pop("height_cm"),
        None,
        [Incompatibility("height_cm", "removed")],
    ),
    (
        "removed inside an array",
        lambda d: owner(d).pop("share"),
        None,
        [Incompatibility("owners.share", "removed")],
    ),
    (
        "made required",
        lambda d: d["required"].append("height_cm"),
        None,
        [Incompatibility("height_cm", "required without default")],
    ),
    (
        "new and required",
        lambda d: (props(d).update(email={"type": "string"}), d["required"].append("email")),
        None,
        [Incompatibility("email", "required without default")],
    ),
    (
        "made required inside an array",
        lambda d: props(d)["owners"]["items"]["required"].append("share"),
        None,
        [Incompatibility("owners.share", "required without default")],
    ),
    (
        "kind changed",
        lambda d: props(d).update(height_cm={"type": "string"}),
        None,
        [Incompatibility("height_cm", "type changed from integer to text")],
    ),
    (
        "number to integer",
        lambda d: owner(d).update(share={"type": "integer"}),
        None,
        [Incompatibility("owners.share", "type changed from number to integer")],
    ),
    (
        "code list to text",
        lambda d: props(d).update(sex={"type": "string"}),
        None,
        [Incompatibility("sex", "type changed from code-list to text")],
    ),
    (
        "date to date-time",
        lambda d: props(d)["birth_date"].update(format="date-time"),
        None,
        [Incompatibility("birth_date", "type changed from date to date-time")],
    ),
    (
        "maxLength lowered",
        lambda d: props(d)["family_name_fa"].update(maxLength=50),
        None,
        [Incompatibility("family_name_fa", "narrowed: maxLength 100 → 50")],
    ),
    (
        "maxLength added",
        lambda d: props(d)["national_code"].update(maxLength=10),
        None,
        [Incompatibility("national_code", "narrowed: maxLength added (10)")],
    ),
    (
        "minLength raised",
        lambda d: props(d)["family_name_fa"].update(minLength=2),
        lambda d: props(d)["family_name_fa"].update(minLength=1),
        [Incompatibility("family_name_fa", "narrowed: minLength 1 → 2")],
    ),
    (
        "minLength added",
        lambda d: props(d)["family_name_fa"].update(minLength=1),
        None,
        [Incompatibility("family_name_fa", "narrowed: minLength added (1)")],
    ),
    (
        "maximum added",
        lambda d: props(d)["height_cm"].update(maximum=300),
        None,
        [Incompatibility("height_cm", "narrowed: maximum added (300)")],
    ),
    (
        "maximum lowered inside an array",
        lambda d: owner(d)["share"].update(maximum=0.5),
        None,
        [Incompatibility("owners.share", "narrowed: maximum 1 → 0.5")],
    ),
    (
        "maximum made exclusive",
        lambda d: owner(d)["share"].update(exclusiveMaximum=1),
        None,
        [Incompatibility("owners.share", "narrowed: maximum 1 → exclusiveMaximum 1")],
    ),
    (
        "minimum raised",
        lambda d: props(d)["height_cm"].update(minimum=30),
        None,
        [Incompatibility("height_cm", "narrowed: minimum 0 → 30")],
    ),
    (
        "exclusiveMinimum raised",
        lambda d: props(d)["height_cm"].update(exclusiveMinimum=5),
        lambda d: props(d)["height_cm"].update(exclusiveMinimum=1),
        [Incompatibility("height_cm", "narrowed: exclusiveMinimum 1 → 5")],
    ),
    (
        "maxItems lowered",
        lambda d: props(d)["owners"].update(maxItems=10),
        None,
        [Incompatibility("owners", "narrowed: maxItems 50 → 10")],
    ),
    (
        "minItems added",
        lambda d: props(d)["owners"].update(minItems=1),
        None,
        [Incompatibility("owners", "narrowed: minItems added (1)")],
    ),
    (
        "pattern changed",
        lambda d: props(d)["national_code"].update(pattern="^[0-9]{11}$"),
        None,
        [
            Incompatibility(
                "national_code", "narrowed: pattern changed from ^[0-9]{10}$ to ^[0-9]{11}$"
            )
        ],
    ),
    (
        "pattern added",
        lambda d: props(d)["family_name_fa"].update(pattern="^[آ-ی ]+$"),
        None,
        [Incompatibility("family_name_fa", "narrowed: pattern added (^[آ-ی ]+$)")],
    ),
    (
        "codes removed",
        lambda d: props(d).update(
            sex={
                "type": "string",
                "enum": ["M"],
                "x-code-list": {"M": {"fa": "مرد", "en": "Male"}},
            }
        ),
        None,
        [Incompatibility("sex", "narrowed: enum values removed: F")],
    ),
    (
        "x-max-bytes lowered",
        lambda d: props(d)["photo"].update({"x-max-bytes": 32}),
        None,
        [Incompatibility("photo", "narrowed: x-max-bytes 64 → 32")],
    ),
    (
        "x-max-bytes below the default",
        lambda d: props(d)["photo"].update({"x-max-bytes": 1000}),
        lambda d: props(d)["photo"].pop("x-max-bytes"),
        [Incompatibility("photo", "narrowed: x-max-bytes 1048576 → 1000")],
    ),
    (
        "media type changed",
        lambda d: props(d)["photo"].update(contentMediaType="image/png"),
        None,
        [Incompatibility("photo", "narrowed: contentMediaType image/jpeg → image/png")],
    ),
    (
        "key changed",
        lambda d: (
            props(d)["national_code"].pop("x-key"),
            props(d)["height_cm"].update({"x-key": True}),
        ),
        None,
        [
            Incompatibility("national_code", "key changed"),
            Incompatibility("height_cm", "required without default"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("change", "before", "expected"),
    [case[1:] for case in BREAKING],
    ids=[case[0] for case in BREAKING],
)
def test_each_breaking_change_is_named(
    change: Change, before: Change | None, expected: list[Incompatibility]
) -> None:
    comparison = compared(change, before=before)
    assert comparison.breaking == expected
    assert not comparison.compatible


COMPATIBLE: list[tuple[str, Change, Change | None]] = [
    ("nothing", lambda d: None, None),
    ("new optional field", lambda d: props(d).update(email={"type": "string"}), None),
    (
        "new required field with a default",
        lambda d: (
            props(d).update(email={"type": "string", "default": "-"}),
            d["required"].append("email"),
        ),
        None,
    ),
    ("made optional", lambda d: d["required"].remove("family_name_fa"), None),
    ("integer to number", lambda d: props(d)["height_cm"].update(type="number"), None),
    ("maxLength raised", lambda d: props(d)["family_name_fa"].update(maxLength=200), None),
    ("maxLength removed", lambda d: props(d)["family_name_fa"].pop("maxLength"), None),
    ("minimum lowered", lambda d: props(d)["height_cm"].update(minimum=-1), None),
    (
        "exclusive bound made inclusive",
        lambda d: owner(d)["share"].update(maximum=1),
        lambda d: (owner(d)["share"].pop("maximum"), owner(d)["share"].update(exclusiveMaximum=1)),
    ),
    ("pattern removed", lambda d: props(d)["national_code"].pop("pattern"), None),
    ("maxItems raised", lambda d: props(d)["owners"].update(maxItems=100), None),
    (
        "code added",
        lambda d: (
            props(d)["sex"]["enum"].append("X"),
            props(d)["sex"]["x-code-list"].update(X={"fa": "دیگر", "en": "Other"}),
        ),
        None,
    ),
    ("x-max-bytes raised", lambda d: props(d)["photo"].update({"x-max-bytes": 128}), None),
    (
        "flags and titles",
        lambda d: (
            props(d)["height_cm"].update({"x-searchable": True, "x-personal": True}),
            props(d)["family_name_fa"].pop("x-searchable"),
            props(d)["owners"].pop("x-subject"),
            props(d)["sex"].update(title="جنسیت", description="Sex"),
            d.update(title="Persons, version 2"),
        ),
        None,
    ),
    ("a default added", lambda d: props(d)["height_cm"].update(default=0), None),
]


@pytest.mark.parametrize(
    ("change", "before"),
    [case[1:] for case in COMPATIBLE],
    ids=[case[0] for case in COMPATIBLE],
)
def test_each_compatible_change_passes(change: Change, before: Change | None) -> None:
    comparison = compared(change, before=before)
    assert comparison.breaking == []
    assert comparison.compatible


def test_several_breaking_changes_are_all_listed() -> None:
    def change(document: dict[str, Any]) -> None:
        props(document).pop("alive")
        props(document)["family_name_fa"]["maxLength"] = 10
        owner(document)["share"]["minimum"] = 0.1

    assert compared(change).breaking == [
        Incompatibility("family_name_fa", "narrowed: maxLength 100 → 10"),
        Incompatibility("alive", "removed"),
        Incompatibility("owners.share", "narrowed: minimum 0 → 0.1"),
    ]


def test_a_field_newly_unique_is_handed_back_for_the_data_to_decide() -> None:
    comparison = compared(lambda d: props(d)["birth_date"].update({"x-unique": True}))
    assert comparison == Comparison(breaking=[], needs_unique_check=["birth_date"])
    new_field = compared(lambda d: props(d).update(serial={"type": "integer", "x-unique": True}))
    assert new_field.needs_unique_check == ["serial"]
    unchanged = compared(
        lambda d: None, before=lambda d: props(d)["birth_date"].update({"x-unique": True})
    )
    assert unchanged.needs_unique_check == []
    dropped = compared(
        lambda d: props(d)["birth_date"].pop("x-unique"),
        before=lambda d: props(d)["birth_date"].update({"x-unique": True}),
    )
    assert dropped == Comparison()
