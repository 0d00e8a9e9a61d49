"""The hub's ``documents`` service, called as its gateway calls it: issuers deposit documents
(refused unless they verify and come from their issuer) and publish status lists (only their
own, never an older one); the public API serves the lists unchanged and the types seeded at
``hub init``. A real central, real certificates and timestamps, SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from documents.hub.world import World, company_subject, new_issuer, new_person, person_subject
from zistboom.documents import profile

pytestmark = pytest.mark.timeout(600)
DEPOSIT = "/exchange/documents/documents"


def problem_type(answer: httpx.Response) -> str:
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    return str(answer.json()["type"]).rsplit("/", 1)[-1]


def tampered(token: str) -> str:
    """The VC-JWT with one byte of its payload changed (still base64url, still JSON-free)."""
    header, payload, signature = token.split(".")
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    changed = claims.replace(b'"Zahra"', b'"Zahrb"')
    assert changed != claims
    encoded = base64.urlsafe_b64encode(changed).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


def test_a_deposit_lands_in_the_holders_locker(world: World) -> None:
    person = new_person()
    issued = world.issue(person)
    answer = world.deposit(issued)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["id"] == issued.credential_id and body["holder"] == person
    assert body["type"] == "birth-certificate-extract"
    assert body["pullLink"].startswith(f"{world.hub_url}/p/")
    # The trusted time is the timestamp's, within moments of now.
    issued_at = datetime.fromisoformat(body["issuedAt"])
    assert abs(issued_at - datetime.now(UTC)) < timedelta(minutes=2)

    listed = world.for_person("GET", "/lockers/documents", person)
    assert listed.status_code == 200, listed.text
    (entry,) = listed.json()["documents"]
    assert entry["id"] == issued.credential_id and entry["issuer"] == world.issuer.member
    assert (
        entry["type_name_en"] == "Birth certificate extract"
        and entry["pull_link"] == body["pullLink"]
    )
    full = world.for_person("GET", f"/lockers/documents/{issued.credential_id}", person)
    assert full.status_code == 200, full.text
    assert full.json()["credential"] == issued.credential
    assert base64.b64decode(full.json()["timestamp_token"]) == issued.timestamp_token

    again = world.deposit(issued)
    assert again.status_code == 409 and problem_type(again) == "conflict", again.text


def test_a_deposit_that_does_not_verify_is_refused_naming_why(world: World) -> None:
    person = new_person()
    issued = world.issue(person)

    changed = world.call(
        "POST", DEPOSIT, client=world.issuer.client,
        json={**issued.deposit_body(), "credential": tampered(issued.credential)},
    )  # fmt: skip
    assert changed.status_code == 422 and problem_type(changed) == "deposit-refused"
    # The timestamp dates the signature, which the change did not touch; the signature fails.
    assert "signature does not verify" in changed.json()["detail"], changed.text

    other = world.issue(person)
    wrong_time = world.call(
        "POST", DEPOSIT, client=world.issuer.client,
        json={**issued.deposit_body(), "timestampToken": base64.b64encode(
            other.timestamp_token).decode()},
    )  # fmt: skip
    assert wrong_time.status_code == 422, wrong_time.text
    assert wrong_time.json()["detail"].startswith("the timestamp token"), wrong_time.text

    unknown = world.issue(person, type_code="fishing-permit", subject={"lake": "Urmia"})
    refused = world.deposit(unknown)
    assert refused.status_code == 422, refused.text
    assert "no document type 'fishing-permit'" in refused.json()["detail"]

    incomplete = {k: v for k, v in person_subject(person).items() if k != "sex"}
    missing = world.deposit(world.issue(person, subject=incomplete))
    assert missing.status_code == 422, missing.text
    assert "'sex' is a required property" in missing.json()["detail"]

    # Nothing of these reached the locker.
    listed = world.for_person("GET", "/lockers/documents", person)
    assert listed.json()["documents"] == []


def test_only_the_issuer_deposits_and_only_an_accredited_one(world: World) -> None:
    issued = world.issue(new_person())
    foreign = world.deposit(issued, issuer=world.other_issuer)
    assert foreign.status_code == 403 and problem_type(foreign) == "not-the-issuer"
    assert world.issuer.member in foreign.json()["detail"]

    # A member with a good doc certificate but no accreditation on the trust list.
    unaccredited = new_issuer(world.central, "Unaccredited agency")
    document = world.issue(new_person(), issuer=unaccredited)
    refused = world.deposit(document, issuer=unaccredited)
    assert refused.status_code == 403, refused.text
    assert problem_type(refused) == "issuer-not-accredited"
    assert "national:document-issuer at level high" in refused.json()["detail"]


def test_calls_not_through_the_gateway_are_refused(world: World) -> None:
    issued = world.issue(new_person())
    wrong = world.call(
        "POST", DEPOSIT, client=world.issuer.client, secret="x" * 43, json=issued.deposit_body()
    )
    assert wrong.status_code == 403 and problem_type(wrong) == "forbidden", wrong.text
    assert "through the hub's own gateway" in wrong.json()["detail"]
    none = httpx.post(world.hub_url + DEPOSIT, json=issued.deposit_body(), timeout=30)
    assert none.status_code == 403, none.text


def test_a_business_holder_and_its_own_systems(world: World) -> None:
    holder = world.company.rsplit("/", 1)[-1]
    issued = world.issue(
        holder, type_code="business-licence", subject=company_subject(holder),
        issuer=world.other_issuer,
    )  # fmt: skip
    deposited = world.deposit(issued, issuer=world.other_issuer)
    assert deposited.status_code == 201, deposited.text
    own = world.call("GET", "/exchange/lockers/lockers/documents", client=f"{world.company}/erp")
    assert own.status_code == 200, own.text
    assert [d["id"] for d in own.json()["documents"]] == [issued.credential_id]


# --- status lists -------------------------------------------------------------------------------


def test_a_status_list_is_replaced_only_by_a_newer_one_of_its_issuer(world: World) -> None:
    list_id = "replacement-rules"
    # Ahead of now (the hub takes lists dated at most 5 minutes ahead), so that the older one
    # below is still after the issuer's certificate was made.
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=2)
    first = world.status_list(set_indexes=(5,), valid_from=start, list_id=list_id)
    put = world.put_status_list(first, list_id=list_id)
    assert put.status_code == 200, put.text
    assert put.json()["replaced"] is False and put.json()["listId"] == list_id

    served = httpx.get(f"{world.hub_url}/status-lists/{list_id}/revocation", timeout=30)
    assert served.status_code == 200 and served.text == first
    assert served.headers["content-type"] == "application/vc+jwt"

    same = world.put_status_list(first, list_id=list_id)
    assert same.status_code == 200 and same.json()["replaced"] is False

    older = world.status_list(valid_from=start - timedelta(minutes=1), list_id=list_id)
    refused = world.put_status_list(older, list_id=list_id)
    assert refused.status_code == 409 and problem_type(refused) == "status-list-older"
    as_old = world.status_list(set_indexes=(6,), valid_from=start, list_id=list_id)
    assert world.put_status_list(as_old, list_id=list_id).status_code == 409

    newer = world.status_list(set_indexes=(5, 6), valid_from=start + timedelta(minutes=1),
                              list_id=list_id)  # fmt: skip
    replaced = world.put_status_list(newer, list_id=list_id)
    assert replaced.status_code == 200 and replaced.json()["replaced"] is True
    served = httpx.get(f"{world.hub_url}/status-lists/{list_id}/revocation", timeout=30)
    assert served.text == newer

    # Another member may publish neither the issuer's list nor its own under that id.
    stolen = world.put_status_list(newer, list_id=list_id, client=world.other_issuer.client)
    assert stolen.status_code == 403 and problem_type(stolen) == "not-the-issuer"
    squatted = world.status_list(
        valid_from=start + timedelta(minutes=2), issuer=world.other_issuer, list_id=list_id
    )
    taken = world.put_status_list(squatted, list_id=list_id, client=world.other_issuer.client)
    assert taken.status_code == 403, taken.text
    assert f"is {world.issuer.member}'s" in taken.json()["detail"]

    ahead = world.status_list(valid_from=start + timedelta(hours=1), list_id=list_id)
    early = world.put_status_list(ahead, list_id=list_id)
    assert early.status_code == 422 and "later than now" in early.json()["detail"], early.text

    # A list must be published where it says it is.
    elsewhere = world.put_status_list(newer, purpose="suspension", list_id=list_id)
    assert elsewhere.status_code == 422 and problem_type(elsewhere) == "status-list-refused"
    missing = httpx.get(f"{world.hub_url}/status-lists/{list_id}/suspension", timeout=30)
    assert missing.status_code == 404


def test_the_seeded_types_are_served(world: World) -> None:
    listed = httpx.get(f"{world.hub_url}/api/v1/document-types", timeout=30)
    assert listed.status_code == 200, listed.text
    assert [t["code"] for t in listed.json()] == sorted(
        [
            "birth-certificate-extract", "business-licence", "tax-clearance",
            "land-ownership-deed", "residence-permit", "health-insurance-card",
        ]
    )  # fmt: skip
    one = httpx.get(f"{world.hub_url}/api/v1/document-types/tax-clearance", timeout=30).json()
    assert one["requirement"] == {"ecosystem": "tax", "kind": "document-issuer",
                                  "level": "substantial"}  # fmt: skip
    assert one["default_validity_days"] == 90
    schema = httpx.get(f"{world.hub_url}/api/v1/document-types/tax-clearance/schema", timeout=30)
    assert schema.headers["content-type"] == "application/schema+json"
    assert schema.json()["$id"] == profile.schema_url(world.hub_url, "tax-clearance")
    assert (
        httpx.get(f"{world.hub_url}/api/v1/document-types/none-such", timeout=30).status_code == 404
    )


def test_the_operator_registers_another_type(world: World) -> None:
    definition = httpx.get(
        f"{world.hub_url}/api/v1/document-types/health-insurance-card", timeout=30
    ).json()
    definition["code"] = "dental-insurance-card"
    definition["name_en"] = "Dental insurance card"
    url = f"{world.hub_url}/api/v1/admin/document-types"
    unauthorised = httpx.post(url, json=definition, timeout=30)
    assert unauthorised.status_code == 401, unauthorised.text
    headers = {"Authorization": f"Bearer {world.admin_token}"}
    created = httpx.post(url, json=definition, headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    again = httpx.post(url, json=definition, headers=headers, timeout=30)
    assert again.status_code == 409, again.text
    broken = {
        **definition,
        "code": "broken-card",
        "schema": {"type": "object", "minProperties": -1},
    }
    refused = httpx.post(url, json=broken, headers=headers, timeout=30)
    assert refused.status_code == 422, refused.text
    served = httpx.get(f"{world.hub_url}/api/v1/document-types/dental-insurance-card", timeout=30)
    assert served.json()["name_en"] == "Dental insurance card"
