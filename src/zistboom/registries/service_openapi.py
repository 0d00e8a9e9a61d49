"""The OpenAPI documents of a registry service's two fixed APIs: the Database API (its
registries and their schema versions, backend ``<registry-service>/database-api``) and the
personal data usage API (``<registry-service>/data/MyPersonalDataUsage``), in GovStack's
Digital Registries shapes."""

from __future__ import annotations

from typing import Any

from zistboom.core import identifiers
from zistboom.registries.openapi_document import (
    HEADERS_NOTE,
    VERSION_PATTERN,
    assemble_document,
    ok,
    operation,
    page_link,
    paging,
    problem_schemas,
    query_parameter,
    ref,
)


def database_api_openapi(*, server_url: str | None = None) -> dict[str, Any]:
    """The Database API: the service's registries, their schemas, and new versions of them."""
    code = {"type": "string", "pattern": identifiers.CODE_PATTERN, "description": "registry code"}
    path_id = {"name": "id", "in": "path", "required": True, "schema": code}
    paths = {
        "/databases": {
            "get": operation(
                "list_databases",
                "The registries of this service",
                ok=ok(
                    "The registries",
                    {
                        "type": "object",
                        "required": ["databases"],
                        "properties": {"databases": {"type": "array", "items": ref("Database")}},
                        "additionalProperties": False,
                    },
                ),
                problems=(),
            )
        },
        "/database/{id}": {
            "get": operation(
                "read_database",
                "A registry with its latest schema",
                parameters=[path_id],
                ok=ok("The registry", ref("Database")),
                problems=("404", "422"),
            ),
            "delete": operation(
                "delete_database",
                "Withdraw a registry (refused while it holds records)",
                parameters=[path_id],
                ok={"204": {"description": "Withdrawn"}},
                problems=("404", "409", "422"),
            ),
        },
        "/database/modify": {
            "post": operation(
                "modify_database",
                "Create a registry, or publish a new version of its schema",
                description=(
                    "A new version must be compatible with the previous one (no field removed, "
                    "none newly required without a default, no kind changed except integer to "
                    "number, no constraint narrowed, the same key): otherwise 409, with each "
                    "breaking change in errors. A field newly x-unique is checked against the "
                    "stored records."
                ),
                body=ref("DatabaseModify"),
                ok=ok("The registry as it now is", ref("Database")),
                problems=("409", "422"),
            )
        },
    }
    version = {"type": "string", "pattern": f"^{VERSION_PATTERN.pattern}$", "examples": ["1.0"]}
    schema_doc = {
        "type": "object",
        "description": "A registry schema: the documented subset of JSON Schema 2020-12",
    }
    schemas: dict[str, Any] = {
        "Database": {
            "type": "object",
            "required": ["id", "code", "name", "version", "versions", "schema"],
            "properties": {
                "id": {**code, "description": "the registry code, as in /database/{id}"},
                "code": code,
                "name": {"type": "string", "description": "English name"},
                "name_fa": {"type": "string", "description": "Persian name"},
                "description": {"type": "string"},
                "version": {**version, "description": "the latest version"},
                "versions": {"type": "array", "items": version, "minItems": 1},
                "schema": {**schema_doc, "description": "the latest version's schema"},
                "modified_at": {"type": "string", "format": "date-time"},
            },
            "additionalProperties": False,
        },
        "DatabaseModify": {
            "type": "object",
            "required": ["code", "version", "schema"],
            "properties": {
                "code": code,
                "version": version,
                "name": {"type": "string", "minLength": 1},
                "name_fa": {"type": "string", "minLength": 1},
                "description": {"type": "string"},
                "schema": schema_doc,
            },
            "additionalProperties": False,
        },
        **problem_schemas(),
    }
    info = {
        "title": "Registry Database API",
        "version": "1.0",
        "description": f"The registries a service holds, and their versions.\n\n{HEADERS_NOTE}",
    }
    return assemble_document(info, paths, schemas, server_url)


def usage_api_openapi(*, server_url: str | None = None) -> dict[str, Any]:
    """The personal data usage API: who read the calling person's data, when and why."""
    parameters = [
        query_parameter(
            "from", {"type": "string", "format": "date-time"}, "Reads at or after this instant"
        ),
        query_parameter(
            "to", {"type": "string", "format": "date-time"}, "Reads before this instant"
        ),
        *paging(),
    ]
    page = {
        "type": "object",
        "required": ["count", "next", "results"],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "next": page_link(),
            "results": {"type": "array", "items": ref("PersonalDataUsage")},
        },
        "additionalProperties": False,
    }
    paths = {
        "/1.0": {
            "get": operation(
                "list_personal_data_usage",
                "Who read my personal data",
                description=(
                    "The reads of personal data about the person calling (the X-Road-UserId of "
                    "the call), newest first, in every registry of this service."
                ),
                parameters=parameters,
                ok=ok("A page of reads", page),
                problems=("422",),
            )
        }
    }
    text = {"type": "string"}
    usage = {
        "type": "object",
        "required": [
            "ID",
            "ReaderID",
            "ReaderInstitutionID",
            "SearchDateTime",
            "DatabaseID",
            "Refrences",
            "Fields",
            "MessageId",
        ],
        "properties": {
            "ID": {**text, "description": "this entry"},
            "ReaderID": {**text, "description": "the X-Road-UserId of the reader"},
            "ReaderInstitutionID": {
                "type": "string",
                "pattern": identifiers.MEMBER_ID_PATTERN,
                "format": identifiers.MEMBER_ID_FORMAT,
                "description": "the client member",
            },
            "ReaderApplicationName": {
                "type": ["string", "null"],
                "pattern": identifiers.SUBSYSTEM_ID_PATTERN,
                "description": "the client subsystem (null for a member's own call)",
            },
            "SearchDateTime": {"type": "string", "format": "date-time"},
            "DatabaseID": {**text, "description": "the registry code"},
            "Refrences": {
                "type": "array",
                "description": "the records read (GovStack's own spelling)",
                "items": {
                    "type": "object",
                    "required": ["ReferenceID"],
                    "properties": {"ReferenceID": {**text, "description": "a record's key"}},
                    "additionalProperties": False,
                },
            },
            "Fields": {"type": "array", "items": text, "description": "the fields read"},
            "Purpose": {"type": ["string", "null"], "description": "the X-Road-Purpose"},
            "MessageId": {**text, "description": "the X-Road-Id of the exchange"},
        },
        "additionalProperties": False,
    }
    info = {
        "title": "My personal data usage",
        "version": "1.0",
        "description": (
            "Each person can see who has read their personal data, when and for what purpose.\n\n"
            f"{HEADERS_NOTE} This API always needs X-Road-UserId: it answers about that person."
        ),
    }
    return assemble_document(
        info, paths, {"PersonalDataUsage": usage, **problem_schemas()}, server_url
    )
