"""A subject is checked against its type's schema before anything is allocated or signed, each
error named by its JSON pointer in the request; the holder by its check digits."""

from __future__ import annotations

import random
from typing import Any

import pytest

from zistboom.core.errors import ValidationError
from zistboom.core.iran import generate_legal_entity_id, generate_national_code
from zistboom.documents.issuer.hub import DocumentType
from zistboom.documents.issuer.subjects import SUBJECT, holder_of, validate_subject

rng = random.Random()
NATIONAL_CODE = generate_national_code(rng)
TAX_CLEARANCE = DocumentType.model_validate(
    {
        "code": "tax-clearance",
        "name_fa": "مفاصاحساب مالیاتی",
        "name_en": "Tax clearance",
        "ecosystem": "tax",
        "requirement": {"ecosystem": "tax", "kind": "document-issuer", "level": "substantial"},
        "default_validity_days": 90,
        "schema": {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": False,
            "required": ["taxpayer_name", "tax_year", "outstanding"],
            "properties": {
                "taxpayer_name": {"type": "string", "minLength": 1},
                "tax_year": {"type": "integer", "minimum": 1390},
                "outstanding": {"type": "boolean"},
                "offices": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"code/no": {"type": "string"}}},
                },
            },
        },
    }
)


def refusal(subject: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_subject(TAX_CLEARANCE, subject, base=SUBJECT)
    return caught.value


def good(**changes: Any) -> dict[str, Any]:
    return {"taxpayer_name": "مریم کاظمی", "tax_year": 1403, "outstanding": False, **changes}


def test_a_good_subject_passes() -> None:
    validate_subject(TAX_CLEARANCE, good(), base=SUBJECT)


def test_each_error_names_its_json_pointer() -> None:
    error = refusal(good(tax_year="1403", outstanding=None))
    fields = [e["field"] for e in error.to_problem()["errors"]]
    assert fields == [f"{SUBJECT}/outstanding", f"{SUBJECT}/tax_year"]
    assert error.field == f"{SUBJECT}/outstanding"
    assert "and 1 more" in error.detail


def test_a_missing_field_is_named_where_it_belongs() -> None:
    subject = good()
    del subject["tax_year"]
    assert refusal(subject).field == f"{SUBJECT}/tax_year"


def test_an_unknown_field_and_a_nested_one_are_refused() -> None:
    unknown = refusal(good(colour="blue"))
    assert unknown.field == SUBJECT
    assert "'colour' was unexpected" in unknown.detail
    nested = refusal(good(offices=[{"code/no": 7}]))
    assert nested.field == f"{SUBJECT}/offices/0/code~1no"


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
        holder_of({}, holder=None, subject_id="12345")
    assert pulled.value.field == "/options/subjectId"
