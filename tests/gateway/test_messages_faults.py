"""Nothing lost and nothing twice (ZB-STD-009 §9): during a bounded load of 1,000 messages from
the finance company's system to the tax organisation's, on PostgreSQL,

(a) the receiving gateway is killed with SIGKILL and started again,
(b) the sending gateway is killed with SIGKILL and started again,
(c) the receiving information system is down for a while (its process stopped),
(d) the connection between the gateways is cut mid-transfer (the TCP proxy between them is
    killed, and started again a while later).

Afterwards every accepted message has reached the receiving system, each is stored once at
the receiving gateway, and the system saw an id twice only where a kill fell between a push and
its recorded acknowledgement. The test prints the counts."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from federation import Federation, GatewayProcess, drain, start_federation, wait_http
from support import create_pg_database, drop_pg_database, free_port

HERE = Path(__file__).parent
TOTAL = 1000
WORKERS = 8


class Proc:
    def __init__(self, args: list[str], ready_url: str | None = None) -> None:
        self.args = args
        self.ready_url = ready_url
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        drain(self.process, self.output)
        if self.ready_url:
            wait_http(self.ready_url, self.process, self.output)
        else:
            time.sleep(0.5)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    root = tmp_path_factory.mktemp("faults")
    name, url = asyncio.run(create_pg_database())
    fed: Federation = start_federation(root, url, central_env={"ZB_CONF_REFRESH_SECONDS": "1"})
    procs: list[Proc] = []
    try:
        finance_member = fed.add_member("Finance company", ["invoicing"], "COM")
        tax_member = fed.add_member("Tax affairs", ["einvoice"])
        env = {
            "ZB_MESSAGE_RETRY_BASE_SECONDS": "0.2",
            "ZB_MESSAGE_RETRY_CAP_SECONDS": "2",
            "ZB_PEER_TIMEOUT": "10",
            "ZB_PUSH_TIMEOUT": "5",
        }
        proxy_port = free_port()
        finance = fed.add_gateway("finance", finance_member, env=env)
        tax = fed.add_gateway("tax", tax_member, env=env, address_port=proxy_port)
        sender = f"{finance_member}/invoicing"
        receiver = f"{tax_member}/einvoice"
        finance.cli("client", "add", sender)
        tax.cli("client", "add", receiver)
        tax.cli("service", "add", receiver, "invoices", "http://127.0.0.1:9/unused")
        tax.cli("access", "grant", receiver, "invoices", sender)
        system_port = free_port()
        record = root / "system-received.jsonl"
        system = Proc(
            [sys.executable, str(HERE / "message_system.py"), str(system_port), str(record)],
            f"http://127.0.0.1:{system_port}/received",
        )
        proxy = Proc([sys.executable, str(HERE / "tcp_proxy.py"), str(proxy_port),
                      str(tax.peer_port)])  # fmt: skip
        procs += [system, proxy]
        tax.cli(
            "client", "push-endpoint", receiver, "--url", f"http://127.0.0.1:{system_port}/push"
        )
        system.start()
        proxy.start()
        finance.launch()
        tax.launch()
        finance.wait_serving()
        tax.wait_serving()
        yield {
            "fed": fed,
            "finance": finance,
            "tax": tax,
            "sender": sender,
            "service": f"{receiver}/invoices",
            "system": system,
            "proxy": proxy,
            "record": record,
        }
    finally:
        for proc in procs:
            if proc.process is not None and proc.process.poll() is None:
                proc.process.terminate()
        fed.stop()
        asyncio.run(drop_pg_database(name))


def kill_and_restart(gateway: GatewayProcess, down_for: float) -> None:
    assert gateway.process is not None
    gateway.process.kill()
    gateway.process.wait(timeout=10)
    time.sleep(down_for)
    gateway.start()


async def _query(url: str, sql: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return list(await connection.fetch(sql))
    finally:
        await connection.close()


@pytest.mark.timeout(900)
def test_nothing_is_lost_and_nothing_stored_twice_under_faults(setup: dict[str, object]) -> None:
    finance: GatewayProcess = setup["finance"]  # type: ignore[assignment]
    tax: GatewayProcess = setup["tax"]  # type: ignore[assignment]
    system: Proc = setup["system"]  # type: ignore[assignment]
    proxy: Proc = setup["proxy"]  # type: ignore[assignment]
    sender = str(setup["sender"])
    service = str(setup["service"])
    record: Path = setup["record"]  # type: ignore[assignment]

    accepted: dict[str, str] = {}  # idempotency key → message id
    lock = threading.Lock()
    keys = [f"load-{n}-{uuid.uuid4()}" for n in range(TOTAL)]
    next_key = iter(keys)
    resubmissions = [0]

    def submitter() -> None:
        with httpx.Client(timeout=15) as client:
            while True:
                with lock:
                    key = next(next_key, None)
                if key is None:
                    return
                body = json.dumps({"invoice": key, "amount": 1000}).encode()
                while True:  # the system keeps trying, with the same key, until accepted
                    try:
                        response = client.post(
                            f"{finance.url}/messages/v1/{service}",
                            content=body,
                            headers={
                                "X-Road-Client": sender,
                                "Content-Type": "application/json",
                                "Idempotency-Key": key,
                            },
                        )
                    except httpx.TransportError:
                        response = None
                    if response is not None and response.status_code == 202:
                        with lock:
                            if key in accepted:
                                assert accepted[key] == response.json()["id"]
                            accepted[key] = response.json()["id"]
                        break
                    with lock:
                        resubmissions[0] += 1
                    time.sleep(0.3)
                time.sleep(0.02)  # a bounded load, spread over the faults

    threads = [threading.Thread(target=submitter, daemon=True) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()

    time.sleep(2)
    kill_and_restart(tax, 2)  # (a)
    time.sleep(1)
    kill_and_restart(finance, 2)  # (b)
    time.sleep(1)
    system.kill()  # (c)
    time.sleep(4)
    system.start()
    time.sleep(1)
    proxy.kill()  # (d)
    time.sleep(3)
    proxy.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(accepted) == TOTAL

    ids = set(accepted.values())

    def seen() -> list[str]:
        if not record.exists():
            return []
        return [json.loads(line)["id"] for line in record.read_text().splitlines() if line]

    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not ids <= set(seen()):
        time.sleep(0.5)
    pushed = seen()
    missing = ids - set(pushed)
    redeliveries = len(pushed) - len(set(pushed))
    tax_db = tax.env["ZB_DATABASE_URL"]
    finance_db = finance.env["ZB_DATABASE_URL"]
    stored = asyncio.run(
        _query(
            tax_db,
            "SELECT sender, message_id, count(*) AS n FROM inbox_messages "
            "WHERE kind = 'message' GROUP BY sender, message_id",
        )
    )
    twice = [row for row in stored if row["n"] > 1]
    retransmitted = asyncio.run(
        _query(tax_db, "SELECT coalesce(sum(duplicates), 0) AS n FROM inbox_messages")
    )[0]["n"]

    def statuses() -> dict[str, int]:
        rows = asyncio.run(
            _query(
                finance_db,
                "SELECT status, count(*) AS n FROM outbox_messages WHERE kind = 'message' "
                "GROUP BY status",
            )
        )
        return {row["status"]: row["n"] for row in rows}

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and statuses().get("delivered", 0) < TOTAL:
        time.sleep(0.5)
    final = statuses()
    without_receipt = asyncio.run(
        _query(
            finance_db,
            "SELECT count(*) AS n FROM outbox_messages WHERE kind = 'message' AND receipt IS NULL",
        )
    )[0]["n"]
    print(
        f"\naccepted={len(accepted)} delivered_to_system={len(set(pushed) & ids)} "
        f"stored_at_receiver={len(stored)} duplicates_between_gateways={len(twice)} "
        f"retransmissions_answered_with_first_receipt={retransmitted} "
        f"redeliveries_to_system={redeliveries} resubmissions_by_system={resubmissions[0]} "
        f"sender_statuses={final} without_receipt={without_receipt}"
    )
    assert not missing, f"{len(missing)} accepted messages never reached the system"
    assert len(stored) == TOTAL
    assert twice == []
    assert final == {"delivered": TOTAL}
    assert without_receipt == 0  # every message's receipt is held, also one sent again
    # A redelivery happens only for a push whose acknowledgement was not recorded: the
    # receiving gateway was killed between the two, with at most its workers' pushes in flight.
    assert redeliveries <= 64
