"""The pieces every registry service OpenAPI document is built of: the document itself,
operations with their problem responses, parameters and small schemas, so that the Data API,
the Database API and the usage API all state them the same way."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from zistboom.core.problems import PROBLEM_JSON, Problem

OPENAPI_VERSION: Final = "3.1.0"
PAGE_SIZE_DEFAULT: Final = 20
PAGE_SIZE_MAX: Final = 100
VERSION_PATTERN: Final = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9}){0,3}")
_SCHEMAS: Final = "#/components/schemas/"
_PROBLEM_TEXT: Final = {
    "404": "Not found: no record matches (or the registry or version is not published)",
    "409": "Conflict: another record holds a unique value, or the query matches several records",
    "422": "Invalid input: each offending input is named in errors, by its JSON pointer",
}
HEADERS_NOTE: Final = (
    "Calls reach this API through a Zistboom gateway, which adds the exchange headers "
    "(X-Road-Client, X-Road-Id and the others of ZB-STD-004); they are not listed as parameters. "
    "A registry with personal fields needs X-Road-UserId (the person on whose behalf the call "
    "is made) and X-Road-Purpose on every call: without them the gateway refuses it."
)


def problem_schemas() -> dict[str, Any]:
    problem = Problem.model_json_schema(ref_template=_SCHEMAS + "{model}")
    definitions: dict[str, Any] = problem.pop("$defs", {})
    return {**definitions, "Problem": problem}


def page_link() -> dict[str, Any]:
    return {"type": ["string", "null"], "description": "the next page, or null"}


def assemble_document(
    info: dict[str, Any],
    paths: dict[str, Any],
    schemas: dict[str, Any],
    server_url: str | None,
    *,
    tags: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info}
    if server_url is not None:
        document["servers"] = [{"url": server_url}]
    if tags:
        document["tags"] = tags
    document["paths"] = paths
    document["components"] = {"schemas": schemas}
    unshared: dict[str, Any] = _unshared(document)
    return unshared


def _unshared(value: Any) -> Any:
    """A copy sharing no dict or list, so that YAML forms of the document have no aliases."""
    if isinstance(value, dict):
        return {key: _unshared(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unshared(item) for item in value]
    return value


def operation(
    operation_id: str,
    summary: str,
    *,
    ok: dict[str, Any],
    description: str | None = None,
    parameters: Sequence[dict[str, Any]] = (),
    body: dict[str, Any] | None = None,
    problems: Sequence[str] = ("404", "422"),
    tags: list[str] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary}
    if tags:
        operation["tags"] = tags
    if description is not None:
        operation["description"] = description
    if parameters:
        operation["parameters"] = list(parameters)
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    responses = dict(ok)
    for status in problems:
        responses[status] = {
            "description": _PROBLEM_TEXT[status],
            "content": {PROBLEM_JSON: {"schema": ref("Problem")}},
        }
    operation["responses"] = responses
    return operation


def ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "200": {"description": description, "content": {"application/json": {"schema": schema}}}
    }


def ref(name: str) -> dict[str, Any]:
    return {"$ref": _SCHEMAS + name}


def closed(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


def with_content(schema: dict[str, Any]) -> dict[str, Any]:
    return closed({"content": schema})


def list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": 1}


def query_parameter(
    name: str, schema: dict[str, Any], description: str, *, comma: bool = False
) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "name": name,
        "in": "query",
        "description": description,
        "schema": schema,
    }
    if comma:
        parameter.update(style="form", explode=False)
    return parameter


def path_parameter(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def paging() -> list[dict[str, Any]]:
    return [
        query_parameter(
            "page_size",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": PAGE_SIZE_MAX,
                "default": PAGE_SIZE_DEFAULT,
            },
            "Records per page",
        ),
        query_parameter(
            "cursor",
            {"type": "string", "minLength": 1},
            "Where the page starts: a previous page's next",
        ),
    ]
