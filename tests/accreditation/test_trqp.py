"""Trust-registry queries (TRQP v2 shapes, ZB-STD-007) against a real central process on SQLite
and PostgreSQL, answered from the trust list it publishes: yes, no, a past time answered from the
history, recognition across ecosystems, assessor authority, malformed queries refused with 400
naming the field, and the answer as a JWS that verifies with the key the global configuration
names."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import orjson
import pytest

from central_process import CentralProcess
from trust_list_central import (
    Content,
    accreditation,
    assessor,
    change,
    published,
    put_content,
    recognition,
    running_list_central,
    scheme,
    trust_list_key,
)
from zistboom.core.crypto import jws, keys
from zistboom.core.iran import generate_legal_entity_id

rng = random.Random()
AUTHORIZATION = "/trqp/authorization"
RECOGNITION = "/trqp/recognition"
ANSWER_FIELDS = {
    "entity_id",
    "authority_id",
    "action",
    "resource",
    "time_requested",
    "time_evaluated",
    "message",
    "records",
    "trust_list_sequence",
}
TAX = "tax:e-invoice-provider"
FINANCE = "finance:payment-facilitator"
TRADE = "cross-border-trade:payment-facilitator"


def member(member_class: str) -> str:
    return f"IR-DEMO/{member_class}/{generate_legal_entity_id(rng)}"


@dataclass(frozen=True)
class World:
    """Who holds what, and the moments between the changes of their histories."""

    central: CentralProcess
    now: datetime
    company: str  # member-scoped tax accreditation: granted, suspended, reinstated
    ngo: str  # subsystem-scoped tax accreditation, revoked a day ago
    payer: str  # finance accreditation, counted in cross-border trade until the recognition ended
    assessor: str

    def ago(self, days: float) -> str:
        return (self.now - timedelta(days=days)).isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def world(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    for central in running_list_central(tmp_path_factory.mktemp("central"), backend_database):
        now = datetime.now(UTC)

        def ago(days: float) -> datetime:
            return now - timedelta(days=days)

        tax = scheme("tax", "e-invoice-provider", since=ago(60))
        finance = scheme("finance", "payment-facilitator", since=ago(60))
        company, ngo, payer, assessing = member("COM"), member("NGO"), member("COM"), member("COM")
        year = now + timedelta(days=365)
        content = Content(
            schemes=[tax, finance],
            accreditations=[
                accreditation(
                    1,
                    tax.code,
                    company,
                    changes=[
                        change("granted", ago(30), "all criteria met"),
                        change("suspended", ago(10), "evidence of the audit out of date"),
                        change("reinstated", ago(5), "new audit report"),
                    ],
                    valid_until=year,
                ),
                accreditation(
                    2,
                    tax.code,
                    f"{ngo}/invoicing",
                    changes=[
                        change("granted", ago(30)),
                        change("revoked", ago(1), "invoices issued without signatures"),
                    ],
                    valid_until=year,
                ),
                accreditation(
                    3,
                    finance.code,
                    payer,
                    changes=[change("granted", ago(30))],
                    valid_until=year,
                    level="high",
                ),
            ],
            recognitions=[
                recognition(
                    1,
                    "cross-border-trade",
                    finance.code,
                    ["payment-facilitator"],
                    key=trust_list_key(central),
                    changes=[change("granted", ago(20)), change("revoked", ago(3), "replaced")],
                    valid_until=year,
                )
            ],
            assessors=[
                assessor(1, assessing, tax.code, changes=[change("granted", ago(10))], depth=1)
            ],
        )
        response = put_content(central, content)
        assert response.status_code == 204, response.text
        yield World(central, now, company, ngo, payer, assessing)


def ask(
    world: World, path: str, body: dict[str, Any], *, accept: str | None = None
) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    return httpx.post(world.central.url + path, json=body, headers=headers, timeout=30)


def authorization(
    world: World, entity_id: str, resource: str = TAX, *, at: str | None = None, **change: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "entity_id": entity_id,
        "authority_id": "IR-DEMO",
        "action": "provide",
        "resource": resource,
        **change,
    }
    if at is not None:
        body["context"] = {"time": at}
    response = ask(world, AUTHORIZATION, body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    answer: dict[str, Any] = response.json()
    assert set(answer) == ANSWER_FIELDS | {"authorized"}
    return answer


def recognized(world: World, *, at: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "entity_id": FINANCE,
        "authority_id": "IR-DEMO",
        "action": "recognize",
        "resource": TRADE,
    }
    if at is not None:
        body["context"] = {"time": at}
    response = ask(world, RECOGNITION, body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert set(answer) == ANSWER_FIELDS | {"recognized"}
    return answer


def test_an_accredited_provider_is_authorized(world: World) -> None:
    sequence = published(world.central).trust_list.sequence
    entity = f"{world.company}/invoicing"  # a subsystem: the member-scoped accreditation covers it
    answer = authorization(world, entity)
    assert answer["authorized"] is True
    assert (answer["entity_id"], answer["authority_id"]) == (entity, "IR-DEMO")
    assert (answer["action"], answer["resource"]) == ("provide", TAX)
    assert answer["trust_list_sequence"] == sequence
    assert answer["time_requested"] == answer["time_evaluated"]
    evaluated = datetime.fromisoformat(answer["time_evaluated"])
    assert abs(datetime.now(UTC) - evaluated) < timedelta(minutes=1)
    assert "acc-1" in answer["message"]
    records = {r["type"]: r for r in answer["records"]}
    assert set(records) == {"scheme", "accreditation"}
    assert records["accreditation"]["id"] == "acc-1"
    assert records["accreditation"]["status_at_time"] == "active"
    assert [h["status"] for h in records["accreditation"]["history"]] == [
        "granted",
        "suspended",
        "reinstated",
    ]


def test_an_absent_record_is_a_denial_not_an_error(world: World) -> None:
    stranger = member("GOV")
    answer = authorization(world, stranger)
    assert answer["authorized"] is False and answer["records"] == []
    assert stranger in answer["message"] and TAX in answer["message"]

    unknown = authorization(world, world.company, "energy:fuel-card-issuer")
    assert unknown["authorized"] is False
    assert "no scheme covers energy:fuel-card-issuer" in unknown["message"]

    # The tax scheme grants 'provide' only.
    issuing = authorization(world, world.company, action="issue")
    assert issuing["authorized"] is False

    other = authorization(world, world.company, authority_id="IR-TEST")
    assert other["authorized"] is False and other["records"] == []
    assert "authority for IR-DEMO only" in other["message"]
    assert "IR-TEST" in other["message"]


def test_a_past_time_is_answered_from_the_history(world: World) -> None:
    company = world.company
    assert authorization(world, company, at=world.ago(20))["authorized"] is True
    suspended = authorization(world, company, at=world.ago(7))
    assert suspended["authorized"] is False
    assert "suspended" in suspended["message"] and "audit out of date" in suspended["message"]
    assert suspended["time_requested"] == world.ago(7)
    assert suspended["time_requested"] != suspended["time_evaluated"]
    [record] = suspended["records"]
    assert (record["id"], record["status_at_time"]) == ("acc-1", "suspended")
    assert authorization(world, company, at=world.ago(40))["authorized"] is False  # before grant

    # An offset other than Z: the same moment, given back in UTC.
    moment = world.now - timedelta(days=2)
    tehran = moment.astimezone(timezone(timedelta(hours=3, minutes=30))).isoformat()
    ngo = f"{world.ngo}/invoicing"
    earlier = authorization(world, ngo, at=tehran)
    assert earlier["authorized"] is True
    assert datetime.fromisoformat(earlier["time_requested"]) == moment
    assert earlier["time_requested"].endswith("Z")
    revoked = authorization(world, ngo)
    assert revoked["authorized"] is False and "revoked" in revoked["message"]
    # The scope rule: a subsystem's accreditation covers neither the member nor its other
    # subsystems.
    assert authorization(world, world.ngo, at=tehran)["authorized"] is False
    assert authorization(world, f"{world.ngo}/archive", at=tehran)["authorized"] is False
    assert authorization(world, f"{ngo}/issueInvoice", at=tehran)["authorized"] is True


def test_recognition_across_ecosystems(world: World) -> None:
    before = recognized(world, at=world.ago(4))
    assert before["recognized"] is True
    assert (before["entity_id"], before["resource"]) == (FINANCE, TRADE)
    assert {r["type"] for r in before["records"]} == {"scheme", "recognition"}
    after = recognized(world)
    assert after["recognized"] is False and "revoked" in after["message"]
    assert recognized(world, at=world.ago(25))["recognized"] is False  # before it was granted

    # The finance accreditation counted in cross-border trade while the recognition held.
    counted = authorization(world, world.payer, TRADE, at=world.ago(4))
    assert counted["authorized"] is True
    assert {r["type"] for r in counted["records"]} == {"scheme", "accreditation", "recognition"}
    assert "recognises as substantial" in counted["message"]  # high maps to substantial
    assert authorization(world, world.payer, TRADE)["authorized"] is False
    assert authorization(world, world.payer, FINANCE)["authorized"] is True


def test_assessor_authority(world: World) -> None:
    yes = authorization(world, world.assessor, action="assess")
    assert yes["authorized"] is True and yes["records"][0]["type"] == "assessor"
    assert (
        authorization(world, world.assessor, action="assess", at=world.ago(20))["authorized"]
        is False
    )
    assert authorization(world, world.company, action="assess")["authorized"] is False
    # Assessor authority is a member's: a subsystem holds none of its own.
    desk = authorization(world, f"{world.assessor}/desk", action="assess")
    assert desk["authorized"] is False and f"ask about {world.assessor}" in desk["message"]


def refused(response: httpx.Response) -> str:
    """The field a 400 problem names."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 400 and problem["detail"]
    field: str = problem["errors"][0]["field"]
    return field


def test_malformed_queries_are_400_naming_the_field(world: World) -> None:
    good = {"entity_id": world.company, "authority_id": "IR-DEMO", "action": "provide"}
    cases: list[tuple[str, dict[str, Any], str]] = [
        (AUTHORIZATION, {**good}, "resource"),
        (AUTHORIZATION, {**good, "resource": "tax"}, "resource"),
        (AUTHORIZATION, {**good, "resource": TAX, "level": "high"}, "level"),
        (AUTHORIZATION, {**good, "resource": TAX, "action": "recognize"}, "action"),
        (AUTHORIZATION, {**good, "resource": TAX, "entity_id": "IR-DEMO/COM"}, "entity_id"),
        (AUTHORIZATION, {**good, "resource": TAX, "entity_id": 7}, "entity_id"),
        (AUTHORIZATION, {**good, "resource": TAX, "context": {"time": "today"}}, "context.time"),
        (AUTHORIZATION, {**good, "resource": TAX, "context": {"time": 17672256}}, "context.time"),
        (
            AUTHORIZATION,
            {**good, "resource": TAX, "context": {"time": "2026-05-05T12:00:00"}},  # no offset
            "context.time",
        ),
        (AUTHORIZATION, {**good, "resource": TAX, "context": {"place": "x"}}, "context.place"),
        (AUTHORIZATION, {**good, "resource": TAX, "context": "now"}, "context"),
        (
            RECOGNITION,
            {
                "entity_id": world.company,
                "authority_id": "IR-DEMO",
                "action": "recognize",
                "resource": TRADE,
            },
            "entity_id",
        ),
        (
            RECOGNITION,
            {
                "entity_id": FINANCE,
                "authority_id": "IR-DEMO",
                "action": "provide",
                "resource": TRADE,
            },
            "action",
        ),
    ]
    for path, body, field in cases:
        assert refused(ask(world, path, body)) == field, body

    not_json = httpx.post(
        world.central.url + AUTHORIZATION,
        content=b"{entity_id",
        headers={"Content-Type": "application/json"},
    )
    assert refused(not_json) == "body"
    assert refused(httpx.post(world.central.url + RECOGNITION, json=[])) == "body"


def test_the_answer_as_a_jwt_signed_by_the_trust_list_key(world: World) -> None:
    pointer = published(world.central).pointer
    body = {
        "entity_id": world.company,
        "authority_id": "IR-DEMO",
        "action": "provide",
        "resource": TAX,
        "context": {"time": world.ago(7)},
    }
    response = ask(world, AUTHORIZATION, body, accept="application/jwt")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/jwt"
    token = response.text
    header = jws.unverified_header(token)
    assert header["typ"] == "zb-trqp+jwt"
    signer = jws.jwk_to_public_key(header["jwk"])
    # The verifier trusts the key by the fingerprint the global configuration names.
    assert keys.public_key_fingerprint(signer) == pointer.key_fingerprint == header["kid"]
    _, payload = jws.verify_jws(token, signer)
    signed = orjson.loads(payload)
    plain = ask(world, AUTHORIZATION, body).json()
    assert signed.pop("time_evaluated") and plain.pop("time_evaluated")
    assert signed == plain and signed["authorized"] is False

    # A changed byte does not verify.
    head, claims, signature = token.split(".")
    forged = orjson.loads(keys.b64url_decode(claims))
    forged["authorized"] = True
    with pytest.raises(Exception, match="signature"):
        jws.verify_jws(f"{head}.{keys.b64url_encode(orjson.dumps(forged))}.{signature}", signer)

    recognition_body = {
        "entity_id": FINANCE,
        "authority_id": "IR-DEMO",
        "action": "recognize",
        "resource": TRADE,
    }
    answer = ask(world, RECOGNITION, recognition_body, accept="text/html, application/jwt;q=0.5")
    assert answer.headers["content-type"] == "application/jwt"
    assert "recognized" in orjson.loads(jws.verify_jws(answer.text, signer)[1])
    declined = ask(world, RECOGNITION, recognition_body, accept="application/jwt;q=0, */*")
    assert declined.headers["content-type"] == "application/json"


def test_the_openapi_document_describes_the_queries(world: World) -> None:
    document = httpx.get(f"{world.central.url}/openapi.json").json()
    schemas = document["components"]["schemas"]
    for path, query, answer in (
        (AUTHORIZATION, "AuthorizationQuery", "AuthorizationAnswer"),
        (RECOGNITION, "RecognitionQuery", "RecognitionAnswer"),
    ):
        operation = document["paths"][path]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body["$ref"].endswith(f"/{query}")
        assert schemas[query]["additionalProperties"] is False
        content = operation["responses"]["200"]["content"]
        assert content["application/json"]["schema"]["$ref"].endswith(f"/{answer}")
        assert "application/jwt" in content
        assert "application/problem+json" in operation["responses"]["400"]["content"]
        assert "422" not in operation["responses"]  # TRQP's malformed queries are 400
    assert "authorized" in schemas["AuthorizationAnswer"]["required"]
