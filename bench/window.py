"""The single window's benchmark: what applying once, the catalogue search and the lookup by
tracking code cost, in-process against a real database.

Everything runs in the bench's own process (one event loop, uvloop) through the window's
service layer, on a database made as the window makes it (``window.database.open_database``:
the Alembic migrations), with the catalogue's seed installed (``catalogue.seed.install_seed``:
the demo's eight agencies and their services) and each agency's inbox named
(``catalogue.service.set_inbox``), so that a submission queues its first tasks' hand-overs as
in operation. Applicants are synthetic people (``core.iran.generate_national_code``, names from
the registries' seed lists) with an e-mail address and a mobile number, so that every
submission also queues its two notices.

**One application** is what the pages do, each step in its own transaction
(``core.database.transaction``), for one of the seed's services for persons without documents
(``smart-national-card``, ``tax-clearance``, ``single-sheet-deed``,
``universal-health-insurance``, in turn):

1. start: ``catalogue.service.public_definition`` and ``applications.service.start``;
2. the explicit request: ``service.owned`` and ``service.prepare_reads`` (with the keys the
   person types: a postal code, a parcel's plaque);
3. the reads recorded: ``service.owned`` and ``service.record_reads`` with **synthetic registry
   answers** (a ``Pulled`` per read, outcome ``read``, every item asked for, a message id): the
   exchange is not called (``bench/registries.py`` measures a registry read through it);
4. the choices: ``repository.items_of`` (the ids the preview's form would carry) and
   ``service.decide``, every item ``confirmed``;
5. the submission: ``service.owned`` and ``service.submit`` with a valid form (tracking code,
   tasks, timeline, notices in one transaction).

The pages' GET renders between the steps are not in it.

It measures, after a warm-up:

- ``submit_per_s``: whole applications completed per second with ``--workers`` concurrent
  (each worker one application after another, for ``--duration`` seconds after ``--warmup``);
  also ``--sequential`` applications one at a time, with the p50 of each step;
- the baseline for it, in the same run, on the same engine: a bare insert of one row
  (``INSERT`` into a table of the bench's own, in its own transaction) with as many workers for
  as long, once before and once after the applications (``baseline_insert_per_s`` is their mean);
- ``search_p50_ms`` (and p99): catalogue searches one at a time, Persian and English queries
  (each must find the service it names), as the search page does them (without the agencies'
  names it also reads): a transaction for ``CatalogueSearch.of_session`` (the catalogue's
  version; the index is rebuilt only when it moved), then ``SearchIndex.search`` for a page;
  also the index alone;
- ``timeline_p50_ms`` (and p99): ``timeline.lookup`` of submitted applications one at a time,
  each in its own transaction as the tracking page does (without the agencies' names), with the
  tracking code as printed (grouped with dashes) and the applicant's national code. The rate
  limits are the window's defaults (``WindowSettings``: per tracking code and per client address
  in an hour); every lookup comes from **a distinct client address** (``198.18.x.y``, the
  benchmarking range) and no code is looked up more often than its limit allows, so the limits
  are checked (their two counts and the lookup row are part of each lookup) but never stop one;
  every lookup must find its application;
- the baseline for the one-at-a-time figures: a ``SELECT 1`` round trip in its own transaction.

Latencies are ``time.perf_counter_ns`` around each unit (nearest-rank percentiles, in ms); the
statements per unit are counted on the engine (``before_cursor_execute``: on SQLite its
``BEGIN IMMEDIATE`` too); the CPU per unit is the bench process's (``os.times``) and, in the
full run, every PostgreSQL process's on the host (other users' included, from ``/proc``).
Before anything is timed, one application of each service is checked: submitted, its tasks
and its timeline made, its two notices queued, found by its lookup and not found with another
person's national code; and every search query must find the service it names.

The full run uses PostgreSQL at 127.0.0.1:5432 (user postgres, trust; or ``ZB_BENCH_POSTGRES``)
in a fresh database ``zb_bench_<run>_window`` dropped at the end; ``--quick`` uses a SQLite file
in a temporary folder. It prints a table and, as its last line,
``submit_per_s=<n> search_p50_ms=<n> timeline_p50_ms=<n> baseline_insert_per_s=<n>``. Helpers
come from ``bench/exchange.py`` and ``bench/registries.py`` (imported: this script's folder is
first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import platform
import random
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import exchange as xb
import uvloop
from rich.console import Console
from rich.table import Table
from sqlalchemy import Column, Integer, MetaData, String, event, insert, select, text
from sqlalchemy import Table as SqlTable
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from registries import cpu_seconds, postgres_pids
from zistboom.core.database import UTCDateTime, transaction, utc_now
from zistboom.core.iran import generate_national_code, generate_postal_code
from zistboom.registries.seed_names import FAMILY_NAMES, MALE_GIVEN_NAMES, PROVINCES, STREETS
from zistboom.window.applications import repository, service, timeline
from zistboom.window.applications.pulls import Pull, Pulled
from zistboom.window.catalogue import service as catalogue
from zistboom.window.catalogue.pages import PAGE_SIZE
from zistboom.window.catalogue.search import CatalogueSearch
from zistboom.window.catalogue.seed import SEEDER, install_seed, load_seed
from zistboom.window.database import open_database
from zistboom.window.identity_models import Consent, Person
from zistboom.window.settings import WindowSettings
from zistboom.window.tracking import format_tracking_code

PEOPLE = 2_000
"""Synthetic applicants the applications rotate over."""
INBOX = "inbox"
SERVICES: dict[str, dict[str, str]] = {
    # service code: the form as typed on its page (every item read is confirmed, none typed)
    "smart-national-card": {"reason": "first", "phone": "09121234567"},
    "tax-clearance": {"purpose": "loan"},
    "single-sheet-deed": {"delivery": "post"},
    "universal-health-insurance": {"household": "3"},
}
SEARCHES: dict[str, list[tuple[str, str]]] = {
    # language: (query, the code of a service it must find)
    "fa": [
        ("کارت ملی", "smart-national-card"), ("كارت ملي", "smart-national-card"),
        ("کارتملی", "smart-national-card"), ("مفاصا حساب", "tax-clearance"),
        ("بیمه سلامت", "universal-health-insurance"), ("سند تک برگ", "single-sheet-deed"),
        ("کد پستی", "postal-code-certificate"), ("تمدید اقامت", "residence-permit-extension"),
        ("ثبت شرکت", "business-licence"), ("سامانه مودیان", "taxpayer-registration"),
    ],
    "en": [
        ("national card", "smart-national-card"), ("tax clearance", "tax-clearance"),
        ("health insurance", "universal-health-insurance"), ("deed", "single-sheet-deed"),
        ("postal code", "postal-code-certificate"), ("residence permit",
                                                     "residence-permit-extension"),
        ("company registration", "business-licence"), ("e-invoice", "taxpayer-registration"),
        ("insur", "universal-health-insurance"), ("certificate", "tax-clearance"),
    ],
}  # fmt: skip
BASELINE = SqlTable(
    "bench_baseline_rows",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("note", String(64), nullable=False),
)
STEPS = ("start", "request", "record reads", "decide", "submit")


# --- the synthetic world ----------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    subject: str
    """``IR`` and the national code."""

    @property
    def digits(self) -> str:
        return self.subject[2:]


@dataclass(frozen=True)
class Offered:
    """A seed service the applications are for, with what its pages are given."""

    agency: str
    code: str
    form: dict[str, str]
    asked_fields: dict[str, str]
    """Index of the base data → the field the person types its key in."""


def people(rng: random.Random) -> list[Applicant]:
    codes: set[str] = set()
    while len(codes) < PEOPLE:
        codes.add(generate_national_code(rng))
    return [Applicant(f"IR{code}") for code in sorted(codes)]


def offered() -> list[Offered]:
    """The services of ``SERVICES`` as the seed defines them."""
    found: list[Offered] = []
    for agency, definitions in load_seed().services.items():
        for definition in definitions:
            if definition.code not in SERVICES:
                continue
            if "person" not in definition.audience or definition.documents:
                raise xb.SetUpFailed(
                    f"{definition.code} is no longer for persons without documents"
                )
            asked = {str(i): s.asked.field for i, s in enumerate(definition.base_data) if s.asked}
            found.append(Offered(agency, definition.code, SERVICES[definition.code], asked))
    missing = set(SERVICES) - {o.code for o in found}
    if missing:
        raise xb.SetUpFailed(f"the seed has no {', '.join(sorted(missing))}")
    return sorted(found, key=lambda o: list(SERVICES).index(o.code))


def asked_key(field_name: str, rng: random.Random) -> str:
    """What the person types for a key the registry is read by."""
    if field_name == "postal_code":
        return generate_postal_code(rng)
    if field_name == "parcel_id":
        return f"{rng.randrange(1, 10**7)}-{rng.randrange(1, 10**5)}"
    raise xb.SetUpFailed(f"the bench does not know what to type for {field_name}")


def record_value(name: str, pull: Pull, applicant: Applicant, rng: random.Random) -> Any:
    """A synthetic registry record's value for field ``name`` (the key is the one asked for)."""
    if name == pull.key_field:
        return pull.key
    province = rng.choice(PROVINCES)
    values: dict[str, Callable[[], Any]] = {
        "national_code": lambda: applicant.digits,
        "given_name_fa": lambda: rng.choice(MALE_GIVEN_NAMES).fa,
        "family_name_fa": lambda: rng.choice(FAMILY_NAMES).fa,
        "birth_date": lambda: (
            f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        ),
        "father_national_code": lambda: generate_national_code(rng),
        "postal_code": lambda: generate_postal_code(rng),
        "province": lambda: province.fa,
        "city": lambda: rng.choice(province.cities).fa,
        "street": lambda: rng.choice(STREETS).fa,
        "tax_file_number": lambda: str(rng.randrange(10**9, 10**10)),
        "status": lambda: "active",
        "outstanding_debt_rial": lambda: 0,
        "last_clearance_date": lambda: f"2025-{rng.randrange(1, 13):02d}-01",
        "deed_number": lambda: str(rng.randrange(10**11, 10**12)),
        "area_m2": lambda: rng.randrange(40, 400),
        "usage": lambda: "residential",
        "owners": lambda: [{"national_code": applicant.digits, "share": 1.0}],
        "insurance_number": lambda: str(rng.randrange(10**9, 10**10)),
        "coverage": lambda: "universal",
    }
    if name not in values:
        raise xb.SetUpFailed(f"the bench has no synthetic value for the registry field {name}")
    return values[name]()


def answered(pull: Pull, applicant: Applicant, rng: random.Random, now: datetime) -> Pulled:
    """The exchange's answer to one read, as ``pulls.read_one`` would return it."""
    values = {name: record_value(name, pull, applicant, rng) for name in pull.fields}
    return Pulled(pull, "read", values, uuid.uuid4().hex, now, None)


# --- the database ------------------------------------------------------------------------------


@dataclass
class Statements:
    """Statements sent on the engine (``before_cursor_execute``), for the per-unit counts."""

    count: int = 0

    def watch(self, engine: AsyncEngine) -> None:
        def counted(*_: Any) -> None:
            self.count += 1

        event.listen(engine.sync_engine, "before_cursor_execute", counted)


async def prepare(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, applicants: list[Applicant]
) -> int:
    """The seed, its agencies' inboxes, the applicants and the baseline's table; the number of
    services in the catalogue."""
    now = utc_now()
    async with transaction(sessions) as session:
        count = await install_seed(session, now=now)
    async with transaction(sessions) as session:
        for agency in load_seed().agencies:
            await catalogue.set_inbox(
                session, member_id=agency.member_id, subsystem=INBOX, actor=SEEDER, now=now
            )
        for number, applicant in enumerate(applicants):
            session.add(
                Person(
                    subject=applicant.subject, email=f"applicant{number}@example.org",
                    phone_number=f"+98912{number:07d}", locale="fa" if number % 4 else "en",
                    created_at=now, updated_at=now,
                )
            )  # fmt: skip
    async with engine.begin() as connection:
        await connection.run_sync(BASELINE.metadata.create_all)
    return count


# --- the units of work -------------------------------------------------------------------------


@dataclass
class Window:
    """The window's database and what the units of work rotate over."""

    sessions: async_sessionmaker[AsyncSession]
    applicants: list[Applicant]
    services: list[Offered]
    rng: random.Random = field(default_factory=lambda: random.Random(1404))
    submitted: list[tuple[str, Applicant]] = field(default_factory=list)
    """(tracking code, applicant) of every application submitted."""
    steps: dict[str, list[int]] | None = None
    """When set, each step's time (ns) of each application."""
    search: CatalogueSearch = field(default_factory=CatalogueSearch)

    async def apply(self, number: int) -> str:
        """One whole application, step by step as the pages do; its id."""
        applicant = self.applicants[number % len(self.applicants)]
        offer = self.services[number % len(self.services)]
        asked = {index: asked_key(name, self.rng) for index, name in offer.asked_fields.items()}
        spans: list[tuple[int, int]] = []  # each step's transaction: (began, ended)

        def ended(began: int) -> int:
            now = time.perf_counter_ns()
            spans.append((began, now))
            return now

        began = time.perf_counter_ns()
        async with transaction(self.sessions) as session:
            stored = await catalogue.public_definition(session, offer.agency, offer.code)
            application = await service.start(
                session, applicant.subject, offer.agency, stored.definition, utc_now()
            )
            application_id = application.id
        began = ended(began)
        async with transaction(self.sessions) as session:
            application = await service.owned(session, applicant.subject, application_id)
            planned = service.prepare_reads(application, asked)
        ended(began)
        now = utc_now()
        pulled = [answered(pull, applicant, self.rng, now) for pull in planned]
        began = time.perf_counter_ns()
        async with transaction(self.sessions) as session:
            application = await service.owned(session, applicant.subject, application_id)
            application.asked_keys = asked
            await service.record_reads(session, application, pulled, utc_now())
        began = ended(began)
        async with transaction(self.sessions) as session:
            application = await service.owned(session, applicant.subject, application_id)
            items = await repository.items_of(session, application_id)
            await service.decide(
                session, application, {item.id: "confirmed" for item in items}, utc_now()
            )
        began = ended(began)
        async with transaction(self.sessions) as session:
            application = await service.owned(session, applicant.subject, application_id)
            await service.submit(session, application, offer.form, {}, utc_now())
        ended(began)
        self.submitted.append((application.tracking_code, applicant))
        if self.steps is not None:
            for step, (started, stopped) in zip(STEPS, spans, strict=True):
                self.steps.setdefault(step, []).append(stopped - started)
        return application_id

    async def insert_row(self, number: int) -> None:
        """The baseline of an application: one row inserted in its own transaction."""
        async with transaction(self.sessions) as session:
            await session.execute(insert(BASELINE).values(at=utc_now(), note=f"row {number}"))

    async def select_one(self, _number: int) -> None:
        """The baseline of a lookup or a search: one round trip in its own transaction."""
        async with transaction(self.sessions) as session:
            await session.execute(text("SELECT 1"))

    async def find(self, query: str) -> list[str]:
        """The search page's work: the index at the catalogue's version, then a page."""
        async with transaction(self.sessions) as session:
            index = await self.search.of_session(session)
        results = index.search(query, offset=0, limit=PAGE_SIZE)
        return [hit.stored.definition.code for hit in results.hits]

    async def look_up(self, tracking_code: str, identifier: str, address: str) -> str | None:
        """The tracking page's lookup with the window's default limits; the state or None."""
        defaults = WindowSettings.model_fields
        async with transaction(self.sessions) as session:
            status = await timeline.lookup(
                session, tracking_code=format_tracking_code(tracking_code),
                identifier=identifier, address=address, now=utc_now(),
                per_code=defaults["tracking_lookups_per_code"].default,
                per_address=defaults["tracking_lookups_per_address"].default,
            )  # fmt: skip
        return status.state if status is not None else None


def address(number: int) -> str:
    """A distinct client address per lookup, in 198.18.0.0/15 (RFC 2544's benchmarking range)."""
    return f"198.{18 + number // 65536 % 2}.{number // 256 % 256}.{number % 256}"


# --- measuring ---------------------------------------------------------------------------------


Work = Callable[[int], Awaitable[Any]]


def _failed(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:300]


async def saturate(
    work: Work, workers: int, seconds: float, numbers: itertools.count[int]
) -> xb.Sample:
    """``workers`` each doing one unit after another for ``seconds``: the units completed in
    the window (one still running at its end is finished but not counted)."""
    latencies: list[int] = []
    errors = [0]
    first: list[str] = []
    began = time.perf_counter_ns()
    end = began + int(seconds * 1e9)

    async def worker() -> None:
        while (started := time.perf_counter_ns()) < end:
            try:
                await work(next(numbers))
            except Exception as error:
                errors[0] += 1
                first.append(_failed(error))
                continue
            done = time.perf_counter_ns()
            if done <= end:
                latencies.append(done - started)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return xb.Sample(latencies, errors[0], end - began, first[0] if first else "")


async def one_at_a_time(work: Work, count: int, numbers: itertools.count[int]) -> xb.Sample:
    latencies: list[int] = []
    errors = 0
    first = ""
    began = time.perf_counter_ns()
    for _ in range(count):
        started = time.perf_counter_ns()
        try:
            await work(next(numbers))
        except Exception as error:
            errors += 1
            first = first or _failed(error)
            continue
        latencies.append(time.perf_counter_ns() - started)
    return xb.Sample(latencies, errors, time.perf_counter_ns() - began, first)


@dataclass
class Cpu:
    """CPU seconds of the bench process and of every PostgreSQL process, between snapshots."""

    bench: float = 0.0
    postgres: float = 0.0

    @staticmethod
    def now() -> tuple[float, dict[int, float]]:
        return sum(os.times()[:2]), {pid: cpu_seconds(pid) for pid in postgres_pids()}

    def add(self, before: tuple[float, dict[int, float]]) -> None:
        bench, postgres = Cpu.now()
        self.bench += bench - before[0]
        self.postgres += sum(t - before[1].get(pid, 0.0) for pid, t in postgres.items())


@dataclass
class Row:
    what: str
    sample: xb.Sample
    statements: float
    """Statements per unit completed (at saturation: all sent in the window ÷ completed)."""
    cpu: Cpu
    per_s: bool = False

    def cpu_ms(self, seconds: float) -> str:
        done = len(self.sample.latencies_ns)
        return f"{1000 * seconds / done:.2f}" if done else ""


@dataclass
class Measured:
    rows: list[Row] = field(default_factory=list)
    steps: dict[str, list[int]] = field(default_factory=dict)
    baselines: list[xb.Sample] = field(default_factory=list)
    applications: xb.Sample | None = None
    searches: list[int] = field(default_factory=list)
    """Latencies of every search through the database, both languages."""
    lookups: xb.Sample | None = None
    select_one: xb.Sample | None = None
    catalogue: int = 0


@dataclass(frozen=True)
class Plan:
    workers: int
    duration: float
    warmup: float
    sequential: int


async def check(window: Window) -> None:
    """One application of each service end to end, and every search, before timing."""
    for number, offer in enumerate(window.services):
        application_id = await window.apply(number)
        applicant = window.applicants[number % len(window.applicants)]
        async with transaction(window.sessions) as session:
            application = await service.owned(session, applicant.subject, application_id)
            items = await repository.items_of(session, application_id)
            tasks = await repository.tasks_of(session, application_id)
            events = await repository.timeline_of(session, application_id)
            consents = (
                await session.scalars(
                    select(Consent).where(Consent.application_id == application_id)
                )
            ).all()
            notices = await repository.due_notices(session, utc_now() + timedelta(days=1), 10_000)
        mine = [n for n in notices if n.application_id == application_id]
        definition = service.definition_of(application)
        first_agencies = {a for s in definition.steps if not s.after for a in s.agencies}
        queued = [t for t in tasks if t.handover_state == "queued"]
        problems = [
            f"state {application.state}" if application.state != "submitted" else "",
            "an item not confirmed" if any(i.choice != "confirmed" for i in items) else "",
            f"{len(consents)} consents" if len(consents) != len(definition.base_data) else "",
            f"{len(queued)} hand-overs queued"
            if {t.agency for t in queued} != first_agencies
            else "",
            f"timeline {[e.kind for e in events]}" if [e.kind for e in events] != ["submitted"]
            else "",
            f"{len(mine)} notices" if sorted(n.channel for n in mine) != ["email", "sms"] else "",
        ]  # fmt: skip
        if any(problems):
            raise xb.SetUpFailed(f"{offer.code}: {'; '.join(p for p in problems if p)}")
        code, who = window.submitted[-1]
        other = window.applicants[(number + 1) % len(window.applicants)]
        found = await window.look_up(code, who.digits, address(10**6 + 2 * number))
        hidden = await window.look_up(code, other.digits, address(10**6 + 2 * number + 1))
        if found != "submitted" or hidden is not None:
            raise xb.SetUpFailed(
                f"{offer.code}: the lookup answered {found!r} with the applicant's national "
                f"code and {hidden!r} with another's"
            )
    for language, queries in SEARCHES.items():
        for query, wanted in queries:
            codes = await window.find(query)
            if wanted not in codes:
                raise xb.SetUpFailed(f"search ({language}) {query!r} found {codes}, not {wanted}")


async def measure(
    window: Window, statements: Statements, plan: Plan, say: Callable[[str], None]
) -> Measured:
    measured = Measured()
    numbers = itertools.count()
    async with transaction(window.sessions) as session:
        measured.catalogue = len(await catalogue.all_definitions(session))
    await check(window)
    say(
        f"  checked: one application of each of {len(window.services)} services submitted "
        "(tasks queued, timeline, two notices), found by its lookup and not with another's "
        f"national code; {sum(map(len, SEARCHES.values()))} searches found their service"
    )

    async def saturated(what: str, work: Work) -> xb.Sample:
        say(f"  {what}: {plan.workers} at once for {plan.duration:g} s …")
        await saturate(work, plan.workers, plan.warmup, numbers)
        before, counted, cpu = Cpu.now(), statements.count, Cpu()
        sample = await saturate(work, plan.workers, plan.duration, numbers)
        cpu.add(before)
        done = len(sample.latencies_ns) or 1
        measured.rows.append(
            Row(f"{what}, {plan.workers} at once", sample, (statements.count - counted) / done,
                cpu, per_s=True)
        )  # fmt: skip
        return sample

    async def sequential(
        what: str, work: Work, count: int, timing: Callable[[], None] | None = None
    ) -> xb.Sample:
        say(f"  {what}: {count} one at a time …")
        await one_at_a_time(work, max(10, count // 10), numbers)
        if timing is not None:
            timing()
        before, counted, cpu = Cpu.now(), statements.count, Cpu()
        sample = await one_at_a_time(work, count, numbers)
        cpu.add(before)
        measured.rows.append(
            Row(f"{what}, 1 at a time", sample, (statements.count - counted) / count, cpu)
        )
        return sample

    # The baseline before and after the applications: a drift of the machine over the run
    # falls on both sides of the comparison.
    for run in (1, 2):
        if run == 2:
            measured.applications = await saturated("applications", window.apply)
        baseline = await saturated(f"baseline insert ({run})", window.insert_row)
        measured.baselines.append(baseline)

    def time_the_steps() -> None:
        window.steps = measured.steps

    await sequential("applications", window.apply, plan.sequential, time_the_steps)
    window.steps = None
    measured.select_one = await sequential("baseline SELECT 1", window.select_one, plan.sequential)
    for language, queries in SEARCHES.items():

        async def search(number: int, queries: list[tuple[str, str]] = queries) -> None:
            await window.find(queries[number % len(queries)][0])

        found = await sequential(f"search, {language} queries", search, plan.sequential)
        measured.searches.extend(found.latencies_ns)
    index = window.search.index  # built by the searches above, at the catalogue's version
    every = [q for queries in SEARCHES.values() for q, _ in queries]

    async def index_only(number: int) -> None:
        index.search(every[number % len(every)], offset=0, limit=PAGE_SIZE)

    await sequential("search, index alone", index_only, plan.sequential)
    measured.lookups = await lookups(window, statements, plan, measured, say)
    return measured


async def lookups(
    window: Window, statements: Statements, plan: Plan, measured: Measured,
    say: Callable[[str], None],
) -> xb.Sample:  # fmt: skip
    """Lookups of submitted applications, each code at most as often as its limit allows."""
    per_code = WindowSettings.model_fields["tracking_lookups_per_code"].default
    warmup = max(10, plan.sequential // 10)
    codes = window.submitted[len(window.services) :]  # the checked ones were looked up already
    if not codes or math.ceil((warmup + plan.sequential) / len(codes)) > per_code:
        raise xb.SetUpFailed(f"{len(codes)} applications are too few for {plan.sequential} lookups")
    numbers = itertools.count()

    async def look(number: int) -> None:
        code, applicant = codes[number % len(codes)]
        state = await window.look_up(code, applicant.digits, address(number))
        if state != "submitted":
            raise xb.SetUpFailed(f"the lookup of {code} answered {state!r}")

    say(f"  timeline lookups: {plan.sequential} one at a time …")
    await one_at_a_time(look, warmup, numbers)
    before, counted, cpu = Cpu.now(), statements.count, Cpu()
    sample = await one_at_a_time(look, plan.sequential, numbers)
    cpu.add(before)
    measured.rows.append(Row("timeline lookup, 1 at a time", sample,
                             (statements.count - counted) / plan.sequential, cpu))  # fmt: skip
    return sample


# --- the report --------------------------------------------------------------------------------


def report(console: Console, measured: Measured, plan: Plan, postgres: bool) -> str:
    whose = "this process; postgres: every PostgreSQL process on the host" if postgres else ""
    table = Table(
        title=f"{plan.workers} at once for {plan.duration:g} s (after {plan.warmup:g} s warm-up); "
        f"{plan.sequential} one at a time (after a tenth as many); latencies in ms; CPU ms per "
        f"unit (bench: {whose or 'this process'}); {measured.catalogue} services in the catalogue"
    )
    columns = ["what", "count", "per s", "p50", "p99", "statements", "CPU bench"]
    columns += ["CPU postgres"] if postgres else []
    for column in (*columns, "errors"):
        table.add_column(column, justify="left" if column == "what" else "right")
    for row in measured.rows:
        sample = row.sample
        cells = [
            row.what, str(len(sample.latencies_ns)), f"{sample.rps:.1f}" if row.per_s else "",
            xb.ms(sample.percentile_ms(50)), xb.ms(sample.percentile_ms(99)),
            f"{row.statements:.1f}", row.cpu_ms(row.cpu.bench),
        ]  # fmt: skip
        cells += [row.cpu_ms(row.cpu.postgres)] if postgres else []
        table.add_row(*cells, str(sample.errors))
    console.print(table)
    steps = Table(title="one application, one at a time: each step's transaction, ms")
    for column in ("step", "p50", "p99"):
        steps.add_column(column, justify="left" if column == "step" else "right")
    for step in STEPS:
        taken = xb.Sample(measured.steps.get(step, []), 0, 1)
        steps.add_row(step, xb.ms(taken.percentile_ms(50)), xb.ms(taken.percentile_ms(99)))
    console.print(steps)
    for row in measured.rows:
        if row.sample.errors:
            console.print(f"[red]{row.what}: {row.sample.errors} failed, first: "
                          f"{row.sample.first_error}[/red]")  # fmt: skip
    applications, select_one, lookups = (
        measured.applications, measured.select_one, measured.lookups,
    )  # fmt: skip
    assert applications is not None
    assert select_one is not None
    assert lookups is not None
    baseline = statistics.fmean(b.rps for b in measured.baselines)
    ratio = applications.rps / baseline if baseline else 0.0
    console.print(
        f"applications ÷ bare inserts at {plan.workers} at once = {applications.rps:.1f} ÷ "
        f"{baseline:.1f} (mean of {' and '.join(f'{b.rps:.1f}' for b in measured.baselines)}) "
        f"= {ratio:.3f}: an application is {len(STEPS)} transactions"
    )
    saturated = next(r for r in measured.rows if r.sample is applications)
    busy = (saturated.cpu.bench + (saturated.cpu.postgres if postgres else 0.0)) / plan.duration
    console.print(
        f"applications at saturation: cores busy {busy:.2f} (CPU s per s of the window, this "
        f"process{' and PostgreSQL' if postgres else ''}) of {os.cpu_count()}"
    )
    search = xb.Sample(measured.searches, 0, 1).percentile_ms(50)
    lookup = lookups.percentile_ms(50)
    round_trip = select_one.percentile_ms(50)
    console.print(
        f"one at a time, p50 against a SELECT 1 round trip ({round_trip:.2f} ms): search "
        f"{search:.2f} ms ({search / round_trip:.1f}×), timeline lookup {lookup:.2f} ms "
        f"({lookup / round_trip:.1f}×)"
    )
    return (
        f"submit_per_s={applications.rps:.1f} search_p50_ms={search:.2f} "
        f"timeline_p50_ms={lookup:.2f} baseline_insert_per_s={baseline:.1f}"
    )


# --- entry points ------------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The single window's applications, catalogue searches and tracking-code "
        "lookups through its service layer, against a bare insert and a SELECT 1 on the same "
        "database, on this machine."
    )
    parser.add_argument(
        "--quick", action="store_true", help="SQLite, 3 s per saturation run, 150 one at a time"
    )
    parser.add_argument("--duration", type=float, help="seconds per saturation run (10; quick 3)")
    parser.add_argument("--warmup", type=float, help="seconds of warm-up before it (2; quick 1)")
    parser.add_argument("--sequential", type=int, help="units one at a time (500; quick 150)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent applications (8)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file (quick)")
    return parser.parse_args(argv)


async def run(url: str, plan: Plan, say: Callable[[str], None]) -> Measured:
    opened = await open_database(url)
    try:
        statements = Statements()
        statements.watch(opened.engine)
        applicants = people(random.Random(1404))
        began = time.monotonic()
        count = await prepare(opened.sessions, opened.engine, applicants)
        say(f"  migrated; the seed's {count} services, {len(applicants):,} applicants written in "
            f"{time.monotonic() - began:.1f} s")  # fmt: skip
        window = Window(opened.sessions, applicants, offered())
        return await measure(window, statements, plan, say)
    finally:
        await opened.engine.dispose()


def benchmark(arguments: argparse.Namespace) -> int:
    quick: bool = arguments.quick
    plan = Plan(
        workers=arguments.workers,
        duration=arguments.duration or (3.0 if quick else 10.0),
        warmup=arguments.warmup if arguments.warmup is not None else (1.0 if quick else 2.0),
        sequential=arguments.sequential or (150 if quick else 500),
    )
    console = Console(width=120, highlight=False, soft_wrap=True)
    signal.signal(signal.SIGINT, xb._stop)
    signal.signal(signal.SIGTERM, xb._stop)
    root = Path(tempfile.mkdtemp(prefix="zb-bench-window-"))
    database = f"zb_bench_{secrets.token_hex(4)}_window"
    created = False
    began = time.monotonic()
    last = ""
    try:
        if quick:
            url = f"sqlite+aiosqlite:///{root / 'window.db'}"
            console.print(f"database: SQLite ({root / 'window.db'})")
            driver = f"aiosqlite {metadata.version('aiosqlite')}"
        else:
            server = xb.POSTGRES.rsplit("@", 1)[-1].rsplit("/", 1)[0]
            console.print(f"database: PostgreSQL at {server} (fresh database {database}, dropped "
                          "at the end)")  # fmt: skip
            asyncio.run(xb.create_database(database))
            created = True
            base = xb.POSTGRES.rsplit("/", 1)[0]
            url = f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"
            driver = f"asyncpg {metadata.version('asyncpg')}"
        console.print(
            f"machine: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.2f} at start), "
            f"Python {platform.python_version()}, SQLAlchemy {metadata.version('sqlalchemy')}, "
            f"{driver}, uvloop {metadata.version('uvloop')}; the window's service layer in this "
            "process, no exchange (synthetic registry answers)"
        )
        console.print("making the window's database (migrations, the catalogue's seed, inboxes, "
                      "applicants) …")  # fmt: skip
        measured = uvloop.run(run(url, plan, console.print))
        last = report(console, measured, plan, postgres=not quick)
        console.print(
            f"took {time.monotonic() - began:.1f} s (load average {os.getloadavg()[0]:.2f} at end)"
        )
    except xb.SetUpFailed as error:
        console.print(f"[red]set-up failed:[/red] {error}", highlight=False, markup=False)
        return 2
    finally:
        if created:
            asyncio.run(xb.drop_databases([database]))
        if arguments.keep and quick:
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
        print("interrupted: the bench's database dropped, temporary files removed", file=sys.stderr)
        sys.exit(130)
