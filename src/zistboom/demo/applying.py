"""Applying at the demo's window, end to end up to the hand-over: which seed service each of
the demo's persons applies for (each read from registries that hold their records; the keys a
person types, such as a parcel's plaque, taken from the seed), and the agencies' inboxes the
tasks go to. Each agency that works on those services gets an ``inbox`` subsystem on its
gateway serving the window's task service (asynchronous messages, pulled by the agency's own
system: no backend), open to the window's subsystem, and the window is told
(``zistboom window agency inbox``). Set up once; a re-run keeps it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
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
from zistboom.demo.window import WINDOW_ORGANISATION
from zistboom.registries.seed import national_registries
from zistboom.window.catalogue.definitions import ServiceDefinition
from zistboom.window.catalogue.seed import load_seed
from zistboom.window.settings import WindowSettings

INBOX_SUBSYSTEM: Final = "inbox"
TASK_SERVICE: Final = WindowSettings.model_fields["task_service_code"].default
UNUSED_BACKEND: Final = "http://127.0.0.1:9/unused"
"""The task service's backend: its messages are pulled by the agency's system, never pushed."""


@dataclass(frozen=True, slots=True)
class DemoApplication:
    """One of the demo's persons applying for one seed service."""

    role: str
    """The demo person (``demo.window.people()``): director, parent, foreign-national, official."""
    agency: Organisation
    """The service's agency."""
    definition: ServiceDefinition
    """The service, as the catalogue's seed defines it."""
    asked: dict[str, str] = field(default_factory=dict)
    """The keys the person types for the records read by one (base data index → key)."""

    @property
    def path(self) -> str:
        """The service's page at the window."""
        return f"/services/{member_id(self.agency)}/{self.definition.code}"

    def first_agencies(self) -> list[Organisation]:
        """The agencies of the first steps: the tasks handed over at submission go to them."""
        steps = [step for step in self.definition.steps if not step.after]
        return _organisations(member for step in steps for member in step.agencies)


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


def applications() -> list[DemoApplication]:
    """:data:`APPLIED_FOR`, each with its service's definition (the seed read once)."""
    seed = load_seed()
    found = []
    for role, key, code in APPLIED_FOR:
        agency = organisation(key)
        definition = next(d for d in seed.services[member_id(agency)] if d.code == code)
        found.append(DemoApplication(role, agency, definition))
    return found


def with_keys(applications: Sequence[DemoApplication], official: str) -> list[DemoApplication]:
    """The applications with the keys each person types, from the seed: a postal code of the
    addresses registry, and the plaque of a parcel the official (national code ``official``)
    owns."""
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
    return [replace(a, asked=asked.get(a.definition.code, {})) for a in applications]


def _organisations(members: Iterable[str]) -> list[Organisation]:
    """The organisations of ``members``, each once, in order."""
    return [
        next(org for org in ORGANISATIONS if member_id(org) == member)
        for member in dict.fromkeys(members)
    ]


def inbox_agencies(applications: Sequence[DemoApplication]) -> list[Organisation]:
    """Every agency with a step in the services applied for (its tasks' inbox)."""
    return _organisations(
        member
        for application in applications
        for step in application.definition.steps
        for member in step.agencies
    )


def inbox_subsystem(org: Organisation) -> str:
    return f"{member_id(org)}/{INBOX_SUBSYSTEM}"


def _told_file(window_dir: Path) -> Path:
    return window_dir / "demo-inboxes.json"


async def tell_window(zistboom: str, window_dir: Path, inboxes: Sequence[Organisation]) -> None:
    """``zistboom window agency inbox`` for each agency of ``inboxes`` not told yet (kept in a
    file beside the window's settings, so a re-run does not audit it again)."""
    path = _told_file(window_dir)
    told: list[str] = json.loads(path.read_text()) if path.exists() else []
    for org in inboxes:
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
    window_gateway = places.client_url(organisation(WINDOW_ORGANISATION))
    await wait_until_offered(window_gateway, window, inbox_subsystem(org), [TASK_SERVICE])


def inbox_call(places: Places, org: Organisation) -> str:
    """The printed curl with which the agency's system lists its inbox on its gateway."""
    return (
        f"curl -s -H 'X-Road-Client: {inbox_subsystem(org)}' "
        f"{places.client_url(org)}/messages/v1/inbox"
    )
