"""The documents benchmark (issue 9, "Speed"): what issuing, verifying, signing a PDF and
changing a document's status cost on this machine.

Set up as an operator would: central is a real process (``zistboom central serve``: its CA, its
RFC 3161 TSA at ``/tsa``, its signed global configuration and trust list); the agency is a
member with an ``issuer`` subsystem, and ``zistboom documents issuer init`` makes its
document-signing key and enrols its ``doc`` certificate with a one-time token. **The bench's
shortcut** for the accreditation: before central first starts, the seeded schemes are published
as of 30 days ago and one accreditation (the agency, ``national:document-issuer`` at level
``high``, granted a day ago) is written straight into central's database with the inserts of
``bench/accreditation.py``; the trust list central publishes is built from those tables as from
any others.

**What one issuance is.** The issuer's own steps, in this process, with the issuer's objects as
``zistboom documents issuer serve`` builds them (``documents/issuer/service.Issuer`` over its
database, the key and certificate ``init`` stored, ``TrustSources`` following central), in the
order of ``Issuance.issue`` and through its methods: the subject checked against the type's
schema; the accreditation checked now; a status-list entry allocated and **committed** in the
issuer's database (with a new list's two list credentials signed in the same transaction);
the VC 2.0 signed as ``application/vc+jwt`` (ES256, ``x5c`` to the instance CA); an RFC 3161
timestamp over its signature from central's TSA over HTTP, its token verified and its genTime
taken as the time of issue; the accreditation checked again at that time; the document recorded
and its allocation marked ``issued`` (**committed**). Not in it: the hub (the type is the seeded
definition the hub registers, read once; no deposit into a locker, no status-list publication:
those go through the exchange and two more gateways, whose cost ``bench/exchange.py``
measures), the QR and the PDF (the PDF is measured on its own below). ``--workers`` issuances
are in flight at once on one event loop, as the issuer service would serve them.

**The baseline** in the same run: the same issuance without the trusted time (no TSA round
trip, no token to verify; the time of issue is the issuer's own clock), alternating with the
real one (ABBA), so that the difference is the cost of trusted time. A second comparison: an
offline verification with the cached context built once (what a verifier holding its cache
does per document) against the first one, which reads the cache folder first
(``VerifierCache.context()``: the global configuration verified against the anchor, the trust
list verified and indexed, the status lists decoded), as each ``zistboom documents verify
--offline`` does.

**Offline verification**: ``zistboom.documents.verification.verify`` of the VC-JWTs issued with
their tokens, over a verifier cache folder (``documents/offline.py``'s layout) holding the
anchor, the global configuration and trust list as the issuer's clients fetched them from
central, the seeded document types and the issuer's signed status lists read from its
database. Before timing, every one of them must verify with every check passed.

**PDF**: ``Issuance._pdf`` (``documents/pdf.py`` ``render_pdf`` in a thread, then
``async_sign_pdf``, PAdES B-T with central's TSA) for ``--pdfs`` documents issued above, each
with its QR made first (untimed); p50 and p90; the first one must verify (PDF signature
included).

**A status change**: ``documents/issuer/status.change_status`` revoking one document, in its
own committed transaction (the document locked, the revocation list decoded, its bit set,
re-encoded and the ``BitstringStatusListCredential`` signed again, the change recorded), for
lists of 131,072 entries (the issuer's list above) and 1,048,576 entries (a second issuer
database whose lists are that large, with documents issued into it the same way); ms per change
(p50, p90) and the bytes of the signed list and of its ``encodedList``. The hub's copy is not
updated (no hub). The last revoked document of each must then fail the ``status`` check.

``--quick``: SQLite files; the last line is ``issue_per_s=<n> verify_per_s=<n> pdf_p50_ms=<n>``.
The full run: PostgreSQL for central and the issuer's databases (fresh ``zb_bench_<run>_*``,
dropped at the end), as ``bench/exchange.py`` does, whose Federation (processes, databases,
teardown) this reuses (imported: this script's folder is first on ``sys.path``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import exchange as xb
import httpx
import orjson
import uvloop
from pydantic import TypeAdapter
from rich.console import Console

import accreditation as ab
from zistboom.accreditation import repository as accreditation_repository
from zistboom.accreditation.seed import seed_schemes
from zistboom.central.app import prepare
from zistboom.central.settings import CentralSettings
from zistboom.core import globalconf as gc
from zistboom.core.crypto import keys
from zistboom.core.database import transaction, utc_now
from zistboom.core.iran import generate_legal_entity_id, generate_national_code
from zistboom.documents import offline, profile, statuslist
from zistboom.documents.issuer import allocation, status, subjects
from zistboom.documents.issuer import repository as issuer_repository
from zistboom.documents.issuer.allocation import Entry
from zistboom.documents.issuer.app import issuer_parts
from zistboom.documents.issuer.hub import requirement_of
from zistboom.documents.issuer.issuance import IssueRequest
from zistboom.documents.issuer.service import Issuer
from zistboom.documents.issuer.settings import IssuerSettings
from zistboom.documents.issuer.status import StatusUpdate
from zistboom.documents.issuer.trust import TrustSources
from zistboom.documents.types import DocumentTypeDefinition, load_seed_types
from zistboom.documents.verification import (
    CachedContext,
    StatusListView,
    VerificationReport,
    read_form,
    verify,
)

INSTANCE = "IR-DEMO"
TYPE_CODE = "birth-certificate-extract"
REQUIREMENT = ("national", "document-issuer", "high")
SMALL, LARGE = 131_072, 1_048_576
HUB_URL = "https://documents-hub.bench.invalid"
"""The hub's public address the documents name (status lists, pull links): nothing serves it,
the verifier's cache holds the lists under these URLs."""
UNUSED_GATEWAY = "http://127.0.0.1:9"
"""The agency gateway ``init`` records: the steps measured never call it."""
REQUESTED_BY = "backoffice"
DAY = timedelta(days=1)


# --- central and the issuer's set-up -------------------------------------------------------------


@dataclass
class Documents(xb.Federation):
    """Central (accredited agency written in first) and the issuer's data directory."""

    now: datetime = field(default_factory=utc_now)
    agency: str = ""
    issuer_dir: Path = Path()
    issuer_database: str | None = None
    large_database: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        began = time.monotonic()
        self.agency = f"{INSTANCE}/GOV/{generate_legal_entity_id(random.Random())}"
        self._start_accredited_central()
        self.timings["central"] = time.monotonic() - began
        self._add_agency()
        anchor = self.root / "anchor.json"
        anchor.write_text(httpx.get(f"{self.central_url}/anchor", timeout=10).text)
        self._wait_listed(anchor)
        with self._admin() as admin:
            issued = admin.post(
                "/api/v1/enrolment-tokens", json={"member_id": self.agency, "kind": "doc"}
            )
            xb.expect(issued, 201, "issuing a doc enrolment token")
        self.issuer_dir = self.root / "issuer"
        hub_member = f"{INSTANCE}/GOV/{generate_legal_entity_id(random.Random())}"
        self.run_all(
            {
                "documents issuer init": (
                    [xb.ZISTBOOM, "documents", "issuer", "init",
                     "--data-dir", str(self.issuer_dir), "--central-url", self.central_url,
                     "--anchor", str(anchor), "--token", issued.json()["token"],
                     "--member", self.agency, "--gateway-url", UNUSED_GATEWAY,
                     "--hub-service", f"{hub_member}/documents/documents", "--hub-url", HUB_URL,
                     "--port", str(xb.free_port())],
                    self.base_env(),
                )
            }
        )  # fmt: skip
        self.issuer_database = self.new_database("issuer")
        self.large_database = self.new_database("issuer_1m")
        self.timings["ready"] = time.monotonic() - began

    def _start_accredited_central(self) -> None:
        port = xb.free_port()
        env = self.base_env()
        env["ZB_CONF_REFRESH_SECONDS"] = "1"  # the new member is in the next configuration
        url = self.new_database("central")
        if url:
            env["ZB_DATABASE_URL"] = url
        data_dir = self.root / "central"
        settings = CentralSettings(data_dir=data_dir, database_url=url, port=port)
        self.admin_key = asyncio.run(self._load(settings))
        central = self.spawn(
            "central",
            [xb.ZISTBOOM, "central", "serve", "--data-dir", str(data_dir), "--port", str(port)],
            env,
        )
        self.central_url = f"http://127.0.0.1:{port}"
        self.wait_http(central, f"{self.central_url}/health", seconds=120)

    async def _load(self, settings: CentralSettings) -> str:
        """Central's database as its first start makes it, the seeded schemes published 30
        days ago, and the agency's accreditation (the bench's shortcut)."""
        prepared = await prepare(settings)
        try:
            if prepared.first_admin_key is None:
                raise xb.SetUpFailed("central's database was not fresh: it has an admin key")
            async with transaction(prepared.sessions) as session:
                await seed_schemes(session, at=self.now - 30 * DAY)
            async with transaction(prepared.sessions) as session:
                ecosystem, kind, level = REQUIREMENT
                found = await accreditation_repository.scheme_for(session, ecosystem, kind)
                if found is None:
                    raise xb.SetUpFailed(f"no seeded scheme {ecosystem}:{kind}")
                scheme = ab.Scheme(
                    found.id, found.code, found.resource, tuple(found.levels),
                    timedelta(days=found.validity_days),
                )  # fmt: skip
                granted = (self.now - DAY).replace(microsecond=0)
                await ab.write_population(
                    session,
                    [
                        ab.Synthetic(
                            scheme, self.agency, "member", self.agency, level, granted,
                            granted + 365 * DAY, "granted",
                            (ab.Change("granted", granted, "every criterion is met (bench)"),),
                        )
                    ],
                )  # fmt: skip
            return prepared.first_admin_key
        finally:
            await prepared.engine.dispose()

    def _add_agency(self) -> None:
        _, member_class, code = self.agency.split("/")
        with self._admin() as admin:
            created = admin.post(
                "/api/v1/members",
                json={"member_class": member_class, "code": code, "name_fa": "ثبت احوال (بنچ)",
                      "name_en": "Civil registration (bench)", "kind": "agency"},
            )  # fmt: skip
            xb.expect(created, 201, "creating the agency")
            added = admin.post(
                f"/api/v1/members/{member_class}/{code}/subsystems", json={"code": "issuer"}
            )
            xb.expect(added, 201, "adding the issuer subsystem")

    def _wait_listed(self, anchor_file: Path, seconds: float = 60) -> None:
        """Until the global configuration central serves lists the agency (``init`` asks)."""
        anchor = gc.Anchor.from_json(anchor_file.read_bytes())
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            token = httpx.get(anchor.url, timeout=10).text
            if gc.verify_global_conf(token, anchor, now=gc.utc_now()).member(self.agency):
                return
            time.sleep(0.2)
        raise xb.SetUpFailed(f"central's configuration did not list {self.agency} in {seconds} s")


# --- the issuer, as its service builds it ---------------------------------------------------------


def birth_subject(rng: random.Random) -> dict[str, Any]:
    """A synthetic birth certificate extract's subject (national codes with check digits)."""
    return {
        "national_code": generate_national_code(rng),
        "given_name_fa": "زهرا",
        "given_name_en": "Zahra",
        "family_name_fa": "احمدی",
        "family_name_en": "Ahmadi",
        "sex": "F",
        "birth_date": f"{rng.randrange(1950, 2020)}-0{rng.randrange(1, 10)}-1{rng.randrange(10)}",
        "birth_province": "isfahan",
        "birth_city": "کاشان",
        "father_national_code": generate_national_code(rng),
    }


@dataclass(frozen=True)
class Made:
    entry: Entry
    credential: str
    token: bytes
    issued_at: datetime


async def issue_one(
    issuer: Issuer, document_type: DocumentTypeDefinition, subject: dict[str, Any], *,
    trusted_time: bool,
) -> Made:  # fmt: skip
    """One issuance, the steps of ``Issuance.issue`` without the hub, the QR and the PDF
    (see the module docstring); ``trusted_time=False`` is the baseline."""
    issuance = issuer.issuance
    holder = "IR" + subject["national_code"]
    subjects.validate_subject(document_type, subject, base="/credential/credentialSubject")
    requirement = requirement_of(document_type)
    now = utc_now().replace(microsecond=0)
    valid_until = issuance._valid_until(document_type, now, None)
    issuance.check_accreditation(requirement, now, when="now")
    credential_id = profile.new_credential_id()
    async with transaction(issuance.sessions) as session:
        entry = await allocation.allocate(
            session, credential_id=credential_id, size=issuance.settings.status_list_size, at=now
        )
        await status.sign_new_list(
            session, entry.list_number, issuance.signer, hub_url=issuance.settings.hub_url, at=now
        )
    claims = issuance._claims(document_type, entry, holder, subject, now, valid_until)
    credential = issuance.signer.sign(claims)
    if trusted_time:
        token, issued_at = await issuance._timestamp(credential)
    else:
        token, issued_at = b"", now
    issuance.check_accreditation(
        requirement, issued_at, when=f"at the time of issue {profile.rfc3339(issued_at)}"
    )
    request = IssueRequest(
        TYPE_CODE, subject, None, holder, None, False, f"{issuance.settings.member_id}/"
        f"{REQUESTED_BY}", None,
    )  # fmt: skip
    await issuance._record(
        request, document_type, entry, holder, credential, token, "", None,
        issued_at=issued_at, valid_from=now, valid_until=valid_until,
    )  # fmt: skip
    return Made(entry, credential, token, issued_at)


@dataclass
class Run:
    trusted_time: bool
    count: int
    seconds: float
    latencies: list[float]
    made: list[Made]

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


async def issue_many(
    issuer: Issuer, document_type: DocumentTypeDefinition, count: int, workers: int, *,
    trusted_time: bool, rng: random.Random,
) -> Run:  # fmt: skip
    """``count`` issuances, ``workers`` at once; every one must succeed."""
    remaining = count
    latencies: list[float] = []
    made: list[Made] = []

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            began = time.perf_counter()
            made.append(
                await issue_one(
                    issuer, document_type, birth_subject(rng), trusted_time=trusted_time
                )
            )
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return Run(trusted_time, count, time.perf_counter() - began, latencies, made)


def percentile_ms(values: Sequence[float], p: float) -> float:
    """Nearest rank, seconds in, milliseconds out."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(p / 100 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1] * 1000


# --- the verifier's cache -----------------------------------------------------------------------


async def signed_lists(sessions: Any, numbers: set[int], hub_url: str) -> dict[str, str]:
    """The issuer's current list credentials by URL, as the hub would serve them."""
    credentials = {}
    async with transaction(sessions) as session:
        for number in sorted(numbers):
            status_list = await issuer_repository.list_by_number(session, number)
            for purpose in profile.STATUS_PURPOSES:
                bits_row = await issuer_repository.bits_of(session, number, purpose)
                assert bits_row.credential is not None
                url = profile.status_list_url(hub_url, status_list.list_id, purpose)
                credentials[url] = bits_row.credential
    return credentials


def write_verifier_cache(
    folder: Path, settings: IssuerSettings, types: list[DocumentTypeDefinition],
    lists: dict[str, str],
) -> None:  # fmt: skip
    """A verifier cache folder (``documents/offline.py``'s layout) with what ``cache refresh``
    would have fetched: the configuration and trust list as the issuer's clients fetched them
    from central (their own cache files, the same format), the seeded types, the lists."""
    folder.mkdir(parents=True)
    shutil.copy(settings.anchor_path, folder / offline.ANCHOR_FILE)
    (folder / offline.HUB_FILE).write_text(settings.hub_url + "\n")
    for name in ("global-conf", "trust-list"):
        shutil.copytree(settings.data_dir / name, folder / name)
    adapter = TypeAdapter(list[DocumentTypeDefinition])
    (folder / offline.TYPES_FILE).write_bytes(adapter.dump_json(types, by_alias=True))
    now = utc_now().isoformat()
    for url, credential in lists.items():
        name = hashlib.sha256(url.encode()).hexdigest() + ".json"
        entry = {"url": url, "credential": credential, "fetched_at": now}
        (folder / offline.LISTS_DIR).mkdir(exist_ok=True)
        (folder / offline.LISTS_DIR / name).write_bytes(orjson.dumps(entry))
    refreshed = {n: now for n in (offline.GLOBAL_CONF, offline.TRUST_LIST, offline.DOCUMENT_TYPES)}
    (folder / offline.REFRESHED_FILE).write_bytes(orjson.dumps(refreshed))


def failing(report: VerificationReport) -> str:
    return ", ".join(f"{c.name}: {c.result} ({c.reason})" for c in report.checks
                     if c.result != "passed")  # fmt: skip


async def verify_for(
    made: list[Made], context_of: Callable[[], CachedContext], seconds: float
) -> tuple[int, float, list[float]]:
    """Verifications for ``seconds``, rotating over ``made``; each must pass every check."""
    latencies: list[float] = []
    began = time.perf_counter()
    deadline = began + seconds
    index = 0
    while time.perf_counter() < deadline:
        one = made[index % len(made)]
        index += 1
        started = time.perf_counter()
        report = await verify(read_form(one.credential, timestamp_token=one.token), context_of())
        latencies.append(time.perf_counter() - started)
        if not report.verified:
            raise xb.SetUpFailed(f"{one.entry.credential_id} did not verify: {failing(report)}")
    return index, time.perf_counter() - began, latencies


# --- status changes -----------------------------------------------------------------------------


@dataclass
class StatusCost:
    entries: int
    latencies: list[float]
    list_bytes: int
    encoded_bytes: int


async def revoke_each(issuer: Issuer, made: list[Made], context: CachedContext) -> StatusCost:
    """Revoke each document in its own transaction, as ``updateStatus`` does; the last one
    must then fail the status check against the list signed for it."""
    settings, signer = issuer.settings, issuer.signer
    latencies = []
    for one in made:
        began = time.perf_counter()
        async with transaction(issuer.sessions) as session:
            outcome = await status.change_status(
                session, one.entry.credential_id, [StatusUpdate("revocation", True)], signer,
                hub_url=settings.hub_url, requested_by=f"{settings.member_id}/{REQUESTED_BY}",
                at=utc_now(),
            )  # fmt: skip
        latencies.append(time.perf_counter() - began)
        if not outcome.changed or outcome.document.state != "revoked":
            raise xb.SetUpFailed(f"{one.entry.credential_id} was not revoked")
    last = made[-1]
    async with transaction(issuer.sessions) as session:
        status_list = await issuer_repository.list_by_number(session, last.entry.list_number)
        bits_row = await issuer_repository.bits_of(session, last.entry.list_number, "revocation")
    assert bits_row.credential is not None
    parsed = statuslist.parse_status_list(bits_row.credential)
    url = profile.status_list_url(settings.hub_url, status_list.list_id, "revocation")
    lists = await signed_lists(issuer.sessions, {last.entry.list_number}, settings.hub_url)
    views = {
        u: StatusListView(statuslist.parse_status_list(c), utc_now()) for u, c in lists.items()
    }
    after = replace(context, status_lists={**context.status_lists, **views})
    report = await verify(read_form(last.credential, timestamp_token=last.token), after)
    if report.check("status").result != "failed":
        raise xb.SetUpFailed(f"revoked {last.entry.credential_id} still passes: {failing(report)}")
    claims = orjson.loads(keys.b64url_decode(bits_row.credential.split(".")[1]))
    encoded = claims["credentialSubject"]["encodedList"]
    assert url == parsed.list_url, (url, parsed.list_url)
    return StatusCost(status_list.size, latencies, len(bits_row.credential), len(encoded))


# --- the run --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    count: int
    workers: int
    verify_seconds: float
    cold_seconds: float
    pdfs: int
    changes: int


@dataclass
class Figures:
    runs: list[Run] = field(default_factory=list)
    verified: tuple[int, float, list[float]] = (0, 0.0, [])
    cold: tuple[int, float, list[float]] = (0, 0.0, [])
    pdf: list[float] = field(default_factory=list)
    pdf_bytes: int = 0
    status: list[StatusCost] = field(default_factory=list)


async def measure(bench: Documents, plan: Plan, say: Callable[[str], None]) -> Figures:
    settings = IssuerSettings.load(bench.issuer_dir, database_url=bench.issuer_database)
    if settings.status_list_size != SMALL:
        raise xb.SetUpFailed(f"the issuer's lists have {settings.status_list_size} entries")
    anchor = gc.Anchor.from_json(settings.anchor_path.read_bytes())
    trust = TrustSources(anchor, settings.data_dir, clock=utc_now)
    await trust.start()
    document_type = next(t for t in load_seed_types() if t.code == TYPE_CODE)
    rng = random.Random(1404)
    figures = Figures()
    large_settings = settings.model_copy(
        update={"status_list_size": LARGE, "database_url": bench.large_database
                or f"sqlite+aiosqlite:///{(bench.root / 'issuer-1m.db').resolve()}"}
    )  # fmt: skip
    # The issuer as its service builds it (no background work: nothing is due within the run,
    # and publication needs the hub).
    async with contextlib.AsyncExitStack() as parts:
        parts.push_async_callback(trust.close)
        issuer = await parts.enter_async_context(issuer_parts(settings, trust, clock=utc_now))
        large = await parts.enter_async_context(issuer_parts(large_settings, trust, clock=utc_now))
        # The accreditation must hold now (the trust list central built from its tables).
        issuer.issuance.check_accreditation(requirement_of(document_type), utc_now(), when="now")
        say(f"  {settings.member_id} holds {':'.join(REQUIREMENT)} in central's trust list")
        for trusted_time in (True, False):  # warm-up, and the first list opened, untimed
            await issue_many(issuer, document_type, 2 * plan.workers, plan.workers,
                             trusted_time=trusted_time, rng=rng)  # fmt: skip
        half = max(1, plan.count // 2)
        for trusted_time in (True, False, False, True):
            label = "with the timestamp" if trusted_time else "without (baseline)"
            say(f"  issuing {half} {label}, {plan.workers} at once …")
            run = await issue_many(issuer, document_type, half, plan.workers,
                                   trusted_time=trusted_time, rng=rng)  # fmt: skip
            figures.runs.append(run)
        issued = [m for r in figures.runs if r.trusted_time for m in r.made]
        baseline = [m for r in figures.runs if not r.trusted_time for m in r.made]

        folder = bench.root / "verifier-cache"
        numbers = {m.entry.list_number for m in issued}
        write_verifier_cache(
            folder, settings, load_seed_types(),
            await signed_lists(issuer.sessions, numbers, settings.hub_url),
        )  # fmt: skip
        cache = offline.VerifierCache(folder)
        context = cache.context()
        for one in issued:  # all checks pass, before anything is timed
            report = await verify(read_form(one.credential, timestamp_token=one.token), context)
            if not report.verified:
                raise xb.SetUpFailed(f"{one.entry.credential_id} did not verify: {failing(report)}")
        say(f"  all {len(issued)} documents issued with a timestamp verify offline (every check)")
        say(f"  verifying with the cached context for {plan.verify_seconds:g} s …")
        figures.verified = await verify_for(issued, lambda: context, plan.verify_seconds)
        say(f"  verifying, each reading the cache first, for {plan.cold_seconds:g} s …")
        figures.cold = await verify_for(issued, cache.context, plan.cold_seconds)

        say(f"  rendering and signing {plan.pdfs} PDFs (PAdES B-T, central's TSA) …")
        for number, one in enumerate(issued[: plan.pdfs]):
            qr_text = await issuer.issuance._qr(one.credential)
            pull_link = issuer.issuance.hub.pull_link(os.urandom(24).hex())
            began = time.perf_counter()
            signed = await issuer.issuance._pdf(
                document_type, one.entry, one.credential, one.token, qr_text,
                issued_at=one.issued_at, pull_link=pull_link,
            )  # fmt: skip
            figures.pdf.append(time.perf_counter() - began)
            figures.pdf_bytes = len(signed)
            if number == 0:
                report = await verify(read_form(signed), context)
                if not report.verified:
                    raise xb.SetUpFailed(f"the signed PDF did not verify: {failing(report)}")

        say(f"  revoking {plan.changes} documents in a list of {SMALL:,} entries …")
        figures.status.append(await revoke_each(issuer, baseline[: plan.changes], context))
        say(f"  issuing {plan.changes} into a list of {LARGE:,} entries and revoking them …")
        into_large = await issue_many(large, document_type, plan.changes, 1,
                                      trusted_time=True, rng=rng)  # fmt: skip
        lists = await signed_lists(
            large.sessions, {m.entry.list_number for m in into_large.made}, HUB_URL
        )
        views = {
            u: StatusListView(statuslist.parse_status_list(c), utc_now()) for u, c in lists.items()
        }
        large_context = replace(context, status_lists={**context.status_lists, **views})
        figures.status.append(await revoke_each(large, into_large.made, large_context))
        return figures


def report(console: Console, figures: Figures, plan: Plan) -> str:
    def rate(runs: list[Run]) -> tuple[float, list[float]]:
        count = sum(r.count for r in runs)
        seconds = sum(r.seconds for r in runs)
        return (count / seconds if seconds else 0.0), [x for r in runs for x in r.latencies]

    with_tsa, with_lat = rate([r for r in figures.runs if r.trusted_time])
    without, without_lat = rate([r for r in figures.runs if not r.trusted_time])
    console.print(
        f"issuance (issuer's steps in process, {plan.workers} at once, {plan.count // 2 * 2} of "
        "each in ABBA order):"
    )
    for label, per_s, lat in (
        ("with the RFC 3161 timestamp (central's TSA over HTTP)", with_tsa, with_lat),
        ("without it (baseline: the issuer's own clock)", without, without_lat),
    ):
        console.print(
            f"  {label}: {per_s:.1f} issuances/s, latency p50 {percentile_ms(lat, 50):.2f} ms, "
            f"p90 {percentile_ms(lat, 90):.2f} ms"
        )
    ratio = with_tsa / without if without else 0.0
    console.print(
        f"  the cost of trusted time: with / without = {ratio:.2f} of the throughput; "
        f"+{percentile_ms(with_lat, 50) - percentile_ms(without_lat, 50):.2f} ms at p50"
    )
    count, seconds, lat = figures.verified
    cold_count, cold_seconds, cold_lat = figures.cold
    verify_rate = count / seconds if seconds else 0.0
    cold_rate = cold_count / cold_seconds if cold_seconds else 0.0
    console.print("offline verification (verification.verify, VC-JWT + its token, all checks):")
    console.print(
        f"  cached context: {count} in {seconds:.1f} s = {verify_rate:.0f} verifications/s, "
        f"p50 {percentile_ms(lat, 50):.2f} ms, p90 {percentile_ms(lat, 90):.2f} ms"
    )
    console.print(
        f"  first verification (cache folder read each time): {cold_count} in {cold_seconds:.1f} s"
        f" = {cold_rate:.0f}/s, p50 {percentile_ms(cold_lat, 50):.2f} ms, p90 "
        f"{percentile_ms(cold_lat, 90):.2f} ms; cached / first = "
        f"{verify_rate / cold_rate if cold_rate else 0.0:.1f}x"
    )
    pdf_p50 = percentile_ms(figures.pdf, 50)
    console.print(
        f"PDF render + PAdES B-T sign ({len(figures.pdf)} documents, {figures.pdf_bytes:,} "
        f"bytes each about): p50 {pdf_p50:.0f} ms, p90 {percentile_ms(figures.pdf, 90):.0f} ms"
    )
    for cost in figures.status:
        console.print(
            f"status change at {cost.entries:,} entries: revoke one index, re-encode and re-sign "
            f"the list: p50 {percentile_ms(cost.latencies, 50):.2f} ms, p90 "
            f"{percentile_ms(cost.latencies, 90):.2f} ms per change ({len(cost.latencies)} "
            f"changes); signed list {cost.list_bytes:,} bytes (encodedList {cost.encoded_bytes:,})"
        )
    return f"issue_per_s={with_tsa:.0f} verify_per_s={verify_rate:.0f} pdf_p50_ms={pdf_p50:.0f}"


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="VC-JWT issuance, offline verification, PDF signing and status changes, "
        "on this machine."
    )
    parser.add_argument("--quick", action="store_true", help="SQLite and small counts (< 90 s)")
    parser.add_argument("--count", type=int, help="issuances of each kind (1000; quick 200)")
    parser.add_argument("--workers", type=int, default=4, help="issuances in flight (4)")
    parser.add_argument("--duration", type=float, help="seconds of verification (10; quick 3)")
    parser.add_argument("--pdfs", type=int, help="PDFs rendered and signed (20; quick 5)")
    parser.add_argument("--changes", type=int, help="status changes per list size (50; quick 10)")
    parser.add_argument("--keep", action="store_true", help="keep the data directories and logs")
    return parser.parse_args(argv)


def benchmark(arguments: argparse.Namespace) -> int:
    quick: bool = arguments.quick
    duration = arguments.duration or (3.0 if quick else 10.0)
    plan = Plan(
        count=arguments.count or (200 if quick else 1000),
        workers=arguments.workers,
        verify_seconds=duration,
        cold_seconds=max(1.0, duration / 2),
        pdfs=arguments.pdfs or (5 if quick else 20),
        changes=arguments.changes or (10 if quick else 50),
    )
    console = Console(width=120, highlight=False, soft_wrap=True)
    signal.signal(signal.SIGINT, xb._stop)
    signal.signal(signal.SIGTERM, xb._stop)
    root = Path(tempfile.mkdtemp(prefix="zb-bench-documents-"))
    bench = Documents(root, postgres=not quick)
    began = time.monotonic()
    last = ""
    try:
        if quick:
            console.print(f"databases: SQLite (files under {root})")
        else:
            server = xb.POSTGRES.rsplit("@", 1)[-1].rsplit("/", 1)[0]
            console.print(
                f"databases: PostgreSQL at {server} (fresh databases zb_bench_{bench.run_id}_*: "
                "central, issuer, issuer_1m; dropped at the end)"
            )
        console.print(
            f"machine: {os.cpu_count()} cores (load average {os.getloadavg()[0]:.2f} at start), "
            f"Python {platform.python_version()}; central a process on this host, the issuer's "
            "steps in this process"
        )
        console.print(
            f"plan: {TYPE_CODE}; issuances {plan.count} with + {plan.count} without the "
            f"timestamp, {plan.workers} in flight; verification {plan.verify_seconds:g} s cached + "
            f"{plan.cold_seconds:g} s first; {plan.pdfs} PDFs; {plan.changes} status changes at "
            f"{SMALL:,} and at {LARGE:,} entries"
        )
        console.print(
            "one issuance = schema check, accreditation now, status index allocated (committed), "
            "VC-JWT signed (ES256, doc key), RFC 3161 token from central's TSA (HTTP) verified, "
            "accreditation at its genTime, document recorded (committed); not the hub, QR or PDF"
        )
        console.print(
            "setting up central (agency accredited: the bench's shortcut) and the issuer …"
        )
        bench.start()
        console.print(
            f"  central up after {bench.timings['central']:.1f} s; issuer init done after "
            f"{bench.timings['ready']:.1f} s"
        )
        figures = uvloop.run(measure(bench, plan, console.print))
        last = report(console, figures, plan)
        console.print(
            f"took {time.monotonic() - began:.1f} s (load average {os.getloadavg()[0]:.2f} at end)"
        )
    except xb.SetUpFailed as error:
        console.print(f"[red]set-up failed:[/red] {error}", highlight=False, markup=False)
        return 2
    finally:
        bench.stop()
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
