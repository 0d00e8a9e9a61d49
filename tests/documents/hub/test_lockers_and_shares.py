"""The hub's ``lockers`` and ``shared-documents`` services, called as its gateway calls them:
who may act for whom (the single window for a person, a business's own systems for the
business, nobody else), shares with signed consent, the recipient's fetch, revocation and
expiry (the hub's clock moved, never a sleep), and the holder's access events."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest

from documents.hub.world import World, new_person
from zistboom.core.crypto import jws, x509

pytestmark = pytest.mark.timeout(600)
SHARES = "/exchange/lockers/lockers/shares"


def problem_type(answer: httpx.Response) -> str:
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    return str(answer.json()["type"]).rsplit("/", 1)[-1]


@pytest.fixture
def clock(world: World) -> Iterator[World]:
    """The world, its hub clock put back afterwards."""
    try:
        yield world
    finally:
        world.clock.offset = timedelta(0)


def held_document(world: World) -> tuple[str, str]:
    person = new_person()
    issued = world.issue(person)
    assert world.deposit(issued).status_code == 201
    return person, issued.credential_id


def share(world: World, person: str, document_id: str, **changes: object) -> httpx.Response:
    body = {
        "document_id": document_id,
        "recipient": world.company,
        "purpose": "opening a bank account",
        "expires_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        **changes,
    }
    return world.for_person("POST", "/lockers/shares", person, json=body)


def fetch(world: World, share_id: str, client: str | None = None) -> httpx.Response:
    return world.call(
        "GET", f"/exchange/shared-documents/shares/{share_id}/document",
        client=client or f"{world.company}/erp", purpose="account opening",
    )  # fmt: skip


# --- acting for a person ------------------------------------------------------------------------


def test_only_the_window_acts_for_a_person(world: World) -> None:
    person, _ = held_document(world)
    path = "/exchange/lockers/lockers/documents"
    cases = {
        "a company's system naming a person": (f"{world.company}/erp", person),
        "an issuer's system naming a person": (world.issuer.client, person),
    }
    for what, (client, user) in cases.items():
        refused = world.call("GET", path, client=client, user_id=user)
        assert refused.status_code == 403, what
        assert problem_type(refused) == "act-for-person-refused", what
        detail = refused.json()["detail"]
        assert "may not act for a person" in detail and world.window in detail, detail
    other_id = world.call("GET", path, client=f"{world.company}/erp", user_id="someone")
    assert other_id.status_code == 403 and problem_type(other_id) == "act-for-person-refused"
    unnamed = world.call("GET", path, client=world.window)
    assert unnamed.status_code == 403 and "send X-Road-UserId" in unnamed.json()["detail"]
    not_a_person = world.call("GET", path, client=world.window, user_id="10380284790")
    assert not_a_person.status_code == 403 and "names no person" in not_a_person.json()["detail"]
    # The window's own member (not its window subsystem) is any other client.
    window_member = world.window.rsplit("/", 1)[0]
    other_subsystem = world.call("GET", path, client=f"{window_member}/other", user_id=person)
    assert other_subsystem.status_code == 403, other_subsystem.text
    # A refused call read nothing: the person's events show the issuance only.
    events = world.for_person("GET", "/lockers/access-events", person).json()["events"]
    assert [e["kind"] for e in events] == ["issued"]


def test_a_person_sees_only_their_own_locker(world: World) -> None:
    _, document_id = held_document(world)
    stranger = new_person()
    assert world.for_person("GET", "/lockers/documents", stranger).json()["documents"] == []
    hidden = world.for_person("GET", f"/lockers/documents/{document_id}", stranger)
    assert hidden.status_code == 404, hidden.text
    refused = share(world, stranger, document_id)
    assert refused.status_code == 404, refused.text


# --- shares ---------------------------------------------------------------------------------------


def test_a_share_is_signed_fetched_by_its_recipient_and_revoked(world: World) -> None:
    person, document_id = held_document(world)
    created = share(world, person, document_id)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["state"] == "active" and body["recipient"] == world.company

    # The consent record: a JWS by the hub's doc certificate, which chains to central's CA.
    header = jws.unverified_header(body["consent"])
    assert header["typ"] == "zb-consent+jws"
    leaf, ca = (x509.load_certificate(base64.b64decode(c)) for c in header["x5c"])
    central_ca = x509.load_certificate(
        httpx.get(f"{world.central.url}/api/v1/ca/certificate", timeout=30).text
    )
    assert ca == central_ca
    x509.verify_certificate(
        leaf, central_ca, at=datetime.now(UTC), kind="doc", identity=world.hub_member
    )
    _, payload = jws.verify_jws(body["consent"], x509.certificate_public_key(leaf))
    record = orjson.loads(payload)
    assert record["holder"] == person and record["recipient"] == world.company
    assert record["document_id"] == document_id and record["share_id"] == body["id"]
    assert record["purpose"] == "opening a bank account"
    assert record["expires_at"] == body["expires_at"].replace("+00:00", "Z")

    fetched = fetch(world, body["id"])
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["document"]["id"] == document_id
    assert fetched.json()["document"]["credential"].count(".") == 2
    assert fetched.json()["share"]["consent"] == body["consent"]

    foreign = fetch(world, body["id"], client=world.issuer.client)
    assert foreign.status_code == 403 and problem_type(foreign) == "not-the-recipient"

    revoked = world.for_person("DELETE", f"/lockers/shares/{body['id']}", person)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked", revoked.text
    after = fetch(world, body["id"])
    assert after.status_code == 403 and problem_type(after) == "share-revoked", after.text
    assert "revoked" in after.json()["detail"]
    twice = world.for_person("DELETE", f"/lockers/shares/{body['id']}", person)
    assert twice.status_code == 409, twice.text
    listed = world.for_person("GET", f"/lockers/shares?document_id={document_id}", person)
    assert [s["state"] for s in listed.json()["shares"]] == ["revoked"]


def test_an_expired_share_is_refused(clock: World) -> None:
    world = clock
    person, document_id = held_document(world)
    expires = datetime.now(UTC) + timedelta(hours=1)
    created = share(world, person, document_id, expires_at=expires.isoformat())
    assert created.status_code == 201, created.text
    assert fetch(world, created.json()["id"]).status_code == 200
    world.clock.offset = timedelta(hours=2)
    expired = fetch(world, created.json()["id"])
    assert expired.status_code == 410 and problem_type(expired) == "share-expired", expired.text
    assert "expired at" in expired.json()["detail"]
    listed = world.for_person("GET", "/lockers/shares", person).json()["shares"]
    assert [s["state"] for s in listed] == ["expired"]


def test_a_share_needs_a_bounded_period_and_a_purpose(world: World) -> None:
    person, document_id = held_document(world)
    past = share(world, person, document_id, expires_at="2020-01-01T00:00:00Z")
    assert past.status_code == 422 and "not in the future" in past.json()["detail"]
    far = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    too_long = share(world, person, document_id, expires_at=far)
    assert too_long.status_code == 422 and "365 days" in too_long.json()["detail"]
    blank = share(world, person, document_id, purpose="   ")
    assert blank.status_code == 422, blank.text
    naive = share(world, person, document_id, expires_at="2031-01-01T00:00:00")
    assert naive.status_code == 422, naive.text
    unknown = world.for_person("POST", "/lockers/shares", person, json={"document_id": document_id})
    assert unknown.status_code == 422, unknown.text


# --- access events --------------------------------------------------------------------------------


def test_the_holder_sees_every_access(world: World) -> None:
    person, document_id = held_document(world)
    assert world.for_person("GET", "/lockers/documents", person).status_code == 200
    shared = share(world, person, document_id).json()
    assert fetch(world, shared["id"]).status_code == 200
    assert world.for_person("DELETE", f"/lockers/shares/{shared['id']}", person).status_code == 200
    assert fetch(world, shared["id"]).status_code == 403  # refused: not an access

    page = world.for_person("GET", "/lockers/access-events", person)
    assert page.status_code == 200, page.text
    events = page.json()["events"]
    assert [e["kind"] for e in events] == ["share-revoked", "fetched", "shared", "listed", "issued"]
    by_kind = {e["kind"]: e for e in events}
    assert by_kind["issued"]["actor"] == world.issuer.client
    assert by_kind["fetched"]["actor"] == f"{world.company}/erp"
    assert by_kind["fetched"]["purpose"] == "account opening"
    assert by_kind["shared"]["actor"] == world.window and by_kind["shared"]["user_id"] == person
    assert by_kind["shared"]["share_id"] == shared["id"]
    assert by_kind["listed"]["document_id"] is None

    first = world.for_person("GET", "/lockers/access-events?limit=2", person).json()
    assert [e["kind"] for e in first["events"]] == ["share-revoked", "fetched"]
    rest = world.for_person(
        "GET", f"/lockers/access-events?limit=10&before={first['next_before']}", person
    ).json()
    assert [e["kind"] for e in rest["events"]] == ["shared", "listed", "issued"]
    assert rest["next_before"] is None

    stranger = world.for_person("GET", "/lockers/access-events", new_person()).json()
    assert stranger["events"] == []
