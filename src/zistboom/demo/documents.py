"""The demo's documents: the documents hub, run by the IT authority behind its gateway (its
subsystem ``documents``), and the six issuers of the seeded document types, each run by its
agency behind the agency's gateway (subsystem ``issuer``) with its own document-signing key,
accredited as a document issuer in the type's ecosystem. Each is set up with its own
``zistboom documents … init`` (a one-time ``doc`` enrolment token from central) and runs as its
own process. Once everything serves, the demo issues a few documents to its synthetic persons
and a company, each subject pulled from the agency's base registry through the exchange.

Idempotent: a re-run finds the data directories and the documents and keeps them."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from zistboom.central import ca, operators
from zistboom.central import service as central
from zistboom.central.settings import CentralSettings
from zistboom.core import backend
from zistboom.core.errors import ConfigurationError
from zistboom.demo.federation import (
    ORGANISATIONS,
    PERSON,
    Organisation,
    Ports,
    director,
    member_id,
    organisation,
    subsystem_id,
)
from zistboom.documents.types import DocumentTypeDefinition, load_seed_types

log = logging.getLogger("zistboom.demo.documents")

HUB_ORGANISATION = "it-authority"
HUB_SUBSYSTEM = "documents"
ISSUER_SUBSYSTEM = "issuer"
ISSUERS: dict[str, str] = {
    "civil-registration": "birth-certificate-extract",
    "companies-registration": "business-licence",
    "tax": "tax-clearance",
    "deeds-registration": "land-ownership-deed",
    "foreign-nationals-bureau": "residence-permit",
    "health-insurance": "health-insurance-card",
}
"""Organisation key → the document type it issues."""
RECIPIENTS = ("tax", "finance-ecosystem")
"""Organisations a holder may share a document with (the ``shared-documents`` service)."""


def seed_types() -> dict[str, DocumentTypeDefinition]:
    return {t.code: t for t in load_seed_types()}


def hub_dir(data_dir: Path) -> Path:
    return data_dir / "documents-hub"


def issuer_dir(data_dir: Path, org: Organisation) -> Path:
    return data_dir / f"{org.key}-issuer"


def hub_subsystem() -> str:
    return f"{member_id(organisation(HUB_ORGANISATION))}/{HUB_SUBSYSTEM}"


def issuer_subsystem(org: Organisation) -> str:
    return f"{member_id(org)}/{ISSUER_SUBSYSTEM}"


def extra_subsystems(org: Organisation) -> tuple[str, ...]:
    """The subsystems the documents add to an organisation (beside its own)."""
    if org.key == HUB_ORGANISATION:
        return (HUB_SUBSYSTEM,)
    if org.key in ISSUERS:
        return (ISSUER_SUBSYSTEM,)
    return ()


def is_set_up(data_dir: Path, org: Organisation) -> bool:
    folder = hub_dir(data_dir) if org.key == HUB_ORGANISATION else issuer_dir(data_dir, org)
    return (folder / "doc.pem").exists()


async def seed_central_documents(
    session: AsyncSession, settings: CentralSettings, data_dir: Path
) -> dict[str, str]:
    """The hub's and the issuers' subsystems, and a ``doc`` enrolment token for each of them
    not yet set up (organisation key → token)."""
    tokens: dict[str, str] = {}
    for org in ORGANISATIONS:
        extra = extra_subsystems(org)
        if not extra:
            continue
        member = await central.member_by_id(session, member_id(org), field="member")
        for code in extra:
            if not any(s.code == code for s in member.subsystems):
                await central.add_subsystem(session, member, code, actor=operators.SYSTEM)
        if not is_set_up(data_dir, org):
            _, tokens[org.key] = await ca.create_enrolment_token(
                session,
                settings,
                member=member,
                kind="doc",
                gateway_code=None,
                expires_in_minutes=60,
                actor=operators.SYSTEM,
            )
    return tokens


@dataclass(frozen=True, slots=True)
class Places:
    """Where the documents' components listen, from the demo's port plan."""

    ports: Ports

    def index(self, org: Organisation) -> int:
        return ORGANISATIONS.index(org)

    @property
    def hub_port(self) -> int:
        return self.ports.component(self.index(organisation(HUB_ORGANISATION)), 5)

    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.hub_port}"

    def issuer_port(self, org: Organisation) -> int:
        return self.ports.component(self.index(org), 4)

    def client_url(self, org: Organisation) -> str:
        return f"http://127.0.0.1:{self.ports.client(self.index(org))}"

    def admin_url(self, org: Organisation) -> str:
        return f"http://127.0.0.1:{self.ports.admin(self.index(org))}"


async def run_command(*argv: str) -> None:
    """One ``zistboom`` command; its output is raised with it when it fails."""
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise ConfigurationError(
            f"{' '.join(argv[1:4])} failed ({process.returncode}): "
            f"{output.decode(errors='replace')[-800:]}",
            field="documents",
        )


async def init_hub(
    zistboom: str,
    data_dir: Path,
    places: Places,
    gateway_dir: Path,
    *,
    central_url: str,
    anchor_file: Path,
    token: str | None,
) -> None:
    """``zistboom documents hub init`` (its key enrolled once; its services registered on the
    IT authority's gateway on every run)."""
    org = organisation(HUB_ORGANISATION)
    argv = [
        zistboom, "documents", "hub", "init", "--data-dir", str(hub_dir(data_dir)),
        "--member", member_id(org), "--central-url", central_url, "--anchor", str(anchor_file),
        "--window", subsystem_id(organisation("single-window")),
        "--subsystem", HUB_SUBSYSTEM, "--port", str(places.hub_port),
        "--public-url", places.hub_url, "--gateway-admin-url", places.admin_url(org),
        "--gateway-admin-token-file", str(gateway_dir / "admin-token"),
    ]  # fmt: skip
    if token is not None:
        argv += ["--token", token]
    await run_command(*argv)


async def init_issuer(
    zistboom: str,
    data_dir: Path,
    places: Places,
    org: Organisation,
    gateway_dir: Path,
    *,
    central_url: str,
    anchor_file: Path,
    token: str,
) -> None:
    """``zistboom documents issuer init`` for the agency (once)."""
    registry = seed_types()[ISSUERS[org.key]].registry
    await run_command(
        zistboom, "documents", "issuer", "init", "--data-dir", str(issuer_dir(data_dir, org)),
        "--central-url", central_url, "--anchor", str(anchor_file), "--token", token,
        "--member", member_id(org), "--gateway-url", places.client_url(org),
        "--hub-service", f"{hub_subsystem()}/documents", "--hub-url", places.hub_url,
        "--registry-subsystem", subsystem_id(org) if registry is not None else "",
        "--subsystem", ISSUER_SUBSYSTEM, "--port", str(places.issuer_port(org)),
        "--gateway-admin-url", places.admin_url(org),
        "--gateway-admin-token-file", str(gateway_dir / "admin-token"),
    )  # fmt: skip


async def grant_documents(
    places: Places, gateway_dirs: dict[str, Path], inboxes: Sequence[str] = ()
) -> None:
    """The demo's access rights: issuers deposit at the hub, the window acts for persons, the
    recipients and the agencies' ``inboxes`` (subsystems receiving the window's tasks) fetch
    what is shared with them; each agency's own systems and the window call its issuer; each
    issuer reads the agency's own registry it pulls subjects from."""
    hub_org = organisation(HUB_ORGANISATION)
    hub = backend.Gateway(
        admin_url=places.admin_url(hub_org),
        admin_token_file=str(gateway_dirs[hub_org.key] / "admin-token"),
        subsystem=hub_subsystem(),
    )
    window = subsystem_id(organisation("single-window"))
    async with hub:
        for key in ISSUERS:
            await hub.grant("documents", issuer_subsystem(organisation(key)))
        await hub.grant("lockers", window)
        for key in RECIPIENTS:
            await hub.grant("shared-documents", subsystem_id(organisation(key)))
            await hub.grant("lockers", subsystem_id(organisation(key)))
        for inbox in inboxes:
            await hub.grant("shared-documents", inbox)
    types = seed_types()
    for key, type_code in ISSUERS.items():
        org = organisation(key)
        token_file = str(gateway_dirs[key] / "admin-token")
        issuer = backend.Gateway(
            admin_url=places.admin_url(org), admin_token_file=token_file,
            subsystem=issuer_subsystem(org),
        )  # fmt: skip
        async with issuer:
            await issuer.grant("credentials", subsystem_id(org))
            await issuer.grant("credentials", window)
        registry = types[type_code].registry
        if registry is None:
            continue
        own = backend.Gateway(
            admin_url=places.admin_url(org), admin_token_file=token_file,
            subsystem=subsystem_id(org),
        )  # fmt: skip
        async with own:
            await own.grant(registry.code, issuer_subsystem(org))


@dataclass(frozen=True, slots=True)
class DemoDocument:
    organisation: str
    type_code: str
    subject_id: str
    holder: str


def demo_documents() -> list[DemoDocument]:
    """What the demo issues: the demo person's birth certificate extract and health insurance
    card, the finance company's tax clearance, and its director's birth certificate extract
    (which their company registration at the window needs), each pulled from the issuer's
    registry."""
    company = organisation("finance-ecosystem").member.code
    holder = f"IR{director()}"
    return [
        DemoDocument("civil-registration", "birth-certificate-extract", f"IR{PERSON}",
                     f"IR{PERSON}"),
        DemoDocument("health-insurance", "health-insurance-card", f"IR{PERSON}", f"IR{PERSON}"),
        DemoDocument("tax", "tax-clearance", company, company),
        DemoDocument("civil-registration", "birth-certificate-extract", holder, holder),
    ]  # fmt: skip


def issued_file(data_dir: Path) -> Path:
    return hub_dir(data_dir) / "demo-documents.json"


async def issue_demo_documents(places: Places, data_dir: Path) -> list[dict[str, Any]]:
    """Issue the demo's documents through the exchange (once; a re-run reads what it issued),
    each asked of the agency's issuer by the agency's own system."""
    path = issued_file(data_dir)
    if path.exists():
        kept: list[dict[str, Any]] = json.loads(path.read_text())
        return kept

    async def issue(client: httpx.AsyncClient, wanted: DemoDocument) -> dict[str, Any]:
        org = organisation(wanted.organisation)
        body = {
            "credential": {"documentType": wanted.type_code},
            "options": {"subjectId": wanted.subject_id, "holder": wanted.holder},
        }
        answer = await client.post(
            f"{places.client_url(org)}/r1/{issuer_subsystem(org)}/credentials/issue",
            json=body,
            headers={"X-Road-Client": subsystem_id(org)},
        )
        if answer.status_code != 201:
            raise ConfigurationError(
                f"{org.key} could not issue the demo's {wanted.type_code}: "
                f"{answer.status_code} {answer.text[:400]}",
                field="documents",
            )
        document = answer.json()
        return {
            "type": wanted.type_code,
            "holder": wanted.holder,
            "id": document["id"],
            "vc_jwt": document["verifiableCredential"]["id"].split(",", 1)[1],
            "qr": document["qr"],
            "pull_link": document["pullLink"],
        }

    # Each by its own issuer, at once: rendering and signing the PDFs is most of the time.
    async with httpx.AsyncClient(timeout=180) as client:
        issued = list(await asyncio.gather(*(issue(client, wanted) for wanted in demo_documents())))
    path.write_text(json.dumps(issued, ensure_ascii=False, indent=2))
    return issued


async def wait_until_issuers_offered(places: Places, *, within: float = 60.0) -> None:
    """Until every agency's gateway offers its own system the issuer's service."""
    deadline = asyncio.get_running_loop().time() + within
    async with httpx.AsyncClient(timeout=10) as client:
        for key in ISSUERS:
            org = organisation(key)
            while True:
                answer = await client.get(
                    f"{places.client_url(org)}/r1/{issuer_subsystem(org)}/allowedMethods",
                    headers={"X-Road-Client": subsystem_id(org)},
                )
                if answer.status_code == 200 and any(
                    s.get("service_code") == "credentials" for s in answer.json().get("service", [])
                ):
                    break
                if asyncio.get_running_loop().time() > deadline:
                    raise ConfigurationError(
                        f"{key}'s gateway did not offer its issuer within {within:.0f} s: "
                        f"{answer.status_code} {answer.text[:200]}",
                        field="documents",
                    )
                await asyncio.sleep(0.2)


def verify_call(places: Places, document: dict[str, Any]) -> str:
    """The printed curl that verifies a demo document at the hub (VC API)."""
    body = json.dumps({"verifiableCredential": document["vc_jwt"]})
    return (
        f"curl -s -H 'Content-Type: application/json' -d '{body}' "
        f"{places.hub_url}/credentials/verify"
    )
