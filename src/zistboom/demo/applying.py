"""Applying at the demo's window, end to end up to the hand-over: which seed service each of
the demo's persons applies for (each read from registries that hold their records; the keys a
person types, such as a parcel's plaque, taken from the seed), and the agencies' inboxes the
tasks go to. Each agency that works on those services gets an ``inbox`` subsystem on its
gateway serving the window's task service (asynchronous messages, pulled by the agency's own
system: no backend), open to the window's subsystem, and the window is told
(``zistboom window agency inbox``). Set up once; a re-run keeps it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from zistboom.core import backend
from zistboom.demo.documents import Places, run_command
from zistboom.demo.federation import (
    ORGANISATIONS,
    Organisation,
    member_id,
    organisation,
    subsystem_id,
)
from zistboom.demo.setup import wait_until_offered
from zistboom.registries.seed import national_registries
from zistboom.window.catalogue.definitions import ServiceDefinition
from zistboom.window.catalogue.seed import load_seed
from zistboom.window.settings import WindowSettings

INBOX_SUBSYSTEM: Final = "inbox"
TASK_SERVICE: Final = WindowSettings.model_fields["task_service_code"].default
UNUSED_BACKEND: Final = "http://127.0.0.1:9/unused"
"""The task service's backend: its messages are pulled by the agency's system, never pushed."""
WINDOW_ORGANISATION: Final = "single-window"


@dataclass(frozen=True, slots=True)
class DemoApplication:
    """One of the demo's persons applying for one seed service."""

    role: str
    """The demo person (``demo.window.people()``): director, parent, foreign-national, official."""
    agency: str
    """The service's agency (an organisation key)."""
    service: str
    """The service's code in the catalogue's seed."""
    asked: dict[str, str]
    """The keys the person types for the records read by one (base data index → key)."""

    @property
    def agency_id(self) -> str:
        return member_id(organisation(self.agency))

    @property
    def path(self) -> str:
        """The service's page at the window."""
        return f"/services/{self.agency_id}/{self.service}"

    def definition(self) -> ServiceDefinition:
        return next(d for d in load_seed().services[self.agency_id] if d.code == self.service)

    def first_agencies(self) -> list[Organisation]:
        """The agencies of the first steps: the tasks handed over at submission go to them."""
        steps = [step for step in self.definition().steps if not step.after]
        members = [member for step in steps for member in step.agencies]
        return [_by_member(member) for member in dict.fromkeys(members)]


APPLIED_FOR: Final = (
    ("director", "companies-registration", "business-licence"),
    ("parent", "tax", "tax-clearance"),
    ("foreign-national", "foreign-nationals-bureau", "residence-permit-extension"),
    ("official", "deeds-registration", "single-sheet-deed"),
)
"""Who applies for what (role, the service's agency, its code): the director a company
registration (their civil record, an address by its postal code, the birth-certificate extract
in their locker), the parent a tax clearance (their taxpayer record, with a last clearance),
the foreign national a residence permit extension (their record at the bureau), and the
official a single-sheet deed for a parcel they own (read by its plaque; the deeds registration
and the tax administration each get a task)."""


def applications(official: str) -> list[DemoApplication]:
    """:data:`APPLIED_FOR` with the keys each person types, from the seed: a postal code of
    the addresses registry, and the plaque of a parcel the official (national code
    ``official``) owns."""
    registries = {r.code: r for r in national_registries(size="small")}
    parcel = next(
        p
        for p in registries["land-parcels"].records()
        if any(owner["national_code"] == official for owner in p["owners"])
    )
    address = next(iter(registries["addresses"].records()))
    asked = {
        "business-licence": {"1": str(address["postal_code"])},
        "single-sheet-deed": {"0": str(parcel["parcel_id"])},
    }
    return [
        DemoApplication(role, agency, code, asked.get(code, {}))
        for role, agency, code in APPLIED_FOR
    ]


def _by_member(member: str) -> Organisation:
    return next(org for org in ORGANISATIONS if member_id(org) == member)


def inbox_agencies() -> list[Organisation]:
    """Every agency with a step in the services the demo applies for (its tasks' inbox)."""
    members = [
        member
        for role, agency, code in APPLIED_FOR
        for step in DemoApplication(role, agency, code, {}).definition().steps
        for member in step.agencies
    ]
    return [_by_member(member) for member in dict.fromkeys(members)]


def inbox_subsystem(org: Organisation) -> str:
    return f"{member_id(org)}/{INBOX_SUBSYSTEM}"


def _told_file(window_dir: Path) -> Path:
    return window_dir / "demo-inboxes.json"


async def tell_window(zistboom: str, window_dir: Path) -> None:
    """``zistboom window agency inbox`` for each agency not told yet (kept in a file beside
    the window's settings, so a re-run does not audit it again)."""
    path = _told_file(window_dir)
    told: list[str] = json.loads(path.read_text()) if path.exists() else []
    for org in inbox_agencies():
        if member_id(org) in told:
            continue
        await run_command(
            zistboom, "window", "agency", "inbox", "--data-dir", str(window_dir),
            "--member", member_id(org), "--subsystem", INBOX_SUBSYSTEM,
        )  # fmt: skip
        told.append(member_id(org))
        path.write_text(json.dumps(told, indent=2))


async def open_inbox(places: Places, gateway_dir: Path, org: Organisation) -> None:
    """The agency's ``inbox`` subsystem on its (running) gateway: a client serving the task
    service, open to the window's subsystem; returns once the window's gateway offers it."""
    gateway = backend.Gateway(
        admin_url=places.admin_url(org),
        admin_token_file=str(gateway_dir / "admin-token"),
        subsystem=inbox_subsystem(org),
    )
    window = subsystem_id(organisation(WINDOW_ORGANISATION))
    async with gateway:
        await gateway.ensure_client()
        await gateway.put_service(
            TASK_SERVICE,
            {"backend_url": UNUSED_BACKEND, "description": "The single window's tasks"},
        )
        await gateway.grant(TASK_SERVICE, window)
    window_org = organisation(WINDOW_ORGANISATION)
    await wait_until_offered(
        places.client_url(window_org), window, inbox_subsystem(org), [TASK_SERVICE]
    )


def inbox_call(places: Places, org: Organisation) -> str:
    """The printed curl with which the agency's system lists its inbox on its gateway."""
    return (
        f"curl -s -H 'X-Road-Client: {inbox_subsystem(org)}' "
        f"{places.client_url(org)}/messages/v1/inbox"
    )
