"""Registry schemas: the documented subset of JSON Schema 2020-12 a registry version's records
follow, parsed into typed fields that carry the registry's flags.

This module owns a whole version's schema: :func:`parse_schema` (the top level, the one key,
a subject wherever there is personal data), :class:`RegistrySchema` with its record validators
and helpers, and the match form of text. Each field's rules are
:mod:`zistboom.registries.field_rules`'s; records are validated by jsonschema under the policy of
:mod:`zistboom.registries.validation`. Comparing versions
(:mod:`zistboom.registries.compatibility`) and the schema's text forms
(:mod:`zistboom.registries.schema_text`) are re-exported here, so that callers need one import.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from zistboom.core.errors import ValidationError
from zistboom.core.persian import normalize_text
from zistboom.registries.compatibility import Comparison, Incompatibility, compare
from zistboom.registries.field_rules import (
    Refusals,
    check_closed,
    check_texts,
    parse_properties,
    required_names,
)
from zistboom.registries.fields import KINDS, Field, Kind
from zistboom.registries.schema_text import SchemaFormat, dump_schema, load_schema_text
from zistboom.registries.validation import RecordValidator, closed_document, refuse, shown

__all__ = [
    "KINDS",
    "Comparison",
    "Field",
    "Incompatibility",
    "Kind",
    "RegistrySchema",
    "SchemaFormat",
    "compare",
    "dump_schema",
    "load_schema_text",
    "match_form",
    "parse_schema",
]

SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
MAX_NESTING: Final = 64  # JSON levels, checked before anything recurses into the document
_TOP_LEVEL: Final = frozenset(
    {
        "$schema",
        "type",
        "properties",
        "required",
        "additionalProperties",
        "title",
        "description",
        "x-search-indexes",
    }
)


@dataclass(frozen=True, slots=True)
class RegistrySchema:
    """A parsed registry version schema; build it with :func:`parse_schema`.

    The record validators are built once, here, and kept on the object.
    """

    document: dict[str, Any]
    fields: tuple[Field, ...]
    _full: RecordValidator = dataclasses.field(init=False, repr=False, compare=False)
    _partial: RecordValidator = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        closed = self.closed_document
        partial = {key: value for key, value in closed.items() if key != "required"}
        object.__setattr__(self, "_full", RecordValidator(closed, self.fields))
        object.__setattr__(self, "_partial", RecordValidator(partial, self.fields))

    @property
    def closed_document(self) -> dict[str, Any]:
        """The document as records are checked against it: objects closed, the key required."""
        return closed_document(self.document, self.fields)

    @property
    def search_indexes(self) -> tuple[tuple[str, ...], ...]:
        """The compound search indexes (``x-search-indexes``), each a tuple of field names."""
        return tuple(tuple(names) for names in self.document.get("x-search-indexes", ()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    def field(self, name: str) -> Field:
        """The top-level field ``name``; ValidationError (field=name) when there is none."""
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise ValidationError(
            f"{name!r} is not a field of this version (fields: {', '.join(self.names)})",
            field=name,
        )

    @property
    def key(self) -> Field:
        return next(field for field in self.fields if field.key)

    @property
    def searchable(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields if field.searchable)

    @property
    def personal(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields if field.personal)

    @property
    def subject_fields(self) -> tuple[Field, ...]:
        return tuple(field for field in self.fields if field.subject is not None)

    @property
    def has_personal(self) -> bool:
        return any(field.personal for field in self.fields)

    @property
    def file_fields(self) -> tuple[Field, ...]:
        """The top-level file fields (those ``read-value`` can serve as bytes)."""
        return tuple(field for field in self.fields if field.kind == "file")

    def validate_record(self, content: object, *, pointer: str) -> None:
        """Refuse ``content`` unless it is a whole record of this version; ``pointer`` is where
        it sits in the request body (``/write/content``)."""
        problems = self._full.problems(content)
        if problems:
            refuse(problems, pointer=pointer)

    def validate_partial(self, content: object, *, pointer: str) -> None:
        """Refuse ``content`` unless each field it gives is valid (none is required): the
        ``content`` of a query or of an update."""
        problems = self._partial.problems(content)
        if problems:
            refuse(problems, pointer=pointer)

    def apply_defaults(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``content`` with the defaults of the absent top-level fields added."""
        result = dict(content)
        for field in self.fields:
            if field.has_default and field.name not in result:
                result[field.name] = copy.deepcopy(field.default)
        return result

    def project(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """Only this version's fields of a stored record, in the schema's order."""
        return {field.name: content[field.name] for field in self.fields if field.name in content}

    def subjects(self, content: Mapping[str, Any]) -> list[str]:
        """The IDs of the persons and entities ``content`` is about, each once, in order."""
        found: dict[str, None] = {}
        for field in self.subject_fields:
            value = content.get(field.name)
            if field.kind == "text":
                values = [value]
            elif field.subject is True:
                values = value if isinstance(value, list) else []
            else:
                items = value if isinstance(value, list) else []
                values = [item.get(field.subject) for item in items if isinstance(item, dict)]
            found.update((v, None) for v in values if isinstance(v, str) and v)
        return list(found)

    def typed_subjects(self, content: Mapping[str, Any]) -> list[str]:
        """The subjects as the usage log keeps them, typed as X-Road-UserId names persons:
        ``IR<national code>``, ``FN<foreign-national ID>``, ``LE<legal-entity ID>``."""
        found: dict[str, None] = {}
        for field in self.subject_fields:
            for value in self.subjects({field.name: content.get(field.name)}):
                found[typed_subject(value, field.subject_kind)] = None
        return list(found)


_SUBJECT_PREFIXES: Final = {
    "national-code": "IR",
    "foreign-national": "FN",
    "legal-entity": "LE",
}


def typed_subject(value: str, kind: str | None) -> str:
    if kind is None:
        kind = {10: "national-code", 11: "legal-entity"}.get(len(value))
    if kind is None:
        return "?" + value
    return _SUBJECT_PREFIXES[kind] + value


def match_form(text: str) -> str:
    """The form text is matched in (stored and queried): normalised, without ZWNJ, casefolded."""
    return normalize_text(text).replace("\u200c", "").casefold()


def parse_schema(document: Mapping[str, Any], *, pointer: str = "") -> RegistrySchema:
    """Check ``document`` against the registry schema subset and parse its fields.

    ValidationError lists every refusal (up to twenty), each with the JSON pointer of the
    offending keyword in ``field``, below ``pointer`` (where the document sits in a request
    body, such as ``/schema``). The document is copied: later changes to the argument do not
    reach the schema.
    """
    if not isinstance(document, Mapping):
        raise ValidationError(
            f"a registry schema is a JSON object, not {shown(document)}", field=pointer
        )
    if _nesting(document) > MAX_NESTING:
        raise ValidationError(f"the schema nests deeper than {MAX_NESTING} levels", field=pointer)
    copied: dict[str, Any] = copy.deepcopy(dict(document))
    refusals = Refusals()
    _check_top_level(copied, refusals)
    properties = copied.get("properties")
    fields: tuple[Field, ...] = ()
    if isinstance(properties, dict) and properties:
        required = required_names(copied, properties, (), refusals)
        fields = parse_properties(properties, required, (), "", refusals, depth=0, top=True)
        _check_schema_flags(fields, refusals)
        _check_search_indexes(copied.get("x-search-indexes"), fields, refusals)
    if refusals.found:
        refuse(refusals.found, pointer=pointer)
    return RegistrySchema(copied, fields)


MAX_SEARCH_INDEXES: Final = 10
_INDEXABLE: Final = frozenset(
    {"text", "number", "integer", "boolean", "date", "date-time", "time", "code-list"}
)


def _check_search_indexes(value: object, fields: Sequence[Field], refusals: Refusals) -> None:
    """``x-search-indexes``: searches a registry serves often on several fields together (a
    family name and a birth-date range), each an index over those fields in order."""
    if value is None:
        return
    usable = {f.name for f in fields if (f.searchable or f.key) and f.kind in _INDEXABLE}
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_SEARCH_INDEXES:
        refusals.add(
            ("x-search-indexes",),
            f"x-search-indexes is a list of 1 to {MAX_SEARCH_INDEXES} lists of field names",
        )
        return
    for position, names in enumerate(value):
        pointer = ("x-search-indexes", str(position))
        if (
            not isinstance(names, list)
            or not 2 <= len(names) <= 4
            or len(set(map(str, names))) != len(names)
        ):
            refusals.add(pointer, "each search index names 2 to 4 different fields")
            continue
        for name in names:
            if name not in usable:
                refusals.add(
                    pointer,
                    f"{shown(name)} is not a searchable top-level field of a comparable kind",
                )


def _nesting(document: object) -> int:
    """How deep ``document`` nests, counted without recursion (and up to MAX_NESTING + 1)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_NESTING:
            continue
        if isinstance(value, Mapping):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)
    return deepest


def _check_top_level(document: dict[str, Any], refusals: Refusals) -> None:
    for keyword in document:
        if keyword not in _TOP_LEVEL:
            refusals.add(
                (keyword,),
                f"{keyword!r} is not allowed at the top level (allowed: "
                f"{', '.join(sorted(_TOP_LEVEL))})",
            )
    if "$schema" in document and document["$schema"] != SCHEMA_DIALECT:
        refusals.add(
            ("$schema",),
            f"{shown(document['$schema'])} is not the dialect: a registry schema is JSON "
            f"Schema 2020-12 ({SCHEMA_DIALECT}), or leaves $schema out",
        )
    if document.get("type") != "object":
        refusals.add(("type",), "a registry schema describes a record: its type is 'object'")
    properties = document.get("properties")
    if not isinstance(properties, dict) or not properties:
        refusals.add(
            ("properties",), "a registry schema needs properties: its fields, at least one"
        )
    check_closed(document, (), refusals)
    check_texts(document, (), ("title", "description"), refusals)


def _check_schema_flags(fields: Sequence[Field], refusals: Refusals) -> None:
    keys = [field for field in fields if field.key]
    if not keys:
        refusals.add(
            ("properties",),
            'a registry schema needs one key: mark a top-level text or integer field "x-key": true',
        )
    for extra in keys[1:]:
        refusals.add(
            ("properties", extra.name, "x-key"),
            f"only one field is the key, and {keys[0].name!r} already is",
        )
    personal = [field for field in fields if field.personal]
    if personal and not any(field.subject is not None for field in fields):
        refusals.add(
            ("properties", personal[0].name, "x-personal"),
            "a schema with personal data names whom each record is about: mark the field holding "
            'the national code (or legal-entity or foreign-national ID) "x-subject": true',
        )
