"""A subject is checked against its type's schema before anything is allocated or signed, each
error named by its JSON pointer in the request; the holder by its check digits. The type is the
seeded birth certificate extract, as the hub registers it."""

from __future__ import annotations

import random
from typing import Any

import pytest

from zistboom.core.errors import ValidationError
from zistboom.core.iran import generate_legal_entity_id, generate_national_code
from zistboom.documents.issuer.subjects import (
    SUBJECT,
    holder_of,
    registry_key,
    validate_subject,
)
from zistboom.documents.types import load_seed_types

rng = random.Random()
NATIONAL_CODE = generate_national_code(rng)
BIRTH = next(t for t in load_seed_types() if t.code == "birth-certificate-extract")


def refusal(subject: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_subject(BIRTH, subject, base=SUBJECT)
    return caught.value


def good(**changes: Any) -> dict[str, Any]:
    return {
        "national_code": NATIONAL_CODE,
        "given_name_fa": "مریم",
        "given_name_en": "Maryam",
        "family_name_fa": "کاظمی",
        "family_name_en": "Kazemi",
        "sex": "F",
        "birth_date": "1995-04-02",
        "birth_province": "isfahan",
        "birth_city": "کاشان",
        **changes,
    }


def test_a_good_subject_passes() -> None:
    validate_subject(BIRTH, good(), base=SUBJECT)


def test_each_error_names_its_json_pointer() -> None:
    error = refusal(good(sex="X", birth_date="1995-02-30"))
    fields = [e["field"] for e in error.to_problem()["errors"]]
    # The date's pattern fits; its format (a real day) does not: formats are asserted.
    assert fields == [f"{SUBJECT}/birth_date", f"{SUBJECT}/sex"]
    assert error.field == f"{SUBJECT}/birth_date"
    assert "and 1 more" in error.detail


def test_a_missing_field_is_named_where_it_belongs() -> None:
    subject = good()
    del subject["birth_city"]
    assert refusal(subject).field == f"{SUBJECT}/birth_city"


def test_an_unknown_field_is_refused() -> None:
    unknown = refusal(good(colour="blue"))
    assert unknown.field == SUBJECT
    assert "'colour' was unexpected" in unknown.detail


def test_the_holder_comes_from_the_options_the_subject_id_or_the_pulled_id() -> None:
    person = "IR" + NATIONAL_CODE
    business = generate_legal_entity_id(rng)
    assert holder_of({}, holder=person, subject_id=None) == person
    assert holder_of({"id": f"urn:zb:holder:{person}"}, holder=None, subject_id=None) == person
    assert holder_of({}, holder=None, subject_id=business) == business
    with pytest.raises(ValidationError, match="different holders"):
        holder_of({"id": f"urn:zb:holder:{person}"}, holder=business, subject_id=None)
    with pytest.raises(ValidationError, match="name the holder"):
        holder_of({}, holder=None, subject_id=None)


def test_a_holder_with_a_wrong_check_digit_is_refused() -> None:
    wrong = NATIONAL_CODE[:9] + str((int(NATIONAL_CODE[9]) + 1) % 10)
    with pytest.raises(ValidationError) as caught:
        holder_of({}, holder="IR" + wrong, subject_id=None)
    assert caught.value.field == "/options/holder"
    with pytest.raises(ValidationError) as pulled:
        holder_of({}, holder=None, subject_id="IR12345")
    assert pulled.value.field == "/options/subjectId"


def test_a_bare_registry_key_names_no_holder() -> None:
    with pytest.raises(ValidationError, match="name the holder"):
        holder_of({}, holder=None, subject_id=NATIONAL_CODE)
    assert holder_of({}, holder="IR" + NATIONAL_CODE, subject_id=NATIONAL_CODE) == (
        "IR" + NATIONAL_CODE
    )
    assert registry_key("IR" + NATIONAL_CODE) == NATIONAL_CODE
    assert registry_key("FN123456789") == "123456789"
    assert registry_key("10380284790") == "10380284790"
