"""A registry service behind its agency's gateway, called through two gateways (ZB-STD-006):
every Data API operation and its refusals, the Database API for the agency's own systems only,
the personal-data-usage log read through the exchange, and compatible and breaking versions.
Real processes on SQLite and PostgreSQL: central, three gateways, the registry service."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation import Federation, GatewayProcess, RegistryProcess, add_registry, start_federation
from zistboom.core.iran import generate_national_code

pytestmark = pytest.mark.timeout(900)
DATA = Path(__file__).parent / "data"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 24).decode()


@dataclass
class Setup:
    fed: Federation
    registry: RegistryProcess
    client: str  # a's subsystem: the single-window role (usage list granted)
    other: str  # c's subsystem: another member, granted the Data API and (wrongly) the DB API
    own: str  # b's own information system
    provider: str  # b's registry subsystem
    a: GatewayProcess
    b: GatewayProcess
    c: GatewayProcess


@pytest.fixture(scope="module")
def reg(backend_database: str | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("registry-federation")
    fed = start_federation(root, backend_database, central_env={"ZB_CONF_REFRESH_SECONDS": "1"})
    registry = None
    try:
        a = fed.add_member("Window operator", ["window"])
        b = fed.add_member("Civil registry agency", ["registry", "back-office"])
        c = fed.add_member("Other agency", ["other"])
        gw_a, gw_b, gw_c = fed.add_gateway("a", a), fed.add_gateway("b", b), fed.add_gateway("c", c)
        gw_a.cli("client", "add", f"{a}/window")
        gw_c.cli("client", "add", f"{c}/other")
        gw_b.cli("client", "add", f"{b}/back-office")
        for gateway in (gw_a, gw_b, gw_c):
            gateway.launch()
        for gateway in (gw_a, gw_b, gw_c):
            gateway.wait_serving()
        registry = add_registry(fed, "registry", b, gw_b)
        registry.start()
        registry.cli(
            "create",
            "people",
            "--schema",
            str(DATA / "people-1.0.yaml"),
            "--name-fa",
            "افراد",
            "--name-en",
            "People",
            "--ecosystem",
            "national",
        )
        registry.cli("publish", "people", "--no-catalogue")
        provider = f"{b}/registry"
        for subject in (f"{a}/window", f"{c}/other"):
            gw_b.cli("access", "grant", provider, "people", subject)
        gw_b.cli("access", "grant", provider, "personal-data-usage", f"{a}/window")
        gw_b.cli("access", "grant", provider, "registry-database", f"{b}/back-office")
        gw_b.cli("access", "grant", provider, "registry-database", f"{c}/other")
        yield Setup(
            fed,
            registry,
            f"{a}/window",
            f"{c}/other",
            f"{b}/back-office",
            provider,
            gw_a,
            gw_b,
            gw_c,
        )
    finally:
        if registry is not None:
            registry.stop()
        fed.stop()


READER = "IR" + "0499370899"  # the official or person reading (synthetic, valid check digit)


def call(
    setup: Setup,
    path: str,
    method: str = "GET",
    *,
    gateway: GatewayProcess | None = None,
    client: str | None = None,
    service: str = "people",
    user: str | None = READER,
    purpose: str | None = "test-suite",
    **kwargs: Any,
) -> httpx.Response:
    headers = {"X-Road-Client": client or setup.client}
    if user:
        headers["X-Road-UserId"] = user
    if purpose:
        headers["X-Road-Purpose"] = purpose
    url = f"{(gateway or setup.a).url}/r1/{setup.provider}/{service}{path}"
    return httpx.request(method, url, headers=headers, timeout=30, **kwargs)


def person(**fields: Any) -> dict[str, Any]:
    import random

    rng = random.Random()
    record = {
        "national_code": generate_national_code(rng),
        "given_name": "زهرا",
        "family_name": "احمدی",
        "birth_date": "1990-03-21",
    }
    record.update(fields)
    return record


def create(setup: Setup, record: dict[str, Any], version: str = "1.0") -> httpx.Response:
    return call(setup, f"/{version}/create", "POST", json={"write": {"content": record}})


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    return body


def fields_named(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body.get("errors", [])]


# --- publishing ------------------------------------------------------------------------------


def test_publishing_registers_the_services_on_the_gateway(reg: Setup) -> None:
    token = (reg.b.data_dir / "admin-token").read_text().strip()
    listed = httpx.get(
        f"http://127.0.0.1:{reg.b.admin_port}/api/v1/services",
        params={"subsystem_id": reg.provider},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert listed.status_code == 200, listed.text
    services = {s["code"]: s for s in listed.json()}
    assert set(services) == {"people", "personal-data-usage", "registry-database"}
    people = services["people"]
    assert people["backend_url"] == f"{reg.registry.url}/data/people"
    assert people["service_kind"] == "base-registry"
    assert people["ecosystem"] == "national"
    assert people["personal_data"] is True
    assert people["backend_secret_set"] is True
    endpoints = {(e["method"], e["path"]) for e in people["endpoints"]}
    assert ("POST", "/1.0/read") in endpoints
    assert ("GET", "/1.0") in endpoints
    assert ("DELETE", "/1.0/{ID}/delete") in endpoints
    assert services["personal-data-usage"]["personal_data"] is True


# --- the Data API through two gateways -------------------------------------------------------


def test_create_read_and_exists(reg: Setup) -> None:
    record = person(
        sex="F",
        height_cm=165,
        weight_kg=58.5,
        mobile="09121234567",
        registered_at="2026-01-02T03:04:05+03:30",
        wake_time="06:30:00+03:30",
        photo=PNG,
        home={"lat": 35.7, "lon": 51.4},
        address={"city": "تهران", "postal_code": "1234567890"},
    )
    created = create(reg, record)
    assert created.status_code == 200, created.text
    assert created.json()["content"]["alive"] is True  # the default
    query = {"query": {"content": {"national_code": record["national_code"]}}}
    read = call(reg, "/1.0/read", "POST", json=query)
    assert read.status_code == 200, read.text
    content = read.json()["content"]
    assert content["family_name"] == "احمدی"
    assert content["home"] == {"lat": 35.7, "lon": 51.4}
    assert read.headers["x-road-service"].endswith("/people")
    found = call(reg, "/1.0/exists", "POST", json=query)
    assert found.json()["answer"]["status"] is True
    # 165.0 is an integer to JSON Schema, and so to the query.
    integral = {"query": {"content": {**query["query"]["content"], "height_cm": 165.0}}}
    assert call(reg, "/1.0/exists", "POST", json=integral).json()["answer"]["status"] is True
    empty_instant = call(reg, "/1.0/read", "POST", params={"asOf": ""}, json=query)
    assert problem(empty_instant, 422)["errors"][0]["field"] == "asOf"
    missing = {"query": {"content": {"national_code": "0000000000"}}}
    assert call(reg, "/1.0/exists", "POST", json=missing).json()["answer"]["status"] is False
    # The same record twice, and another record with its unique mobile: 409 naming the field.
    again = problem(create(reg, record), 409)
    assert again["errors"][0]["field"] == "/write/content/national_code"
    twin = problem(create(reg, person(mobile="09121234567")), 409)
    assert twin["errors"][0]["field"] == "/write/content/mobile"


def test_a_bad_body_is_a_422_naming_the_field(reg: Setup) -> None:
    bad = problem(create(reg, person(birth_date="1990-13-40")), 422)
    assert "/write/content/birth_date" in fields_named(bad)
    bad = problem(create(reg, person(height_cm="tall")), 422)
    assert "/write/content/height_cm" in fields_named(bad)
    bad = problem(create(reg, person(sex="X")), 422)
    assert "/write/content/sex" in fields_named(bad)
    bad = problem(create(reg, person(unknown_field=1)), 422)
    assert bad["errors"]
    missing = person()
    del missing["family_name"]
    bad = problem(create(reg, missing), 422)
    assert any("family_name" in f or "family_name" in bad["detail"] for f in fields_named(bad))
    bad = problem(call(reg, "/1.0/create", "POST", json={"nothing": 1}), 422)
    assert bad["errors"][0]["field"] == "/write/content"
    beside = {"write": {"content": person(), "also": 1}}
    bad = problem(call(reg, "/1.0/create", "POST", json=beside), 422)
    assert bad["errors"][0]["field"] == "/write/also"
    bad = problem(call(reg, "/1.0/create", "POST", content=b"{not json"), 422)


def test_unknown_registry_version_and_record_are_404(reg: Setup) -> None:
    query = {"query": {"content": {"national_code": "0000000000"}}}
    unknown_version = problem(call(reg, "/9.9/read", "POST", json=query), 404)
    assert unknown_version["errors"][0]["field"] == "version"
    assert "1.0" in unknown_version["detail"]
    missing = problem(call(reg, "/1.0/read", "POST", json=query), 404)
    assert "no record" in missing["detail"]
    deleted = problem(call(reg, "/1.0/0000000000/delete", "DELETE"), 404)
    assert deleted["errors"][0]["field"] == "ID"
    # An unknown registry: straight to the registry service as its gateway would send it.
    secret = (reg.registry.data_dir / "gateway-secret").read_text().strip()
    direct = httpx.post(
        f"{reg.registry.url}/data/nothing/1.0/read",
        json=query,
        headers={"X-Zistboom-Gateway-Secret": secret, "X-Road-Client": reg.client},
    )
    assert problem(direct, 404)["errors"][0]["field"] == "registry"
    # /database/modify is not a registry id: only its own route (POST) answers there.
    modify = httpx.get(
        f"{reg.registry.url}/database-api/database/modify",
        headers={"X-Zistboom-Gateway-Secret": secret, "X-Road-Client": reg.own},
    )
    problem(modify, 405)
    assert modify.headers["allow"] == "POST"
    # A registry with nothing published has no Data API document yet.
    token = (reg.registry.data_dir / "admin-token").read_text().strip()
    admin = httpx.Client(
        base_url=f"{reg.registry.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    )
    with admin:
        draft = admin.post(
            "/registries",
            json={
                "code": "drafts",
                "name_fa": "پیش‌نویس",
                "name_en": "Drafts",
                "schema": {
                    "type": "object",
                    "properties": {"id": {"type": "integer", "x-key": True}},
                },
            },
        )
        assert draft.status_code == 201, draft.text
        assert problem(admin.get("/registries/drafts/openapi"), 404)["errors"][0]["field"] == "code"
        # A schema's refusals name their place in the body.
        refused = problem(admin.post("/registries/drafts/versions", json={"schema": {}}), 422)
        assert {e["field"] for e in refused["errors"]} == {"/schema/type", "/schema/properties"}


def test_list_searches_filters_orders_and_pages(reg: Setup) -> None:
    family = "رضایی" + generate_national_code(__import__("random").Random())[:3]
    # Stored with Arabic yeh and kaf, ZWNJ and Persian digits; searched in Persian letters.
    stored = family.replace("ی", "ي")
    codes = []
    for index in range(23):
        record = person(
            family_name=stored,
            given_name=f"كاوه{index:02d}",
            birth_date=f"{1980 + index % 10}-05-0{1 + index % 9}",
            height_cm=150 + index,
        )
        assert create(reg, record).status_code == 200
        codes.append(record["national_code"])
    params = {
        "query.family_name": family,
        "query.birth_date.gte": "1982-01-01",
        "query.birth_date.lt": "1986-01-01",
        "ordering": "-height_cm",
        "page_size": "5",
    }
    first = call(reg, "/1.0", params=params)
    assert first.status_code == 200, first.text
    page = first.json()
    expected = sorted((150 + i for i in range(23) if 1982 <= 1980 + i % 10 < 1986), reverse=True)
    assert page["count"] == len(expected) and page["count_exact"] is True
    assert [r["height_cm"] for r in page["results"]] == expected[:5]
    assert page["previous"] is None and page["next"]
    seen = [r["height_cm"] for r in page["results"]]
    link = page["next"]
    while link:
        # Relative references ("?…"): they resolve against the URL called, the gateway's.
        assert link.startswith("?")
        response = call(reg, f"/1.0{link}")
        assert response.status_code == 200, (response.status_code, response.headers, response.text)
        following = response.json()
        seen += [r["height_cm"] for r in following["results"]]
        link = following["next"]
        if link is None:
            back = call(reg, "/1.0" + following["previous"]).json()
            assert [r["height_cm"] for r in back["results"]] == seen[
                -len(following["results"]) - 5 : -len(following["results"])
            ]
    assert seen == expected
    prefix = call(
        reg, "/1.0", params={"query.given_name.prefix": "کاوه1", "query.family_name": family}
    ).json()
    assert sorted(r["given_name"] for r in prefix["results"]) == [f"كاوه{i}" for i in range(10, 20)]
    search = call(
        reg, "/1.0", params={"search": family, "filter": "given_name", "page_size": "100"}
    ).json()
    assert search["count"] == 23
    assert set(search["results"][0]) == {"given_name", "national_code"}
    chosen = call(reg, "/1.0", params={"query.national_code.in": ",".join(codes[:3])}).json()
    assert sorted(r["national_code"] for r in chosen["results"]) == sorted(codes[:3])
    for params, field in (
        ({"query.photo": "x"}, "query.photo"),
        ({"query.height_cm.prefix": "1"}, "query.height_cm.prefix"),
        ({"query.height_cm.gte": "tall"}, "query.height_cm.gte"),
        ({"ordering": "photo"}, "ordering"),
        ({"page_size": "1000"}, "page_size"),
        ({"cursor": "garbage"}, "cursor"),
        ({"page": "3"}, "page"),
        ({"sort": "x"}, "sort"),
    ):
        refused = problem(call(reg, "/1.0", params=params), 422)
        assert refused["errors"][0]["field"] == field, (params, refused)


def test_update_update_entries_update_or_create_delete_and_read_value(reg: Setup) -> None:
    record = person(height_cm=170, photo=PNG)
    assert create(reg, record).status_code == 200
    key = {"national_code": record["national_code"]}
    updated = call(
        reg,
        "/1.0/update",
        "PUT",
        json={"query": {"content": key}, "write": {"content": {"height_cm": 171}}},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["content"]["height_cm"] == 171
    assert updated.json()["content"]["family_name"] == record["family_name"]
    key_change = call(
        reg,
        "/1.0/update",
        "PUT",
        json={"query": {"content": key}, "write": {"content": {"national_code": "0499370899"}}},
    )
    assert problem(key_change, 422)["errors"][0]["field"] == "/write/content/national_code"
    bad = call(
        reg,
        "/1.0/update",
        "PUT",
        json={"query": {"content": key}, "write": {"content": {"height_cm": 999}}},
    )
    assert problem(bad, 422)["errors"][0]["field"] == "/write/content/height_cm"
    family = "کریمی" + record["national_code"][:4]
    for _ in range(3):
        assert create(reg, person(family_name=family)).status_code == 200
    entries = call(
        reg,
        "/1.0/update-entries",
        "PUT",
        json={
            "query": {"content": {"family_name": family}},
            "write": {"content": {"alive": False}},
        },
    )
    assert entries.status_code == 200, entries.text
    assert entries.json() == {"updated": 3}
    listed = call(reg, "/1.0", params={"query.family_name": family, "query.alive": "false"})
    assert listed.json()["count"] == 3
    new = person()
    made = call(
        reg,
        "/1.0/update-or-create",
        "POST",
        json={
            "query": {"content": {"national_code": new["national_code"]}},
            "write": {"content": {k: v for k, v in new.items() if k != "national_code"}},
        },
    )
    assert made.status_code == 200, made.text
    assert made.json()["created"] is True
    again = call(
        reg,
        "/1.0/update-or-create",
        "POST",
        json={
            "query": {"content": {"national_code": new["national_code"]}},
            "write": {"content": {"height_cm": 180}},
        },
    )
    assert again.json()["created"] is False and again.json()["content"]["height_cm"] == 180
    value = call(reg, f"/1.0/{record['national_code']}/read-value/height_cm.json")
    assert value.status_code == 200, value.text
    assert value.json() == {"value": 171}
    photo = call(reg, f"/1.0/{record['national_code']}/read-value/photo.png")
    assert photo.status_code == 200, photo.text
    assert photo.headers["content-type"] == "image/png"
    assert photo.content == base64.b64decode(PNG)
    problem(call(reg, f"/1.0/{record['national_code']}/read-value/nothing.json"), 404)
    gone = call(reg, f"/1.0/{new['national_code']}/delete", "DELETE")
    assert gone.status_code == 204, gone.text
    assert (
        call(
            reg,
            "/1.0/exists",
            "POST",
            json={"query": {"content": {"national_code": new["national_code"]}}},
        ).json()["answer"]["status"]
        is False
    )


# --- refusals by the exchange and by the registry --------------------------------------------


def test_an_unauthorised_client_gets_access_denied(reg: Setup) -> None:
    refused = call(reg, "/1.0", gateway=reg.b, client=reg.own)
    assert refused.status_code == 403, refused.text
    assert refused.headers.get("x-road-error") == "Server.ServerProxy.AccessDenied"


def test_a_call_that_did_not_come_from_the_gateway_is_refused(reg: Setup) -> None:
    query = {"query": {"content": {"national_code": "0499370899"}}}
    headers = {"X-Road-Client": reg.client, "X-Road-UserId": READER, "X-Road-Purpose": "x"}
    for extra in ({}, {"X-Zistboom-Gateway-Secret": "guessed-" + "x" * 40}):
        direct = httpx.post(
            f"{reg.registry.url}/data/people/1.0/read", json=query, headers={**headers, **extra}
        )
        body = problem(direct, 403)
        assert "gateway" in body["detail"]
    management = httpx.get(f"{reg.registry.url}/api/v1/registries")
    assert management.status_code == 401, management.text


def test_a_personal_read_without_user_or_purpose_is_refused(reg: Setup) -> None:
    record = person()
    assert create(reg, record).status_code == 200
    query = {"query": {"content": {"national_code": record["national_code"]}}}
    for user, purpose in ((None, "why"), (READER, None)):
        refused = call(reg, "/1.0/read", "POST", json=query, user=user, purpose=purpose)
        assert refused.status_code == 400, refused.text
        assert refused.headers["x-road-error"] == "Server.ServerProxy.PersonalDataRefused"
    usage = call(reg, "/1.0", service="personal-data-usage", user="IR" + record["national_code"])
    assert usage.status_code == 200, usage.text
    assert usage.json()["results"] == []


# --- the personal-data-usage log -------------------------------------------------------------


def test_a_personal_read_appears_in_each_subjects_usage_list(reg: Setup) -> None:
    guardian = person()
    record = person(guardians=[guardian["national_code"]])
    assert create(reg, guardian).status_code == 200
    assert create(reg, record).status_code == 200
    before = datetime.now(UTC)
    read = call(
        reg,
        "/1.0/read",
        "POST",
        purpose="tax-clearance:TRK-1",
        json={"query": {"content": {"national_code": record["national_code"]}}},
    )
    assert read.status_code == 200, read.text
    message_id = read.headers["x-road-id"]
    for subject in (record["national_code"], guardian["national_code"]):
        listed = call(
            reg, "/1.0", service="personal-data-usage", user=f"IR{subject}", purpose="data-tracker"
        )
        assert listed.status_code == 200, listed.text
        entries = [e for e in listed.json()["results"] if e["MessageId"] == message_id]
        assert len(entries) == 1, listed.json()
        entry = entries[0]
        assert entry["ReaderID"] == READER
        assert entry["ReaderApplicationName"] == reg.client
        assert entry["ReaderInstitutionID"] == reg.client.rsplit("/", 1)[0]
        assert entry["Purpose"] == "tax-clearance:TRK-1"
        assert entry["DatabaseID"] == "people"
        assert entry["Refrences"] == [{"ReferenceID": record["national_code"]}]
        assert {"family_name", "given_name", "national_code"} <= set(entry["Fields"])
        assert datetime.fromisoformat(entry["SearchDateTime"]) >= before.replace(microsecond=0)
    # Someone else's list: asking for the subject's id while being another person.
    other = call(
        reg,
        "/1.0",
        service="personal-data-usage",
        user=READER,
        purpose="data-tracker",
        params={"userID": f"IR{record['national_code']}"},
    )
    assert other.status_code == 403, other.text
    mine = call(reg, "/1.0", service="personal-data-usage", user=READER, purpose="data-tracker")
    assert all(e["MessageId"] != message_id for e in mine.json()["results"])
    # Only the window operator's subsystem may read usage lists.
    denied = call(
        reg,
        "/1.0",
        service="personal-data-usage",
        gateway=reg.c,
        client=reg.other,
        user=f"IR{record['national_code']}",
    )
    assert denied.headers.get("x-road-error") == "Server.ServerProxy.AccessDenied"


# --- the Database API ------------------------------------------------------------------------


def test_the_database_api_answers_the_agencys_own_systems_only(reg: Setup) -> None:
    own = call(reg, "/databases", gateway=reg.b, client=reg.own, service="registry-database")
    assert own.status_code == 200, own.text
    databases = {d["code"]: d for d in own.json()["databases"]}
    assert databases["people"]["schema"]["properties"]["national_code"]["x-key"] is True
    info = call(
        reg,
        f"/database/{databases['people']['id']}",
        gateway=reg.b,
        client=reg.own,
        service="registry-database",
    )
    assert info.status_code == 200 and info.json()["code"] == "people"
    # Another member, even one a careless operator granted the service, is refused.
    other = call(reg, "/databases", gateway=reg.c, client=reg.other, service="registry-database")
    assert problem(other, 403)["errors"][0]["field"] == "X-Road-Client"
    stranger = call(reg, "/databases", client=reg.client, service="registry-database")
    assert stranger.headers.get("x-road-error") == "Server.ServerProxy.AccessDenied"


# --- versions --------------------------------------------------------------------------------


def test_versions_a_breaking_change_is_refused_and_a_compatible_one_kept(reg: Setup) -> None:
    record = person(height_cm=250)
    assert create(reg, record).status_code == 200
    refused = reg.registry.cli(
        "import", "people", "--schema", str(DATA / "people-breaking.yaml"), check=False
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    said = " ".join((refused.stdout + refused.stderr).split())
    for field, reason in (
        ("wake_time", "removed"),
        ("height_cm", "narrowed"),
        ("sex", "required without default"),
    ):
        assert field in said and reason in said, said
    reg.registry.cli("import", "people", "--schema", str(DATA / "people-1.1.yaml"))
    reg.registry.cli("publish", "people", "--no-catalogue")
    read = call(
        reg,
        "/1.1/read",
        "POST",
        json={"query": {"content": {"national_code": record["national_code"]}}},
    )
    assert read.status_code == 200, read.text
    assert read.json()["content"]["verified"] is False  # the new field's default
    assert read.json()["content"]["height_cm"] == 250  # the record kept
    old = call(
        reg,
        "/1.0/read",
        "POST",
        json={"query": {"content": {"national_code": record["national_code"]}}},
    )
    assert "verified" not in old.json()["content"]
    nick = call(
        reg,
        "/1.1/update",
        "PUT",
        json={
            "query": {"content": {"national_code": record["national_code"]}},
            "write": {"content": {"nickname": "نیک"}},
        },
    )
    assert nick.status_code == 200, nick.text
    found = call(reg, "/1.1", params={"query.nickname": "نيك"}).json()
    assert [r["national_code"] for r in found["results"]] == [record["national_code"]]
    # Writing through the old version keeps the new version's fields.
    call(
        reg,
        "/1.0/update",
        "PUT",
        json={
            "query": {"content": {"national_code": record["national_code"]}},
            "write": {"content": {"height_cm": 249}},
        },
    )
    again = call(
        reg,
        "/1.1/read",
        "POST",
        json={"query": {"content": {"national_code": record["national_code"]}}},
    )
    assert again.json()["content"]["nickname"] == "نیک"
    assert again.json()["content"]["height_cm"] == 249
