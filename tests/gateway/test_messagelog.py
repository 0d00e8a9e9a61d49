"""The message log on SQLite and PostgreSQL with a real central TSA: group commit under many
concurrent appenders, one chain per instance, restarts, sealing into timestamped Merkle batches,
evidence export and verification (by our verifier, by the CLI and by openssl), TSA outages and
commit failures."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
import pytest
from aiohttp import web
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography import x509
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool
from typer.testing import CliRunner

from central_process import CentralProcess, start_central
from support import free_port
from zistboom.core.crypto import httpsig
from zistboom.core.crypto.keys import PrivateKey, generate_private_key, load_private_key
from zistboom.core.crypto.x509 import (
    certificate_der,
    certificate_fingerprint,
    certificate_pem,
    create_ca_certificate,
    issue_certificate,
    load_certificate,
    random_serial,
    subject_name,
)
from zistboom.core.database import create_engine, migrate, utc_now
from zistboom.core.errors import ConfigurationError, ZistboomError
from zistboom.core.evidence import GENESIS_HASH, RecordContent, verify_bundle
from zistboom.core.exchange import request_hash
from zistboom.evidence_cli import app as evidence_app
from zistboom.gateway.messagelog import (
    COPY_FROM,
    WRITER_APPLICATION,
    LogBatch,
    LogEntry,
    LogRecord,
    MessageLog,
    export_bundle,
)
from zistboom.gateway.models import Base

MIGRATIONS = "zistboom.gateway:migrations"
OPENSSL = "/usr/bin/openssl"
CLIENT = "IR-DEMO/GOV/10380284790/births"
CLIENT_MEMBER = "IR-DEMO/GOV/10380284790"
SERVICE = "IR-DEMO/COM/14007650912/registry/getPerson"
PROVIDER_MEMBER = "IR-DEMO/COM/14007650912"
TARGET = "/r1/IR-DEMO/COM/14007650912/registry/getPerson?id=7"
TARGET_URI = "https://gw-b.example:8443" + TARGET
GATEWAY = "IR-DEMO/GOV/10380284790/gw1"


@dataclass
class Instance:
    """The running central (its TSA and CA) and two members' signing keys from its CA."""

    central: CentralProcess
    ca_cert: x509.Certificate
    tsa_cert: x509.Certificate
    client_key: PrivateKey
    client_cert: x509.Certificate
    provider_key: PrivateKey
    provider_cert: x509.Certificate

    @property
    def tsa_url(self) -> str:
        return f"{self.central.url}/tsa"


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    data_dir = tmp_path_factory.mktemp("central")
    central = start_central(data_dir, None)
    try:
        ca_cert = load_certificate(httpx.get(f"{central.url}/api/v1/ca/certificate").text)
        # Signing certificates issued with central's own CA key, as its enrolment would.
        ca_key = load_private_key(data_dir / "keys" / "ca.key")
        now = utc_now()

        def issue(key: PrivateKey, member: str) -> x509.Certificate:
            return issue_certificate(
                ca_key=ca_key,
                ca_cert=ca_cert,
                public_key=key.public_key(),
                subject=subject_name(common_name=member, serial_number=member),
                kind="sign",
                serial=random_serial(),
                not_before=now - timedelta(hours=1),
                not_after=now + timedelta(days=30),
            )

        client_key, provider_key = generate_private_key(), generate_private_key()
        yield Instance(
            central,
            ca_cert,
            load_certificate((data_dir / "keys" / "tsa.pem").read_bytes()),
            client_key,
            issue(client_key, CLIENT_MEMBER),
            provider_key,
            issue(provider_key, PROVIDER_MEMBER),
        )
    finally:
        central.process.terminate()
        central.process.wait(timeout=15)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await migrate(engine, MIGRATIONS)
    try:
        yield engine
    finally:
        await engine.dispose()


def exchange(inst: Instance, message_id: str, *, side: str = "client") -> tuple[LogEntry, LogEntry]:
    """A request and its response, signed as the two gateways sign them, as log entries."""
    body = b'{"national_code": "0499370899"}'
    headers = {
        "x-road-client": CLIENT,
        "x-road-id": message_id,
        "content-type": "application/json",
        "content-digest": httpsig.content_digest(body),
        "zb-signer-certificate": base64.b64encode(certificate_der(inst.client_cert)).decode(),
    }
    created = int(utc_now().timestamp())
    signed = httpsig.sign_request(
        httpsig.RequestParts("POST", TARGET_URI, headers),
        components=[
            "@method",
            "@path",
            "@query",
            "content-digest",
            "x-road-client",
            "x-road-id",
            "zb-signer-certificate",
            "content-type",
        ],
        key=inst.client_key,
        key_id=certificate_fingerprint(inst.client_cert),
        created=created,
        nonce=message_id,
    )
    headers |= {"signature-input": signed.signature_input, "signature": signed.signature}
    answer = b'{"name": "Zahra"}'
    response_headers = {
        "x-road-id": message_id,
        "x-road-service": SERVICE,
        "x-road-request-id": str(uuid.uuid4()),
        "x-road-request-hash": request_hash(signed.signature_base, body),
        "content-type": "application/json",
        "content-digest": httpsig.content_digest(answer),
        "zb-signer-certificate": base64.b64encode(certificate_der(inst.provider_cert)).decode(),
    }
    signed = httpsig.sign_response(
        httpsig.ResponseParts(200, response_headers),
        request=httpsig.RequestParts("POST", TARGET_URI, headers),
        components=[
            "@status",
            "content-digest",
            "x-road-id",
            "x-road-service",
            "x-road-request-id",
            "x-road-request-hash",
            "zb-signer-certificate",
            '"signature";req;key="zb"',
        ],
        key=inst.provider_key,
        key_id=certificate_fingerprint(inst.provider_cert),
        created=created,
    )
    response_headers |= {"signature-input": signed.signature_input, "signature": signed.signature}
    common: dict[str, Any] = {"message_id": message_id, "side": side, "client": CLIENT}
    return (
        LogEntry(
            kind="request",
            method="POST",
            target=TARGET,
            headers=headers | {"@target-uri": TARGET_URI},
            body=body,
            body_digest=headers["content-digest"],
            service=SERVICE,
            **common,
        ),
        LogEntry(
            kind="response",
            method="POST",
            status=200,
            headers=response_headers,
            body=answer,
            body_digest=response_headers["content-digest"],
            service=SERVICE,
            **common,
        ),
    )


def plain_entry(number: int) -> LogEntry:
    body = f"message {number}".encode()
    return LogEntry(
        message_id=f"m-{number}",
        kind="request",
        side="client",
        client=CLIENT,
        service=SERVICE,
        method="GET",
        target=f"/r1/x?n={number}",
        headers={"X-Road-Id": f"m-{number}"},
        body=body,
        body_digest=httpsig.content_digest(body),
    )


def message_log(
    engine: AsyncEngine, inst: Instance, name: str = "gw1", **options: Any
) -> MessageLog:
    settings: dict[str, Any] = {
        "batch_interval": 3600.0,
        "tsa_url": inst.tsa_url,
        "gateway_id": GATEWAY,
        "ca_cert": inst.ca_cert,
    }
    return MessageLog(engine, instance=name, **settings | options)


class Clock:
    """A clock for the message log that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def wait_until(condition: Callable[[], bool], what: str, within: float = 10.0) -> None:
    """Wait for ``condition`` to hold; fail at the deadline."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {within} s")
        await asyncio.sleep(0.01)


async def chain_rows(engine: AsyncEngine, name: str) -> list[Any]:
    async with engine.connect() as connection:
        result = await connection.execute(
            select(LogRecord.__table__).where(LogRecord.instance == name).order_by(LogRecord.seq)
        )
        return list(result.mappings())


def assert_one_chain(rows: list[Any], count: int) -> None:
    """seq 1..count, every record hash recomputes, every prev_hash links."""
    assert [row["seq"] for row in rows] == list(range(1, count + 1))
    previous = GENESIS_HASH
    for row in rows:
        content = RecordContent(**{name: row[name] for name in RecordContent.__dataclass_fields__})
        assert row["prev_hash"] == previous
        assert content.record_hash() == row["record_hash"]
        previous = row["record_hash"]


async def test_migration_creates_exactly_the_declared_tables(engine: AsyncEngine) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [diff for diff in compare_metadata(context, Base.metadata) if "log_" in str(diff)]

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_concurrent_appenders_make_one_unbroken_chain(
    engine: AsyncEngine, instance: Instance
) -> None:
    log = message_log(engine, instance)
    await log.start()
    try:
        entries = [plain_entry(n) for n in range(300)]
        queue = asyncio.Queue[LogEntry]()
        for entry in entries:
            queue.put_nowait(entry)
        logged = []

        async def appender() -> None:
            while not queue.empty():
                logged.append(await log.append(queue.get_nowait()))

        await asyncio.gather(*(appender() for _ in range(64)))
    finally:
        await log.stop()
    rows = await chain_rows(engine, "gw1")
    assert_one_chain(rows, 300)
    assert sorted(record.seq for record in logged) == list(range(1, 301))
    by_seq = {row["seq"]: row for row in rows}
    for record in logged:
        assert by_seq[record.seq]["record_hash"] == record.record_hash
    # Header names are logged in lower case; the body and its digest are kept.
    assert rows[0]["headers"] == {"x-road-id": rows[0]["message_id"]}
    assert rows[0]["body"] is not None


async def test_two_instances_share_a_database_without_waiting(
    engine: AsyncEngine, instance: Instance
) -> None:
    first, second = message_log(engine, instance, "gw-a"), message_log(engine, instance, "gw-b")
    await first.start()
    await second.start()
    try:

        async def worker(log: MessageLog, numbers: range) -> None:
            for number in numbers:
                await log.append(plain_entry(number))

        # Four appenders per instance, each waiting for its record: many small groups, enough
        # of them that one instance cannot finish by chance before the other starts (with 100
        # records each, about one run in ten did).
        await asyncio.gather(
            *(worker(log, range(start, 400, 4)) for start in range(4) for log in (first, second))
        )
    finally:
        await first.stop()
        await second.stop()
    assert_one_chain(await chain_rows(engine, "gw-a"), 400)
    assert_one_chain(await chain_rows(engine, "gw-b"), 400)
    async with engine.connect() as connection:
        order = (
            await connection.execute(select(LogRecord.instance).order_by(LogRecord.id))
        ).scalars()
        # The two writers' commits interleave: neither waited for the other to finish.
        runs = 1
        previous = None
        for name in order:
            if previous is not None and name != previous:
                runs += 1
            previous = name
    assert runs > 2


async def test_a_restart_continues_the_chain(engine: AsyncEngine, instance: Instance) -> None:
    log = message_log(engine, instance)
    await log.start()
    for n in range(3):
        await log.append(plain_entry(n))
    await log.stop()
    with pytest.raises(ZistboomError, match="not running"):
        await log.append(plain_entry(9))
    log = message_log(engine, instance)
    await log.start()
    record = await log.append(plain_entry(3))
    await log.append(plain_entry(4))
    await log.stop()
    assert record.seq == 4
    assert_one_chain(await chain_rows(engine, "gw1"), 5)


async def test_sealed_batches_verify_and_export_as_evidence(
    engine: AsyncEngine, instance: Instance, tmp_path: Path
) -> None:
    # The consumer's gateway logs the client side, the provider's the server side.
    consumer = message_log(engine, instance, "consumer", max_batch=3)
    provider = message_log(engine, instance, "provider")
    await consumer.start()
    await provider.start()
    for number in range(2):
        request, response = exchange(instance, f"msg-{number}")
        await consumer.append(request)
        await consumer.append(response)
    request, response = exchange(instance, "msg-1", side="server")
    await provider.append(request)
    await provider.append(response)
    assert consumer.oldest_unstamped_age > 0
    sealed = await consumer.seal()
    assert [(b.first_seq, b.last_seq) for b in sealed] == [(1, 3), (4, 4)]
    assert consumer.oldest_unstamped_age == 0.0
    assert consumer.timestamping_ok()
    await consumer.stop()
    await provider.stop()  # stopping seals what is left
    assert [row["batch_id"] is not None for row in await chain_rows(engine, "provider")] == [
        True,
        True,
    ]

    # Every batch token verifies with openssl against the instance CA.
    (tmp_path / "ca.pem").write_text(certificate_pem(instance.ca_cert))
    (tmp_path / "tsa.pem").write_text(certificate_pem(instance.tsa_cert))
    async with engine.connect() as connection:
        batches = list((await connection.execute(select(LogBatch.__table__))).mappings())
    assert len(batches) == 3
    for batch in batches:
        (tmp_path / "token.der").write_bytes(batch["timestamp_token"])
        (tmp_path / "root.bin").write_bytes(bytes.fromhex(batch["root"]))
        command = [OPENSSL, "ts", "-verify", "-token_in", "-in", "token.der"]
        command += ["-data", "root.bin", "-CAfile", "ca.pem", "-untrusted", "tsa.pem"]
        result = await asyncio.to_thread(
            subprocess.run, command, cwd=tmp_path, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr

    # msg-1: both sides' request and response, from two instances and two batches.
    bundle = await export_bundle(engine, message_id="msg-1", certificates=[instance.ca_cert])
    report = verify_bundle(bundle, trust_anchor=instance.ca_cert)
    assert report.ok, report.failures()
    assert [(r.instance, r.seq, r.kind) for r in report.records] == [
        ("consumer", 3, "request"),
        ("consumer", 4, "response"),
        ("provider", 1, "request"),
        ("provider", 2, "response"),
    ]
    document = orjson.loads(bundle)
    assert len(document["batches"]) == 3
    assert {b["instance"] for b in document["batches"]} == {"consumer", "provider"}
    # One changed body byte is caught and blamed on that record only.
    body = bytearray(base64.b64decode(document["records"][1]["body"]))
    body[2] ^= 0x20
    document["records"][1]["body"] = base64.b64encode(bytes(body)).decode()
    report = verify_bundle(orjson.dumps(document), trust_anchor=instance.ca_cert)
    assert [(r.seq, r.failed) for r in report.records if r.failed] == [(4, ["body"])]

    # A time range; the bodies may be left out and the records still verify.
    start = (await chain_rows(engine, "consumer"))[0]["at"]
    bundle = await export_bundle(
        engine,
        start=start,
        end=start + timedelta(hours=1),
        certificates=[instance.ca_cert],
        include_bodies=False,
    )
    report = verify_bundle(bundle, trust_anchor=instance.ca_cert)
    assert report.ok, report.failures()
    assert len(report.records) == 6


async def test_the_cli_exports_and_verifies(
    engine: AsyncEngine,
    database_url: str,
    instance: Instance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = message_log(engine, instance)
    await log.start()
    for entry in exchange(instance, "msg-cli"):
        await log.append(entry)
    await log.append(plain_entry(1))  # another message, not exported
    await log.stop()

    data_dir = tmp_path / "gateway"
    (data_dir / "certs").mkdir(parents=True)
    (data_dir / "certs" / "ca.pem").write_text(certificate_pem(instance.ca_cert))
    (data_dir / "certs" / "auth.pem").write_text(certificate_pem(instance.client_cert))
    monkeypatch.setenv("ZB_DATABASE_URL", database_url)
    out = tmp_path / "evidence.json"
    runner = CliRunner()
    # The CLI runs its own event loop: run it beside this test's.
    result = await asyncio.to_thread(
        runner.invoke,
        evidence_app,
        ["export", "--data-dir", str(data_dir), "--message-id", "msg-cli", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "2 records" in result.output
    (tmp_path / "ca.pem").write_text(certificate_pem(instance.ca_cert))
    result = runner.invoke(evidence_app, ["verify", str(out), "--ca", str(tmp_path / "ca.pem")])
    assert result.exit_code == 0, result.output
    assert "all checks hold" in result.output

    document = orjson.loads(out.read_bytes())
    document["records"][0]["headers"]["x-road-client"] = "IR-DEMO/GOV/10380284790/deaths"
    out.write_bytes(orjson.dumps(document))
    result = runner.invoke(evidence_app, ["verify", str(out), "--ca", str(tmp_path / "ca.pem")])
    assert result.exit_code == 1
    assert "message id msg-cli" in result.output
    assert "seq 1" in result.output
    assert "record_hash" in result.output and "signature" in result.output


async def test_tsa_outage_leaves_records_unsealed_until_it_returns(
    engine: AsyncEngine, instance: Instance
) -> None:
    port = free_port()  # nothing listens here yet
    clock = Clock()
    log = message_log(
        engine,
        instance,
        tsa_url=f"http://127.0.0.1:{port}/tsa",
        batch_interval=0.1,
        timestamp_grace=60,
        clock=clock,
    )
    await log.start()
    try:
        await log.append(plain_entry(1))
        with pytest.raises(ZistboomError, match="cannot be reached"):
            await log.seal()
        clock.advance(60)
        assert log.timestamping_ok()  # the grace period, to the microsecond
        clock.advance(0.001)
        assert not log.timestamping_ok()
        assert log.oldest_unstamped_age == pytest.approx(60.001)
        assert [row["batch_id"] for row in await chain_rows(engine, "gw1")] == [None]
        await log.append(plain_entry(2))  # the log itself still works

        # The TSA comes back at the same address (a relay in front of central's).
        async def relay(request: web.Request) -> web.Response:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    instance.tsa_url,
                    data=await request.read(),
                    headers={"Content-Type": request.content_type},
                ) as answer,
            ):
                return web.Response(
                    body=await answer.read(), status=answer.status, content_type=answer.content_type
                )

        relay_app = web.Application()
        relay_app.router.add_post("/tsa", relay)
        runner = web.AppRunner(relay_app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            await wait_until(log.timestamping_ok, "sealing once the TSA is back")
            assert log.oldest_unstamped_age == 0.0
            # The sealing loop's retry sealed both records, before any stop() could.
            rows = await chain_rows(engine, "gw1")
            assert [row["batch_id"] is not None for row in rows] == [True, True]
        finally:
            await runner.cleanup()
    finally:
        await log.stop()


async def test_a_tsa_answer_that_does_not_verify_is_refused(
    engine: AsyncEngine, instance: Instance
) -> None:
    # The real TSA of this instance, checked against another instance's CA.
    stranger = create_ca_certificate(generate_private_key(), common_name="Other CA")
    log = message_log(engine, instance, ca_cert=lambda: stranger)
    await log.start()
    try:
        await log.append(plain_entry(1))
        with pytest.raises(ZistboomError, match="does not verify"):
            await log.seal()
    finally:
        await log.stop()
    assert [row["batch_id"] for row in await chain_rows(engine, "gw1")] == [None]


async def test_a_failed_commit_reaches_every_waiter(
    engine: AsyncEngine, instance: Instance
) -> None:
    log = message_log(engine, instance)
    await log.start()
    try:
        await log.append(plain_entry(0))
        # Somebody else takes seq 2 of this chain: the next group's insert must fail as a whole.
        async with engine.begin() as connection:
            await connection.execute(
                insert(LogRecord).values(
                    instance="gw1",
                    seq=2,
                    at=utc_now(),
                    message_id="intruder",
                    kind="request",
                    side="client",
                    headers={},
                    body_digest="sha-256=:x:",
                    prev_hash=GENESIS_HASH,
                    record_hash="f" * 64,
                )
            )
        results = await asyncio.gather(
            *(log.append(plain_entry(n)) for n in range(1, 21)), return_exceptions=True
        )
        assert len(results) == 20
        assert all(isinstance(r, ZistboomError) for r in results), results
        assert all("could not commit" in str(r) for r in results)
        rows = await chain_rows(engine, "gw1")
        assert [row["message_id"] for row in rows] == ["m-0", "intruder"]
        # The writer re-reads the chain's tail and goes on after the intruder.
        record = await log.append(plain_entry(99))
        assert record.seq == 3
    finally:
        await log.stop()


async def test_invalid_entries_fail_alone(engine: AsyncEngine, instance: Instance) -> None:
    log = message_log(engine, instance)
    await log.start()
    try:
        bad = LogEntry(
            message_id="m", kind="request", side="client", headers={}, body_digest="d"
        )  # a request without method and target
        results = await asyncio.gather(
            log.append(plain_entry(1)),
            log.append(bad),
            log.append(plain_entry(2)),
            return_exceptions=True,
        )
    finally:
        await log.stop()
    assert isinstance(results[1], ZistboomError)
    assert "needs method and target" in str(results[1])
    assert [r.seq for r in (results[0], results[2])] == [1, 2]  # type: ignore[union-attr]


async def test_start_finds_unsealed_records(engine: AsyncEngine, instance: Instance) -> None:
    log = message_log(engine, instance, tsa_url="http://127.0.0.1:9/tsa")
    await log.start()
    await log.append(plain_entry(1))
    await log.stop()  # cannot seal: the records stay as they are
    async with engine.begin() as connection:
        await connection.execute(update(LogRecord).values(at=utc_now() - timedelta(hours=5)))
    log = message_log(engine, instance, tsa_url="http://127.0.0.1:9/tsa")
    await log.start()
    try:
        assert log.oldest_unstamped_age > 4 * 3600
        assert not log.timestamping_ok()
    finally:
        await log.stop()


async def test_headers_are_stored_as_the_canonical_json_the_hash_covers(
    engine: AsyncEngine, instance: Instance
) -> None:
    # A clock in another zone: the stored time is the same instant, read back as UTC.
    tehran = timezone(timedelta(hours=3, minutes=30))
    log = message_log(engine, instance, clock=lambda: datetime.now(tehran))
    await log.start()
    try:
        request, response = exchange(instance, "msg-json")
        headers = dict(request.headers) | {"X-Note": 'گزارش "ماهانه"'}
        entry = replace(request, headers=headers)
        logged = [await log.append(entry), await log.append(response)]
    finally:
        await log.stop()
    rows = await chain_rows(engine, "gw1")
    assert_one_chain(rows, 2)
    expected = {name.lower(): value for name, value in headers.items()}
    assert rows[0]["headers"] == expected
    assert [row["at"] for row in rows] == [record.at.astimezone(UTC) for record in logged]
    assert all(row["at"].tzinfo == UTC for row in rows)
    async with engine.connect() as connection:
        stored = (
            await connection.execute(
                text("SELECT CAST(headers AS TEXT) FROM log_records ORDER BY seq")
            )
        ).scalars()
        stored_texts = list(stored)
    assert stored_texts[0] == orjson.dumps(expected, option=orjson.OPT_SORT_KEYS).decode()
    assert '"x-note":"گزارش \\"ماهانه\\""' in stored_texts[0]
    canonical = RecordContent(
        **{name: rows[0][name] for name in RecordContent.__dataclass_fields__}
    ).canonical_json()
    assert stored_texts[0].encode() in canonical


@pytest.mark.parametrize("size", [2, COPY_FROM - 1, COPY_FROM, 40])
async def test_a_group_is_written_whole_or_not_at_all(
    engine: AsyncEngine, instance: Instance, size: int
) -> None:
    # Below COPY_FROM records PostgreSQL gets a prepared INSERT, from it on COPY.
    log = message_log(engine, instance)
    await log.start()
    try:
        await log.append(plain_entry(0))
        # Seq 3 is taken: the group's first record (seq 2) alone would fit, the group does not.
        async with engine.begin() as connection:
            await connection.execute(
                insert(LogRecord).values(
                    instance="gw1",
                    seq=3,
                    at=utc_now(),
                    message_id="intruder",
                    kind="request",
                    side="client",
                    headers={},
                    body_digest="sha-256=:x:",
                    prev_hash=GENESIS_HASH,
                    record_hash="f" * 64,
                )
            )
        results = await asyncio.gather(
            *(log.append(plain_entry(n)) for n in range(1, size + 1)), return_exceptions=True
        )
        assert all(isinstance(r, ZistboomError) for r in results), results
        assert [row["message_id"] for row in await chain_rows(engine, "gw1")] == ["m-0", "intruder"]
        # The next group, in one piece and of the same size, goes on after the intruder.
        records = await asyncio.gather(
            *(log.append(plain_entry(n)) for n in range(100, 100 + size))
        )
        assert [r.seq for r in records] == list(range(4, 4 + size))
    finally:
        await log.stop()
    rows = await chain_rows(engine, "gw1")
    assert [row["message_id"] for row in rows[2:]] == [f"m-{n}" for n in range(100, 100 + size)]


async def test_the_writer_reconnects_after_losing_its_connection(
    engine: AsyncEngine, instance: Instance
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("only a PostgreSQL server can cut the writer's connection from outside")
    writers = text(
        "SELECT pid FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = :name"
    ).bindparams(name=WRITER_APPLICATION)
    log = message_log(engine, instance)
    await log.start()
    try:
        await log.append(plain_entry(1))
        async with engine.connect() as connection:
            pids = list((await connection.execute(writers)).scalars())
            assert len(pids) == 1
            # Waits (up to 5 s) until the server process has gone.
            await connection.execute(
                text("SELECT pg_terminate_backend(:pid, 5000)").bindparams(pid=pids[0])
            )
        # The server closed it; wait until the writer's side of the connection has seen that.
        writer = log._record_writer
        await wait_until(
            lambda: writer._connection is None or writer._connection.is_closed(),  # type: ignore[attr-defined]
            "the writer noticing its lost connection",
        )
        record = await log.append(plain_entry(2))
        assert record.seq == 2
        async with engine.connect() as connection:
            assert len(list((await connection.execute(writers)).scalars())) == 1
    finally:
        await log.stop()
    assert_one_chain(await chain_rows(engine, "gw1"), 2)
    async with engine.connect() as connection:
        assert list((await connection.execute(writers)).scalars()) == []  # closed at stop


async def test_a_sqlite_commit_waits_for_another_writers_lock(
    engine: AsyncEngine, instance: Instance
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the write lock of a database file is SQLite's")
    assert engine.url.database is not None
    log = message_log(engine, instance)
    await log.start()
    other = sqlite3.connect(engine.url.database, isolation_level=None)
    try:
        await log.append(plain_entry(0))
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock for a while
        try:
            waiting = asyncio.ensure_future(log.append(plain_entry(1)))
            # What must not happen meanwhile: a bounded wait for the commit, which must time out.
            done, _ = await asyncio.wait({waiting}, timeout=0.3)
            assert not done
        finally:
            other.execute("COMMIT")
        record = await asyncio.wait_for(waiting, 5)
        assert record.seq == 2
    finally:
        other.close()
        await log.stop()
    assert_one_chain(await chain_rows(engine, "gw1"), 2)


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
async def test_both_sqlite_durability_settings_write_the_chain(
    engine: AsyncEngine, instance: Instance, synchronous: str
) -> None:
    # The setting applies to SQLite only; PostgreSQL takes it and ignores it.
    log = message_log(engine, instance, sqlite_synchronous=synchronous)
    await log.start()
    try:
        await asyncio.gather(*(log.append(plain_entry(n)) for n in range(20)))
        await log.append(plain_entry(20))
        # Read back on the writer's own connection (the pragma is per connection).
        in_effect = await log.sqlite_synchronous()
    finally:
        await log.stop()
    assert in_effect == (synchronous if engine.dialect.name == "sqlite" else None)
    assert_one_chain(await chain_rows(engine, "gw1"), 21)


async def test_sqlite_syncs_every_commit_by_default(
    engine: AsyncEngine, instance: Instance
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PRAGMA synchronous is SQLite's")
    log = message_log(engine, instance)
    await log.start()
    try:
        await log.append(plain_entry(1))
        assert await log.sqlite_synchronous() == "FULL"
    finally:
        await log.stop()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file:log?mode=memory&uri=true",
    ],
)
async def test_an_in_memory_database_is_refused(url: str) -> None:
    engine = create_engine(url, poolclass=StaticPool)
    try:
        with pytest.raises(ConfigurationError, match="in-memory"):
            MessageLog(
                engine,
                gateway_id=GATEWAY,
                instance="gw1",
                tsa_url="http://127.0.0.1:9/tsa",
                ca_cert=_CA,
            )
    finally:
        await engine.dispose()


async def test_an_unknown_durability_setting_is_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'log.db'}")
    try:
        with pytest.raises(ConfigurationError, match="FULL or NORMAL"):
            MessageLog(
                engine,
                gateway_id=GATEWAY,
                instance="gw1",
                tsa_url="http://127.0.0.1:9/tsa",
                ca_cert=_CA,
                sqlite_synchronous="OFF",  # type: ignore[arg-type]
            )
    finally:
        await engine.dispose()


_CA = create_ca_certificate(generate_private_key(), common_name="Unused CA")


async def test_records_name_their_gateway_inside_the_hash(
    engine: AsyncEngine, instance: Instance
) -> None:
    provider_gateway = "IR-DEMO/COM/14007650912/gw1"
    consumer = message_log(engine, instance, "gw1")
    provider = message_log(engine, instance, "gw2", gateway_id=provider_gateway)
    await consumer.start()
    await provider.start()
    try:
        for entry in exchange(instance, "msg-gw"):
            await consumer.append(entry)
        for entry in exchange(instance, "msg-gw", side="server"):
            await provider.append(entry)
    finally:
        await consumer.stop()
        await provider.stop()
    assert {row["gateway"] for row in await chain_rows(engine, "gw1")} == {GATEWAY}
    assert {row["gateway"] for row in await chain_rows(engine, "gw2")} == {provider_gateway}
    assert_one_chain(await chain_rows(engine, "gw1"), 2)  # the hash covers the gateway
    bundle = await export_bundle(engine, message_id="msg-gw", certificates=[instance.ca_cert])
    report = verify_bundle(bundle, trust_anchor=instance.ca_cert)
    assert report.ok, report.failures()
    document = orjson.loads(bundle)
    assert [(r["gateway"], r["instance"], r["seq"]) for r in document["records"]] == [
        (provider_gateway, "gw2", 1),
        (provider_gateway, "gw2", 2),
        (GATEWAY, "gw1", 1),
        (GATEWAY, "gw1", 2),
    ]
    assert document["covers"] == {
        "messages": [
            {
                "message_id": "msg-gw",
                "records": [
                    {"gateway": g, "instance": i, "seq": n}
                    for g, i, n in [
                        (provider_gateway, "gw2", 1),
                        (provider_gateway, "gw2", 2),
                        (GATEWAY, "gw1", 1),
                        (GATEWAY, "gw1", 2),
                    ]
                ],
            }
        ],
        "ranges": [],
    }
    # Responses repeat their request's method.
    assert [r["method"] for r in document["records"]] == ["POST"] * 4


async def test_a_gateway_id_is_required(engine: AsyncEngine, instance: Instance) -> None:
    with pytest.raises(ConfigurationError, match="INSTANCE/CLASS/CODE/GATEWAY"):
        message_log(engine, instance, gateway_id="gw1")


async def test_a_time_range_exports_whole_runs_of_each_chain(
    engine: AsyncEngine, instance: Instance
) -> None:
    # The clock steps back an hour while record 2 is logged: the range's records are 1 and 3,
    # and the bundle holds the whole run 1 to 3, as its statement says.
    clock = Clock()
    start = clock.now
    log = message_log(engine, instance, clock=clock)
    await log.start()
    try:
        await log.append(plain_entry(1))
        clock.advance(-3600)
        await log.append(plain_entry(2))
        clock.advance(3601)
        await log.append(plain_entry(3))
        clock.advance(7200)
        await log.append(plain_entry(4))  # after the range
        await log.seal()
    finally:
        await log.stop()
    bundle = await export_bundle(
        engine, start=start, end=start + timedelta(hours=1), certificates=[instance.ca_cert]
    )
    document = orjson.loads(bundle)
    assert [r["seq"] for r in document["records"]] == [1, 2, 3]
    assert document["covers"] == {
        "messages": [],
        "ranges": [{"gateway": GATEWAY, "instance": "gw1", "first_seq": 1, "last_seq": 3}],
    }
    report = verify_bundle(bundle, trust_anchor=instance.ca_cert)
    assert report.ok, report.failures()
    # Leaving the middle record out is named.
    document["records"].pop(1)
    report = verify_bundle(orjson.dumps(document), trust_anchor=instance.ca_cert)
    assert report.problems == [
        f"covers: range seq 1 to 3 of instance gw1 (gateway {GATEWAY}): seq 2 missing from "
        "the bundle"
    ]
