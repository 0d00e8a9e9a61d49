"""The registry pull's own checks, against a real HTTP server standing in for the gateway's
client port (the real gateway and registry are in ``test_issuer_exchange.py``): the call it
makes, a record about another subject refused, and each kind of refusal named."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from support import free_port
from zistboom.core.errors import ValidationError
from zistboom.documents.issuer.exchange import ExchangeClient, ExchangeRefused, GatewayUnreachable
from zistboom.documents.issuer.registry_pull import RegistryAnswerRefused, pull_subject
from zistboom.documents.types import load_seed_types

AGENCY = "IR-TEST/GOV/10380284790"
ISSUER = f"{AGENCY}/issuer"
REGISTRY = f"{AGENCY}/registry"
BIRTH = next(t for t in load_seed_types() if t.code == "birth-certificate-extract")
assert BIRTH.registry is not None
MAPPING = BIRTH.registry
CODE = "0084575948"
RECORD = {
    "national_code": CODE,
    "given_name_fa": "علی",
    "given_name_en": "Ali",
    "family_name_fa": "رضایی",
    "family_name_en": "Rezaei",
    "sex": "M",
    "birth_date": "1988-01-30",
    "birth_province": "tehran",
    "birth_city": "تهران",
    "father_national_code": None,
    "registered_at": "2020-01-01T00:00:00Z",
}


@dataclass
class StandIn:
    """What the stand-in answers next, and what it was asked."""

    url: str
    answer: web.Response | None = None
    asked: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
async def gateway() -> AsyncIterator[StandIn]:
    port = free_port()
    stand_in = StandIn(f"http://127.0.0.1:{port}")

    async def handle(request: web.Request) -> web.Response:
        stand_in.asked.append(
            {
                "path": request.path,
                "headers": dict(request.headers),
                "body": await request.json(),
            }
        )
        assert stand_in.answer is not None
        return stand_in.answer

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield stand_in
    finally:
        await runner.cleanup()


async def pull(stand_in: StandIn, subject_id: str = CODE) -> dict[str, Any]:
    client = ExchangeClient(stand_in.url, ISSUER, timeout=10)
    try:
        return await pull_subject(
            client, REGISTRY, MAPPING, subject_id, type_code=BIRTH.code, user_id="IR0499370899"
        )
    finally:
        await client.close()


async def test_the_call_and_the_mapped_subject(gateway: StandIn) -> None:
    gateway.answer = web.json_response({"content": RECORD})
    subject = await pull(gateway)
    assert subject == {k: v for k, v in RECORD.items() if k in MAPPING.fields and v is not None}
    (asked,) = gateway.asked
    assert asked["path"] == f"/r1/{REGISTRY}/persons/1.0/read"
    assert asked["body"] == {"query": {"content": {"national_code": CODE}}}
    assert asked["headers"]["X-Road-Client"] == ISSUER
    assert asked["headers"]["X-Road-UserId"] == "IR0499370899"
    assert asked["headers"]["X-Road-Purpose"] == "document-issuance:birth-certificate-extract"


async def test_a_record_about_another_subject_is_refused(gateway: StandIn) -> None:
    gateway.answer = web.json_response({"content": {**RECORD, "national_code": "0499370899"}})
    with pytest.raises(RegistryAnswerRefused, match="nothing is signed from it"):
        await pull(gateway)


async def test_a_missing_record_names_the_subject_id(gateway: StandIn) -> None:
    gateway.answer = web.json_response(
        {"type": "https://zistboom.ir/problems/not-found", "title": "Not found", "status": 404,
         "detail": "no record of persons matches the query"},
        status=404, content_type="application/problem+json",
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        await pull(gateway)
    assert refused.value.field == "/options/subjectId"


async def test_the_exchanges_refusal_is_named(gateway: StandIn) -> None:
    gateway.answer = web.json_response(
        {"type": "Server.ServerProxy.AccessDenied", "message": "no access right"},
        status=403,
        headers={"X-Road-Error": "Server.ServerProxy.AccessDenied"},
    )
    with pytest.raises(ExchangeRefused) as refused:
        await pull(gateway)
    assert refused.value.error_type == "Server.ServerProxy.AccessDenied"
    assert "the exchange refused" in refused.value.detail
    assert refused.value.to_problem()["status"] == 502


async def test_an_answer_without_a_record_is_refused(gateway: StandIn) -> None:
    gateway.answer = web.Response(text="<html>proxy</html>", content_type="text/html")
    with pytest.raises(RegistryAnswerRefused, match="not JSON"):
        await pull(gateway)
    gateway.answer = web.json_response({"count": 0})
    with pytest.raises(RegistryAnswerRefused, match="without a record"):
        await pull(gateway)


async def test_a_gateway_that_does_not_answer() -> None:
    client = ExchangeClient(f"http://127.0.0.1:{free_port()}", ISSUER, timeout=5)
    try:
        with pytest.raises(GatewayUnreachable, match="did not answer"):
            await pull_subject(
                client, REGISTRY, MAPPING, CODE, type_code=BIRTH.code, user_id="IR0499370899"
            )
    finally:
        await client.close()
