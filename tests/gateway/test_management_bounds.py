"""The gateway management API bounds every number it takes and answers 422 naming it, never a
server error (real HTTP, both database backends); its OpenAPI document states the bounds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.test_gateway_api import PROVIDER, Management, serve_management
from zistboom.gateway.service import MAX_TIMEOUT_SECONDS

BEYOND_INT64 = 2**63  # the SQLite driver's OverflowError, asyncpg's int32 range error
BEYOND_INT32 = 2**31  # max_body_bytes is an INTEGER column on both backends


@pytest.fixture
def management(database_url: str, tmp_path: Path) -> Iterator[Management]:
    yield from serve_management(database_url, tmp_path / "gateway")


def refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_body_bytes": BEYOND_INT64}, "max_body_bytes"),
        ({"max_body_bytes": BEYOND_INT32}, "max_body_bytes"),
        ({"max_body_bytes": 0}, "max_body_bytes"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": MAX_TIMEOUT_SECONDS * 2}, "timeout"),
    ],
)
def test_service_numbers_out_of_bounds_are_refused(
    management: Management, changes: dict, field: str
) -> None:
    service = {"subsystem_id": PROVIDER, "code": "persons", "backend_url": "http://b"}
    with management.client() as client:
        assert client.post("/api/v1/clients", json={"subsystem_id": PROVIDER}).status_code == 201
        refused(client.post("/api/v1/services", json={**service, **changes}), field)
        assert client.post("/api/v1/services", json=service).status_code == 201
        refused(client.patch(f"/api/v1/services/{PROVIDER}/persons", json=changes), field)
        # At the bounds the numbers are kept.
        kept = client.patch(
            f"/api/v1/services/{PROVIDER}/persons",
            json={"max_body_bytes": 2**31 - 1, "timeout": MAX_TIMEOUT_SECONDS},
        )
        assert kept.status_code == 200, kept.text
        assert kept.json()["max_body_bytes"] == 2**31 - 1


def test_the_openapi_document_states_the_bounds(management: Management) -> None:
    with management.client() as client:
        document = client.get("/openapi.json").json()
        response = client.request("PUT", "/api/v1/clients")
    fields = document["components"]["schemas"]["ServiceCreate"]["properties"]
    bounds = next(s for s in fields["max_body_bytes"]["anyOf"] if s.get("type") == "integer")
    assert (bounds["minimum"], bounds["maximum"]) == (1, 2**31 - 1)
    assert "Problem" in document["components"]["schemas"]
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "POST"}
