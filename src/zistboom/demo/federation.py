"""What the demo federation of instance IR-DEMO is made of: its organisations, their
subsystems, the ports every component listens on, and the calls the demo prints."""

from __future__ import annotations

from dataclasses import dataclass

from zistboom.central import service

INSTANCE = "IR-DEMO"
PERSON = "0499370899"  # synthetic, with a valid check digit
GATEWAY_CODE = "gw1"


@dataclass(frozen=True, slots=True)
class Organisation:
    key: str
    member: service.MemberInput
    subsystem: str


# Synthetic organisations (legal-entity IDs generated with valid check digits).
ORGANISATIONS = (
    Organisation(
        "it-authority",
        service.MemberInput(
            "GOV", "10380284790", "سازمان فناوری اطلاعات ایران",
            "Information Technology Organization of Iran", "agency",
        ),
        "portal",
    ),
    Organisation(
        "civil-registration",
        service.MemberInput(
            "GOV", "12147922321", "سازمان ثبت احوال کشور",
            "National Organization for Civil Registration", "agency",
        ),
        "population-registry",
    ),
    Organisation(
        "tax",
        service.MemberInput(
            "GOV", "60711446972", "سازمان امور مالیاتی کشور",
            "Iranian National Tax Administration", "agency",
        ),
        "tax-services",
    ),
    Organisation(
        "companies-registration",
        service.MemberInput(
            "GOV", "16394841376", "اداره ثبت شرکت‌ها", "Companies Registration Office", "agency",
        ),
        "company-registry",
    ),
    Organisation(
        "single-window",
        service.MemberInput(
            "PUB", "15222078494", "اپراتور پنجره واحد خدمات", "Single Service Window Operator",
            "public-body",
        ),
        "window",
    ),
    Organisation(
        "finance-ecosystem",
        service.MemberInput(
            "COM", "88135404915", "شرکت زیست‌بوم مالی نمونه", "Sample Finance Ecosystem Company",
            "ecosystem-operator",
        ),
        "finance-platform",
    ),
)  # fmt: skip
PROVIDER = "civil-registration"
ALLOWED = ("single-window", "tax")
SERVICE_CODE = "persons"


def member_id(org: Organisation) -> str:
    return f"{INSTANCE}/{org.member.member_class}/{org.member.code}"


def subsystem_id(org: Organisation) -> str:
    return f"{member_id(org)}/{org.subsystem}"


def organisation(key: str) -> Organisation:
    return next(org for org in ORGANISATIONS if org.key == key)


@dataclass(frozen=True, slots=True)
class Ports:
    """Central on the base port, the population backend next to it, then ten ports for each
    organisation's gateway, in the order of :data:`ORGANISATIONS`."""

    base: int

    @property
    def central(self) -> int:
        return self.base

    @property
    def backend(self) -> int:
        return self.base + 1

    def client(self, index: int) -> int:
        return self.base + 10 + 10 * index

    def peer(self, index: int) -> int:
        return self.base + 11 + 10 * index

    def admin(self, index: int) -> int:
        return self.base + 12 + 10 * index


def demo_calls(ports: Ports) -> list[str]:
    """The copy-paste calls the demo prints (the last one is refused by access rights)."""
    index = {org.key: i for i, org in enumerate(ORGANISATIONS)}
    provider = organisation(PROVIDER)
    service_path = f"{subsystem_id(provider)}/{SERVICE_CODE}"

    def via(org_key: str) -> tuple[str, str]:
        return f"http://127.0.0.1:{ports.client(index[org_key])}", subsystem_id(
            organisation(org_key)
        )

    window_url, window = via("single-window")
    tax_url, tax = via("tax")
    company_url, company = via("finance-ecosystem")
    return [
        f"curl -s -H 'X-Road-Client: {window}' {window_url}/r1/{service_path}/persons/{PERSON}",
        f"curl -s -H 'X-Road-Client: {tax}' {tax_url}/r1/{service_path}/persons/{PERSON}",
        f"curl -s -H 'X-Road-Client: {window}' "
        f"{window_url}/r1/{subsystem_id(provider)}/allowedMethods",
        f"curl -s {window_url}/listClients",
        f"curl -s -H 'X-Road-Client: {company}' "
        f"{company_url}/r1/{service_path}/persons/{PERSON}  # refused",
    ]
