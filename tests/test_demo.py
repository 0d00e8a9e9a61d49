"""`zistboom demo` (what `make demo` runs): central, ten organisations' gateways and seven
registry services with the national base registries, each its own process under the demo's
supervision; the printed curl calls answer what they should (through the exchange, two of them
refused: by access rights, and for a missing accreditation; two trust-registry queries answered
yes and no); the ecosystem operators' shareholding is read through the exchange, with the energy
operator's finding; each printed person applies for their printed service through the
window's pages up to the tracking code, and the tasks reach the agencies' inboxes; a gateway
stopped on its own takes only the calls through it down; stopping the demo stops every
component."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from zistboom.demo import applying, documents, einvoice, federation
from zistboom.demo.federation import ORGANISATIONS, PERSON, Ports
from zistboom.demo.supervisor import Component, Supervisor, tail
from zistboom.registries.schema import match_form
from zistboom.registries.seed import national_registries
from zistboom.window.catalogue.seed import load_seed

ZISTBOOM = str(Path(sys.executable).with_name("zistboom"))
CURL_COULD_NOT_CONNECT = 7


@dataclass
class DemoProcess:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, what: str, condition: Callable[[], bool], within: float) -> None:
        deadline = time.monotonic() + within
        while not condition():
            assert time.monotonic() < deadline, f"{what}: not within {within} s\n{self.output}"
            time.sleep(0.2)


def start_demo(data_dir: Path, base: int) -> DemoProcess:
    process = subprocess.Popen(
        [ZISTBOOM, "demo", "--data-dir", str(data_dir), "--base-port", str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "COLUMNS": "80",
            # The code under test, when it is not the installed one (a worktree's src).
            **({"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}),
        },
    )
    demo = DemoProcess(process)

    def drain() -> None:
        assert process.stdout is not None
        demo.lines.extend(iter(process.stdout.readline, ""))

    threading.Thread(target=drain, daemon=True).start()
    return demo


def printed_pids(lines: list[str]) -> dict[str, int]:
    """The processes table's rows: component name → pid."""
    names = {"central", *(f"gateway {org.key}" for org in ORGANISATIONS)}
    names |= {f"registry {key}" for key in federation.registry_owners()}
    names |= {"documents hub", *(f"issuer {key}" for key in documents.ISSUERS)}
    names |= {einvoice.SYSTEM_NAME, "identity provider", "window"}
    pids: dict[str, int] = {}
    for line in lines:
        cells = [cell.strip() for cell in line.replace("|", "│").split("│")]
        if len(cells) > 3 and cells[1] in names and cells[2].isdigit():
            pids[cells[1]] = int(cells[2])
            # Its ports are printed too, also on an 80-column terminal.
            assert ":" in cells[3], line
    return pids


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def command_line(pid: int) -> list[str]:
    """The command as started: without the interpreter the script's first line names."""
    argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    return argv[1:] if argv[0] != ZISTBOOM else argv


def curl(line: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line], capture_output=True, text=True, timeout=30, check=False
    )


def seeded_person() -> dict[str, object]:
    persons = next(r for r in national_registries(size="small") if r.code == "persons")
    return next(r for r in persons.records() if r["national_code"] == PERSON)


def check_printed_calls(curls: list[str], ports: Ports) -> None:
    """Each call answers what it should: the person, the companies found, the person's usage
    list, the services allowed, the clients, and the refusal; no other X-Road error, whether
    ``Server.*`` or ``Client.*``."""
    civil = federation.organisation("civil-registration")
    window = federation.subsystem_id(federation.organisation("single-window"))
    for line in curls:
        result = curl(line)
        assert result.returncode == 0, (line, result.stderr)
        answer = json.loads(result.stdout)
        if line.endswith("# refused") and "/taxpayers/" in line:
            assert answer["type"] == "Server.ServerProxy.AccreditationRequired", (line, answer)
            assert "tax:e-invoice-provider" in answer["message"], answer
            continue
        if line.endswith("# refused"):
            assert answer["type"] == "Server.ServerProxy.AccessDenied", (line, answer)
            continue
        assert "type" not in answer, (line, answer)
        if line.endswith("/trqp/authorization") and "cross-border-trade" in line:
            assert answer["authorized"] is True, answer
            assert "recognises as substantial" in answer["message"], answer
            assert [r["type"] for r in answer["records"]] == [
                "scheme",
                "accreditation",
                "recognition",
            ], answer
        elif line.endswith("/trqp/authorization"):
            assert answer["authorized"] is False, answer
            assert "suspended" in answer["message"], answer
        elif "/persons/1.0/read" in line:
            assert answer == {"content": seeded_person()}, (line, answer)
        elif "/companies/1.0?search=" in line:
            assert answer["count"] > 3 and len(answer["results"]) == 3, answer
            assert answer["next"].startswith("?"), answer
            for company in answer["results"]:
                assert match_form(company["name_fa"]).startswith(match_form("شرکت")), company
        elif "/personal-data-usage/1.0" in line:
            reads = [
                e
                for e in answer["results"]
                if e["DatabaseID"] == "persons" and e["ReaderApplicationName"] == window
            ]
            assert reads, answer
            assert reads[-1]["Purpose"] == "demo" and reads[-1]["ReaderID"] == f"IR{PERSON}"
        elif line.endswith("/allowedMethods"):
            services = {s["service_code"]: s for s in answer["service"]}
            assert set(services) == {"persons", "personal-data-usage"}, answer
            persons = services["persons"]
            assert persons["member_code"] == civil.member.code, answer
            assert persons["subsystem_code"] == civil.subsystem, answer
            assert {(e["method"], e["path"]) for e in persons["endpoint_list"]} == set(
                federation.READ_ENDPOINTS
            ), persons
        elif line.endswith("/listClients"):
            listed = {m["id"].get("subsystem_code") for m in answer["member"]}
            assert listed - {None} == {org.subsystem for org in ORGANISATIONS} | {
                documents.HUB_SUBSYSTEM,
                documents.ISSUER_SUBSYSTEM,
                applying.INBOX_SUBSYSTEM,
            }, answer
        else:
            raise AssertionError(f"a printed call this test does not know: {line}")


def operator_reading(central: str, admin_key: str, ecosystem: str) -> dict[str, Any]:
    """The ecosystem operator's standing once central has read its shareholding through the
    exchange (the registries come up after central; it tries every 10 s until it has)."""
    deadline = time.monotonic() + 60
    headers = {"Authorization": f"Bearer {admin_key}"}
    while True:
        answer = httpx.get(f"{central}/api/v1/accreditation/operators/{ecosystem}", headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        if body.get("reading"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.5)


def check_window(demo: Any, data_dir: Path) -> None:
    """The printed window serves; its printed parent signs in with the code from the printed
    log and has their names read from the civil registry; the printed official is the first
    admin of two agencies; the catalogue flags one pair of parallel services."""
    from window.walk import Browser, sign_in

    [line] = [x for x in demo.lines if x.startswith("Single service window")]
    window_url = line.split(": ", 1)[1].split()[0]
    parent = next(x for x in demo.lines if "parent of two" in x)
    official = next(x for x in demo.lines if "official:" in x)
    [log_line] = [x for x in demo.lines if "one-time codes are sent by SMS" in x]
    log = Path(log_line.split(" in ", 1)[1].split(" (")[0])

    def row(text: str) -> tuple[str, str]:
        cells = [c.strip() for c in text.split("│")]
        return cells[2], cells[4]

    def code(phone: str, mark: int) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for entry in log.read_text().splitlines()[mark:]:
                if entry.startswith(f"SMS to {phone}: "):
                    return next(w for w in entry.split() if w.isdigit() and len(w) == 6)
            time.sleep(0.1)
        raise AssertionError(f"no SMS to {phone} in {log}")

    parent_code, parent_phone = row(parent)
    assert parent_code == PERSON
    browser = Browser()
    try:
        mark = len(log.read_text().splitlines())
        page = sign_in(browser, window_url, parent_code, lambda: code(parent_phone, mark))
        assert page.url.path == "/me/names", page.url
        profile = browser.submit(page, "/me/names", choice="read")
        assert profile.url.path == "/me" and "population-registry/persons" in profile.text
    finally:
        browser.close()
    official_code, official_phone = row(official)
    browser = Browser()
    try:
        mark = len(log.read_text().splitlines())
        page = sign_in(browser, window_url, official_code, lambda: code(official_phone, mark))
        desk = browser.get(window_url + "/officials")
        assert desk.text.count('href="/officials/GOV/') == 2, desk.text
    finally:
        browser.close()
    parallel = httpx.get(window_url + "/api/v1/parallel-systems").json()
    assert len(parallel) == 1, parallel


APPLYING = re.compile(
    r"^  (?P<role>[a-z-]+) (?P<identifier>[0-9]+): .* at (?P<url>http://\S+?);"
    r"(?: type .* (?P<key>\S+) when asked;)? first tasks to (?P<agencies>.+)$"
)
TRACKING = re.compile(r'data-tracking-code="([0-9]{21})"')
ITEM = re.compile(r'name="(item-[0-9]+)" value="confirmed"')
# What each person fills in on their service's form (the seed's JSON Schema forms).
FORMS = {
    "business-licence": {"f-company_name": "شرکت نوآوران زیست‌بوم", "f-capital_rials": "10000000",
                         "f-limited": "on"},
    "tax-clearance": {"f-purpose": "شرکت در مناقصه"},
    "residence-permit-extension": {"f-months": "6", "f-employer": "کارگاه نمونه"},
    "single-sheet-deed": {"f-delivery": "post"},
}  # fmt: skip


def sms_code(log: Path, phone: str, mark: int) -> str:
    """The one-time code the provider sent ``phone`` after line ``mark`` of its log."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for entry in log.read_text().splitlines()[mark:]:
            if entry.startswith(f"SMS to {phone}: "):
                return next(w for w in entry.split() if w.isdigit() and len(w) == 6)
        time.sleep(0.1)
    raise AssertionError(f"no SMS to {phone} in {log}")


def apply_for(window_url: str, log: Path, printed: re.Match[str]) -> tuple[str, str]:
    """The printed person signs in and applies for the printed service through the pages,
    every item read from the registries used, their locker's document shared, the form
    filled; the subject and the tracking code."""
    from window.walk import Browser, sign_in
    from zistboom.demo.window import phone_of

    identifier, service_url = printed["identifier"], printed["url"]
    subject = ("FN" if printed["role"] == "foreign-national" else "IR") + identifier
    service_code = service_url.rsplit("/", 1)[1]
    browser = Browser()
    try:
        mark = len(log.read_text().splitlines())
        sign_in(browser, window_url, identifier,
                lambda: sms_code(log, phone_of(identifier), mark))  # fmt: skip
        path = service_url.removeprefix(window_url)
        service = browser.get(service_url)
        request = browser.submit(service, path + "/apply")
        assert request.url.path.startswith("/applications/"), request.url
        action = request.url.path
        asked = {"asked-" + name.split("-", 1)[1]: printed["key"]
                 for name in re.findall(r'name="(asked-[0-9]+)"', request.text)}  # fmt: skip
        assert bool(asked) == (printed["key"] is not None), (service_code, asked)
        preview = browser.submit(request, f"{action}/request", choice="fetch", **asked)
        assert preview.status_code == 200, preview.text[:2000]
        # Every item of every source read: the seed holds the person's records.
        items = ITEM.findall(preview.text)
        agency = path.split("/")[2:5]
        [definition] = [d for d in load_seed().services["/".join(agency)] if d.code == service_code]
        wanted = sum(len(source.items) for source in definition.base_data)
        assert len(items) == wanted, (service_code, preview.text[:3000])
        page = browser.submit(preview, f"{action}/choices",
                              **{item: "confirmed" for item in items})  # fmt: skip
        while f"{action}/documents" in page.text:  # each document from the locker, shared
            page = browser.submit(page, f"{action}/documents")
            assert page.status_code == 200, page.text[:2000]
        assert 'name="item-' not in page.text, (service_code, "an item left to type")
        done = browser.submit(page, f"{action}/submit", **FORMS[service_code])
        assert done.status_code == 200, done.text[:2000]
        [code] = TRACKING.findall(done.text)
        return subject, code
    finally:
        browser.close()


def inbox_tasks(call: str) -> list[dict[str, Any]]:
    """The tasks in an agency's inbox, listed by the printed call (through its gateway)."""
    answer = json.loads(curl(call).stdout)
    return [json.loads(base64.b64decode(m["body_base64"])) for m in answer["items"]]


def fetch_share(inbox_call: str, share: dict[str, Any]) -> dict[str, Any]:
    """A document shared with the agency, fetched by its inbox subsystem through the agency's
    gateway (the inbox call's client and address) from the hub."""
    call = inbox_call.replace("/messages/v1/inbox", f"/r1/{share['service']}{share['path']}")
    answer: dict[str, Any] = json.loads(
        curl(call.replace("curl -s ", f"curl -s -H 'X-Road-Purpose: {share['purpose']}' ")).stdout
    )
    return answer


def check_applying(demo: Any, inbox_calls: list[str]) -> None:
    """Each printed person applies for their printed service up to the tracking code (all
    four side by side), and the task reaches the inbox of each agency of the first steps, as
    that agency's system lists it on its own gateway, which fetches the documents shared."""
    [line] = [x for x in demo.lines if x.startswith("Single service window")]
    window_url = line.split(": ", 1)[1].split()[0]
    [log_line] = [x for x in demo.lines if "one-time codes are sent by SMS" in x]
    log = Path(log_line.split(" in ", 1)[1].split(" (")[0])
    printed = [m for m in map(APPLYING.match, (x.rstrip("\n") for x in demo.lines)) if m]
    assert {m["role"] for m in printed} == {"director", "parent", "foreign-national", "official"}
    inboxes = {
        federation.organisation(key).member.name_en: next(
            c for c in inbox_calls if federation.member_id(federation.organisation(key)) in c
        )
        for key in ("tax", "companies-registration", "foreign-nationals-bureau",
                    "deeds-registration")
    }  # fmt: skip
    assert len(inbox_calls) == len(inboxes), inbox_calls
    with ThreadPoolExecutor(max_workers=len(printed)) as pool:
        applied = list(pool.map(lambda m: apply_for(window_url, log, m), printed))
    deadline = time.monotonic() + 60
    waiting = [
        (subject, code, name)
        for m, (subject, code) in zip(printed, applied, strict=True)
        for name in m["agencies"].split(", ")
    ]
    assert len(waiting) == 5, waiting  # the deed's first steps: deeds and the tax administration
    while waiting:
        for subject, code, name in list(waiting):
            for task in inbox_tasks(inboxes[name]):
                application = task["application"]
                if application["tracking_code"] == code:
                    assert application["applicant"] == subject, task
                    assert all(not entry["self_declared"] for entry in task["data"]), task
                    for share in task["shares"]:  # fetched by the agency's system
                        fetched = fetch_share(inboxes[name], share)
                        assert fetched["share"]["holder"] == subject, fetched
                    waiting.remove((subject, code, name))
        assert time.monotonic() < deadline, f"not in the agencies' inboxes: {waiting}"
        time.sleep(0.5)


# The demo itself waits up to 240 s for everything to serve (on two loaded cores a fresh start
# takes two minutes or more), then the checks: more than the suite's default of 120 s.
@pytest.mark.timeout(480)
def test_the_demo_runs_each_component_as_its_own_supervised_process(tmp_path: Path) -> None:
    # Below the range tests.support.free_port hands out (20000-31999) and the ephemeral range.
    base = random.randrange(12000, 19900, 100)
    ports = Ports(base)
    data_dir = tmp_path / "demo"
    demo = start_demo(data_dir, base)
    pids: dict[str, int] = {}
    try:
        demo.wait_for(
            "the demo serving",
            lambda: demo.process.poll() is not None or "Serving until interrupted" in demo.output,
            within=240,
        )
        assert demo.process.poll() is None, demo.output

        central = f"http://127.0.0.1:{base}"
        assert httpx.get(f"{central}/openapi.json").json()["info"]["title"] == "Zistboom central"
        assert httpx.get(f"{central}/docs").status_code == 200
        assert httpx.get(f"{central}/global-conf").text.count(".") == 2
        assert len(httpx.get(f"{central}/api/v1/ecosystems").json()) == 13

        # One live process per component, started by the demo with the component's command.
        pids = printed_pids(demo.lines)
        expected = {
            "central": [
                "central",
                "serve",
                "--data-dir",
                str(data_dir / "central"),
                "--host",
                "127.0.0.1",
                "--port",
                str(base),
            ],
            **{
                f"registry {key}": [
                    "registry",
                    "serve",
                    "--data-dir",
                    str(data_dir / f"{key}-registry"),
                ]
                for key in federation.registry_owners()
            },
            **{
                f"gateway {org.key}": ["gateway", "serve", "--data-dir", str(data_dir / org.key)]
                for org in ORGANISATIONS
            },
            "documents hub": [
                "documents",
                "hub",
                "serve",
                "--data-dir",
                str(data_dir / "documents-hub"),
            ],
            **{
                f"issuer {key}": [
                    "documents",
                    "issuer",
                    "serve",
                    "--data-dir",
                    str(data_dir / f"{key}-issuer"),
                ]
                for key in documents.ISSUERS
            },
            einvoice.SYSTEM_NAME: list(einvoice.system_component(ZISTBOOM, ports).argv[1:]),
            "identity provider": [
                "idp", "serve", "--data-dir", str(data_dir / "identity-provider"),
            ],
            "window": ["window", "serve", "--data-dir", str(data_dir / "window")],
        }  # fmt: skip

        # The demo's documents: issued through the exchange, one verified by the printed call
        # at the hub with every check passed, and the verification page serving.
        assert "Documents issued through the exchange (4)" in demo.output, demo.output
        verify = next(line for line in demo.lines if "/credentials/verify" in line)
        report = json.loads(curl(verify).stdout)
        assert report["verified"] is True, report
        assert [c["name"] for c in report["checks"]] == [
            "format",
            "signature",
            "certificate",
            "trusted-time",
            "accreditation",
            "status",
            "validity",
            "schema",
        ]
        page = next(line for line in demo.lines if "Verification page:" in line)
        page_url = page.split("Verification page: ", 1)[1].split(" ", 1)[0]
        answer = httpx.get(page_url)
        assert answer.status_code == 200
        assert 'dir="rtl"' in answer.text and 'lang="fa"' in answer.text
        assert set(pids) == set(expected), demo.output
        assert len(set(pids.values())) == len(pids), pids
        for name, pid in pids.items():
            assert alive(pid), name
            assert parent_of(pid) == demo.process.pid, name
            assert command_line(pid) == [ZISTBOOM, *expected[name]], name

        curls = [
            line.strip()
            for line in demo.lines
            if line.startswith("curl ")
            and "/credentials/verify" not in line
            and "/messages/v1/" not in line
        ]
        inbox_calls = [line.strip() for line in demo.lines if "/messages/v1/inbox" in line]
        assert len(curls) == 9
        assert [line.endswith("# refused") for line in curls].count(True) == 2
        check_printed_calls(curls, ports)
        # The e-invoice example (asynchronous messages): the demo's own invoice was answered
        # by the tax organisation's system; the printed calls submit another and read a status.
        [sent_line] = [line for line in demo.lines if line.startswith("E-invoice ")]
        assert ": processed, tracking number TAX-" in sent_line, sent_line
        submit_call, status_call = [
            line.strip()
            for line in demo.lines
            if line.startswith("curl ") and "/messages/v1/" in line and "/inbox" not in line
        ]
        submitted = json.loads(curl(submit_call).stdout)
        assert submitted["status"] == "accepted" and submitted["id"]
        status = json.loads(curl(status_call).stdout)
        assert status["status"] == "processed"
        assert [t["status"] for t in status["transitions"]] == [
            "accepted", "sent", "received", "delivered", "processed",
        ]  # fmt: skip
        assert status["receipt"].count(".") == 2  # the tax gateway's signed receipt (a JWS)
        second = status_call.replace(status["id"], submitted["id"])
        demo.wait_for(
            "the second e-invoice answered",
            lambda: json.loads(curl(second).stdout)["status"] == "processed",
            30,
        )
        check_window(demo, data_dir)
        check_applying(demo, inbox_calls)
        [admin_key] = [
            line.rsplit(" ", 1)[-1].strip()
            for line in demo.lines
            if line.startswith("First admin API key (shown once)")
        ]
        # The energy operator is 50 % private: a finding naming the figures and the source.
        energy = operator_reading(central, admin_key, "energy")
        [finding] = energy["findings"]
        assert "50" in finding["message"] and "companies" in finding["message"], finding
        finance = operator_reading(central, admin_key, "finance")
        assert finance["reading"]["outcome"] == "ok" and finance["findings"] == [], finance
        assert "Seeded the base registries (27,833 synthetic records in 7 registries)" in " ".join(
            demo.output.split()
        )

        # One gateway stopped on its own: calls through it cannot connect, the demo says so,
        # does not restart it, and the other gateways keep answering.
        index = {org.key: i for i, org in enumerate(ORGANISATIONS)}
        through_company = next(
            c for c in curls if f":{ports.client(index['finance-ecosystem'])}/" in c
        )
        through_window = next(c for c in curls if "/persons/1.0/read" in c and "refused" not in c)
        victim = "gateway finance-ecosystem"
        os.kill(pids[victim], signal.SIGTERM)
        died = f"{victim} (pid {pids[victim]}) died"
        demo.wait_for("the death reported", lambda: died in demo.output, within=30)
        demo.wait_for("the gateway gone", lambda: not alive(pids[victim]), within=10)
        assert curl(through_company).returncode == CURL_COULD_NOT_CONNECT
        assert json.loads(curl(through_window).stdout) == {"content": seeded_person()}
        for name, pid in pids.items():
            assert alive(pid) or name == victim, name
        assert demo.process.poll() is None
        assert not alive(pids[victim]), "restarted behind the operator's back?"

        # SIGTERM to the demo stops every component, and the demo itself.
        demo.process.send_signal(signal.SIGTERM)
        assert demo.process.wait(timeout=30) == 0, demo.output
        demo.wait_for(
            "every component stopped",
            lambda: not any(alive(pid) for pid in pids.values()),
            within=15,
        )
        assert "All components stopped." in demo.output
    finally:
        if demo.process.poll() is None:
            demo.process.terminate()
            demo.process.wait(timeout=30)
        for pid in pids.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def shell(name: str, script: str) -> Component:
    return Component(name, ("bash", "-c", script), listens=(), health_url="http://127.0.0.1:9/")


async def wait_until(what: str, condition: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        await asyncio.sleep(0.05)


async def test_a_component_that_dies_is_reported_with_its_last_lines_and_not_restarted(
    tmp_path: Path,
) -> None:
    deaths: list[tuple[str, int, int, list[str]]] = []
    supervisor = Supervisor(
        tmp_path / "logs",
        on_death=lambda running, code: deaths.append(
            (running.component.name, running.pid, code, tail(running.log_path, running.log_start))
        ),
    )
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "crashing.log").write_text("an earlier run's output\n")
    steady = await supervisor.start(shell("steady", "exec sleep 60"))
    crashing = await supervisor.start(
        shell("crashing", "echo starting; echo last words >&2; exit 3")
    )
    try:
        await wait_until("the death reported", lambda: bool(deaths), within=10)
        name, pid, code, lines = deaths[0]
        assert (name, pid, code) == ("crashing", crashing.pid, 3)
        assert lines[-2:] == ["starting", "last words"]
        assert not any("earlier run" in line for line in lines)
        assert steady.alive and not supervisor.all_exited.is_set()
        assert [r.component.name for r in supervisor.running] == ["steady", "crashing"]
    finally:
        assert await supervisor.stop(grace=10) == []
    assert steady.process.returncode == -signal.SIGTERM
    assert len(deaths) == 1, "a component stopped by the supervisor is not a death"


async def test_a_component_that_ignores_sigterm_is_killed_after_the_grace_period(
    tmp_path: Path,
) -> None:
    supervisor = Supervisor(tmp_path / "logs", on_death=lambda running, code: None)
    stubborn = await supervisor.start(shell("stubborn", "trap '' TERM; sleep 60 & echo $!; wait"))
    polite = await supervisor.start(shell("polite", "exec sleep 60"))
    await wait_until("the helper started", lambda: len(tail(stubborn.log_path)) == 2, within=10)
    helper = int(tail(stubborn.log_path)[-1])
    started = time.monotonic()
    killed = await supervisor.stop(grace=1)
    assert [r.component.name for r in killed] == ["stubborn"]
    assert 1 <= time.monotonic() - started < 10
    assert stubborn.process.returncode == -signal.SIGKILL
    assert polite.process.returncode == -signal.SIGTERM
    await wait_until("what the component started gone too", lambda: not alive(helper), within=10)


def test_components_do_not_outlive_a_killed_supervisor(tmp_path: Path) -> None:
    script = f"""
import asyncio
from pathlib import Path
from zistboom.demo.supervisor import Component, Supervisor

async def main() -> None:
    supervisor = Supervisor(Path({str(tmp_path / "logs")!r}), on_death=lambda r, c: None)
    running = await supervisor.start(Component("child", ("sleep", "60"), (), "http://127.0.0.1:9/"))
    print(running.pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        child = int(process.stdout.readline())
        assert alive(child)
        process.kill()
        process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(child):
            assert time.monotonic() < deadline, "the child outlived its supervisor"
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.kill()
