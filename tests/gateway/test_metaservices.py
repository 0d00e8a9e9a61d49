"""The REST metaservices in the X-Road and the GovStack shapes, on a real registry.

The registry is loaded from a real database (SQLite and PostgreSQL) holding the gateway's tables
(created with ``create_all`` here, as the gateway's migrations are still moving); the global
configuration is a real :class:`GlobalConf`. X-Road answers are compared with the shapes of
PR-MREST Annex B / PR-META Annex C.1; GovStack answers are also validated against the response
schemas of the vendored ``specs/GovStack_IM_Service_Metadata.yaml``.

They are checked with ``jsonschema`` (Draft 2020-12, which OpenAPI 3.0's schema objects are a
subset of, once the OpenAPI-only keywords are ruled out). The vendored schemas name no required
keys and leave objects open, under which almost anything validates, so they are checked
*closed*: no key beyond those the specification names.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from jsonschema import Draft202012Validator
from multidict import MultiDict, MultiDictProxy
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import zistboom.gateway.messagelog  # noqa: F401  (its tables share the gateway metadata)
from zistboom.core import exchange as xr
from zistboom.core.database import create_engine, session_factory, transaction, utc_now
from zistboom.core.globalconf import FORMAT, GlobalConf
from zistboom.gateway import metaservices
from zistboom.gateway.access import Registry
from zistboom.gateway.models import (
    AccessRight,
    Base,
    ConfigurationState,
    Endpoint,
    LocalClient,
    LocalGroup,
    LocalGroupMember,
    Service,
)

SPEC = yaml.safe_load(
    (Path(__file__).parent / "specs" / "GovStack_IM_Service_Metadata.yaml").read_text("utf-8")
)

INSTANCE = "IR-DEMO"
MINISTRY = "IR-DEMO/GOV/10380284790"
INSURER = "IR-DEMO/COM/10101234567"
PATIENTS = f"{MINISTRY}/patients"  # the provider
LICENCES = f"{MINISTRY}/licences"  # another local subsystem, no rights on PATIENTS
CLAIMS = f"{INSURER}/claims"  # whole-service right on getPerson
PRICING = f"{INSURER}/pricing"  # local group (listVisits) and global group (one stats endpoint)
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

PERSON_API: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Person registry", "version": "1.2.0", "description": "ثبت احوال"},
    "servers": [{"url": "https://registry.backend.internal/api"}],
    "paths": {
        "/persons/{id}": {"get": {"operationId": "getPerson", "responses": {"200": {}}}},
        "/persons": {"post": {"operationId": "addPerson", "responses": {"201": {}}}},
    },
}


# --- The vendored OpenAPI schemas, closed, checked with jsonschema -----------------------------

# OpenAPI 3.0 keywords that JSON Schema would silently ignore though they change the meaning.
_OPENAPI_ONLY = {"nullable", "discriminator"}


def _keywords(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        return set(schema).union(*(_keywords(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_keywords(v) for v in schema))
    return set()


def schema_errors(value: Any, schema: Mapping[str, Any]) -> list[str]:
    """Everything wrong with ``value`` under ``schema`` (empty when it is valid), each as
    ``path: keyword: message``."""
    assert not _keywords(schema) & _OPENAPI_ONLY, "an OpenAPI-only keyword would be ignored"
    Draft202012Validator.check_schema(schema)
    errors = Draft202012Validator(schema).iter_errors(value)
    return sorted(f"{e.json_path}: {e.validator}: {e.message}" for e in errors)


def closed(schema: Any) -> Any:
    """The schema with every object that lists properties closed to other keys; ``$ref``s are
    resolved first so that the referenced schemas are closed too."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            return closed(copy.deepcopy(SPEC["components"]["schemas"][name]))
        result = {key: closed(item) for key, item in schema.items()}
        if "properties" in result:
            result["additionalProperties"] = False
        return result
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    return schema


def response_schema(path: str, code: str = "200") -> Any:
    operation = SPEC["paths"][path]["get"]
    return operation["responses"][code]["content"]["application/json"]["schema"]


LIST_CLIENTS = closed(response_schema("/listClients"))
R1 = "/r1/{GovStackInstance}/{memberClass}/{memberCode}/{applicationCode}"
LIST_METHODS = closed(response_schema(f"{R1}/listMethods"))
ALLOWED_METHODS = closed(response_schema(f"{R1}/allowedMethods"))


def assert_valid(value: Any, schema: Mapping[str, Any]) -> None:
    errors = schema_errors(value, schema)
    assert not errors, errors


def test_validator_refuses_what_the_spec_does_not_allow() -> None:
    # The validator must be able to fail, or the GovStack checks below prove nothing.
    xroad_shaped = {"service": [{"object_type": "SERVICE", "service_code": "getPerson"}]}
    assert schema_errors(xroad_shaped, LIST_METHODS) == [
        "$: additionalProperties: Additional properties are not allowed ('service' was unexpected)"
    ]
    bad_type = {"member": [{"objectType": "SUBSYSTEM", "serviceCode": 7, "endpointList": []}]}
    assert schema_errors(bad_type, LIST_METHODS) == [
        "$.member[0].endpointList: type: [] is not of type 'object'",
        "$.member[0].objectType: enum: 'SUBSYSTEM' is not one of "
        "['MEMBER', 'APPLICATION', 'SERVICE']",
        "$.member[0].serviceCode: type: 7 is not of type 'string'",
    ]
    client = {"member": [{"name": "x", "id": {"object_type": "MEMBER"}}]}
    assert schema_errors(client, LIST_CLIENTS) == [
        "$.member[0].id: additionalProperties: Additional properties are not allowed "
        "('object_type' was unexpected)"
    ]
    assert schema_errors({"member": []}, LIST_CLIENTS) == []
    # A schema with an OpenAPI-only keyword is refused rather than half-checked.
    with pytest.raises(AssertionError, match="OpenAPI-only"):
        schema_errors({}, {"type": "object", "nullable": True})


# --- The world: a global configuration and a gateway database --------------------------------


def global_conf() -> GlobalConf:
    payload = {
        "format": FORMAT,
        "instance": INSTANCE,
        "version": 3,
        "generated_at": T0.isoformat(),
        "expires_at": (T0 + timedelta(minutes=10)).isoformat(),
        "central": {
            "url": "https://central.demo.zistboom.ir",
            "tsa_url": "https://central.demo.zistboom.ir/tsa",
        },
        "members": [
            {
                "id": MINISTRY,
                "member_class": "GOV",
                "code": "10380284790",
                "name_fa": "وزارت بهداشت",
                "name_en": "Ministry of Health",
                "kind": "agency",
                "subsystems": ["patients", "licences"],
            },
            {
                "id": INSURER,
                "member_class": "COM",
                "code": "10101234567",
                "name_fa": "بیمه نمونه",
                "name_en": "",
                "kind": "company",
                "subsystems": ["claims", "pricing"],
            },
        ],
        "gateways": [],
        "ca_certificates": [],
        "tsa_certificates": [],
        "revoked_serials": [],
        "revoked_certificates": [],
        "global_groups": [
            {"code": "auditors", "description": "Price auditors", "members": [PRICING]},
        ],
        "ecosystems": [],
        "trust_list": None,
    }
    return GlobalConf.model_validate_json(json.dumps(payload))


@dataclass
class World:
    registry: Registry
    sessions: async_sessionmaker[AsyncSession]
    conf: GlobalConf
    service_ids: dict[str, int]


async def _service(
    session: AsyncSession,
    client: LocalClient,
    code: str,
    endpoints: list[tuple[str, str]],
    openapi: dict[str, Any] | None = None,
) -> tuple[Service, list[Endpoint]]:
    service = Service(
        client_id=client.id,
        code=code,
        backend_url=f"http://backend.internal/{code}",
        description="",
        openapi=openapi,
        created_at=utc_now(),
    )
    session.add(service)
    await session.flush()
    rows = [Endpoint(service_id=service.id, method=m, path=p) for m, p in endpoints]
    session.add_all(rows)
    await session.flush()
    return service, rows


def _right(service: Service, kind: str, subject: str, endpoint: Endpoint | None = None) -> Any:
    return AccessRight(
        service_id=service.id,
        endpoint_id=None if endpoint is None else endpoint.id,
        subject_kind=kind,
        subject=subject,
        created_at=utc_now(),
    )


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessions = session_factory(engine)
    async with transaction(sessions) as session:
        patients = LocalClient(subsystem_id=PATIENTS, body_logging=True, created_at=utc_now())
        licences = LocalClient(subsystem_id=LICENCES, body_logging=True, created_at=utc_now())
        session.add_all([patients, licences])
        await session.flush()
        person, _ = await _service(
            session, patients, "getPerson", [("GET", "/persons/{id}"), ("POST", "/persons")],
            PERSON_API,
        )  # fmt: skip
        visits, _ = await _service(session, patients, "listVisits", [])
        stats, (_, by_year) = await _service(
            session, patients, "stats", [("GET", "/stats"), ("GET", "/stats/{year}")]
        )
        # A real service that happens to carry a metaservice's name: never listed (PR-MREST §4).
        shadow, _ = await _service(session, patients, "getOpenAPI", [], PERSON_API)
        other, _ = await _service(session, licences, "checkLicence", [], PERSON_API)
        partners = LocalGroup(client_id=patients.id, code="partners", created_at=utc_now())
        session.add(partners)
        await session.flush()
        session.add(LocalGroupMember(group_id=partners.id, member_id=PRICING))
        session.add_all(
            [
                _right(person, "subsystem", CLAIMS),
                _right(visits, "local-group", "partners"),
                _right(stats, "global-group", "auditors", by_year),
                _right(shadow, "subsystem", CLAIMS),
                _right(other, "subsystem", CLAIMS),
            ]
        )
        session.add(ConfigurationState(id=1, version=1))
    registry = Registry(sessions)
    await registry.reload(force=True)
    ids = {"getPerson": person.id, "listVisits": visits.id, "stats": stats.id}
    try:
        yield World(registry, sessions, global_conf(), ids)
    finally:
        await engine.dispose()


def query(**values: str) -> MultiDictProxy[str]:
    return MultiDictProxy(MultiDict(values))


def call(
    world: World,
    code: str,
    client: str,
    accept: str = "application/json",
    **params: str,
) -> tuple[int, Mapping[str, str], bytes]:
    return metaservices.answer(
        code,
        registry=world.registry,
        provider=PATIENTS,
        client_id=client,
        conf=world.conf,
        query=query(**params),
        accept=accept,
    )


def call_json(world: World, code: str, client: str, **params: str) -> Any:
    status, headers, body = call(world, code, client, **params)
    assert status == 200
    assert headers == {"Content-Type": "application/json; charset=utf-8"}
    return orjson.loads(body)


def xroad_service(code: str, service_type: str, endpoints: list[tuple[str, str]]) -> Any:
    """One entry of PR-MREST Annex B.1 / B.2."""
    return {
        "object_type": "SERVICE",
        "xroad_instance": "IR-DEMO",
        "member_class": "GOV",
        "member_code": "10380284790",
        "subsystem_code": "patients",
        "service_code": code,
        "service_type": service_type,
        "endpoint_list": [{"method": m, "path": p} for m, p in endpoints],
    }


def govstack_service(code: str, service_type: str, endpoints: list[tuple[str, str]]) -> Any:
    """One ``restServiceDetailsType`` of the GovStack IM service metadata API."""
    return {
        "objectType": "SERVICE",
        "GovStackInstance": "IR-DEMO",
        "memberClass": "GOV",
        "memberCode": "10380284790",
        "applicationCode": "patients",
        "serviceCode": code,
        "serviceType": service_type,
        "endpointList": {"member": [{"method": m, "path": p} for m, p in endpoints]},
    }


PERSON_ENDPOINTS = [("GET", "/persons/{id}"), ("POST", "/persons")]
ANY = [("*", "**")]


# --- listMethods -----------------------------------------------------------------------------


async def test_list_methods_xroad_shape(world: World) -> None:
    answer = call_json(world, "listMethods", LICENCES)
    assert answer == {
        "service": [
            xroad_service("getPerson", "OPENAPI", PERSON_ENDPOINTS),
            xroad_service("listVisits", "REST", ANY),
            xroad_service("stats", "REST", [("GET", "/stats"), ("GET", "/stats/{year}")]),
        ]
    }


async def test_list_methods_govstack_shape_by_query_and_by_accept(world: World) -> None:
    expected = {
        "member": [
            govstack_service("getPerson", "OPENAPI", PERSON_ENDPOINTS),
            govstack_service("listVisits", "REST", ANY),
            govstack_service("stats", "REST", [("GET", "/stats"), ("GET", "/stats/{year}")]),
        ]
    }
    by_query = call_json(world, "listMethods", LICENCES, shape="govstack")
    assert by_query == expected
    assert_valid(by_query, LIST_METHODS)
    status, _, body = call(
        world, "listMethods", LICENCES, accept='application/json; profile="govstack"'
    )
    assert status == 200
    assert orjson.loads(body) == expected
    # The query parameter, when given, decides over the Accept header.
    explicit = call_json(world, "listMethods", LICENCES, shape="xroad")
    assert "service" in explicit
    _, _, body = call(
        world, "listMethods", LICENCES, accept="application/json;profile=govstack", shape="xroad"
    )
    assert "service" in orjson.loads(body)
    # A profile the client refuses (q=0) asks for nothing.
    _, _, body = call(
        world, "listMethods", LICENCES, accept="application/json;profile=govstack;q=0"
    )
    assert "service" in orjson.loads(body)


async def test_unknown_shape_is_a_bad_request(world: World) -> None:
    with pytest.raises(xr.BadRequest) as caught:
        call(world, "listMethods", LICENCES, shape="soap")
    assert caught.value.status == 400
    body = orjson.loads(caught.value.body("msg-1"))
    assert body["type"] == "Client.BadRequest"
    assert "shape=govstack" in body["message"]


# --- allowedMethods --------------------------------------------------------------------------


async def test_allowed_methods_depend_on_the_caller(world: World) -> None:
    claims = call_json(world, "allowedMethods", CLAIMS)
    # A whole-service right covers every endpoint; the right on the shadowed "getOpenAPI"
    # service is not listed, being a metaservice's name.
    assert claims == {"service": [xroad_service("getPerson", "OPENAPI", PERSON_ENDPOINTS)]}
    pricing = call_json(world, "allowedMethods", PRICING)
    # Local group (whole service without endpoints) and global group (one endpoint only).
    assert pricing == {
        "service": [
            xroad_service("listVisits", "REST", ANY),
            xroad_service("stats", "REST", [("GET", "/stats/{year}")]),
        ]
    }
    assert call_json(world, "allowedMethods", LICENCES) == {"service": []}
    # listMethods does not depend on the caller.
    assert call_json(world, "listMethods", CLAIMS) == call_json(world, "listMethods", LICENCES)


async def test_allowed_methods_govstack_shape(world: World) -> None:
    pricing = call_json(world, "allowedMethods", PRICING, shape="govstack")
    assert pricing == {
        "member": [
            govstack_service("listVisits", "REST", ANY),
            govstack_service("stats", "REST", [("GET", "/stats/{year}")]),
        ]
    }
    assert_valid(pricing, ALLOWED_METHODS)
    nothing = call_json(world, "allowedMethods", LICENCES, shape="govstack")
    assert nothing == {"member": []}
    assert_valid(nothing, ALLOWED_METHODS)


async def test_allowed_methods_follow_a_new_right_after_reload(world: World) -> None:
    assert call_json(world, "allowedMethods", LICENCES) == {"service": []}
    async with transaction(world.sessions) as session:
        session.add(
            AccessRight(
                service_id=world.service_ids["getPerson"],
                endpoint_id=None,
                subject_kind="subsystem",
                subject=LICENCES,
                created_at=utc_now(),
            )
        )
        await session.execute(update(ConfigurationState).values(version=2))
    await world.registry.reload()
    assert call_json(world, "allowedMethods", LICENCES) == {
        "service": [xroad_service("getPerson", "OPENAPI", PERSON_ENDPOINTS)]
    }


# --- getOpenAPI ------------------------------------------------------------------------------


async def test_get_openapi_returns_the_stored_document(world: World) -> None:
    # Unchanged, servers included (PR-MREST Annex B.3), in either shape.
    assert call_json(world, "getOpenAPI", CLAIMS, serviceCode="getPerson") == PERSON_API
    assert call_json(world, "getOpenAPI", CLAIMS, serviceCode="getPerson", shape="govstack") == (
        PERSON_API
    )
    status, headers, body = call(
        world, "getOpenAPI", CLAIMS, accept="text/yaml, application/json;q=0.5",
        serviceCode="getPerson",
    )  # fmt: skip
    assert status == 200
    assert headers == {"Content-Type": "text/yaml; charset=utf-8"}
    assert yaml.safe_load(body.decode("utf-8")) == PERSON_API
    assert "ثبت احوال" in body.decode("utf-8")
    # JSON wins when it weighs more, and when the client states no preference.
    for accept in ("application/json, text/yaml;q=0.9", "*/*", ""):
        _, headers, body = call(world, "getOpenAPI", CLAIMS, accept, serviceCode="getPerson")
        assert headers["Content-Type"] == "application/json; charset=utf-8", accept
        assert orjson.loads(body) == PERSON_API


async def test_get_openapi_refusals(world: World) -> None:
    cases: list[tuple[type[xr.ExchangeError], str, dict[str, str], str, int]] = [
        (xr.BadRequest, CLAIMS, {}, "Client.BadRequest", 400),
        (xr.BadRequest, CLAIMS, {"serviceCode": ""}, "Client.BadRequest", 400),
        (xr.AccessDenied, PRICING, {"serviceCode": "getPerson"}, "AccessDenied", 403),
        (xr.AccessDenied, LICENCES, {"serviceCode": "getPerson"}, "AccessDenied", 403),
        # Another local subsystem's service is not this provider's.
        (xr.UnknownService, CLAIMS, {"serviceCode": "checkLicence"}, "UnknownService", 404),
        (xr.UnknownService, CLAIMS, {"serviceCode": "nothing"}, "UnknownService", 404),
        (xr.UnknownService, CLAIMS, {"serviceCode": "getOpenAPI"}, "UnknownService", 404),
        # Allowed (one endpoint), but registered without an OpenAPI document.
        (xr.UnknownService, PRICING, {"serviceCode": "stats"}, "UnknownService", 404),
    ]
    for error, client, params, xroad_type, status in cases:
        with pytest.raises(error) as caught:
            call(world, "getOpenAPI", client, **params)
        assert caught.value.status == status, (client, params)
        assert caught.value.xroad_type.endswith(xroad_type), (client, params)
    with pytest.raises(xr.BadRequest, match="serviceCode"):
        call(world, "getOpenAPI", CLAIMS)
    with pytest.raises(xr.AccessDenied, match=f"{PRICING} may not call {PATIENTS}/getPerson"):
        call(world, "getOpenAPI", PRICING, serviceCode="getPerson")


async def test_unknown_metaservice_is_an_unknown_service(world: World) -> None:
    assert isinstance(metaservices.NAMES, frozenset)
    assert sorted(metaservices.NAMES) == ["allowedMethods", "getOpenAPI", "listMethods"]
    with pytest.raises(xr.UnknownService):
        call(world, "listCentralServices", CLAIMS)


# --- listClients -----------------------------------------------------------------------------


def xroad_client(object_type: str, member_id: str, name: str) -> Any:
    instance, member_class, code, *subsystem = member_id.split("/")
    identifier = {
        "object_type": object_type,
        "xroad_instance": instance,
        "member_class": member_class,
        "member_code": code,
    }
    if subsystem:
        identifier["subsystem_code"] = subsystem[0]
    return {"id": identifier, "name": name}


def test_list_clients_xroad_shape() -> None:
    conf = global_conf()
    answer = orjson.loads(metaservices.list_clients(conf, shape="xroad"))
    health, insurer = "وزارت بهداشت", "بیمه نمونه"
    assert answer == {
        "member": [
            xroad_client("MEMBER", MINISTRY, health),
            xroad_client("SUBSYSTEM", PATIENTS, health),
            xroad_client("SUBSYSTEM", LICENCES, health),
            xroad_client("MEMBER", INSURER, insurer),
            xroad_client("SUBSYSTEM", CLAIMS, insurer),
            xroad_client("SUBSYSTEM", PRICING, insurer),
        ]
    }
    english = orjson.loads(metaservices.list_clients(conf, shape="xroad", language="en"))
    # English names where registered, the Persian name where not.
    assert [m["name"] for m in english["member"]] == ["Ministry of Health"] * 3 + [insurer] * 3
    assert metaservices.list_clients(conf, shape="xroad", instance=INSTANCE) == (
        metaservices.list_clients(conf, shape="xroad")
    )
    assert orjson.loads(metaservices.list_clients(conf, shape="xroad", instance="IR")) == {
        "member": []
    }


def test_list_clients_govstack_shape() -> None:
    answer = orjson.loads(metaservices.list_clients(global_conf(), shape="govstack"))
    assert_valid(answer, LIST_CLIENTS)
    assert answer["member"][:2] == [
        {
            "id": {
                "objectType": "MEMBER",
                "GovStackInstance": "IR-DEMO",
                "memberClass": "GOV",
                "memberCode": "10380284790",
            },
            "name": "وزارت بهداشت",
        },
        {
            "id": {
                "objectType": "APPLICATION",
                "GovStackInstance": "IR-DEMO",
                "memberClass": "GOV",
                "memberCode": "10380284790",
                "applicationCode": "patients",
            },
            "name": "وزارت بهداشت",
        },
    ]
    assert [m["id"].get("applicationCode") for m in answer["member"]] == [
        None, "patients", "licences", None, "claims", "pricing",
    ]  # fmt: skip


def test_list_clients_answer_reads_shape_and_instance() -> None:
    conf = global_conf()
    status, headers, body = metaservices.answer_list_clients(
        conf, query=query(instanceId="IR-DEMO"), accept="application/json; profile=govstack"
    )
    assert (status, headers) == (200, {"Content-Type": "application/json; charset=utf-8"})
    assert body == metaservices.list_clients(conf, shape="govstack")
    _, _, body = metaservices.answer_list_clients(
        conf, query=query(xRoadInstance="IR-TEST"), accept="application/json"
    )
    assert orjson.loads(body) == {"member": []}
    _, _, body = metaservices.answer_list_clients(conf, query=query(), accept="")
    assert body == metaservices.list_clients(conf, shape="xroad")
    with pytest.raises(xr.BadRequest, match="different instances"):
        metaservices.answer_list_clients(
            conf, query=query(xRoadInstance="IR-DEMO", instanceId="IR"), accept=""
        )
