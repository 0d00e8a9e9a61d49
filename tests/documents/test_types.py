"""The seeded document types: all six load and check against the meta-schema, a sample subject
of each validates (and a broken one fails where it is broken), their templates render in both
languages, and their registry mappings fit the demo's base registries, down to its records."""

from __future__ import annotations

import copy
from datetime import timedelta
from itertools import islice
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from documents.samples import SAMPLES
from zistboom.core.iran import is_valid_legal_entity_id, is_valid_national_code
from zistboom.documents.types import DocumentTypeDefinition, load_seed_types
from zistboom.registries.seed import national_registries
from zistboom.registries.seed_schemas import SCHEMAS
from zistboom.web.i18n import EN, FA
from zistboom.web.rendering import Pages

TYPES = {definition.code: definition for definition in load_seed_types()}

# (type, change to the sample, the pointer the error must name)
BROKEN = [
    ("birth-certificate-extract", {"national_code": "1111111111"}, "national_code"),
    ("birth-certificate-extract", {"birth_date": "1995-13-01"}, "birth_date"),
    ("birth-certificate-extract", {"sex": "X"}, "sex"),
    ("business-licence", {"national_id": "10300000090"}, "national_id"),
    ("business-licence", {"registration_status": "dissolved"}, "registration_status"),
    ("business-licence", {"postal_code": "1234567890"}, "postal_code"),
    ("tax-clearance", {"outstanding_debt_rial": 1}, "outstanding_debt_rial"),
    ("tax-clearance", {"taxpayer_id": "123"}, "taxpayer_id"),
    ("land-ownership-deed", {"owners": []}, "owners"),
    ("land-ownership-deed", {"area_m2": 0}, "area_m2"),
    ("residence-permit", {"nationality": "FRA"}, "nationality"),
    ("residence-permit", {"permit_number": "123"}, "permit_number"),
    ("health-insurance-card", {"provider": "private"}, "provider"),
    ("health-insurance-card", {"id": "urn:zb:holder:IR0499370899"}, ""),
]


def test_the_six_seeded_types_load_as_the_design_lists_them() -> None:
    table = {
        code: (t.ecosystem, f"{r.ecosystem}:{r.kind}:{r.level}", t.default_validity_days)
        for code, t in TYPES.items()
        for r in [t.requirement]
    }
    assert table == {
        "birth-certificate-extract": ("national", "national:document-issuer:high", 3650),
        "business-licence": ("national", "national:document-issuer:substantial", 365),
        "tax-clearance": ("tax", "tax:document-issuer:substantial", 90),
        "land-ownership-deed": ("land", "land:document-issuer:high", None),
        "residence-permit": (
            "migrants-and-foreign-nationals",
            "migrants-and-foreign-nationals:document-issuer:high",
            365,
        ),
        "health-insurance-card": ("health", "health:document-issuer:basic", 365),
    }
    assert TYPES["tax-clearance"].name_fa == "مفاصاحساب مالیاتی"
    assert TYPES["land-ownership-deed"].validity is None
    assert TYPES["tax-clearance"].validity == timedelta(days=90)


def test_the_definitions_are_what_the_hub_registers() -> None:
    dumped = TYPES["business-licence"].model_dump(by_alias=True)
    assert set(dumped) == {
        "code", "name_fa", "name_en", "ecosystem", "requirement", "default_validity_days",
        "schema", "template_fa", "template_en", "registry",
    }  # fmt: skip
    assert DocumentTypeDefinition.model_validate(dumped) == TYPES["business-licence"]


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_a_sample_subject_of_each_type_validates(code: str) -> None:
    errors = list(TYPES[code].subject_validator().iter_errors(SAMPLES[code]))
    assert errors == []


@pytest.mark.parametrize(("code", "change", "pointer"), BROKEN)
def test_a_broken_subject_fails_where_it_is_broken(
    code: str, change: dict[str, Any], pointer: str
) -> None:
    subject = {**SAMPLES[code], **change}
    errors = list(TYPES[code].subject_validator().iter_errors(subject))
    assert errors, f"{change} was accepted"
    assert {"/".join(str(p) for p in e.absolute_path) for e in errors} == {pointer}


def test_patterns_state_the_identifier_rules_of_core_iran() -> None:
    schema = TYPES["birth-certificate-extract"].subject_validator()
    shaped = {**SAMPLES["birth-certificate-extract"]}
    for code in ("0000000000", "9999999999", "049937089", "04993708990", "۰۴۹۹۳۷۰۸۹۹"):
        assert not schema.is_valid({**shaped, "national_code": code}), code
    # A shape the pattern lets through is still checked by core.iran where it is used.
    assert schema.is_valid({**shaped, "national_code": "0499370898"})
    assert not is_valid_national_code("0499370898")
    licence = TYPES["business-licence"].subject_validator()
    for number in ("10300000090", "00000000000"):
        assert not licence.is_valid({**SAMPLES["business-licence"], "national_id": number})
        assert not is_valid_legal_entity_id(number)
    for postal in ("0434863111", "1434563111", "1111863111", "14348-63111"):
        assert not licence.is_valid({**SAMPLES["business-licence"], "postal_code": postal})


@pytest.mark.parametrize("code", sorted(SAMPLES))
@pytest.mark.parametrize("locale", [FA, EN], ids=["fa", "en"])
def test_each_template_renders_the_full_and_the_minimal_subject(code: str, locale: Any) -> None:
    definition = TYPES[code]
    pages = Pages()
    source = definition.template_fa if locale is FA else definition.template_en
    required = set(definition.json_schema["required"])
    minimal = {k: v for k, v in SAMPLES[code].items() if k in required}
    for subject in (SAMPLES[code], minimal):
        html = pages.render_fragment(
            source,
            locale=locale,
            subject=subject,
            code_label=lambda field, value: definition.code_label(field, value, locale.code),
        )
        assert "<dt>" in html
    if code == "birth-certificate-extract":
        full = pages.render_fragment(
            source,
            locale=locale,
            subject=SAMPLES[code],
            code_label=lambda field, value: definition.code_label(field, value, locale.code),
        )
        if locale is FA:
            assert "۲۳ فروردین ۱۳۷۴" in full and "زن" in full and "اصفهان" in full
            assert "۰۴۹۹۳۷۰۸۹۹" in full
        else:
            assert "12 April 1995" in full and "Female" in full and "Isfahan" in full


# --- the registry mappings against the demo's base registries --------------------------------


def _same_rule(subject_field: dict[str, Any], registry_field: dict[str, Any]) -> None:
    kind = registry_field["type"]
    assert subject_field.get("type", "string") == kind
    if "enum" in registry_field:
        # The document may narrow a code list (an active registration only), never widen it.
        assert set(subject_field["enum"]) <= set(registry_field["enum"])
        labels = registry_field["x-code-list"]
        for value, label in subject_field["x-code-list"].items():
            assert label == labels[value], value
    if kind == "array":
        items, registry_items = subject_field["items"], registry_field["items"]
        assert set(items["properties"]) == set(registry_items["properties"])
        assert set(items["required"]) == set(registry_items["required"])


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_the_registry_mapping_fits_the_registry_schema(code: str) -> None:
    definition = TYPES[code]
    mapping = definition.registry
    assert mapping is not None
    registry = SCHEMAS[mapping.code]
    assert mapping.version == "1.0"  # the seed's published version
    registry_fields = registry["properties"]
    assert mapping.key_field in registry_fields
    key = registry_fields[mapping.key_field]
    assert key.get("x-key") or key.get("x-unique"), "a subject is looked up by a unique field"
    subject_fields = definition.json_schema["properties"]
    for subject_name, registry_name in mapping.fields.items():
        assert registry_name in registry_fields, f"{mapping.code} has no field {registry_name}"
        _same_rule(subject_fields[subject_name], registry_fields[registry_name])
    # Whatever the document requires is pulled, and always there in the registry.
    required = set(definition.json_schema["required"])
    assert required <= set(mapping.fields)
    registry_required = set(registry["required"])
    assert {mapping.fields[name] for name in required} <= registry_required


def _pulled(definition: DocumentTypeDefinition, record: dict[str, Any]) -> dict[str, Any]:
    # As the issuer pulls it (issuer/registry_pull.py): present fields only.
    assert definition.registry is not None
    return {
        subject: record[field]
        for subject, field in definition.registry.fields.items()
        if record.get(field) is not None
    }


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_subjects_pulled_from_the_seed_records_validate(code: str) -> None:
    definition = TYPES[code]
    assert definition.registry is not None
    registry = next(r for r in national_registries(size=1000) if r.code == definition.registry.code)
    validator = definition.subject_validator()
    accepted = refused = 0
    for record in islice(registry.records(), 300):
        subject = _pulled(definition, copy.deepcopy(record))
        errors = list(validator.iter_errors(subject))
        eligible = (code != "business-licence" or record["status"] == "active") and (
            code != "tax-clearance"
            or (record["status"] == "active" and record["outstanding_debt_rial"] == 0)
        )
        if eligible:
            assert errors == [], (record, [e.message for e in errors])
            accepted += 1
        else:
            # Refused by the rule that makes it ineligible, and only by it.
            fields = {str(e.absolute_path[0]) for e in errors}
            assert fields and fields <= {
                "registration_status",
                "file_status",
                "outstanding_debt_rial",
            }
            refused += 1
    assert accepted >= 20
    if code in ("business-licence", "tax-clearance"):
        assert refused >= 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"colour": "blue"}, "Extra inputs are not permitted"),
        ({"schema": {"type": "objekt"}}, "not a JSON Schema 2020-12"),
        ({"template_fa": "{% if %}"}, "not a Jinja2 template"),
        ({"default_validity_days": 0}, "greater than or equal to 1"),
    ],
)
def test_a_definition_that_does_not_hold_is_refused(change: dict[str, Any], message: str) -> None:
    raw = {**TYPES["tax-clearance"].model_dump(by_alias=True), **change}
    with pytest.raises(PydanticValidationError, match=message):
        DocumentTypeDefinition.model_validate(raw)


def test_a_mapping_or_schema_that_does_not_fit_is_refused() -> None:
    raw = TYPES["tax-clearance"].model_dump(by_alias=True)
    unmapped = copy.deepcopy(raw)
    unmapped["registry"]["fields"]["nickname"] = "nickname"
    with pytest.raises(PydanticValidationError, match="maps nickname, which the subject schema"):
        DocumentTypeDefinition.model_validate(unmapped)
    with_id = copy.deepcopy(raw)
    with_id["schema"]["properties"]["id"] = {"type": "string"}
    with pytest.raises(PydanticValidationError, match="must not declare 'id'"):
        DocumentTypeDefinition.model_validate(with_id)
    open_schema = copy.deepcopy(raw)
    del open_schema["schema"]["additionalProperties"]
    with pytest.raises(PydanticValidationError, match='"additionalProperties": false'):
        DocumentTypeDefinition.model_validate(open_schema)
    unlabelled = copy.deepcopy(raw)
    unlabelled["schema"]["properties"]["taxpayer_kind"]["enum"].append("trust")
    with pytest.raises(PydanticValidationError, match="x-code-list must label exactly"):
        DocumentTypeDefinition.model_validate(unlabelled)
