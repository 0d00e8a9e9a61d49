"""The OpenAPI documents of a registry service: valid OpenAPI 3.1 (checked by a checker that is
shown to fail), the GovStack operations and parameters a registry's versions imply, and honest
bodies: whatever the Data API document lets a client send, the record validators accept."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from schemathesis.specs.openapi.definitions import OPENAPI_31

from registry_schemas import one_field_document, person_document
from zistboom.core.errors import ValidationError
from zistboom.registries.openapi import data_api_openapi, database_api_openapi, usage_api_openapi
from zistboom.registries.schema import RegistrySchema, match_form, parse_schema

PERSONS = parse_schema(person_document())
PLAIN = parse_schema(one_field_document("colour", {"type": "string", "x-searchable": True}))
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def data_api(*versions: tuple[str, RegistrySchema]) -> dict[str, Any]:
    return data_api_openapi(
        code="persons",
        title_en="Persons",
        title_fa="اشخاص",
        description_en="The persons of the demo ecosystem.",
        versions=versions or (("1.0", PERSONS),),
        server_url="https://gw.demo.zistboom.ir/r1/IR-DEMO/GOV/12147922321/registry/data/persons",
    )


# --- the checker -----------------------------------------------------------------------------


def _schema_objects(document: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        yield f"components.schemas.{name}", schema
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                yield f"{method} {path} parameter {parameter.get('name')}", parameter.get("schema")
            for media, body in operation.get("requestBody", {}).get("content", {}).items():
                yield f"{method} {path} body {media}", body.get("schema", {})
            for status, response in operation.get("responses", {}).items():
                for media, body in response.get("content", {}).items():
                    yield f"{method} {path} {status} {media}", body.get("schema", {})


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _resolves(document: dict[str, Any], ref: str) -> bool:
    if not ref.startswith("#/"):
        return False
    target: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            return False
        target = target[part]
    return True


def openapi_problems(document: dict[str, Any]) -> list[str]:
    """Everything wrong with ``document`` as OpenAPI 3.1 (empty when nothing is): the OAS 3.1
    document schema, each Schema Object as JSON Schema 2020-12, ``$ref``s, path templates and
    operation IDs."""
    found = [
        f"{e.json_path}: {e.message}"
        for e in Draft202012Validator(OPENAPI_31).iter_errors(document)
    ]
    for where, schema in _schema_objects(document):
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            found.append(f"{where}: not a JSON Schema: {error.message}")
    found.extend(
        f"$ref {ref} resolves to nothing" for ref in _refs(document) if not _resolves(document, ref)
    )
    operation_ids: list[str] = []
    for path, item in document.get("paths", {}).items():
        template = set(re.findall(r"{([^}]+)}", path))
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            operation_ids.append(operation.get("operationId", ""))
            if not operation.get("responses"):  # optional in 3.1, but we always state them
                found.append(f"{method} {path}: no responses")
            declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
            for name in sorted(template - declared):
                found.append(f"{method} {path}: path parameter {name} is not declared")
            for name in sorted(declared - template):
                found.append(f"{method} {path}: path parameter {name} is not in the path")
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("required") is not True:
                    found.append(f"{method} {path}: path parameter {parameter['name']} is optional")
    duplicates = sorted({name for name in operation_ids if operation_ids.count(name) > 1})
    found.extend(f"operationId {name} is used twice" for name in duplicates)
    return sorted(found)


def test_the_checker_refuses_what_openapi_forbids() -> None:
    # The checker must be able to fail, or the documents' validity below proves nothing.
    document = data_api()
    assert openapi_problems(document) == []
    broken = copy.deepcopy(document)
    broken["openapi"] = "3.0.3"
    del broken["paths"]["/1.0/read"]["post"]["responses"]
    broken["paths"]["/1.0"]["get"]["parameters"][0]["in"] = "body"
    broken["paths"]["/1.0/{ID}/delete"]["delete"]["parameters"] = []
    broken["paths"]["/1.0/exists"]["post"]["operationId"] = "read_1_0"
    broken["components"]["schemas"]["Record_1_0"]["properties"]["sex"]["type"] = "strng"
    broken["components"]["schemas"].pop("RecordPatch_1_0")
    assert openapi_problems(broken) == [
        "$.openapi: '3.0.3' does not match '^3\\\\.1\\\\.\\\\d+(-.+)?$'",
        "$.paths['/1.0'].get.parameters[0].in: 'body' is not one of ['query', 'header', "
        "'path', 'cookie']",
        "$ref #/components/schemas/RecordPatch_1_0 resolves to nothing",
        "$ref #/components/schemas/RecordPatch_1_0 resolves to nothing",
        "$ref #/components/schemas/RecordPatch_1_0 resolves to nothing",
        "components.schemas.Record_1_0: not a JSON Schema: 'strng' is not valid under any of the "
        "given schemas",
        "delete /1.0/{ID}/delete: path parameter ID is not declared",
        "operationId read_1_0 is used twice",
        "post /1.0/read: no responses",
    ]


# --- the Data API ----------------------------------------------------------------------------


def test_the_data_api_of_two_versions_is_valid_openapi() -> None:
    document = data_api(("1.0", PLAIN), ("2.0", PERSONS))
    assert openapi_problems(document) == []
    assert document["openapi"] == "3.1.0"
    assert document["info"]["version"] == "2.0"
    assert document["info"]["x-title-fa"] == "اشخاص"
    assert document["servers"] == [
        {"url": "https://gw.demo.zistboom.ir/r1/IR-DEMO/GOV/12147922321/registry/data/persons"}
    ]
    operations = {
        (method.upper(), path): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert list(operations.items())[:9] == [
        (("GET", "/1.0"), "list_1_0"),
        (("POST", "/1.0/read"), "read_1_0"),
        (("POST", "/1.0/exists"), "exists_1_0"),
        (("POST", "/1.0/create"), "create_1_0"),
        (("PUT", "/1.0/update"), "update_1_0"),
        (("PUT", "/1.0/update-entries"), "update_entries_1_0"),
        (("POST", "/1.0/update-or-create"), "update_or_create_1_0"),
        (("DELETE", "/1.0/{ID}/delete"), "delete_1_0"),
        (("GET", "/1.0/{ID}/read-value/{field}.json"), "read_value_1_0"),
    ]
    # Version 2.0 has a file field: its bytes have a path of their own.
    assert len(operations) == 19
    assert operations[("GET", "/2.0/{ID}/read-value/{field}.json")] == "read_value_2_0"
    assert operations[("GET", "/2.0/{ID}/read-value/photo.jpg")] == "read_file_photo_2_0"
    assert list(document["components"]["schemas"]) == [
        "Record_1_0",
        "RecordListed_1_0",
        "RecordQuery_1_0",
        "RecordPatch_1_0",
        "Record_2_0",
        "RecordListed_2_0",
        "RecordQuery_2_0",
        "RecordPatch_2_0",
        "ProblemField",
        "Problem",
    ]
    # The YAML the gateway serves has no aliases for shared pieces.
    assert "&id" not in yaml.safe_dump(document, allow_unicode=True)


def test_the_list_operation_takes_the_govstack_query_parameters() -> None:
    operation = data_api()["paths"]["/1.0"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert list(parameters) == [
        "search",
        "filter",
        "ordering",
        "page_size",
        "cursor",
        "query.national_code",
        "query.national_code.prefix",
        "query.national_code.in",
        "query.family_name_fa",
        "query.family_name_fa.prefix",
        "query.family_name_fa.in",
        "query.birth_date",
        "query.birth_date.gte",
        "query.birth_date.gt",
        "query.birth_date.lte",
        "query.birth_date.lt",
        "query.birth_date.in",
        "query.registered_at",
        "query.registered_at.gte",
        "query.registered_at.gt",
        "query.registered_at.lte",
        "query.registered_at.lt",
        "query.registered_at.in",
        "asOf",
    ]
    assert all(p["in"] == "query" and not p.get("required") for p in parameters.values())
    assert parameters["ordering"]["schema"]["enum"] == [
        "family_name_fa",
        "birth_date",
        "registered_at",
        "national_code",
        "-family_name_fa",
        "-birth_date",
        "-registered_at",
        "-national_code",
    ]
    assert parameters["page_size"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 20,
    }
    assert parameters["filter"]["schema"]["items"]["enum"] == list(PERSONS.names)
    assert (parameters["filter"]["style"], parameters["filter"]["explode"]) == ("form", False)
    assert parameters["query.birth_date.gte"]["schema"] == {"type": "string", "format": "date"}
    assert parameters["query.birth_date.in"]["schema"] == {
        "type": "array",
        "items": {"type": "string", "format": "date"},
        "minItems": 1,
        "maxItems": 100,
    }
    # The service splits an in-list at each comma, and refuses a text with no match form.
    assert parameters["query.family_name_fa.in"]["schema"]["items"] == {
        "type": "string",
        "pattern": "^[^,]*$",
    }
    matchable = re.compile(parameters["search"]["schema"]["pattern"])
    for blank in (" ", "\u200c", "\u200b\u0640 \u00a0"):
        assert not matchable.search(blank) and not match_form(blank)
    for text in ("a", " \u200cعلی", "\u0653"):
        assert matchable.search(text) and match_form(text)
    # The key is compared exactly: any non-empty prefix.
    assert parameters["query.national_code.prefix"]["schema"] == {"type": "string", "minLength": 1}
    assert parameters["asOf"]["schema"] == {"type": "string", "format": "date-time"}
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["required"] == ["count", "count_exact", "next", "previous", "results"]
    listed = {"$ref": "#/components/schemas/RecordListed_1_0"}
    assert page["properties"]["results"]["items"] == listed


def test_a_version_without_a_searchable_text_has_no_search() -> None:
    schema = parse_schema(
        {"type": "object", "properties": {"id": {"type": "integer", "x-key": True}}}
    )
    operation = data_api(("1.0", schema))["paths"]["/1.0"]["get"]
    assert "search" not in [p["name"] for p in operation["parameters"]]


def test_each_scalar_kind_gets_its_operators() -> None:
    fields = {
        "id": {"type": "integer", "x-key": True},
        "n": {"type": "number", "x-searchable": True},
        "on": {"type": "boolean", "x-searchable": True},
        "at": {"type": "string", "format": "time", "x-searchable": True},
        "c": {
            "type": "string",
            "enum": ["A", "B"],
            "x-code-list": {"A": {"fa": "الف", "en": "A"}, "B": {"fa": "ب", "en": "B"}},
            "x-searchable": True,
        },
    }
    schema = parse_schema({"type": "object", "properties": fields})
    operation = data_api(("1.0", schema))["paths"]["/1.0"]["get"]
    names = [p["name"] for p in operation["parameters"] if p["name"].startswith("query.")]
    assert names == [
        *(f"query.id{op}" for op in ("", ".gte", ".gt", ".lte", ".lt", ".in")),
        *(f"query.n{op}" for op in ("", ".gte", ".gt", ".lte", ".lt", ".in")),
        "query.on",
        *(f"query.at{op}" for op in ("", ".gte", ".gt", ".lte", ".lt", ".in")),
        "query.c",
        "query.c.in",
    ]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert parameters["query.c.in"]["items"] == {"type": "string", "enum": ["A", "B"]}
    assert parameters["query.n.lt"] == {"type": "number"}
    assert parameters["ordering"]["enum"] == [
        "n",
        "on",
        "at",
        "c",
        "id",
        "-n",
        "-on",
        "-at",
        "-c",
        "-id",
    ]
    delete = data_api(("1.0", schema))["paths"]["/1.0/{ID}/delete"]["delete"]
    limit = 2**63 - 1  # what both databases compare as integers
    assert delete["parameters"][0]["schema"] == {
        "type": "integer",
        "minimum": -limit,
        "maximum": limit,
    }


def test_the_bodies_and_answers_of_the_record_operations() -> None:
    paths = data_api()["paths"]

    def body(path: str, method: str = "post") -> Any:
        return paths[path][method]["requestBody"]["content"]["application/json"]["schema"]

    def answer(path: str, method: str = "post", status: str = "200") -> Any:
        response = paths[path][method]["responses"][status]
        return response.get("content", {}).get("application/json", {}).get("schema")

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}_1_0"}

    def closed(**properties: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "required": list(properties),
            "properties": properties,
            "additionalProperties": False,
        }

    query, write = closed(content=ref("RecordQuery")), closed(content=ref("Record"))
    patch = closed(content=ref("RecordPatch"))
    assert body("/1.0/read") == body("/1.0/exists") == closed(query=query)
    assert answer("/1.0/read") == closed(content=ref("Record"))
    assert answer("/1.0/exists") == closed(
        answer=closed(status={"type": "boolean"}, message={"type": "string"})
    )
    assert body("/1.0/create") == closed(write=write)
    assert answer("/1.0/create") == closed(content=ref("Record"))
    update = closed(query=query, write=patch)
    assert body("/1.0/update", "put") == body("/1.0/update-entries", "put") == update
    assert answer("/1.0/update", "put") == closed(content=ref("Record"))
    assert answer("/1.0/update-entries", "put") == closed(updated={"type": "integer", "minimum": 0})
    # A write that makes a whole record only with the query's fields is one a create accepts.
    assert body("/1.0/update-or-create") == update
    assert answer("/1.0/update-or-create") == closed(
        content=ref("Record"), created={"type": "boolean"}
    )
    assert paths["/1.0/read"]["post"]["parameters"][0]["name"] == "asOf"
    delete = paths["/1.0/{ID}/delete"]["delete"]
    assert delete["responses"]["204"] == {"description": "Deleted"}
    assert delete["parameters"][0]["schema"] == {"type": "string", "pattern": "^[0-9]{10}$"}
    value = paths["/1.0/{ID}/read-value/{field}.json"]["get"]
    parameters = {p["name"]: p["schema"] for p in value["parameters"]}
    assert list(parameters) == ["ID", "field"]  # no asOf: read-value reads the record now
    assert parameters["field"]["enum"] == list(PERSONS.names)
    assert answer("/1.0/{ID}/read-value/{field}.json", "get") == closed(value={})
    photo = paths["/1.0/{ID}/read-value/photo.jpg"]["get"]
    assert [p["name"] for p in photo["parameters"]] == ["ID"]
    assert photo["responses"]["200"]["content"] == {"image/jpeg": {}}


@pytest.mark.parametrize(
    ("operation", "statuses"),
    [
        ("/1.0 get", ["200", "404", "422"]),
        ("/1.0/read post", ["200", "404", "409", "422"]),
        ("/1.0/exists post", ["200", "404", "422"]),
        ("/1.0/create post", ["200", "404", "409", "422"]),
        ("/1.0/update put", ["200", "404", "409", "422"]),
        ("/1.0/update-entries put", ["200", "404", "409", "422"]),
        ("/1.0/update-or-create post", ["200", "404", "409", "422"]),
        ("/1.0/{ID}/delete delete", ["204", "404", "422"]),
        ("/1.0/{ID}/read-value/{field}.json get", ["200", "404", "422"]),
        ("/1.0/{ID}/read-value/photo.jpg get", ["200", "404", "422"]),
    ],
)
def test_errors_are_problem_documents(operation: str, statuses: list[str]) -> None:
    path, method = operation.split()
    responses = data_api()["paths"][path][method]["responses"]
    assert list(responses) == statuses
    for status in statuses[1:]:
        assert responses[status]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }


def test_the_record_schemas_are_the_versions_schema() -> None:
    schemas = data_api()["components"]["schemas"]
    record = schemas["Record_1_0"]
    assert "$schema" not in record
    assert record["required"] == ["national_code", "family_name_fa"]
    assert record["properties"]["national_code"]["x-key"] is True  # x- keywords are kept
    assert record["properties"]["owners"]["items"]["additionalProperties"] is False
    assert record["properties"]["alive"]["default"] is True
    photo = record["properties"]["photo"]
    assert (photo["maxLength"], photo["contentMediaType"]) == (84, "image/jpeg")  # 63 bytes
    for name in ("RecordQuery_1_0", "RecordPatch_1_0"):
        optional = schemas[name]
        assert "required" not in optional
        assert optional["additionalProperties"] is False
        assert optional["minProperties"] == 1
    # A query names the key, the unique and the searchable fields (service._query_terms).
    assert list(schemas["RecordQuery_1_0"]["properties"]) == [
        "national_code",
        "family_name_fa",
        "birth_date",
        "registered_at",
    ]
    assert list(schemas["RecordPatch_1_0"]["properties"]) == list(record["properties"])
    assert "default" not in schemas["RecordPatch_1_0"]["properties"]["alive"]
    # A listed record may hold only the fields a filter names, and always the key.
    listed = schemas["RecordListed_1_0"]
    assert listed["required"] == ["national_code"]
    assert listed["properties"] == {
        **{k: v for k, v in record["properties"].items() if k != "alive"},
        "alive": {"type": "boolean"},
    }
    assert schemas["Problem"]["required"] == ["type", "title", "status", "detail"]


def test_the_description_says_which_headers_a_call_needs() -> None:
    personal = data_api()["info"]["description"]
    assert "X-Road-UserId" in personal and "X-Road-Purpose" in personal
    assert "holds personal data (family_name_fa, national_code)" in personal
    plain = data_api(("1.0", PLAIN))["info"]["description"]
    assert "X-Road-UserId" in plain and "holds no personal data" in plain
    headers = [
        p
        for item in data_api()["paths"].values()
        for operation in item.values()
        for p in operation.get("parameters", [])
        if p["in"] == "header"
    ]
    assert headers == []


@pytest.mark.parametrize(
    ("versions", "field", "message"),
    [
        ((), "versions", "at least one version"),
        ((("v1", PLAIN),), "versions/0", "not numbered like 1.0"),
        ((("1.0", PLAIN), ("1.0", PERSONS)), "versions/1", "listed twice"),
    ],
)
def test_versions_are_numbered_once_each(versions: Any, field: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        data_api_openapi(
            code="persons",
            title_en="Persons",
            title_fa="اشخاص",
            description_en="",
            versions=versions,
        )
    assert caught.value.field == field


def test_the_registry_code_is_a_code() -> None:
    with pytest.raises(ValidationError) as caught:
        data_api_openapi(
            code="persons/../x",
            title_en="",
            title_fa="",
            description_en="",
            versions=[("1.0", PLAIN)],
        )
    assert caught.value.field == "code"


# --- honest bodies: what the document lets a client send, the validators accept --------------

SCHEMA = schemathesis.openapi.from_dict(data_api())
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


@pytest.mark.parametrize(
    "label",
    [
        "POST /1.0/create",
        "PUT /1.0/update",
        "PUT /1.0/update-entries",
        "POST /1.0/update-or-create",
        "POST /1.0/read",
    ],
)
def test_every_body_the_document_allows_is_accepted(label: str) -> None:
    @settings(
        max_examples=40,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=OPERATIONS[label].as_strategy())
    def check(case: Any) -> None:
        if "write" in case.body:
            content = case.body["write"]["content"]
            if label == "POST /1.0/create":
                PERSONS.validate_record(content, pointer="/write/content")
            else:  # a patch; update-or-create completes it with the query's fields
                PERSONS.validate_partial(content, pointer="/write/content")
        if "query" in case.body:
            PERSONS.validate_partial(case.body["query"]["content"], pointer="/query/content")

    check()


def test_the_longest_file_the_document_allows_is_accepted() -> None:
    # Generators rarely reach maxLength, so the edge is checked here.
    photo = data_api()["components"]["schemas"]["Record_1_0"]["properties"]["photo"]
    record = {"national_code": "0012345678", "family_name_fa": "x"}
    PERSONS.validate_record({**record, "photo": "A" * photo["maxLength"]}, pointer="")
    assert re.search(photo["pattern"], "A" * photo["maxLength"])
    with pytest.raises(ValidationError, match="at most 64 are allowed"):
        PERSONS.validate_record({**record, "photo": "A" * (photo["maxLength"] + 4)}, pointer="")


@given(st.sampled_from(sorted(PERSONS.names)), st.integers() | st.lists(st.none(), max_size=2))
def test_the_record_schema_and_the_validator_refuse_alike(name: str, value: Any) -> None:
    # A wrong value is refused by both, so the document does not promise what the service refuses.
    record = {"national_code": "0012345678", "family_name_fa": "x", name: value}
    record_schema = data_api()["components"]["schemas"]["Record_1_0"]
    documented = not list(Draft202012Validator(record_schema).iter_errors(record))
    try:
        PERSONS.validate_record(record, pointer="")
        accepted = True
    except ValidationError:
        accepted = False
    assert documented == accepted


# --- the Database API and the usage API ------------------------------------------------------


def test_the_database_api_is_valid_openapi_in_govstacks_shape() -> None:
    document = database_api_openapi(server_url="https://gw.demo.zistboom.ir/database-api")
    assert openapi_problems(document) == []
    assert {
        (method.upper(), path): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    } == {
        ("GET", "/databases"): "list_databases",
        ("GET", "/database/{id}"): "read_database",
        ("DELETE", "/database/{id}"): "delete_database",
        ("POST", "/database/modify"): "modify_database",
    }
    modify = document["paths"]["/database/modify"]["post"]
    assert list(modify["responses"]) == ["200", "409", "422"]
    assert document["components"]["schemas"]["DatabaseModify"]["required"] == [
        "code",
        "version",
        "schema",
    ]


def test_the_usage_api_is_valid_openapi_in_govstacks_shape() -> None:
    document = usage_api_openapi()
    assert openapi_problems(document) == []
    operation = document["paths"]["/1.0"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["from", "to", "page_size", "cursor"]
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["required"] == ["count", "next", "results"]
    usage = document["components"]["schemas"]["PersonalDataUsage"]
    assert list(usage["properties"]) == [
        "ID",
        "ReaderID",
        "ReaderInstitutionID",
        "ReaderApplicationName",
        "SearchDateTime",
        "DatabaseID",
        "Refrences",
        "Fields",
        "Purpose",
        "MessageId",
    ]
    assert usage["properties"]["Refrences"]["items"]["required"] == ["ReferenceID"]
    entry = {
        "ID": "1",
        "ReaderID": "IR0012345678",
        "ReaderInstitutionID": "IR-DEMO/GOV/12147922321",
        "ReaderApplicationName": "IR-DEMO/GOV/12147922321/clinic",
        "SearchDateTime": "2025-03-21T08:30:00Z",
        "DatabaseID": "persons",
        "Refrences": [{"ReferenceID": "0012345678"}],
        "Fields": ["family_name_fa"],
        "Purpose": "treatment",
        "MessageId": "5b1e",
    }
    assert not list(Draft202012Validator(usage).iter_errors(entry))
    assert list(Draft202012Validator(usage).iter_errors({**entry, "ReaderInstitutionID": "x"}))
