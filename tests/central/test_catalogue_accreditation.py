"""The catalogue's accreditation rule (ZB-STD-007) against a real central process on SQLite and
PostgreSQL whose trust list a test decides: a service of a regulated kind is listed only while its
provider holds a current accreditation covering it (directly or by recognition, by the scope
rule), the same for a company, an NGO and an agency; a refusal names the missing accreditation;
a listing whose accreditation lapses stays, marked lapsed for operators and its member, and is
hidden from the public view until it is accredited again, all worked out when read."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography import x509 as cx509

from central_process import CentralProcess
from trust_list_central import (
    Content,
    accreditation,
    change,
    put_content,
    recognition,
    running_list_central,
    scheme,
    served_sequence,
    trust_list_key,
    wait_for,
)
from zistboom.core.crypto import keys, x509
from zistboom.core.database import utc_now
from zistboom.core.iran import generate_legal_entity_id
from zistboom.core.trustlist import AccreditationEntry, StatusChange
from zistboom.gateway.catalogue import CataloguePublisher
from zistboom.gateway.models import Service
from zistboom.gateway.service import ServiceEntry

rng = random.Random()
TAX = "tax:e-invoice-provider"
E_INVOICE = {"ecosystem": "tax", "kind": "e-invoice-provider"}
UNREGULATED = {"ecosystem": "tax", "kind": "tax-record-inquiry"}
NATIONAL = {"ecosystem": "national", "kind": "e-invoice-provider"}
DOCUMENTS = {"ecosystem": "national", "kind": "document-issuer"}
PAYMENTS = {"ecosystem": "cross-border-trade", "kind": "payment-facilitator"}
CATALOGUE = "/api/v1/catalogue"
PUBLISH = "/api/v1/catalogue/services"


@dataclass
class Provider:
    id: str
    key: keys.PrivateKey
    cert: cx509.Certificate

    def statement(self, subsystem: str, code: str, *, ecosystem: str, kind: str) -> str:
        service = Service(
            code=code,
            backend_url="http://127.0.0.1:1",
            description="صدور صورتحساب الکترونیکی / e-invoicing",
            ecosystem=ecosystem,
            service_kind=kind,
            openapi=None,
            personal_data=False,
            created_at=utc_now(),
        )
        sender = CataloguePublisher("http://unused", lambda member_id: (self.key, self.cert))
        return sender.statement(ServiceEntry(f"{self.id}/{subsystem}", service, []))


def provider(central: CentralProcess, member_class: str, kind: str) -> Provider:
    """A member with subsystems 'invoicing' and 'archive' and a signing certificate."""
    body = {
        "member_class": member_class,
        "code": generate_legal_entity_id(rng),
        "name_fa": "ارائه‌دهنده صورتحساب",
        "name_en": "Invoicing provider",
        "kind": kind,
    }
    with central.admin as client:
        created = client.post("/api/v1/members", json=body)
        assert created.status_code == 201, created.text
        member = created.json()
        for code in ("invoicing", "archive"):
            added = client.post(
                f"/api/v1/members/{member_class}/{member['code']}/subsystems", json={"code": code}
            )
            assert added.status_code == 201, added.text
        token = client.post(
            "/api/v1/enrolment-tokens", json={"member_id": member["id"], "kind": "sign"}
        )
        assert token.status_code == 201, token.text
        key = keys.generate_private_key()
        csr = x509.create_csr(key, common_name="ignored").decode()
        issued = client.post("/api/v1/ca/enrol", json={"token": token.json()["token"], "csr": csr})
        assert issued.status_code == 201, issued.text
    return Provider(member["id"], key, x509.load_certificate(issued.json()["certificate"]))


def publish(central: CentralProcess, statement: str) -> httpx.Response:
    return httpx.post(
        central.url + PUBLISH,
        content=statement.encode(),
        headers={"Content-Type": "application/jose"},
        timeout=30,
    )


@dataclass
class World:
    central: CentralProcess
    base: Content
    company: Provider  # COM, member-scoped accreditation
    ngo: Provider  # NGO, accreditation of its subsystem 'invoicing' only
    agency: Provider  # GOV, none but its subsystem 'archive' for the national document issuer
    payer: Provider  # COM, finance accreditation that cross-border trade recognises

    def with_accreditations(self, *entries: AccreditationEntry) -> Content:
        return self.base.model_copy(
            update={"accreditations": [*self.base.accreditations, *entries]}
        )


@pytest.fixture(scope="module")
def world(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    for central in running_list_central(tmp_path_factory.mktemp("central"), backend_database):
        now = datetime.now(UTC)
        tax = scheme("tax", "e-invoice-provider", since=now - timedelta(days=60))
        finance = scheme("finance", "payment-facilitator", since=now - timedelta(days=60))
        # Cross-border trade regulates the kind with a scheme of its own, and counts finance's.
        trade = scheme("cross-border-trade", "payment-facilitator", since=now - timedelta(days=60))
        # The national platforms' own scheme (ZB-STD-007 1.1), for issuing documents.
        documents = scheme(
            "national", "document-issuer", since=now - timedelta(days=60), actions=["issue"]
        )
        company = provider(central, "COM", "company")
        ngo = provider(central, "NGO", "public-body")
        agency = provider(central, "GOV", "agency")
        payer = provider(central, "COM", "company")
        granted = [change("granted", now - timedelta(days=10))]
        year = now + timedelta(days=365)
        base = Content(
            schemes=[tax, finance, trade, documents],
            accreditations=[
                accreditation(1, tax.code, company.id, changes=granted, valid_until=year),
                accreditation(
                    2, tax.code, f"{ngo.id}/invoicing", changes=granted, valid_until=year
                ),
                accreditation(3, finance.code, payer.id, changes=granted, valid_until=year),
                accreditation(
                    4, documents.code, f"{agency.id}/archive", changes=granted, valid_until=year
                ),
            ],
            recognitions=[
                recognition(
                    1,
                    "cross-border-trade",
                    finance.code,
                    ["payment-facilitator"],
                    key=trust_list_key(central),
                    changes=granted,
                    valid_until=year,
                )
            ],
        )
        assert put_content(central, base).status_code == 204
        yield World(central, base, company, ngo, agency, payer)


def refusal(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert [e["field"] for e in problem["errors"]] == ["service_kind"]
    return problem


def public(central: CentralProcess, member_id: str) -> dict[str, dict[str, Any]]:
    response = httpx.get(central.url + CATALOGUE, params={"member_id": member_id})
    assert response.status_code == 200, response.text
    return {e["service_code"]: e for e in response.json()}


def as_operator(central: CentralProcess, member_id: str, key: str) -> dict[str, dict[str, Any]]:
    with central.client(key) as client:
        response = client.get(CATALOGUE, params={"member_id": member_id})
    assert response.status_code == 200, response.text
    return {e["service_code"]: e for e in response.json()}


def member_key(central: CentralProcess, member_id: str) -> str:
    with central.admin as client:
        created = client.post(
            "/api/v1/api-keys", json={"name": "provider", "role": "member", "member_id": member_id}
        )
    assert created.status_code == 201, created.text
    secret: str = created.json()["secret"]
    return secret


def test_a_service_of_a_regulated_kind_needs_its_providers_accreditation(world: World) -> None:
    central = world.central
    # A company and an NGO, accredited, are listed like anyone accredited.
    listed = publish(central, world.company.statement("archive", "eInvoice", **E_INVOICE))
    assert listed.status_code == 200, listed.text
    accredited = listed.json()["accreditation"]
    assert accredited["status"] == "current" and accredited["resource"] == TAX
    assert "acc-1" in accredited["message"]
    assert public(central, world.company.id)["eInvoice"]["accreditation"] == accredited

    ngo_listed = publish(central, world.ngo.statement("invoicing", "eInvoice", **E_INVOICE))
    assert ngo_listed.status_code == 200, ngo_listed.text
    # The NGO's accreditation is its subsystem's: another subsystem is not covered.
    other_subsystem = refusal(
        publish(central, world.ngo.statement("archive", "eInvoice", **E_INVOICE))
    )
    assert other_subsystem["required_accreditation"] == TAX
    assert f"{world.ngo.id}/archive/eInvoice holds no accreditation" in other_subsystem["detail"]

    # An agency is held to the same rule.
    refused = refusal(
        publish(central, world.agency.statement("invoicing", "eInvoice", **E_INVOICE))
    )
    assert refused["required_accreditation"] == TAX
    assert "regulated by scheme tax-e-invoice-provider" in refused["detail"]
    assert f"holds no accreditation to provide {TAX}" in refused["detail"]
    assert "eInvoice" not in as_operator(central, world.agency.id, central.admin_key)

    # Kinds no scheme regulates need nothing; nor does a national base registry.
    free = publish(central, world.agency.statement("invoicing", "returns", **UNREGULATED))
    assert free.status_code == 200 and free.json()["accreditation"] is None
    national = publish(central, world.agency.statement("archive", "eInvoice", **NATIONAL))
    assert national.status_code == 200 and national.json()["accreditation"] is None

    # A national scheme regulates national services as any ecosystem's scheme does its own.
    issuer = publish(central, world.agency.statement("archive", "issue", **DOCUMENTS))
    assert issuer.status_code == 200, issuer.text
    assert issuer.json()["accreditation"]["resource"] == "national:document-issuer"
    assert "acc-4" in issuer.json()["accreditation"]["message"]
    unaccredited = refusal(
        publish(central, world.company.statement("archive", "issue", **DOCUMENTS))
    )
    assert unaccredited["required_accreditation"] == "national:document-issuer"
    assert "regulated by scheme national-document-issuer" in unaccredited["detail"]

    # Recognised: cross-border trade counts the finance accreditation.
    recognised = publish(central, world.payer.statement("invoicing", "pay", **PAYMENTS))
    assert recognised.status_code == 200, recognised.text
    assert "cross-border-trade recognises" in recognised.json()["accreditation"]["message"]
    unrecognised = refusal(publish(central, world.payer.statement("invoicing", "pay", **E_INVOICE)))
    assert unrecognised["required_accreditation"] == TAX


def test_a_lapsed_listing_stays_and_is_hidden_until_accredited_again(world: World) -> None:
    central = world.central
    holder = provider(central, "COM", "company")
    granted = change("granted", datetime.now(UTC) - timedelta(days=1))

    def accredited(*changes: StatusChange) -> Content:
        entry = accreditation(
            20,
            "tax-e-invoice-provider",
            holder.id,
            changes=[granted, *changes],
            valid_until=datetime.now(UTC) + timedelta(days=30),
        )
        return world.with_accreditations(entry)

    assert put_content(central, accredited()).status_code == 204
    statement = holder.statement(
        "invoicing", "eInvoice", ecosystem="tax", kind="e-invoice-provider"
    )
    assert publish(central, statement).status_code == 200
    service_id = f"{holder.id}/invoicing/eInvoice"
    for code in ("alpha", "zeta"):
        free = holder.statement("invoicing", code, ecosystem="tax", kind="tax-record-inquiry")
        assert publish(central, free).status_code == 200
    assert set(public(central, holder.id)) == {"alpha", "eInvoice", "zeta"}

    suspended = change("suspended", datetime.now(UTC), "annual audit not filed")
    assert put_content(central, accredited(suspended)).status_code == 204
    assert set(public(central, holder.id)) == {"alpha", "zeta"}
    # Pages count the listings shown.
    page = httpx.get(
        central.url + CATALOGUE, params={"member_id": holder.id, "limit": 1, "offset": 1}
    )
    assert [e["service_code"] for e in page.json()] == ["zeta"]
    hidden = httpx.get(f"{central.url}{CATALOGUE}/{service_id}")
    assert hidden.status_code == 404
    assert "suspended" in hidden.json()["detail"] and "annual audit" in hidden.json()["detail"]

    # Operators see it, marked; so does the member itself; another member does not.
    seen = as_operator(central, holder.id, central.admin_key)["eInvoice"]
    assert seen["accreditation"]["status"] == "lapsed"
    assert "acc-20 is suspended" in seen["accreditation"]["message"]
    own = member_key(central, holder.id)
    assert as_operator(central, holder.id, own)["eInvoice"]["accreditation"]["status"] == "lapsed"
    with central.client(own) as client:
        assert client.get(f"{CATALOGUE}/{service_id}").status_code == 200
    stranger = member_key(central, world.agency.id)
    assert set(as_operator(central, holder.id, stranger)) == {"alpha", "zeta"}
    with central.client("zb_not_a_key") as client:
        assert client.get(CATALOGUE).status_code == 401

    # Publishing it again while suspended is refused, and the listing is left as it was.
    refusal(publish(central, statement))
    kept = as_operator(central, holder.id, central.admin_key)["eInvoice"]
    assert kept["updated_at"] == seen["updated_at"]
    assert kept["accreditation"]["status"] == "lapsed"

    reinstated = change("reinstated", datetime.now(UTC), "audit filed")
    assert put_content(central, accredited(suspended, reinstated)).status_code == 204
    back = public(central, holder.id)["eInvoice"]
    assert back["accreditation"]["status"] == "current"
    assert back["updated_at"] == seen["updated_at"]
    assert httpx.get(f"{central.url}{CATALOGUE}/{service_id}").status_code == 200


def test_expiry_hides_a_listing_with_nothing_running(world: World) -> None:
    central = world.central
    holder = provider(central, "COM", "company")
    until = datetime.now(UTC) + timedelta(seconds=4)
    entry = accreditation(
        30,
        "tax-e-invoice-provider",
        f"{holder.id}/invoicing",
        changes=[change("granted", datetime.now(UTC) - timedelta(days=1))],
        valid_until=until,
    )
    assert put_content(central, world.with_accreditations(entry)).status_code == 204
    sequence = served_sequence(central)
    statement = holder.statement(
        "invoicing", "eInvoice", ecosystem="tax", kind="e-invoice-provider"
    )
    assert publish(central, statement).status_code == 200
    assert "eInvoice" in public(central, holder.id)

    wait_for(
        lambda: "eInvoice" not in public(central, holder.id),
        seconds=30,
        what="the listing hidden once its accreditation expired",
    )
    assert datetime.now(UTC) >= until
    assert served_sequence(central) == sequence  # no list was issued: it was read that way
    seen = as_operator(central, holder.id, central.admin_key)["eInvoice"]
    assert seen["accreditation"]["status"] == "lapsed"
    assert "expired" in seen["accreditation"]["message"]
