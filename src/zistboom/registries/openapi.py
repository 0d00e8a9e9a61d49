"""OpenAPI 3.1 documents of a registry service's APIs as its gateway's clients see them: one
registry's Data API (generated from its versions' schemas), the Database API and the personal
data usage API, in GovStack's Digital Registries shapes.

Each document's paths are relative to the backend URL the service is registered under:
``<registry-service>/data/<code>``, ``<registry-service>/database-api`` and
``<registry-service>/data/MyPersonalDataUsage``. The gateway adds the exchange headers, so
they are not listed as parameters; the descriptions say which ones a call needs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, Final

from zistboom.core import identifiers
from zistboom.core.errors import ValidationError
from zistboom.core.persian import DELETED_CHARACTERS
from zistboom.registries.fields import Field
from zistboom.registries.openapi_document import (
    HEADERS_NOTE,
    VERSION_PATTERN,
    assemble_document,
    closed,
    list_of,
    ok,
    operation,
    page_link,
    paging,
    path_parameter,
    problem_schemas,
    query_parameter,
    ref,
    with_content,
)
from zistboom.registries.query import INTEGER_LIMIT, MAX_IN_VALUES, filterable
from zistboom.registries.schema import RegistrySchema
from zistboom.registries.service_openapi import database_api_openapi, usage_api_openapi

__all__ = ["data_api_openapi", "database_api_openapi", "usage_api_openapi"]

_ORDERED_KINDS: Final = frozenset({"number", "integer", "date", "date-time", "time"})
# A text whose match form is not empty: it holds a character that is neither a space nor one
# normalize_text deletes, nor a ZWNJ (which the match form drops).
_MATCHABLE: Final = f"[^{identifiers.SPACE_CHARACTERS}{DELETED_CHARACTERS}\\u200c]"


def data_api_openapi(
    *,
    code: str,
    title_en: str,
    title_fa: str,
    description_en: str,
    versions: Sequence[tuple[str, RegistrySchema]],
    server_url: str | None = None,
) -> dict[str, Any]:
    """The Data API of the registry ``code``, one set of GovStack operations per version
    (``versions`` oldest first; the last is the document's ``info.version``)."""
    identifiers.validate_code(code, field="code", label="registry code")
    _check_versions(versions)
    personal = sorted({name for _, schema in versions for name in schema.personal})
    if personal:
        note = f"This registry holds personal data ({', '.join(personal)}): send both headers."
    else:
        note = "This registry holds no personal data."
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for version, schema in versions:
        suffix = version.replace(".", "_")
        record = _record_schema(schema)
        schemas[f"Record_{suffix}"] = record
        schemas[f"RecordListed_{suffix}"] = {
            **_optional_fields(
                record, "A record; with filter, only the fields it names, and the key"
            ),
            "required": [schema.key.name],
        }
        schemas[f"RecordQuery_{suffix}"] = _optional_fields(
            record,
            "Fields a record must match, each equal (text in the match form): the key, the "
            "unique and the searchable fields, at least one",
            only=_queryable(schema),
        )
        schemas[f"RecordPatch_{suffix}"] = _optional_fields(
            record, "The fields to write, at least one; the others keep their values"
        )
        paths.update(_version_paths(version, suffix, schema))
    schemas.update(problem_schemas())
    info = {
        "title": title_en,
        "version": versions[-1][0],
        "description": f"{description_en}\n\n{HEADERS_NOTE} {note}",
        "x-title-fa": title_fa,
        "x-registry-code": code,
    }
    tags = [{"name": version, "description": f"Version {version}"} for version, _ in versions]
    return assemble_document(info, paths, schemas, server_url, tags=tags)


# --- one version's operations ----------------------------------------------------------------


def _version_paths(version: str, suffix: str, schema: RegistrySchema) -> dict[str, Any]:
    record, listed, record_query, patch = (
        ref(f"{name}_{suffix}") for name in ("Record", "RecordListed", "RecordQuery", "RecordPatch")
    )
    as_of = query_parameter(
        "asOf",
        {"type": "string", "format": "date-time"},
        "Zistboom extension: the records as they were at this instant",
    )
    key = schema.key
    record_id = {
        "name": "ID",
        "in": "path",
        "required": True,
        "description": f"the record's key ({key.name})",
        "schema": _value_schema(key, constraints=True),
    }
    query_body = closed({"query": with_content(record_query)})
    update_body = closed({"query": with_content(record_query), "write": with_content(patch)})
    tag = [version]
    operations = {
        f"/{version}": {
            "get": operation(
                f"list_{suffix}",
                "List and search records",
                parameters=[*_list_parameters(schema), as_of],
                ok=ok("A page of records", _page(listed)),
                tags=tag,
            )
        },
        f"/{version}/read": {
            "post": operation(
                f"read_{suffix}",
                "Read the one record matching the query",
                parameters=[as_of],
                body=query_body,
                ok=ok("The record", closed({"content": record})),
                problems=("404", "409", "422"),
                tags=tag,
            )
        },
        f"/{version}/exists": {
            "post": operation(
                f"exists_{suffix}",
                "Whether a record matches the query",
                body=query_body,
                ok=ok(
                    "The answer",
                    closed(
                        {
                            "answer": closed(
                                {"status": {"type": "boolean"}, "message": {"type": "string"}}
                            )
                        }
                    ),
                ),
                tags=tag,
            )
        },
        f"/{version}/create": {
            "post": operation(
                f"create_{suffix}",
                "Create a record (absent fields take their defaults)",
                body=closed({"write": with_content(record)}),
                ok=ok("The record created", closed({"content": record})),
                problems=("404", "409", "422"),
                tags=tag,
            )
        },
        f"/{version}/update": {
            "put": operation(
                f"update_{suffix}",
                "Update the one record matching the query",
                body=update_body,
                ok=ok("The record updated", closed({"content": record})),
                problems=("404", "409", "422"),
                tags=tag,
            )
        },
        f"/{version}/update-entries": {
            "put": operation(
                f"update_entries_{suffix}",
                "Update every record matching the query",
                body=update_body,
                ok=ok(
                    "How many records were updated",
                    closed({"updated": {"type": "integer", "minimum": 0}}),
                ),
                problems=("404", "409", "422"),
                tags=tag,
            )
        },
        f"/{version}/update-or-create": {
            "post": operation(
                f"update_or_create_{suffix}",
                "Update the record matching the query, or create it when none does",
                description=(
                    "When no record matches, the query's fields and the write's together make "
                    "the new record, so they must hold every required field."
                ),
                body=update_body,
                ok=ok(
                    "The record, and whether it was created",
                    closed({"content": record, "created": {"type": "boolean"}}),
                ),
                problems=("404", "409", "422"),
                tags=tag,
            )
        },
        f"/{version}/{{ID}}/delete": {
            "delete": operation(
                f"delete_{suffix}",
                "Delete a record",
                parameters=[record_id],
                ok={"204": {"description": "Deleted"}},
                tags=tag,
            )
        },
        f"/{version}/{{ID}}/read-value/{{field}}.json": {
            "get": operation(
                f"read_value_{suffix}",
                "One field of a record",
                parameters=[
                    record_id,
                    path_parameter(
                        "field",
                        {"type": "string", "enum": list(schema.names)},
                        "a field of the version",
                    ),
                ],
                ok=ok("The value", closed({"value": {}})),
                tags=tag,
            )
        },
    }
    for field in schema.file_fields:
        if field.file_extension is None:
            continue  # without a media type, a file is read as .json only
        operations[f"/{version}/{{ID}}/read-value/{field.name}.{field.file_extension}"] = {
            "get": operation(
                f"read_file_{field.name}_{suffix}",
                f"The file of a record's {field.name}",
                parameters=[record_id],
                ok={
                    "200": {
                        "description": "The file itself",
                        "content": {field.media_type or "application/octet-stream": {}},
                    }
                },
                tags=tag,
            )
        }
    return operations


def _list_parameters(schema: RegistrySchema) -> list[dict[str, Any]]:
    orderable = list(dict.fromkeys([*schema.searchable, schema.key.name]))
    usable = filterable(schema)
    parameters = []
    if any(field.kind == "text" for field in usable.values()):
        parameters.append(
            query_parameter(
                "search",
                {"type": "string", "minLength": 1, "pattern": _MATCHABLE},
                "Text to find in the searchable text fields (and a text key), compared in the "
                "match form (normalised Persian, without ZWNJ, casefolded)",
            )
        )
    parameters += [
        query_parameter(
            "filter",
            list_of({"type": "string", "enum": list(schema.names)}),
            "The fields to return, comma-separated (all when absent)",
            comma=True,
        ),
        query_parameter(
            "ordering",
            {"type": "string", "enum": [*orderable, *(f"-{name}" for name in orderable)]},
            "The field to order by; a leading '-' for descending",
        ),
        *paging(),
    ]
    for field in schema.fields:
        if field.name in usable:
            parameters.extend(_field_parameters(field))
    return parameters


def _field_parameters(field: Field) -> list[dict[str, Any]]:
    name = f"query.{field.name}"
    value = _value_schema(field, constraints=False)
    matched = " (in the match form)" if field.kind == "text" and not field.key else ""
    parameters = [query_parameter(name, value, f"{field.name} equals this value{matched}")]
    if field.kind in _ORDERED_KINDS:
        for operator, words in (
            ("gte", "at least"),
            ("gt", "more than"),
            ("lte", "at most"),
            ("lt", "less than"),
        ):
            parameters.append(
                query_parameter(f"{name}.{operator}", value, f"{field.name} is {words} this")
            )
    if field.kind == "text" and field.key:
        # The key is compared exactly (ZB-STD-006 §8.10): any non-empty prefix.
        parameters.append(
            query_parameter(
                f"{name}.prefix",
                {"type": "string", "minLength": 1},
                f"{field.name} starts with this, exactly",
            )
        )
    elif field.kind == "text":
        parameters.append(
            query_parameter(
                f"{name}.prefix",
                {"type": "string", "minLength": 1, "pattern": _MATCHABLE},
                f"{field.name} starts with this (in the match form)",
            )
        )
    if field.kind != "boolean":
        # The service splits the list at every comma: a text in it holds none.
        item = {**value, "pattern": "^[^,]*$"} if field.kind == "text" else value
        parameters.append(
            query_parameter(
                f"{name}.in",
                {**list_of(item), "maxItems": MAX_IN_VALUES},
                f"{field.name} is one of these (at most {MAX_IN_VALUES}), comma-separated",
                comma=True,
            )
        )
    return parameters


def _value_schema(field: Field, *, constraints: bool) -> dict[str, Any]:
    """The schema of one value in a parameter: its type, format or codes; with
    ``constraints`` (a key in a path) its pattern and bounds too."""
    if field.kind in ("date", "date-time", "time"):
        return {"type": "string", "format": field.kind}
    if field.kind == "code-list":
        return {"type": "string", "enum": list(field.code_list or ())}
    schema: dict[str, Any] = {"type": field.fragment["type"]}
    if field.kind == "integer":
        # What both databases compare as integers (ZB-STD-006 §8.1).
        schema.update(minimum=-INTEGER_LIMIT, maximum=INTEGER_LIMIT)
    if constraints:
        kept = (
            "pattern",
            "minLength",
            "maxLength",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
        )
        schema.update((k, field.fragment[k]) for k in kept if k in field.fragment)
    return schema


# --- schemas ---------------------------------------------------------------------------------


def _record_schema(schema: RegistrySchema) -> dict[str, Any]:
    """The version's schema as OpenAPI states it: closed objects, the key required, no
    ``$schema``; file fields also get the base64 pattern and a length, so that a generator
    produces, and a validator checks, what the service accepts."""
    record = schema.closed_document
    record.pop("$schema", None)
    for field in schema.fields:
        _state_files(field, record["properties"][field.name])
    return record


def _state_files(field: Field, fragment: dict[str, Any]) -> None:
    if field.kind == "file" and field.max_bytes is not None:
        fragment["pattern"] = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
        # Whole groups of four only: never more than x-max-bytes (at most two bytes less).
        fragment["maxLength"] = max(field.max_bytes // 3, 1) * 4
    if field.items is not None:
        _state_files(field.items, fragment["items"])
    for sub in field.properties:
        _state_files(sub, fragment["properties"][sub.name])


def _optional_fields(
    record: Mapping[str, Any], description: str, *, only: Sequence[str] | None = None
) -> dict[str, Any]:
    """The record's fields (or ``only`` these), none required, at least one given."""
    result = copy.deepcopy(dict(record))
    result.pop("required", None)
    result["description"] = description
    if only is not None:
        result["properties"] = {name: result["properties"][name] for name in only}
    result["minProperties"] = 1
    for fragment in result["properties"].values():
        fragment.pop("default", None)  # a default here would mean "assumed when absent"
    return result


def _queryable(schema: RegistrySchema) -> list[str]:
    """The fields a query's content may name (target.query_terms): the key, the unique and
    the searchable fields."""
    usable = filterable(schema)
    return [f.name for f in schema.fields if f.name in usable or f.unique]


def _page(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["count", "count_exact", "next", "previous", "results"],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "count_exact": {"type": "boolean", "description": "false when count is an estimate"},
            "next": page_link(),
            "previous": {**page_link(), "description": "the previous page, or null"},
            "results": {"type": "array", "items": record},
        },
        "additionalProperties": False,
    }


def _check_versions(versions: Sequence[tuple[str, RegistrySchema]]) -> None:
    if not versions:
        raise ValidationError("a Data API has at least one version", field="versions")
    seen: set[str] = set()
    for index, (version, _) in enumerate(versions):
        if not VERSION_PATTERN.fullmatch(version):
            raise ValidationError(
                f"version {version!r} is not numbered like 1.0 or 2.3.1", field=f"versions/{index}"
            )
        if version in seen:
            raise ValidationError(f"version {version!r} is listed twice", field=f"versions/{index}")
        seen.add(version)
