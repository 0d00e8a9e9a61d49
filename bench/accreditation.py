"""The accreditation benchmark: what trust-registry queries cost, and what an accreditation
requirement on an access right costs the exchange.

In one run, with real processes set up as an operator would (``zistboom central serve``,
``zistboom gateway init`` with enrolment tokens, the management CLI, ``zistboom gateway serve``):

1. **TRQP authorization queries** (``POST /trqp/authorization``, ZB-STD-007 §11) against central
   whose trust list holds 10,000 accreditations with history across the seeded schemes
   (``zistboom.accreditation.seed.seed_schemes``, published well before any of them): most
   granted and in force; a share suspended and reinstated (half of them suspended over the
   past moment asked about); some still suspended; some revoked (a few after a suspension);
   a few expired by their ``valid_until``; a few granted after the past moment. Members are
   synthetic legal-entity identifiers (``generate_legal_entity_id``) of classes COM, GOV and
   NGO; scopes are member, subsystem and service. The queries rotate over a fixed list of
   (entity, resource) pairs mixing yes and no (covered entities under their scheme, entities
   above a subsystem- or service-scoped subject, schemes the member holds nothing under), asked
   two ways: ``context.time`` absent (now) and a past ``context.time`` inside the histories.
   For each it measures queries per second at saturation (``--workers`` in flight for
   ``--duration`` seconds after a ``--warmup``) with p50/p99, and p50/p99 one at a time
   (``--sequential`` queries).

   **The bench's shortcut**: the 10,000 accreditations are written straight into central's
   database, after ``zistboom.central.app.prepare`` has made it and before central starts, by
   SQLAlchemy inserts of the accreditation tables (``models.Application`` — an accreditation
   names the application it was granted on — with its ``submitted`` and ``decided`` events,
   ``models.Accreditation`` and ``models.AccreditationEvent``), because the procedure's API
   (application, evidence for every criterion, review, decision, then each suspension,
   reinstatement and revocation, each change re-issuing the whole signed list) would take
   minutes for 10,000. No audit records, evidence files, reviews or decisions are written for
   them; the trust list is built from these tables as from any others. Before timing, the
   published list (``GET /trust-list``, verified by the core reader with the trust-list key)
   must list exactly these 10,000 with their histories, and the first queries of each list must
   answer what the histories say (some yes, some no: the bench computes each answer itself).

2. **The exchange with and without an accreditation requirement**: load generator → gateway A
   (client port) → gateway B (peer port, mutual TLS, signatures, durable message log) → the bench
   backend of ``bench/exchange.py``, its GET shape (1 KiB of JSON), for two services of B on that
   same backend: ``open``, whose access right has no requirement, and ``accredited``, whose
   right requires an accreditation the client member holds (``--require-accreditation
   land:cadastral-surveyor:substantial``), granted through central's API as the procedure does
   (scheme, assessor key and authority, application, evidence, review, decision; the seeded
   scheme, the member at level substantial). After a warm-up of each path (twice
   ``--warmup``), three saturation runs of each (``--workers`` in flight for ``--duration``
   seconds, each after its own warm-up), alternating in the same run in the order open,
   accredited, accredited, open, open, accredited; the medians, and the requirement's cost in
   percent of the open throughput (target at most 5 %). Before timing, the accredited service
   must answer 200 (gateway B takes the trust list that names the accreditation with its
   configuration: polled with a deadline), and a
   second client subsystem on gateway A, of a hosted member that holds no accreditation, must
   be refused with ``Server.ServerProxy.AccreditationRequired`` naming the requirement.

It prints the machine line, a table of each part, the target with PASS/FAIL, and as its last
line ``trqp_rps=<n> trqp_past_rps=<n> exchange_rps=<n> exchange_accredited_rps=<n>
requirement_cost_pct=<x.x>``. ``--quick``: SQLite everywhere and short runs. The full run:
PostgreSQL for central and the gateways (fresh databases, dropped at the end), as
``bench/exchange.py`` does, whose Federation (processes, set-up steps, teardown) this reuses
(imported: this script's folder is first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import os
import platform
import random
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path

import aiohttp
import exchange as xb
import httpx
import orjson
import uvloop
from multidict import CIMultiDict
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession
from yarl import URL

from zistboom.accreditation import repository
from zistboom.accreditation.models import (
    Accreditation,
    AccreditationEvent,
    Application,
    ApplicationEvent,
)
from zistboom.accreditation.seed import seed_schemes
from zistboom.central.app import prepare
from zistboom.central.operators import SYSTEM
from zistboom.central.settings import CentralSettings
from zistboom.core.crypto.keys import public_key_fingerprint
from zistboom.core.database import transaction, utc_now
from zistboom.core.iran import generate_legal_entity_id
from zistboom.core.trustlist import verify_trust_list

INSTANCE = "IR-DEMO"
ACCREDITATIONS = 10_000
MEMBERS = 4_000
"""Synthetic members the accreditations are spread over (two or three each on average)."""
QUERIES = 256
"""(entity, resource) pairs each query list rotates over."""
CHECKED = 48
"""Queries of each list checked against the histories before timing."""
PAST = timedelta(days=90)
"""How long before now the past ``context.time`` is: inside the histories."""
SCHEMES_PUBLISHED = timedelta(days=5 * 365)
"""How long ago the seeded schemes are published: before any accreditation."""
ACC_API = "/api/v1/accreditation"
CLIENT_RESOURCE = ("land", "cadastral-surveyor")
CLIENT_LEVEL = "substantial"
REQUIREMENT = f"{CLIENT_RESOURCE[0]}:{CLIENT_RESOURCE[1]}:{CLIENT_LEVEL}"
REFUSAL = "Server.ServerProxy.AccreditationRequired"
COST_TARGET_PCT = 5.0
RUNS = 3
SERVICES = ("open", "accredited")
STORIES = {
    # story: share of the 10,000
    "granted": 0.55,
    "suspended-reinstated": 0.09,
    "suspended-over-the-past-moment": 0.09,
    "suspended": 0.08,
    "revoked": 0.08,
    "suspended-revoked": 0.03,
    "expired": 0.04,
    "granted-after-the-past-moment": 0.04,
}
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# --- the synthetic trust list -----------------------------------------------------------------


@dataclass(frozen=True)
class Scheme:
    id: int
    code: str
    resource: str
    levels: tuple[str, ...]
    validity: timedelta


@dataclass(frozen=True)
class Change:
    status: str
    at: datetime
    reason: str


@dataclass
class Synthetic:
    """One accreditation as the bench writes it, and what its history says at a time."""

    scheme: Scheme
    member: str
    scope: str
    subject: str
    level: str
    valid_from: datetime
    valid_until: datetime
    story: str
    history: tuple[Change, ...]
    id: int = 0

    def active_at(self, at: datetime) -> bool:
        """ZB-STD-007 §5.3, written out again: the last change at or before ``at``."""
        last = None
        for change in self.history:
            if change.at > at:
                break
            last = change
        if last is None or at < self.valid_from:
            return False
        if last.status in ("suspended", "revoked", "withdrawn"):
            return False
        return at < self.valid_until

    def covers(self, entity: str) -> bool:
        if entity == self.subject:
            return True
        return self.scope != "service" and entity.startswith(self.subject + "/")


def _between(rng: random.Random, low: datetime, high: datetime) -> datetime:
    moment = low + (high - low) * rng.random()
    return moment.replace(microsecond=0)


def _story_history(
    rng: random.Random, story: str, validity: timedelta, now: datetime, past: datetime
) -> tuple[datetime, datetime, tuple[Change, ...]]:
    """(valid_from, valid_until, history) for one story; every change before now."""
    if story == "expired":  # granted once, its validity ended between the past moment and now
        until = _between(rng, past + DAY, now - DAY)
        granted = until - validity
    elif story == "granted-after-the-past-moment":
        granted = _between(rng, past + DAY, now - 5 * DAY)
        until = granted + validity
    else:  # in force well before the past moment, valid beyond now
        granted = _between(rng, now - validity + 30 * DAY, past - 10 * DAY)
        until = granted + validity
    changes = [Change("granted", granted, "every criterion is met (synthetic)")]
    suspend = "overdue evidence of the annual audit (synthetic)"
    reinstate = "the audit evidence was provided (synthetic)"
    revoke = "a breach of the scheme's criteria (synthetic)"
    if story == "suspended-reinstated":
        suspended = _between(rng, granted + HOUR, granted + (past - granted) / 2)
        changes += [
            Change("suspended", suspended, suspend),
            Change("reinstated", _between(rng, suspended + HOUR, past - HOUR), reinstate),
        ]
    elif story == "suspended-over-the-past-moment":
        suspended = _between(rng, max(granted + HOUR, past - 30 * DAY), past - HOUR)
        changes += [
            Change("suspended", suspended, suspend),
            Change("reinstated", _between(rng, past + HOUR, now - HOUR), reinstate),
        ]
    elif story == "suspended":
        changes.append(Change("suspended", _between(rng, granted + HOUR, now - HOUR), suspend))
    elif story == "revoked":
        changes.append(Change("revoked", _between(rng, granted + HOUR, now - HOUR), revoke))
    elif story == "suspended-revoked":
        suspended = _between(rng, granted + HOUR, granted + (now - granted) / 2)
        changes += [
            Change("suspended", suspended, suspend),
            Change("revoked", _between(rng, suspended + HOUR, now - HOUR), revoke),
        ]
    return granted, until, tuple(changes)


def synthesise(schemes: Sequence[Scheme], now: datetime, past: datetime) -> list[Synthetic]:
    """The 10,000, deterministic for a given ``now``: a (member, scheme) pair at most once."""
    rng = random.Random(1404)
    members = []
    for number in range(MEMBERS):
        member_class = ("COM", "COM", "COM", "GOV", "NGO")[number % 5]
        members.append(f"{INSTANCE}/{member_class}/{generate_legal_entity_id(rng)}")
    stories = list(STORIES)
    weights = list(STORIES.values())
    taken: set[tuple[str, str]] = set()
    made: list[Synthetic] = []
    while len(made) < ACCREDITATIONS:
        member, scheme = rng.choice(members), rng.choice(schemes)
        if (member, scheme.code) in taken:
            continue
        taken.add((member, scheme.code))
        scope = rng.choices(("member", "subsystem", "service"), (0.7, 0.2, 0.1))[0]
        subject = {
            "member": member,
            "subsystem": f"{member}/portal",
            "service": f"{member}/portal/{scheme.resource.split(':')[1]}",
        }[scope]
        story = rng.choices(stories, weights)[0]
        granted, until, history = _story_history(rng, story, scheme.validity, now, past)
        made.append(
            Synthetic(
                scheme, member, scope, subject, rng.choice(scheme.levels), granted, until,
                story, history,
            )
        )  # fmt: skip
    return made


async def write_population(session: AsyncSession, population: list[Synthetic]) -> None:
    """Bulk inserts: the applications, their events, the accreditations, theirs."""
    applications = [
        {
            "scheme_id": a.scheme.id,
            "member": a.member,
            "level": a.level,
            "scope": a.scope,
            "subject": a.subject,
            "statement": "synthetic application (accreditation benchmark)",
            "status": "decided",
            "created_at": a.valid_from - 14 * DAY,
        }
        for a in population
    ]
    application_ids = list(
        await session.scalars(
            insert(Application).returning(Application.id, sort_by_parameter_order=True),
            applications,
        )
    )
    await session.execute(
        insert(ApplicationEvent),
        [
            {"application_id": number, "status": status, "at": at, "actor": SYSTEM.actor,
             "note": note}
            for number, a in zip(application_ids, population, strict=True)
            for status, at, note in (
                ("submitted", a.valid_from - 14 * DAY, "synthetic"),
                ("decided", a.valid_from, "granted (synthetic)"),
            )
        ],
    )  # fmt: skip
    accreditation_ids = list(
        await session.scalars(
            insert(Accreditation).returning(Accreditation.id, sort_by_parameter_order=True),
            [
                {
                    "scheme_id": a.scheme.id,
                    "member": a.member,
                    "scope": a.scope,
                    "subject": a.subject,
                    "level": a.level,
                    "valid_from": a.valid_from,
                    "valid_until": a.valid_until,
                    "conditions": [],
                    "application_id": number,
                }
                for number, a in zip(application_ids, population, strict=True)
            ],
        )
    )
    for number, accreditation in zip(accreditation_ids, population, strict=True):
        accreditation.id = number
    await session.execute(
        insert(AccreditationEvent),
        [
            {"accreditation_id": a.id, "status": c.status, "at": c.at, "actor": SYSTEM.actor,
             "reason": c.reason}
            for a in population
            for c in a.history
        ],
    )  # fmt: skip


@dataclass
class Loaded:
    admin_key: str
    trust_list_key: str
    """Fingerprint of central's trust-list key."""
    schemes: list[Scheme]
    population: list[Synthetic]


async def load(settings: CentralSettings, now: datetime, past: datetime) -> Loaded:
    """Make central's database as its first start would (``prepare``), publish the seeded
    schemes as of long ago, and write the 10,000 accreditations into it."""
    prepared = await prepare(settings)
    try:
        if prepared.first_admin_key is None:
            raise xb.SetUpFailed("central's database was not fresh: it has an admin key already")
        async with transaction(prepared.sessions) as session:
            await seed_schemes(session, at=now - SCHEMES_PUBLISHED)
        async with transaction(prepared.sessions) as session:
            schemes = [
                Scheme(s.id, s.code, s.resource, tuple(s.levels), timedelta(days=s.validity_days))
                for s in await repository.list_schemes(session)
                # The queries ask to "provide"; document-issuer schemes grant "issue" instead.
                if "provide" in s.actions
            ]
            population = synthesise(schemes, now, past)
            await write_population(session, population)
        fingerprint = public_key_fingerprint(prepared.keys.trust_list_key.public_key())
        return Loaded(prepared.first_admin_key, fingerprint, schemes, population)
    finally:
        await prepared.engine.dispose()


# --- the queries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    entity: str
    resource: str
    body: bytes
    expected: bool
    expected_id: str | None


def expectation(
    held: list[Synthetic], entity: str, resource: str, at: datetime
) -> tuple[bool, str | None]:
    """What the histories say: yes with the accreditation's id, or no."""
    for accreditation in held:
        if accreditation.scheme.resource != resource or not accreditation.covers(entity):
            continue
        if accreditation.active_at(at):
            return True, f"acc-{accreditation.id}"
    return False, None


def query_lists(
    population: list[Synthetic], schemes: list[Scheme], now: datetime, past: datetime
) -> dict[str, list[Query]]:
    """The same (entity, resource) pairs, asked now and at the past moment."""
    rng = random.Random(1405)
    by_member: dict[str, list[Synthetic]] = defaultdict(list)
    for accreditation in population:
        by_member[accreditation.member].append(accreditation)
    pairs: list[tuple[str, str]] = []
    for _ in range(QUERIES):
        accreditation = rng.choice(population)
        roll = rng.random()
        if roll < 0.80:  # an entity it covers, under its scheme
            below = {"member": "/portal", "subsystem": "/records", "service": ""}
            entity = accreditation.subject + rng.choice(("", below[accreditation.scope]))
            pairs.append((entity, accreditation.scheme.resource))
        elif roll < 0.92:  # a scheme the member holds nothing under
            held = {a.scheme.code for a in by_member[accreditation.member]}
            other = rng.choice([s for s in schemes if s.code not in held])
            pairs.append((accreditation.member + "/portal", other.resource))
        elif accreditation.scope != "member":  # above its subject: not covered
            pairs.append((accreditation.member, accreditation.scheme.resource))
        else:  # a member the list does not know
            stranger = f"{INSTANCE}/COM/{generate_legal_entity_id(rng)}"
            pairs.append((stranger, accreditation.scheme.resource))
    lists: dict[str, list[Query]] = {}
    for name, at, context in (("now", now, None), ("past", past, {"time": _iso(past)})):
        queries = []
        for entity, resource in pairs:
            member = "/".join(entity.split("/")[:3])
            expected, expected_id = expectation(by_member.get(member, []), entity, resource, at)
            body: dict[str, object] = {
                "entity_id": entity,
                "authority_id": INSTANCE,
                "action": "provide",
                "resource": resource,
            }
            if context is not None:
                body["context"] = context
            queries.append(Query(entity, resource, orjson.dumps(body), expected, expected_id))
        lists[name] = queries
    return lists


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- the processes ------------------------------------------------------------------------------


@dataclass
class Accredited(xb.Federation):
    """Central with the 10,000, then gateways A (the client member, and a hosted member that
    holds no accreditation) and B (the provider's services ``open`` and ``accredited`` on the
    bench backend), as processes (bench/exchange.py's Federation, set up differently)."""

    loaded: Loaded | None = None
    now: datetime = field(default_factory=utc_now)
    other_id: str = ""
    client_accreditation: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def past(self) -> datetime:
        return (self.now - PAST).replace(microsecond=0)

    def _start_central(self) -> None:
        """Prepare central's database, write the 10,000 into it, then serve it."""
        began = time.monotonic()
        port = xb.free_port()
        env = self.base_env()
        env["ZB_CONF_REFRESH_SECONDS"] = "1"  # as bench/exchange.py: gateways see each other
        url = self.new_database("central")
        if url:
            env["ZB_DATABASE_URL"] = url
        data_dir = self.root / "central"
        settings = CentralSettings(data_dir=data_dir, database_url=url, port=port)
        self.loaded = asyncio.run(load(settings, self.now, self.past))
        self.admin_key = self.loaded.admin_key
        self.timings["written"] = time.monotonic() - began
        central = self.spawn(
            "central",
            [xb.ZISTBOOM, "central", "serve", "--data-dir", str(data_dir), "--port", str(port)],
            env,
        )
        self.central_url = f"http://127.0.0.1:{port}"
        self.wait_http(central, f"{self.central_url}/health", seconds=300)
        self.timings["central"] = time.monotonic() - began

    def start(self) -> None:
        self._start_central()

    def start_exchange(self, say: Callable[[str], None]) -> None:
        assert self.loaded is not None
        began = time.monotonic()
        client_member = self._add_member("Bench client agency", "client")
        provider_member = self._add_member("Bench registry agency", "registry")
        other_member = self._add_member("Bench unaccredited agency", "client")
        self.client_id = f"{client_member}/client"
        self.provider_id = f"{provider_member}/registry"
        self.other_id = f"{other_member}/client"
        a = self._register_gateway("a", client_member)
        b = self._register_gateway("b", provider_member)
        sign_token = self._host(a, other_member)
        # The client member's accreditation through central's API, beside the gateways' set-up
        # (each step re-issues the 10,000-entry list); the gateways start once it is granted.
        accrediting: list[str | BaseException] = []

        def accredit_client() -> None:
            try:
                accrediting.append(self._accredit(client_member))
            except BaseException as error:  # handed to the main thread, which raises it
                accrediting.append(error)

        worker = threading.Thread(target=accredit_client, name="accredit", daemon=True)
        worker.start()
        port = xb.free_port()
        backend = self.spawn("backend", [sys.executable, xb.__file__, "--backend", str(port)])
        self.backend_url = f"http://127.0.0.1:{port}"
        self._init_gateways([a, b])
        grant = [self.provider_id, "accredited"]
        chains = {
            a: [
                self._cli(a, "member", "add", "--member", other_member, "--token", sign_token),
                self._cli(a, "client", "add", self.client_id),
                self._cli(a, "client", "add", self.other_id),
            ],
            b: [
                self._cli(b, "client", "add", self.provider_id),
                self._cli(b, "service", "add", self.provider_id, "open", self.backend_url),
                self._cli(b, "service", "add", self.provider_id, "accredited", self.backend_url),
                self._cli(b, "access", "grant", self.provider_id, "open", self.client_id),
                self._cli(b, "access", "grant", *grant, self.client_id,
                          "--require-accreditation", REQUIREMENT),
                self._cli(b, "access", "grant", *grant, self.other_id,
                          "--require-accreditation", REQUIREMENT),
            ],
        }  # fmt: skip
        with ThreadPoolExecutor(len(chains)) as pool:
            list(pool.map(lambda g: self._configure(g, chains[g]), chains))
        worker.join(timeout=600)
        outcome = accrediting[0] if accrediting else xb.SetUpFailed("accrediting took over 600 s")
        if isinstance(outcome, BaseException):
            raise outcome
        self.client_accreditation = outcome
        self.timings["accredited"] = time.monotonic() - began
        say(
            f"  {client_member} accredited through central's API: {outcome} ({REQUIREMENT}), "
            f"after {self.timings['accredited']:.1f} s"
        )
        served = [
            self.spawn(
                f"gateway-{g.name}",
                [xb.ZISTBOOM, "gateway", "serve", "--data-dir", str(g.data_dir)],
                g.env,
            )
            for g in (a, b)
        ]
        self.wait_http(backend, f"{self.backend_url}/health")
        for process, gateway in zip(served, (a, b), strict=True):
            self.wait_http(process, f"{gateway.url}/health", seconds=120)
        self.timings["exchange"] = time.monotonic() - began

    def _configure(self, gateway: xb.Gateway, commands: list[list[str]]) -> None:
        for command in commands:
            self.run_all(
                {f"gateway {gateway.name}: {' '.join(command[2:4])}": (command, gateway.env)}
            )

    def _host(self, gateway: xb.Gateway, member_id: str) -> str:
        """Let ``gateway`` host ``member_id`` (central's record, then a 'sign' token for it)."""
        _, member_class, code = gateway.member_id.split("/")
        with self._admin() as admin:
            hosted = admin.post(
                f"/api/v1/members/{member_class}/{code}/gateways/gw1/hosted-members",
                json={"member_id": member_id},
            )
            xb.expect(hosted, 201, f"hosting {member_id} on gateway {gateway.name}")
            token = admin.post(
                "/api/v1/enrolment-tokens", json={"member_id": member_id, "kind": "sign"}
            )
            xb.expect(token, 201, f"issuing a sign token for {member_id}")
        secret: str = token.json()["token"]
        return secret

    def _api_key(self, role: str, member_id: str) -> tuple[str, str]:
        with self._admin() as admin:
            made = admin.post(
                "/api/v1/api-keys", json={"name": f"bench {role}", "role": role,
                                          "member_id": member_id},
            )  # fmt: skip
            xb.expect(made, 201, f"creating a {role} key")
        return str(made.json()["key_id"]), str(made.json()["secret"])

    def _keyed(self, secret: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.central_url, headers={"Authorization": f"Bearer {secret}"}, timeout=120
        )

    def _accredit(self, member_id: str) -> str:
        """The procedure through central's API, as tests/accreditation do: an assessor of
        another member, authorised under the scheme, reviews the member's application with its
        evidence and grants it. Returns the accreditation's id."""
        assert self.loaded is not None
        resource = ":".join(CLIENT_RESOURCE)
        scheme = next(s for s in self.loaded.schemes if s.resource == resource).code
        assessor_member = self._add_member_of("COM", "Bench assessment body")
        assessor_key, assessor_secret = self._api_key("assessor", assessor_member)
        _, applicant_secret = self._api_key("member", member_id)
        with self._admin() as admin:
            granted = admin.post(
                f"{ACC_API}/assessors",
                json={"key_id": assessor_key, "scheme": scheme, "depth": 0,
                      "reason": "appointed for the benchmark"},
            )  # fmt: skip
            xb.expect(granted, 201, "authorising the assessor")
            criteria = [c["code"] for c in admin.get(f"{ACC_API}/schemes/{scheme}").json()
                        ["criteria"]]  # fmt: skip
        with self._keyed(applicant_secret) as applicant, self._keyed(assessor_secret) as assessor:
            submitted = applicant.post(
                f"{ACC_API}/applications",
                json={"scheme": scheme, "member_id": member_id, "level": CLIENT_LEVEL,
                      "scope": "member", "subject": member_id},
            )  # fmt: skip
            xb.expect(submitted, 201, "submitting the application")
            application = submitted.json()["id"]
            for criterion in criteria:
                uploaded = applicant.post(
                    f"{ACC_API}/applications/{application}/evidence",
                    params={"criterion": criterion, "filename": f"{criterion}.pdf"},
                    content=f"%PDF-1.7 evidence for {criterion}".encode(),
                    headers={"Content-Type": "application/pdf"},
                )
                xb.expect(uploaded, 201, f"attaching evidence for {criterion}")
            started = assessor.post(f"{ACC_API}/applications/{application}/start-review", json={})
            xb.expect(started, 200, "starting the review")
            for criterion in criteria:
                reviewed = assessor.post(
                    f"{ACC_API}/applications/{application}/criteria/{criterion}/review",
                    json={"outcome": "met"},
                )
                xb.expect(reviewed, 201, f"reviewing {criterion}")
            decided = assessor.post(
                f"{ACC_API}/applications/{application}/decision",
                json={"outcome": "granted", "reasons": "every criterion is met"},
            )
            xb.expect(decided, 201, "deciding the application")
        return str(decided.json()["decision"]["accreditation"])

    def _add_member_of(self, member_class: str, name: str) -> str:
        code = generate_legal_entity_id(random.Random())
        with self._admin() as admin:
            created = admin.post(
                "/api/v1/members",
                json={"member_class": member_class, "code": code, "name_fa": name,
                      "name_en": name, "kind": "company"},
            )  # fmt: skip
            xb.expect(created, 201, f"creating member {name}")
        member_id: str = created.json()["id"]
        return member_id


# --- the load -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    url: URL
    body: bytes | None
    headers: dict[str, str]


class Load:
    """Requests rotating over a fixed list, through one keep-alive pool."""

    def __init__(self, session: aiohttp.ClientSession, calls: list[Call]) -> None:
        self.session = session
        self.calls = calls
        self.next = itertools.cycle(range(len(calls)))

    async def one(self, index: int | None = None) -> tuple[int, bytes, CIMultiDict[str], str]:
        call = self.calls[next(self.next) if index is None else index]
        try:
            async with self.session.request(
                call.method, call.url, data=call.body, headers=call.headers
            ) as answer:
                return answer.status, await answer.read(), CIMultiDict(answer.headers), ""
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            return 0, b"", CIMultiDict(), f"{type(error).__name__}: {error}"

    async def ok(self) -> tuple[bool, str]:
        status, body, _, problem = await self.one()
        if status == 200:
            return True, ""
        return False, problem or f"{status}: {body[:300]!r}"

    async def saturate(self, workers: int, seconds: float) -> xb.Sample:
        latencies: list[int] = []
        errors = 0
        first_error = ""
        started = time.perf_counter_ns()
        deadline = started + int(seconds * 1e9)

        async def worker() -> None:
            nonlocal errors, first_error
            while (begun := time.perf_counter_ns()) < deadline:
                ok, problem = await self.ok()
                if ok:
                    latencies.append(time.perf_counter_ns() - begun)
                else:
                    errors += 1
                    first_error = first_error or problem
                    await asyncio.sleep(0.01)  # a failing path must not spin the loop

        await asyncio.gather(*(worker() for _ in range(workers)))
        return xb.Sample(latencies, errors, time.perf_counter_ns() - started, first_error)

    async def one_at_a_time(self, count: int) -> xb.Sample:
        latencies: list[int] = []
        errors = 0
        first_error = ""
        started = time.perf_counter_ns()
        for _ in range(count):
            begun = time.perf_counter_ns()
            ok, problem = await self.ok()
            if ok:
                latencies.append(time.perf_counter_ns() - begun)
            else:
                errors += 1
                first_error = first_error or problem
        return xb.Sample(latencies, errors, time.perf_counter_ns() - started, first_error)


def client_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=60),
        timeout=aiohttp.ClientTimeout(total=60),
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )


@dataclass(frozen=True)
class Plan:
    workers: int
    duration: float
    warmup: float
    sequential: int
    exchange_duration: float
    exchange_warmup: float
    """Before each exchange run; each path is first warmed up for twice ``warmup``."""


# --- part 1: TRQP ---------------------------------------------------------------------------


def check_trust_list(federation: Accredited, say: Callable[[str], None]) -> int:
    """The published list, verified by the core reader, lists exactly the 10,000 with their
    histories. Returns its sequence number."""
    assert federation.loaded is not None
    answer = httpx.get(f"{federation.central_url}/trust-list", timeout=60)
    if answer.status_code != 200:
        raise xb.SetUpFailed(f"GET /trust-list answered {answer.status_code}: {answer.text[:300]}")
    token = answer.text
    listed = verify_trust_list(
        token, key_fingerprint=federation.loaded.trust_list_key, instance=INSTANCE, now=utc_now()
    )
    population = federation.loaded.population
    changes = Counter(c.status for a in population for c in a.history)
    listed_changes = Counter(c.status for a in listed.accreditations for c in a.history)
    if len(listed.accreditations) != ACCREDITATIONS or listed_changes != changes:
        raise xb.SetUpFailed(
            f"the trust list lists {len(listed.accreditations)} accreditations with changes "
            f"{dict(listed_changes)}, not {ACCREDITATIONS} with {dict(changes)}"
        )
    expected = {f"acc-{a.id}" for a in population}
    if {a.id for a in listed.accreditations} != expected:
        raise xb.SetUpFailed("the trust list lists other accreditations than those written")
    size = len(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    say(
        f"  trust list {listed.sequence}: {len(listed.accreditations):,} accreditations under "
        f"{len(listed.schemes)} schemes, {sum(changes.values()):,} status changes "
        f"({', '.join(f'{n:,} {s}' for s, n in sorted(changes.items()))}); payload "
        f"{size / 1e6:.1f} MB; verified with the trust-list key"
    )
    stories = Counter(a.story for a in population)
    say("  histories: " + ", ".join(f"{n:,} {s}" for s, n in stories.most_common()))
    return listed.sequence


def trqp_calls(base: str, queries: list[Query]) -> list[Call]:
    url = URL(f"{base}/trqp/authorization")
    headers = {"Content-Type": "application/json"}
    return [Call("POST", url, q.body, headers) for q in queries]


async def check_queries(
    session: aiohttp.ClientSession, base: str, lists: dict[str, list[Query]], sequence: int
) -> dict[str, tuple[int, int]]:
    """The first queries of each list answer what the histories say; (yes, no) checked."""
    checked: dict[str, tuple[int, int]] = {}
    for name, queries in lists.items():
        load = Load(session, trqp_calls(base, queries))
        yes = 0
        for index, query in enumerate(queries[:CHECKED]):
            status, body, _, problem = await load.one(index)
            if status != 200:
                raise xb.SetUpFailed(f"TRQP {name} {query.entity}: {problem or status} {body!r}")
            answer = orjson.loads(body)
            ids = [r.get("id") for r in answer["records"] if r["type"] == "accreditation"]
            if answer["authorized"] != query.expected or (
                query.expected and query.expected_id not in ids
            ):
                raise xb.SetUpFailed(
                    f"TRQP {name}: {query.entity} {query.resource} answered "
                    f"{answer['authorized']} ({answer['message']}); the history says "
                    f"{query.expected} ({query.expected_id})"
                )
            if answer["trust_list_sequence"] != sequence:
                raise xb.SetUpFailed(f"TRQP answered from list {answer['trust_list_sequence']}")
            yes += answer["authorized"]
        if yes in (0, CHECKED):
            raise xb.SetUpFailed(f"TRQP {name}: the checked queries are not a mix of yes and no")
        checked[name] = (yes, CHECKED - yes)
    return checked


@dataclass
class TrqpResult:
    name: str
    saturated: xb.Sample
    sequential: xb.Sample
    yes_share: float


async def measure_trqp(
    base: str, lists: dict[str, list[Query]], sequence: int, plan: Plan, say: Callable[[str], None]
) -> list[TrqpResult]:
    async with client_session() as session:
        checked = await check_queries(session, base, lists, sequence)
        say(
            "  TRQP answers checked against the histories: "
            + "; ".join(
                f"{n}: {y} yes, {no} no of the first {CHECKED}" for n, (y, no) in checked.items()
            )
        )
        results = []
        for name, queries in lists.items():
            load = Load(session, trqp_calls(base, queries))
            say(f"  TRQP {name:4}: one at a time ({plan.sequential}) …")
            await load.one_at_a_time(max(10, plan.sequential // 10))
            sequential = await load.one_at_a_time(plan.sequential)
            say(f"  TRQP {name:4}: {plan.workers} at once for {plan.duration:g} s …")
            await load.saturate(plan.workers, plan.warmup)
            saturated = await load.saturate(plan.workers, plan.duration)
            share = sum(q.expected for q in queries) / len(queries)
            results.append(TrqpResult(name, saturated, sequential, share))
        return results


# --- part 2: the exchange -------------------------------------------------------------------


def exchange_calls(federation: Accredited, service: str, client: str) -> list[Call]:
    shape = xb.shapes()[0]  # GET, 1 KiB of JSON
    base = f"{federation.gateways['a'].url}/r1/{federation.provider_id}/{service}"
    return [Call(shape.method, URL(base + shape.path, encoded=True), None,
                 {"X-Road-Client": client})]  # fmt: skip


async def check_exchange(
    session: aiohttp.ClientSession, federation: Accredited, seconds: float = 120
) -> float:
    """The accredited client gets the backend's answer from both services (waiting for gateway
    B to hold the list naming its accreditation); the unaccredited one is refused, naming the
    requirement. Returns how long the accredited service took to answer 200."""
    began = time.monotonic()
    deadline = began + seconds
    waited = 0.0
    for service in ("accredited", "open"):
        load = Load(session, exchange_calls(federation, service, federation.client_id))
        while True:
            status, body, _, problem = await load.one(0)
            if status == 200:
                break
            if time.monotonic() > deadline:
                raise xb.SetUpFailed(
                    f"{service} did not answer 200 within {seconds:g} s: "
                    f"{problem or status} {body[:500]!r}"
                )
            await asyncio.sleep(0.25)
        if len(body) != xb.GET_ANSWER_BYTES:
            raise xb.SetUpFailed(f"{service} answered {len(body)} bytes, not 1 KiB")
        if service == "accredited":
            waited = time.monotonic() - began
    refused = Load(session, exchange_calls(federation, "accredited", federation.other_id))
    status, body, headers, problem = await refused.one(0)
    error = headers.get("X-Road-Error", "")
    wanted = f"{CLIENT_RESOURCE[0]}:{CLIENT_RESOURCE[1]} at level {CLIENT_LEVEL} or higher"
    if (
        status != 403
        or error != REFUSAL
        or wanted not in orjson.loads(body or b"{}").get("message", "")
    ):
        raise xb.SetUpFailed(
            f"{federation.other_id} (not accredited) got {problem or status} {error} "
            f"{body[:500]!r}, not 403 {REFUSAL} naming {wanted}"
        )
    return waited


@dataclass
class ExchangeRun:
    service: str
    run: int
    sample: xb.Sample


async def measure_exchange(
    federation: Accredited, plan: Plan, say: Callable[[str], None]
) -> list[ExchangeRun]:
    async with client_session() as session:
        waited = await check_exchange(session, federation)
        say(
            f"  the accredited service answered 200 {waited:.1f} s after the gateways were up; "
            f"{federation.other_id} (hosted on A, not accredited) refused with {REFUSAL}"
        )
        loads = {
            s: Load(session, exchange_calls(federation, s, federation.client_id)) for s in SERVICES
        }
        for load in loads.values():  # warm both paths up before the first run
            await load.saturate(plan.workers, 2 * plan.warmup)
        runs = []
        order = list(loads.items())
        for run in range(1, RUNS + 1):
            # ABBAAB: each path runs first in some rounds and second in others, so that a drift
            # of the machine over the run does not fall on one path only.
            for service, load in order if run % 2 else order[::-1]:
                say(f"  exchange {service:10} run {run}: {plan.workers} at once for "
                    f"{plan.exchange_duration:g} s …")  # fmt: skip
                await load.saturate(plan.workers, plan.exchange_warmup)
                sample = await load.saturate(plan.workers, plan.exchange_duration)
                runs.append(ExchangeRun(service, run, sample))
        return runs


# --- the report ---------------------------------------------------------------------------------


def report(
    console: Console,
    trqp: list[TrqpResult],
    runs: list[ExchangeRun],
    plan: Plan,
    past: datetime,
) -> str:
    table = Table(
        title=f"TRQP authorization queries against {ACCREDITATIONS:,} accreditations: "
        f"{plan.workers} concurrent for {plan.duration:g} s (after {plan.warmup:g} s warm-up); "
        f"{plan.sequential} one at a time; {QUERIES} queries rotated; latencies in ms"
    )
    for column in ("context.time", "q/s@sat", "p50@sat", "p99@sat", "p50 seq", "p99 seq",
                   "yes", "errors"):  # fmt: skip
        table.add_column(column, justify="left" if column == "context.time" else "right")
    for result in trqp:
        sat, seq = result.saturated, result.sequential
        table.add_row(
            "absent (now)" if result.name == "now" else _iso(past),
            f"{sat.rps:.0f}", xb.ms(sat.percentile_ms(50)), xb.ms(sat.percentile_ms(99)),
            xb.ms(seq.percentile_ms(50)), xb.ms(seq.percentile_ms(99)),
            f"{result.yes_share:.0%}", str(sat.errors + seq.errors),
        )  # fmt: skip
    console.print(table)
    runs_table = Table(
        title=f"exchange GET (1 KiB) gateway A → B → backend: {plan.workers} concurrent for "
        f"{plan.exchange_duration:g} s per run (after {plan.exchange_warmup:g} s warm-up), the two "
        "rights alternating; latencies in ms"
    )
    for column in ("access right", "run", "rps@sat", "p50@sat", "p99@sat", "errors"):
        runs_table.add_column(column, justify="left" if column == "access right" else "right")
    medians: dict[str, float] = {}
    for service in SERVICES:
        mine = [r for r in runs if r.service == service]
        label = "no requirement" if service == "open" else f"requires {REQUIREMENT}"
        for r in mine:
            runs_table.add_row(
                label, str(r.run), f"{r.sample.rps:.0f}", xb.ms(r.sample.percentile_ms(50)),
                xb.ms(r.sample.percentile_ms(99)), str(r.sample.errors),
            )  # fmt: skip
        medians[service] = statistics.median(r.sample.rps for r in mine)
        runs_table.add_row(label, "median", f"{medians[service]:.0f}", "", "", "")
    console.print(runs_table)
    for result in trqp:
        for sample, mode in (
            (result.saturated, "saturation"),
            (result.sequential, "one at a time"),
        ):
            if sample.errors:
                console.print(f"[red]TRQP {result.name} ({mode}): {sample.errors} failed, first: "
                              f"{sample.first_error}[/red]")  # fmt: skip
    for r in runs:
        if r.sample.errors:
            console.print(f"[red]exchange {r.service} run {r.run}: {r.sample.errors} failed, "
                          f"first: {r.sample.first_error}[/red]")  # fmt: skip
    open_rps, accredited_rps = medians["open"], medians["accredited"]
    cost = (1 - accredited_rps / open_rps) * 100 if open_rps else 0.0
    verdict = "PASS" if cost <= COST_TARGET_PCT else "FAIL"
    console.print(
        f"requirement cost = 1 - {accredited_rps:.0f} / {open_rps:.0f} (medians of {RUNS}) = "
        f"{cost:.1f} % of the exchange's throughput (target <= {COST_TARGET_PCT:g} %: {verdict})"
    )
    now, past_result = (next(r for r in trqp if r.name == n) for n in ("now", "past"))
    return (
        f"trqp_rps={now.saturated.rps:.0f} trqp_past_rps={past_result.saturated.rps:.0f} "
        f"exchange_rps={open_rps:.0f} exchange_accredited_rps={accredited_rps:.0f} "
        f"requirement_cost_pct={cost:.1f}"
    )


# --- entry points -------------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="TRQP queries against a trust list of 10,000 accreditations, and the "
        "exchange with and without an accreditation requirement, on this machine."
    )
    parser.add_argument(
        "--quick", action="store_true", help="SQLite, 3 s per TRQP run, 2 s per exchange run"
    )
    parser.add_argument(
        "--duration", type=float, help="seconds per saturation run (10; quick: TRQP 3, exchange 2)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        help="seconds of warm-up before each saturation run (2; quick: TRQP 1, exchange 0.5)",
    )
    parser.add_argument("--sequential", type=int, help="queries one at a time (500; quick 150)")
    parser.add_argument("--workers", type=int, default=64, help="concurrent requests (64)")
    parser.add_argument("--keep", action="store_true", help="keep the data directories and logs")
    return parser.parse_args(argv)


def benchmark(arguments: argparse.Namespace) -> int:
    quick: bool = arguments.quick
    plan = Plan(
        workers=arguments.workers,
        duration=arguments.duration or (3.0 if quick else 10.0),
        warmup=arguments.warmup if arguments.warmup is not None else (1.0 if quick else 2.0),
        sequential=arguments.sequential or (150 if quick else 500),
        exchange_duration=arguments.duration or (2.0 if quick else 10.0),
        exchange_warmup=arguments.warmup if arguments.warmup is not None else (0.5 if quick else 2),
    )
    console = Console(width=120, highlight=False, soft_wrap=True)
    signal.signal(signal.SIGINT, xb._stop)
    signal.signal(signal.SIGTERM, xb._stop)
    root = Path(tempfile.mkdtemp(prefix="zb-bench-accreditation-"))
    federation = Accredited(root, postgres=not quick)
    began = time.monotonic()
    last = ""
    try:
        if quick:
            console.print(f"databases: SQLite (files under {root})")
        else:
            server = xb.POSTGRES.rsplit("@", 1)[-1].rsplit("/", 1)[0]
            console.print(
                f"databases: PostgreSQL at {server} (fresh databases "
                f"zb_bench_{federation.run_id}_*, dropped at the end)"
            )
        console.print(
            f"machine: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.2f} at start), "
            f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, uvloop "
            f"{metadata.version('uvloop')}, uvicorn {metadata.version('uvicorn')}; everything "
            "on this host"
        )
        console.print(
            f"writing {ACCREDITATIONS:,} accreditations with history into central's database "
            "(SQLAlchemy inserts after `prepare`: the bench's shortcut), then serving central …"
        )
        federation.start()
        assert federation.loaded is not None
        console.print(
            f"  written in {federation.timings['written']:.1f} s; central ready after "
            f"{federation.timings['central']:.1f} s"
        )
        sequence = check_trust_list(federation, console.print)
        lists = query_lists(
            federation.loaded.population, federation.loaded.schemes, federation.now,
            federation.past,
        )  # fmt: skip
        trqp = uvloop.run(
            measure_trqp(federation.central_url, lists, sequence, plan, console.print)
        )
        console.print("setting up gateways A and B and the backend; accrediting the client …")
        federation.start_exchange(console.print)
        console.print(f"  ready after {federation.timings['exchange']:.1f} s")
        runs = uvloop.run(measure_exchange(federation, plan, console.print))
        last = report(console, trqp, runs, plan, federation.past)
        console.print(
            f"took {time.monotonic() - began:.1f} s (load average {os.getloadavg()[0]:.2f} at end)"
        )
    except xb.SetUpFailed as error:
        console.print(f"[red]set-up failed:[/red] {error}", highlight=False, markup=False)
        return 2
    finally:
        federation.stop()
        if arguments.keep:
            console.print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(last, flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return benchmark(parse_arguments(argv))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: every process stopped, temporary files removed", file=sys.stderr)
        sys.exit(130)
