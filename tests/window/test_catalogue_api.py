"""The catalogue's management API over real HTTP on SQLite and PostgreSQL: the operator
registers agencies and issues keys; an agency writes only its own definitions; a bad definition
is refused naming its field and nothing is written; a YAML import is all or nothing."""

from __future__ import annotations

import copy
import secrets
from typing import Any

import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from window_site import Site, definition


def fields_of(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem["errors"]}


def test_the_published_schema_is_a_json_schema_and_accepts_a_definition(site: Site) -> None:
    schema = site.client().get("/api/v1/service-definitions/schema").json()
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate(definition("x"))
    assert not Draft202012Validator(schema).is_valid({**definition("x"), "agency": "IR-DEMO/GOV/1"})


def test_an_agency_writes_reads_and_deletes_its_own_definition(site: Site) -> None:
    member, key = site.new_agency()
    body = definition()
    with site.client(key) as agency:
        created = agency.put(f"/api/v1/services/{body['code']}", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["agency"] == member
        replaced = agency.put(f"/api/v1/services/{body['code']}", json={**body, "expected_days": 9})
        assert replaced.status_code == 200 and replaced.json()["expected_days"] == 9
        assert [s["code"] for s in agency.get("/api/v1/services").json()] == [body["code"]]
        assert agency.get(f"/api/v1/services/{body['code']}").json()["expected_days"] == 9
        assert agency.delete(f"/api/v1/services/{body['code']}").status_code == 204
        assert agency.get(f"/api/v1/services/{body['code']}").status_code == 404


def test_a_bad_definition_is_refused_naming_its_field_and_nothing_is_written(site: Site) -> None:
    _, key = site.new_agency()
    cases = {
        "ecosystem": definition(ecosystem="space"),
        "audience": definition(audience=[]),
        "fees.0.amount_rials": definition(
            fees=[{"amount_rials": -5, "label_fa": "هزینه", "label_en": "Fee"}]
        ),
        "steps.1.after.0": definition(
            steps=[definition()["steps"][0], {**definition()["steps"][1], "after": ["nowhere"]}]
        ),
        "form.properties.note.type": definition(
            form={
                "type": "object",
                "properties": {"note": {"type": "array", "title": "x", "x-title-en": "x"}},
            }
        ),
        "form.properties.note.x-title-en": definition(
            form={"type": "object", "properties": {"note": {"type": "string", "title": "یادداشت"}}}
        ),
        "base_data.0.registry": definition(
            base_data=[{"registry": "persons", "items": ["a"], "why_fa": "چرا", "why_en": "why"}]
        ),
        "outcome.document_type": definition(outcome={"kind": "document"}),
        "agency": {**definition(), "agency": "IR-DEMO/GOV/12147922321"},
    }
    with site.client(key) as agency:
        for field, body in cases.items():
            refused = agency.put(f"/api/v1/services/{body['code']}", json=body)
            assert refused.status_code == 422, (field, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert field in fields_of(refused.json()), (field, refused.json())
        assert agency.get("/api/v1/services").json() == []


def test_steps_in_a_cycle_are_refused(site: Site) -> None:
    _, key = site.new_agency()
    steps = copy.deepcopy(definition()["steps"])
    steps[0]["after"] = ["b"]
    body = definition(steps=steps)
    with site.client(key) as agency:
        refused = agency.put(f"/api/v1/services/{body['code']}", json=body)
    assert refused.status_code == 422
    assert "cycle" in refused.json()["detail"] and "steps" in fields_of(refused.json())


def test_a_yaml_import_is_all_or_nothing(site: Site) -> None:
    _, key = site.new_agency()
    good, bad = definition(), definition(expected_days=0)
    bad["form"]["properties"]["note"]["format"] = "uri"
    headers = {"Content-Type": "application/yaml"}
    with site.client(key) as agency:
        refused = agency.post(
            "/api/v1/services",
            content=yaml.safe_dump([good, bad], allow_unicode=True),
            headers=headers,
        )
        assert refused.status_code == 422, refused.text
        assert {"1.expected_days"} <= fields_of(refused.json())
        assert agency.get("/api/v1/services").json() == []
        refused = agency.post(
            "/api/v1/services",
            content=yaml.safe_dump([good, definition(good["code"])], allow_unicode=True),
            headers=headers,
        )
        assert "1.code" in fields_of(refused.json())
        assert agency.get("/api/v1/services").json() == []
        wrong_type = agency.post("/api/v1/services", json=[good])
        assert wrong_type.status_code == 415
        imported = agency.post(
            "/api/v1/services",
            content=yaml.safe_dump([good, definition()], allow_unicode=True),
            headers=headers,
        )
        assert imported.status_code == 200, imported.text
        assert len(agency.get("/api/v1/services").json()) == 2


def test_a_form_failing_its_own_rules_is_named_in_an_import(site: Site) -> None:
    _, key = site.new_agency()
    bad = definition()
    bad["form"]["properties"]["note"]["format"] = "uri"
    with site.client(key) as agency:
        refused = agency.post(
            "/api/v1/services",
            content=yaml.safe_dump([definition(), bad], allow_unicode=True),
            headers={"Content-Type": "application/yaml"},
        )
    assert "1.form.properties.note.format" in fields_of(refused.json())


def test_a_key_of_agency_a_cannot_write_or_delete_agency_bs_definition(site: Site) -> None:
    member_a, key_a = site.new_agency()
    member_b, key_b = site.new_agency()
    body = definition()
    with site.client(key_b) as b:
        assert b.put(f"/api/v1/services/{body['code']}", json=body).status_code == 201
    with site.client(key_a) as a:
        for response in (
            a.put(f"/api/v1/services/{body['code']}", params={"agency": member_b}, json=body),
            a.delete(f"/api/v1/services/{body['code']}", params={"agency": member_b}),
            a.get("/api/v1/services", params={"agency": member_b}),
            a.post(
                "/api/v1/services",
                params={"agency": member_b},
                content=yaml.safe_dump([body]),
                headers={"Content-Type": "application/yaml"},
            ),
        ):
            assert response.status_code == 403, response.text
            assert response.json()["type"].endswith("/forbidden")
        # Its own listing does not show B's; its PUT of the same code is its own service.
        assert a.get("/api/v1/services").json() == []
        own = {**body, "outcome": {"kind": "own-result", "name_fa": "نتیجه", "name_en": "Result"}}
        assert a.put(f"/api/v1/services/{body['code']}", json=own).json()["agency"] == member_a
    with site.operator() as operator:
        kept = operator.get(f"/api/v1/services/{body['code']}", params={"agency": member_b})
        assert kept.status_code == 200 and kept.json()["agency"] == member_b


def test_unknown_and_revoked_keys_are_401_and_agency_keys_cannot_use_operator_routes(
    site: Site,
) -> None:
    member, key = site.new_agency()
    with site.client("zbw_" + secrets.token_urlsafe(32)) as stranger:
        refused = stranger.get("/api/v1/services")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert site.client().put("/api/v1/services/x", json=definition("x")).status_code == 401
    with site.client(key) as agency:
        for response in (
            agency.get("/api/v1/agencies"),
            agency.post(
                "/api/v1/agencies",
                json={"member_id": "IR-DEMO/GOV/10380284790", "name_fa": "x", "name_en": "x"},
            ),
            agency.post(f"/api/v1/agencies/{member}/keys"),
        ):
            assert response.status_code == 403, response.text
    with site.operator() as operator:
        # The operator lists but does not write an agency's definitions.
        assert operator.put("/api/v1/services/x", json=definition("x")).status_code == 403
        second = operator.post(f"/api/v1/agencies/{member}/keys").json()
        assert operator.delete(f"/api/v1/agencies/{member}/keys/{second['id']}").status_code == 204
    with site.client(second["key"]) as revoked:
        assert revoked.get("/api/v1/services").status_code == 401
    with site.client(key) as agency:
        assert agency.get("/api/v1/services").status_code == 200


def test_registering_an_agency_twice_is_a_conflict(site: Site) -> None:
    member, _ = site.new_agency()
    with site.operator() as operator:
        again = operator.post(
            "/api/v1/agencies", json={"member_id": member, "name_fa": "x", "name_en": "x"}
        )
        assert again.status_code == 409
        listed = {a["member_id"] for a in operator.get("/api/v1/agencies").json()}
    assert member in listed and "IR-DEMO/GOV/60711446972" in listed
