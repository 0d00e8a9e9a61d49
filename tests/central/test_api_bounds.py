"""Central's API bounds every integer it takes and answers 422 naming it, never a server error
(both database backends, a real central process); its OpenAPI document states the rules and
the error answers; a 405 says which methods the path allows."""

from __future__ import annotations

from typing import get_args

import httpx
import pytest

from central_process import CentralProcess
from zistboom.central import ca, operators
from zistboom.central.schemas import MAX_PAGE, MAX_POSITION, RevocationReason

BEYOND_INT64 = 2**63  # the SQLite driver's OverflowError before the bounds
BEYOND_POSITION = MAX_POSITION + 1


def refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize("offset", [BEYOND_INT64, BEYOND_POSITION, -1])
def test_catalogue_offset_out_of_bounds_is_refused(central: CentralProcess, offset: int) -> None:
    with central.client() as client:
        refused(client.get("/api/v1/catalogue", params={"offset": offset}), "offset")


@pytest.mark.parametrize("limit", [0, MAX_PAGE + 1, BEYOND_INT64])
def test_catalogue_limit_out_of_bounds_is_refused(central: CentralProcess, limit: int) -> None:
    with central.client() as client:
        refused(client.get("/api/v1/catalogue", params={"limit": limit}), "limit")


def test_catalogue_and_audit_at_their_bounds_answer(central: CentralProcess) -> None:
    with central.client() as client:
        page = client.get("/api/v1/catalogue", params={"offset": MAX_POSITION, "limit": MAX_PAGE})
        assert page.status_code == 200, page.text
        assert page.json() == []
    with central.admin as client:
        page = client.get("/api/v1/audit", params={"after": MAX_POSITION, "limit": MAX_PAGE})
        assert page.status_code == 200, page.text
        assert page.json() == []
        assert client.get("/api/v1/audit", params={"limit": 1}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": BEYOND_INT64}, "after"),
        ({"after": BEYOND_POSITION}, "after"),
        ({"after": -1}, "after"),
        ({"limit": 0}, "limit"),
        ({"limit": MAX_PAGE + 1}, "limit"),
    ],
)
def test_audit_bounds_are_refused(central: CentralProcess, params: dict, field: str) -> None:
    with central.admin as client:
        refused(client.get("/api/v1/audit", params=params), field)


@pytest.mark.parametrize("minutes", [0, 7 * 24 * 60 + 1, BEYOND_INT64])
def test_enrolment_token_lifetime_is_bounded(central: CentralProcess, minutes: int) -> None:
    with central.admin as client:
        response = client.post(
            "/api/v1/enrolment-tokens",
            json={
                "member_id": "IR-DEMO/GOV/10380284790",
                "kind": "sign",
                "expires_in_minutes": minutes,
            },
        )
        refused(response, "expires_in_minutes")


def test_a_405_lists_every_method_of_the_path(central: CentralProcess) -> None:
    with central.admin as client:
        for path, allowed in (
            ("/api/v1/members", {"GET", "POST"}),
            ("/api/v1/global-groups", {"GET", "POST"}),
            ("/api/v1/catalogue/services", {"POST"}),
        ):
            response = client.request("PATCH", path)
            assert response.status_code == 405, (path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            methods = {m.strip() for m in response.headers["allow"].split(",")}
            assert methods - {"HEAD"} == allowed, (path, methods)


def test_the_openapi_document_states_rules_and_errors(central: CentralProcess) -> None:
    with central.client() as client:
        document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert {"type", "title", "status", "detail"} <= set(schemas["Problem"]["required"])
    assert "HTTPBearer" in document["components"]["securitySchemes"]

    members = document["paths"]["/api/v1/members"]["post"]
    for status in ("401", "403", "409", "422"):
        content = members["responses"][status]["content"]
        assert content == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }, status
    assert members["security"] == [{"HTTPBearer": []}]

    assert set(schemas["ApiKeyCreate"]["properties"]["role"]["enum"]) == set(operators.ROLES)
    kinds = schemas["EnrolmentTokenCreate"]["properties"]["kind"]["enum"]
    assert set(kinds) == set(ca.ENROLMENT_KINDS)
    assert set(get_args(RevocationReason)) == set(ca.REVOCATION_REASONS)
    member = schemas["MemberCreate"]
    assert "pattern" in member["properties"]["code"]
    agency = {"properties": {"kind": {"enum": ["agency"]}}, "required": ["kind"]}
    gov = {"properties": {"member_class": {"const": "GOV"}}}
    assert {"if": agency, "then": gov} in member["allOf"]

    audit = {
        p["name"]: p["schema"] for p in document["paths"]["/api/v1/audit"]["get"]["parameters"]
    }
    assert audit["after"]["maximum"] == MAX_POSITION and audit["limit"]["maximum"] == MAX_PAGE
