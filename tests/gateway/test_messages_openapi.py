"""The messages interface's OpenAPI document describes exactly the routes the gateway serves
(gateway/messaging/api.py), each with its method, and every refusal as a problem document."""

from __future__ import annotations

import re

from zistboom.gateway.messaging.api import MessagesApi
from zistboom.gateway.messaging.openapi import openapi_document


def served() -> set[tuple[str, str]]:
    api = MessagesApi.__new__(MessagesApi)
    routes = set()
    for route in MessagesApi.routes(api):
        path = re.sub(r"\{[^}]+\}", "{}", route.path)  # type: ignore[attr-defined]
        if route.method == "*":  # type: ignore[attr-defined]
            continue  # the catch-all that explains an unknown path
        routes.add((route.method.lower(), path))  # type: ignore[attr-defined]
    return routes


def described() -> set[tuple[str, str]]:
    return {
        (method, re.sub(r"\{[^}]+\}", "{}", path))
        for path, item in openapi_document()["paths"].items()
        for method in item
    }


def test_every_reference_resolves() -> None:
    document = openapi_document()
    text = str(document)
    for name in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert name in document["components"]["schemas"], name
    assert document["openapi"] == "3.1.0"


def test_every_served_route_is_described_and_nothing_else() -> None:
    assert served() - {("get", "/messages/v1/openapi.json")} == described()


def test_every_operation_answers_refusals_as_problem_details() -> None:
    for item in openapi_document()["paths"].values():
        for operation in item.values():
            refusals = [code for code in operation["responses"] if code.startswith(("4", "5"))]
            assert refusals
            for code in refusals:
                assert "application/problem+json" in operation["responses"][code]["content"]
