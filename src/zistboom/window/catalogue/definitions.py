"""What an agency declares about one of its services (ZB-STD-010): the pydantic models of a
service definition, the rules between their fields (steps form a graph without cycles, the form
is a JSON Schema the window can render as an accessible form) and :func:`check_definitions`,
which turns every broken rule into a ``{field, message}`` naming the definition and its field.
The published schema is :func:`published_schema`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Final, Literal

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic.config import JsonDict

from zistboom.core import identifiers
from zistboom.core.errors import ValidationError, ZistboomError
from zistboom.core.identifiers import MemberId, ServiceId

# The thirteen ecosystems of the programme (central's seed/ecosystems.yaml), in its order.
ECOSYSTEMS: Final = (
    "finance",
    "tax",
    "energy",
    "health",
    "cross-border-trade",
    "land",
    "supply-chain",
    "migrants-and-foreign-nationals",
    "human-resources",
    "support",
    "agriculture",
    "tourism",
    "insurance",
)
AUDIENCES: Final = ("person", "business", "foreign-national")
SCHEMA_ID: Final = "https://zistboom.ir/schemas/service-definition/1.1"

MemberIdText = Annotated[
    str,
    Field(
        pattern=identifiers.MEMBER_ID_PATTERN,
        max_length=300,
        json_schema_extra={"format": identifiers.MEMBER_ID_FORMAT},
        description="INSTANCE/CLASS/CODE; CODE is a legal-entity ID with a valid check digit",
    ),
]
ServiceIdText = Annotated[
    str,
    Field(
        pattern=identifiers.SERVICE_ID_PATTERN,
        max_length=400,
        json_schema_extra={"format": identifiers.SERVICE_ID_FORMAT},
        description="INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE",
    ),
]


def _member_id(value: str) -> str:
    try:
        return str(MemberId.parse(value))
    except ZistboomError as error:
        raise ValueError(error.detail) from None


def _service_id(value: str) -> str:
    try:
        return str(ServiceId.parse(value))
    except ZistboomError as error:
        raise ValueError(error.detail) from None


CheckedMemberId = Annotated[MemberIdText, AfterValidator(_member_id)]
CheckedServiceId = Annotated[ServiceIdText, AfterValidator(_service_id)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
SubjectPath = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}(\.[a-z][a-z0-9_]{0,63})?$")
]
# Texts hold at least one character that is not a space (a pattern the schema states too).
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=r"\S")]
Keyword = Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=r"\S")]
UNIQUE: Final[JsonDict] = {"uniqueItems": True}
Ecosystem = Literal[
    "finance",
    "tax",
    "energy",
    "health",
    "cross-border-trade",
    "land",
    "supply-chain",
    "migrants-and-foreign-nationals",
    "human-resources",
    "support",
    "agriculture",
    "tourism",
    "insurance",
]
Audience = Literal["person", "business", "foreign-national"]

_FORM_TYPES: Final = ("string", "integer", "number", "boolean")
_FORM_FORMATS: Final = ("date", "email")
_PROPERTY_KEYS: Final = {
    "type",
    "title",
    "x-title-en",
    "description",
    "x-description-en",
    "format",
    "enum",
    "maxLength",
    "minLength",
    "pattern",
    "minimum",
    "maximum",
}
_FORM_KEYS: Final = {"$schema", "type", "properties", "required", "additionalProperties"}

_TEXT: Final = {"type": "string", "minLength": 1, "pattern": "\\S"}
_LABELS: Final = {
    "title": _TEXT,
    "x-title-en": _TEXT,
    "description": {"type": "string"},
    "x-description-en": {"type": "string"},
}
_BOUNDS: Final = {"minimum": {"type": "number"}, "maximum": {"type": "number"}}


def _field_schema(kind: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "title", "x-title-en"],
        "properties": {"type": {"const": kind}, **_LABELS, **extra},
    }


FORM_SCHEMA: Final = {
    "description": "A JSON Schema 2020-12 the window renders as an accessible form",
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "properties": {
        "$schema": {"type": "string"},
        "type": {"const": "object"},
        "properties": {
            "type": "object",
            "additionalProperties": {
                "oneOf": [
                    _field_schema(
                        "string",
                        {
                            "format": {"enum": list(_FORM_FORMATS)},
                            "enum": {
                                "type": "array",
                                "items": {"type": "string"},
                                "minItems": 1,
                                "uniqueItems": True,
                            },
                            "minLength": {"type": "integer", "minimum": 0},
                            "maxLength": {"type": "integer", "minimum": 0},
                            "pattern": {"type": "string", "format": "regex"},
                        },
                    ),
                    _field_schema("integer", _BOUNDS),
                    _field_schema("number", _BOUNDS),
                    _field_schema("boolean", {}),
                ]
            },
        },
        "required": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "additionalProperties": {"type": "boolean"},
    },
}
"""What a form may be (ZB-STD-010 §4): published as the schema of ``form``, and checked."""
_FORM_CHECK: Final = Draft202012Validator(
    FORM_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Outcome(_Strict):
    """What the person gets: a document of a type (``kind: document``), or another kind of
    result (``permit-decision``, ``registration``…) with its names."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "if": {"properties": {"kind": {"const": "document"}}},
            "then": {
                "required": ["document_type"],
                "properties": {
                    "document_type": {"type": "string"},
                    "name_fa": {"type": "null"},
                    "name_en": {"type": "null"},
                },
            },
            "else": {
                "required": ["name_fa", "name_en"],
                "properties": {
                    "document_type": {"type": "null"},
                    "name_fa": {"type": "string"},
                    "name_en": {"type": "string"},
                },
            },
        },
    )

    kind: Slug = Field(description="`document`, or the kind of result")
    document_type: Slug | None = Field(default=None, description="with kind `document` only")
    name_fa: ShortText | None = Field(default=None, description="not with kind `document`")
    name_en: ShortText | None = None


class AskedKey(_Strict):
    """The record's key, given by the person when the registry cannot find their record by
    their own identifier (a parcel's plaque, a postal code)."""

    field: FieldName = Field(description="the registry's key or a searchable field")
    title_fa: ShortText
    title_en: ShortText
    pattern: str | None = Field(
        default=None, max_length=200, description="a regular expression the value must match"
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"not a regular expression: {error}") from error
        return pattern


class BaseDataItem(_Strict):
    """Data the window reads from a base registry (with the person's consent), and why; how
    the person's record is found there, and how it is known to be theirs (ZB-STD-010 §3.1)."""

    registry: CheckedServiceId = Field(description="the base registry's service")
    items: list[FieldName] = Field(min_length=1, max_length=100)
    why_fa: LongText
    why_en: LongText
    find_by: FieldName | None = Field(
        default=None,
        description="the registry's field holding the applicant's identifier (national code, "
        "foreign-national ID or legal-entity ID): the record is read by it",
    )
    asked: AskedKey | None = Field(
        default=None, description="or: the record is read by a key the person gives"
    )
    about: SubjectPath | None = Field(
        default=None,
        description="the field that must name the applicant in the record read (a dotted path "
        "into an array of objects, `owners.national_code`); `find_by` when absent",
    )

    @property
    def fetchable(self) -> bool:
        """Whether the window can read it; otherwise the person types it."""
        return self.find_by is not None or self.asked is not None

    @property
    def subject_path(self) -> str | None:
        """The field naming whom the record is about, or None when it is about nobody."""
        return self.about or self.find_by


class DocumentNeed(_Strict):
    """A document taken from the person's locker (shared with their consent), and why."""

    document_type: Slug
    why_fa: LongText
    why_en: LongText


class Fee(_Strict):
    amount_rials: int = Field(ge=0)
    label_fa: ShortText
    label_en: ShortText


class Step(_Strict):
    """One step of the processing: who does it, in how many days, after which steps (none:
    it starts at once; steps after the same one run in parallel)."""

    key: Slug
    name_fa: ShortText
    name_en: ShortText
    agencies: list[CheckedMemberId] = Field(min_length=1, max_length=20)
    deadline_days: int = Field(gt=0, le=3650)
    after: list[Slug] = Field(default_factory=list)


class ServiceDefinition(_Strict):
    """One service as its agency declares it (the agency is the caller's, never the body's)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"$id": SCHEMA_ID, "title": "Zistboom service definition"},
    )

    code: Slug = Field(description="unique within the agency; part of the service's address")
    name_fa: ShortText
    name_en: ShortText
    summary_fa: LongText
    summary_en: LongText
    keywords_fa: list[Keyword] = Field(
        default_factory=list, max_length=50, json_schema_extra=UNIQUE
    )
    keywords_en: list[Keyword] = Field(
        default_factory=list, max_length=50, json_schema_extra=UNIQUE
    )
    ecosystem: Ecosystem
    audience: list[Audience] = Field(min_length=1, max_length=3, json_schema_extra=UNIQUE)
    outcome: Outcome
    base_data: list[BaseDataItem] = Field(default_factory=list, max_length=50)
    documents: list[DocumentNeed] = Field(default_factory=list, max_length=50)
    form: Annotated[dict[str, Any], WithJsonSchema(FORM_SCHEMA)] = Field(
        description="JSON Schema 2020-12 of what remains to fill: an object of properties of "
        "type string (format date or email, enum, maxLength, pattern), integer, number or "
        "boolean, each with `title` (Persian) and `x-title-en`"
    )
    fees: list[Fee] = Field(default_factory=list, max_length=20)
    expected_days: int = Field(gt=0, le=3650)
    steps: list[Step] = Field(min_length=1, max_length=50)
    provider_service: CheckedServiceId | None = Field(
        default=None, description="the service in central's catalogue that provides it"
    )

    @field_validator("audience", "keywords_fa", "keywords_en")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("each item is listed once")
        return values


Problems = list[dict[str, str]]


def _rule_problems(definition: ServiceDefinition) -> Problems:
    """The rules between fields that pydantic's field checks do not see."""
    problems: Problems = []

    def add(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    outcome = definition.outcome
    if outcome.kind == "document":
        if outcome.document_type is None:
            add("outcome.document_type", "an outcome of kind 'document' names its document_type")
        if outcome.name_fa is not None or outcome.name_en is not None:
            add("outcome", "an outcome of kind 'document' takes its names from the document type")
    else:
        if outcome.document_type is not None:
            add("outcome.document_type", "only an outcome of kind 'document' has a document_type")
        for name in ("name_fa", "name_en"):
            if getattr(outcome, name) is None:
                add(f"outcome.{name}", f"an outcome of kind '{outcome.kind}' needs {name}")
    for index, item in enumerate(definition.base_data):
        if item.find_by is not None and item.asked is not None:
            add(f"base_data.{index}.asked", "a record is read by find_by or by asked, not both")
        if item.about is not None and not item.fetchable:
            add(f"base_data.{index}.about", "about needs find_by or asked: how to read the record")
        if item.find_by is not None and item.find_by not in item.items:
            add(f"base_data.{index}.find_by", f"'{item.find_by}' is one of the items read")
    keys = [step.key for step in definition.steps]
    for index, step in enumerate(definition.steps):
        if keys.index(step.key) != index:
            add(f"steps.{index}.key", f"step key '{step.key}' is used twice")
        for position, before in enumerate(step.after):
            if before not in keys:
                add(f"steps.{index}.after.{position}", f"there is no step '{before}'")
            elif before == step.key:
                add(f"steps.{index}.after.{position}", "a step cannot come after itself")
    if not problems:
        cycle = _cycle(definition.steps)
        if cycle:
            add("steps", "the steps' 'after' form a cycle: " + " -> ".join(cycle))
    problems.extend(form_problems(definition.form))
    return problems


def _cycle(steps: Sequence[Step]) -> list[str]:
    """A cycle of step keys (the first found), or []."""
    after = {step.key: step.after for step in steps}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(key: str) -> list[str]:
        state[key] = 1
        path.append(key)
        for before in after.get(key, []):
            if state.get(before) == 1:
                return [*path[path.index(before) :], before]
            if before not in state:
                found = visit(before)
                if found:
                    return found
        state[key] = 2
        path.pop()
        return []

    for step in steps:
        if step.key not in state:
            found = visit(step.key)
            if found:
                return found
    return []


def form_problems(form: dict[str, Any]) -> Problems:
    """Why ``form`` is not a JSON Schema 2020-12 the window can render as an accessible form."""
    problems: Problems = []

    def add(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    try:
        Draft202012Validator.check_schema(form)
    except SchemaError as error:
        where = ".".join(str(part) for part in error.absolute_path)
        add("form" + (f".{where}" if where else ""), f"not a JSON Schema 2020-12: {error.message}")
        return problems
    for key in sorted(set(form) - _FORM_KEYS):
        add(f"form.{key}", f"'{key}' cannot be rendered as a form (allowed: {sorted(_FORM_KEYS)})")
    if form.get("type") != "object":
        add("form.type", "the form is an object: type must be 'object'")
    properties = form.get("properties", {})
    if not isinstance(properties, dict):
        return problems
    for name, spec in properties.items():
        where = f"form.properties.{name}"
        if not isinstance(spec, dict):
            add(where, "each property is an object")
            continue
        for key in sorted(set(spec) - _PROPERTY_KEYS):
            add(f"{where}.{key}", f"'{key}' cannot be rendered as a form field")
        kind = spec.get("type")
        if kind not in _FORM_TYPES:
            add(f"{where}.type", f"type must be one of {list(_FORM_TYPES)}, not {kind!r}")
        if "format" in spec and (kind != "string" or spec["format"] not in _FORM_FORMATS):
            add(f"{where}.format", f"format is {list(_FORM_FORMATS)} on a string only")
        for key in ("enum", "maxLength", "minLength", "pattern"):
            if key in spec and kind != "string":
                add(f"{where}.{key}", f"'{key}' is for strings only")
        for key in ("title", "x-title-en"):
            if not isinstance(spec.get(key), str) or not spec[key].strip():
                add(f"{where}.{key}", f"every field has a non-empty '{key}' (its label)")
        if "x-description-en" in spec and not isinstance(spec["x-description-en"], str):
            add(f"{where}.x-description-en", "a description is text")
    required = form.get("required", [])
    for position, name in enumerate(required if isinstance(required, list) else []):
        if name not in properties:
            add(f"form.required.{position}", f"'{name}' is not one of the form's properties")
    if not problems:
        # What the published schema of a form states, exactly (the checks above name the
        # field more precisely; this one leaves nothing the schema refuses accepted).
        for fault in _FORM_CHECK.iter_errors(form):
            where = ".".join(str(part) for part in fault.absolute_path)
            add("form" + (f".{where}" if where else ""), fault.message)
    return problems


def _pydantic_problems(error: PydanticValidationError) -> Problems:
    return [
        {"field": ".".join(str(part) for part in e["loc"]) or "definition", "message": e["msg"]}
        for e in error.errors()
    ]


def check_definition(raw: object) -> tuple[ServiceDefinition | None, Problems]:
    """``raw`` as a definition, or None and each broken rule with its field."""
    try:
        definition = ServiceDefinition.model_validate(raw)
    except PydanticValidationError as error:
        problems = _pydantic_problems(error)
        # The form is checked on its own too, so that one refusal names all that is wrong.
        form = raw.get("form") if isinstance(raw, dict) else None
        if isinstance(form, dict) and not any(p["field"].startswith("form") for p in problems):
            problems += form_problems(form)
        return None, problems
    problems = _rule_problems(definition)
    return (None, problems) if problems else (definition, [])


def parse_definition(raw: object) -> ServiceDefinition:
    """``raw`` as a definition; ValidationError (422) listing every broken rule otherwise."""
    definition, problems = check_definition(raw)
    if definition is None:
        raise invalid("the service definition is not valid", problems)
    return definition


def ensure_rules(definition: ServiceDefinition) -> ServiceDefinition:
    """``definition`` (its fields already checked) if it keeps the rules between its fields."""
    problems = _rule_problems(definition)
    if problems:
        raise invalid("the service definition is not valid", problems)
    return definition


def check_definitions(raws: object) -> list[ServiceDefinition]:
    """A list of definitions (an import), all of them valid and with distinct codes, or a
    ValidationError whose ``errors`` name each definition by its index (``2.form.type``)."""
    if not isinstance(raws, list) or not raws:
        raise invalid("an import is a non-empty list of service definitions", [])
    definitions: list[ServiceDefinition] = []
    problems: Problems = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raws):
        definition, found = check_definition(raw)
        problems += [{"field": f"{index}.{p['field']}", "message": p["message"]} for p in found]
        if definition is None:
            continue
        if definition.code in seen:
            problems.append(
                {
                    "field": f"{index}.code",
                    "message": f"code '{definition.code}' is also that of definition "
                    f"{seen[definition.code]}",
                }
            )
        seen.setdefault(definition.code, index)
        definitions.append(definition)
    if problems:
        invalid_count = len({p["field"].split(".", 1)[0] for p in problems})
        raise invalid(
            f"{invalid_count} of {len(raws)} definitions are not valid; nothing was imported",
            problems,
        )
    return definitions


def invalid(detail: str, problems: Problems) -> ValidationError:
    """The 422 problem of refused definitions, its ``errors`` the fields and their rules."""
    shown = "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5])
    return ValidationError(f"{detail}: {shown}" if shown else detail, errors=problems)


def published_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a service definition, as ZB-STD-010 publishes it."""
    schema = ServiceDefinition.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def declared_items(definition: ServiceDefinition) -> frozenset[str]:
    """The inputs a definition declares: ``registry-service-id#field`` and
    ``document:<type>`` (what parallel systems are compared on)."""
    items = {f"{entry.registry}#{item}" for entry in definition.base_data for item in entry.items}
    items |= {f"document:{need.document_type}" for need in definition.documents}
    return frozenset(items)
