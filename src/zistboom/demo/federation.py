"""What the demo federation of instance IR-DEMO is made of: its organisations, their
subsystems, the ports every component listens on, and the calls the demo prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from zistboom.central import service
from zistboom.core.accreditation import Requirement
from zistboom.registries import seed_organisations
from zistboom.registries.seed import national_registries
from zistboom.registries.seed_schemas import DEFINITIONS

INSTANCE = "IR-DEMO"
PERSON = seed_organisations.PERSON
GATEWAY_CODE = "gw1"
SEED_SIZE: Final = "small"


@dataclass(frozen=True, slots=True)
class Organisation:
    key: str
    member: service.MemberInput
    subsystem: str


def _organisation(data: seed_organisations.SeedOrganisation) -> Organisation:
    member = service.MemberInput(
        data.member_class, data.code, data.name_fa, data.name_en, data.kind
    )
    return Organisation(data.key, member, data.subsystem)


# The demo's organisations, then the owners of the other base registries (all synthetic).
ORGANISATIONS = tuple(
    _organisation(o)
    for o in (*seed_organisations.DEMO_ORGANISATIONS, *seed_organisations.NEW_OWNERS)
)
# Each base registry (by its seed code): who may read it (list, read, exists). The finance
# ecosystem company may search companies but not read persons: the demo's refused call.
READERS: dict[str, tuple[str, ...]] = {
    "persons": ("single-window", "tax"),
    "companies": ("single-window", "tax", "finance-ecosystem", "it-authority"),
    "addresses": ("single-window",),
    "land-parcels": ("single-window",),
    "foreign-nationals": ("single-window",),
    "taxpayers": ("single-window",),
    "insured": ("single-window",),
}
# Reads allowed only while the reader holds an accreditation: the taxpayers registry is open to
# accredited e-invoice providers, which the finance ecosystem company is not (a refused call).
ACCREDITED_READERS: dict[str, tuple[tuple[str, Requirement], ...]] = {
    "taxpayers": (("finance-ecosystem", Requirement("tax", "e-invoice-provider", "basic")),),
}
USAGE_READERS = ("single-window",)
READ_ENDPOINTS = (("GET", "/1.0"), ("POST", "/1.0/read"), ("POST", "/1.0/exists"))


def registry_owners() -> dict[str, list[str]]:
    """Organisation key → the codes of the base registries it owns (its registry service)."""
    owners: dict[str, list[str]] = {}
    for definition in DEFINITIONS:
        owners.setdefault(definition.owner, []).append(definition.code)
    return owners


def director() -> str:
    """The national code of the demo's company director: the finance ecosystem company's first
    director in the companies registry's seed."""
    code = organisation("finance-ecosystem").member.code
    companies = next(r for r in national_registries(size=SEED_SIZE) if r.code == "companies")
    company = next(c for c in companies.records() if c["national_id"] == code)
    return str(company["directors"][0]["national_code"])


def member_id(org: Organisation) -> str:
    return f"{INSTANCE}/{org.member.member_class}/{org.member.code}"


def subsystem_id(org: Organisation) -> str:
    return f"{member_id(org)}/{org.subsystem}"


def organisation(key: str) -> Organisation:
    return next(org for org in ORGANISATIONS if org.key == key)


@dataclass(frozen=True, slots=True)
class Ports:
    """Central on the base port, then ten ports for each organisation, in the order of
    :data:`ORGANISATIONS`: its gateway's client, peer and admin ports, its registry service,
    its issuer and (the IT authority's) the documents hub."""

    base: int

    @property
    def central(self) -> int:
        return self.base

    def client(self, index: int) -> int:
        return self.base + 10 + 10 * index

    def peer(self, index: int) -> int:
        return self.base + 11 + 10 * index

    def admin(self, index: int) -> int:
        return self.base + 12 + 10 * index

    def registry(self, index: int) -> int:
        return self.base + 13 + 10 * index

    def component(self, index: int, offset: int) -> int:
        """The organisation's ``offset``-th port (4: its issuer, 5: the documents hub)."""
        return self.base + 10 + offset + 10 * index


def demo_calls(ports: Ports) -> list[str]:
    """The copy-paste calls the demo prints, each through the exchange (the last one is
    refused by access rights)."""
    index = {org.key: i for i, org in enumerate(ORGANISATIONS)}

    def via(org_key: str) -> tuple[str, str]:
        return f"http://127.0.0.1:{ports.client(index[org_key])}", subsystem_id(
            organisation(org_key)
        )

    window_url, window = via("single-window")
    company_url, company = via("finance-ecosystem")
    civil = subsystem_id(organisation("civil-registration"))
    companies = subsystem_id(organisation("companies-registration"))
    person = f"-H 'X-Road-UserId: IR{PERSON}'"
    read = (
        f"-H 'Content-Type: application/json' "
        f'-d \'{{"query":{{"content":{{"national_code":"{PERSON}"}}}}}}\''
    )
    tax = subsystem_id(organisation("tax"))
    finance = member_id(organisation("finance-ecosystem"))
    post = member_id(organisation("national-post"))
    central = f"http://127.0.0.1:{ports.central}"

    def trqp(entity: str, resource: str) -> str:
        query = (
            f'{{"entity_id":"{entity}","authority_id":"{INSTANCE}","action":"provide",'
            f'"resource":"{resource}"}}'
        )
        return (
            f"curl -s -H 'Content-Type: application/json' -d '{query}' {central}/trqp/authorization"
        )

    finance_code = organisation("finance-ecosystem").member.code
    taxpayer = (
        f"-H 'Content-Type: application/json' "
        f'-d \'{{"query":{{"content":{{"taxpayer_id":"{finance_code}"}}}}}}\''
    )
    return [
        f"curl -s -H 'X-Road-Client: {window}' {person} -H 'X-Road-Purpose: demo' {read} "
        f"{window_url}/r1/{civil}/persons/1.0/read",
        f"curl -s -H 'X-Road-Client: {window}' {person} -H 'X-Road-Purpose: demo' "
        f"'{window_url}/r1/{companies}/companies/1.0?search=%D8%B4%D8%B1%DA%A9%D8%AA&page_size=3'",
        f"curl -s -H 'X-Road-Client: {window}' {person} -H 'X-Road-Purpose: data-tracker' "
        f"{window_url}/r1/{civil}/personal-data-usage/1.0",
        f"curl -s -H 'X-Road-Client: {window}' {window_url}/r1/{civil}/allowedMethods",
        f"curl -s {window_url}/listClients",
        trqp(finance, "cross-border-trade:payment-facilitator"),
        trqp(post, "supply-chain:logistics-tracking-provider"),
        f"curl -s -H 'X-Road-Client: {company}' {person} -H 'X-Road-Purpose: demo' {read} "
        f"{company_url}/r1/{civil}/persons/1.0/read  # refused",
        f"curl -s -H 'X-Road-Client: {company}' {person} -H 'X-Road-Purpose: e-invoicing' "
        f"{taxpayer} {company_url}/r1/{tax}/taxpayers/1.0/read  # refused",
    ]
