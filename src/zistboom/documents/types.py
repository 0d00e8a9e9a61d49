"""Document types as defined (ZB-STD-008): the shape of a definition, checked once, and the six
seeded ones of ``seed_types.yaml``.

A definition names the type, the ecosystem that issues it, the accreditation an issuer needs,
its default validity, the JSON Schema (Draft 2020-12) of its subject fields, the Persian and
English template fragments that show them, and how an issuer pulls them from its own base
registry. Loading refuses a definition whose schema is not a 2020-12 schema (jsonschema's
meta-schema check), whose template is not Jinja2, or whose registry mapping names a subject
field the schema does not have: a seed mistake fails at load, not at the first issuance.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from importlib import resources
from typing import Annotated, Any, Final

import yaml
from jinja2 import Environment, TemplateSyntaxError
from jsonschema import (  # type: ignore[import-untyped]  # no stubs; used through Any
    Draft202012Validator,
)
from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from zistboom.core.errors import ConfigurationError
from zistboom.core.trustlist import Level

TYPE_CODE: Final = r"^[a-z][a-z0-9-]{0,63}$"
SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
SEED_FILE: Final = "seed_types.yaml"

Text = Annotated[str, Field(min_length=1, pattern=r"\S")]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TypeRequirement(_Closed):
    """The accreditation an issuer needs: to issue ``kind`` in ``ecosystem`` at ``level``."""

    ecosystem: Text
    kind: Text
    level: Level


class RegistryMapping(_Closed):
    """How an issuer pulls a subject from its own base registry: the registry's code and
    version, the registry field the subject id is looked up by, and for each subject field the
    registry field it is copied from."""

    code: Text
    version: Annotated[str, Field(pattern=r"^[0-9]+\.[0-9]+$")]
    key_field: Text
    fields: dict[str, str] = Field(min_length=1)


class DocumentTypeDefinition(_Closed):
    """One document type, as seeded and as registered at the hub."""

    code: Annotated[str, Field(pattern=TYPE_CODE)]
    name_fa: Text
    name_en: Text
    ecosystem: Text
    """The issuing ecosystem, or ``national``."""
    requirement: TypeRequirement
    default_validity_days: int | None = Field(ge=1)
    """How long a document is valid by default; None: it does not expire."""
    json_schema: dict[str, Any] = Field(
        alias="schema",
        # The outline the validator below enforces, stated in the OpenAPI document too.
        json_schema_extra={
            "required": ["$schema", "type", "additionalProperties"],
            "properties": {
                "$schema": {"const": SCHEMA_DIALECT},
                "type": {"const": "object"},
                "additionalProperties": {"const": False},
                "properties": {"type": "object", "not": {"required": ["id"]}},
            },
        },
    )
    """The JSON Schema (Draft 2020-12) of the subject fields, without the subject's ``id``."""
    template_fa: Text
    template_en: Text
    registry: RegistryMapping | None = None

    @field_validator("json_schema")
    @classmethod
    def _a_subject_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            where = "/".join(str(part) for part in error.absolute_path)
            raise ValueError(f"not a JSON Schema 2020-12 at /{where}: {error.message}") from None
        if schema.get("$schema") != SCHEMA_DIALECT:
            raise ValueError(f"$schema must be {SCHEMA_DIALECT}")
        if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
            raise ValueError('a subject schema is "type": "object", "additionalProperties": false')
        if "id" in schema.get("properties", {}):
            raise ValueError(
                "a subject schema must not declare 'id': the subject's id is the holder"
            )
        for name, field in schema.get("properties", {}).items():
            labels = field.get("x-code-list")
            if labels is not None and set(labels) != set(field.get("enum", ())):
                raise ValueError(f"/properties/{name}: x-code-list must label exactly its enum")
        return schema

    @field_validator("template_fa", "template_en")
    @classmethod
    def _jinja2(cls, source: str) -> str:
        try:
            Environment(autoescape=True).parse(source)
        except TemplateSyntaxError as error:
            raise ValueError(
                f"not a Jinja2 template (line {error.lineno}): {error.message}"
            ) from None
        return source

    @model_validator(mode="after")
    def _mapping_fits_the_schema(self) -> DocumentTypeDefinition:
        if self.registry is None:
            return self
        properties = self.json_schema.get("properties", {})
        unknown = sorted(set(self.registry.fields) - set(properties))
        if unknown:
            raise ValueError(
                f"registry.fields maps {', '.join(unknown)}, which the subject schema lacks"
            )
        return self

    @property
    def validity(self) -> timedelta | None:
        """The default validity, or None when documents of this type do not expire."""
        if self.default_validity_days is None:
            return None
        return timedelta(days=self.default_validity_days)

    def subject_validator(self) -> Any:
        """A Draft 2020-12 validator of the subject fields (``format`` asserted)."""
        return Draft202012Validator(
            self.json_schema, format_checker=Draft202012Validator.FORMAT_CHECKER
        )

    def code_label(self, field: str, value: object, language: str) -> str:
        """The ``language`` label of a coded subject field's value (its ``x-code-list``), or
        the value itself when the field has no labels."""
        field_schema = self.json_schema.get("properties", {}).get(field, {})
        labels = field_schema.get("x-code-list", {}).get(value)
        if isinstance(labels, dict) and isinstance(labels.get(language), str):
            return str(labels[language])
        return str(value)


def load_seed_types() -> list[DocumentTypeDefinition]:
    """The seeded types of ``seed_types.yaml``, each checked as a definition."""
    source = resources.files("zistboom.documents").joinpath(SEED_FILE)
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(f"{SEED_FILE} is unreadable: {error}") from error
    types = document.get("types") if isinstance(document, dict) else None
    if not isinstance(types, list):
        raise ConfigurationError(f"{SEED_FILE} has no list of types")
    definitions = []
    for index, raw in enumerate(types):
        try:
            # YAML anchors share their objects; each type gets its own copy.
            definitions.append(DocumentTypeDefinition.model_validate(copy.deepcopy(raw)))
        except PydanticValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            code = raw.get("code", f"#{index}") if isinstance(raw, dict) else f"#{index}"
            raise ConfigurationError(f"{SEED_FILE}: type {code}: {where}: {first['msg']}") from None
    codes = [definition.code for definition in definitions]
    if len(set(codes)) != len(codes):
        raise ConfigurationError(f"{SEED_FILE} defines a type code twice: {codes}")
    return definitions
