"""The demo's electronic transactions: the private finance company sends e-invoices to the tax
affairs organisation's ``e-invoice`` service as asynchronous messages (ZB-STD-009). The tax
organisation's e-invoice system (its own process, ``zistboom demo tax-e-invoice-system``) takes
each pushed invoice and answers ``processed`` with a tracking number, or ``rejected`` with the
reason when the invoice lacks what it needs. The demo sends one invoice when it starts and
prints the curl calls that submit another and read a status."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from typing import Any

import httpx
import orjson
from aiohttp import web

from zistboom.core.database import transaction
from zistboom.demo.federation import ORGANISATIONS, Ports, organisation, subsystem_id
from zistboom.demo.supervisor import Component
from zistboom.gateway import service as gateway_service
from zistboom.gateway.app import open_database
from zistboom.gateway.settings import GatewaySettings

log = logging.getLogger("zistboom.demo.einvoice")
SERVICE = "e-invoice"
SYSTEM_NAME = "tax-e-invoice-system"
SYSTEM_OFFSET = 6  # the tax organisation's seventh port (after its issuer's and the hub's)
DEMO_KEY = "demo-e-invoice-1"
DEMO_INVOICE: dict[str, Any] = {
    "invoice_number": "INV-1405-000001",
    "issued_on": "1405-09-11",
    "seller": "finance ecosystem company",
    "total_rials": 125_000_000,
    "vat_rials": 12_500_000,
}


def tax_index() -> int:
    return ORGANISATIONS.index(organisation("tax"))


def finance_index() -> int:
    return ORGANISATIONS.index(organisation("finance-ecosystem"))


def system_port(ports: Ports) -> int:
    return ports.component(tax_index(), SYSTEM_OFFSET)


def service_id() -> str:
    return f"{subsystem_id(organisation('tax'))}/{SERVICE}"


def system_component(zistboom: str, ports: Ports) -> Component:
    port = system_port(ports)
    return Component(
        name=SYSTEM_NAME,
        argv=(
            zistboom,
            "demo",
            "tax-e-invoice-system",
            "--port",
            str(port),
            "--gateway",
            f"http://127.0.0.1:{ports.client(tax_index())}",
            "--subsystem",
            subsystem_id(organisation("tax")),
        ),
        listens=(("http", port),),
        health_url=f"http://127.0.0.1:{port}/health",
    )


async def configure_tax_gateway(
    settings: GatewaySettings, ports: Ports, lock: asyncio.Lock
) -> None:
    """The tax organisation's e-invoice service, open to the finance company, pushing to the
    tax e-invoice system (kept on a re-run)."""
    async with lock:
        engine, sessions = await open_database(settings)
    tax = subsystem_id(organisation("tax"))
    system = f"http://127.0.0.1:{system_port(ports)}"
    try:
        async with transaction(sessions) as session:
            client = await gateway_service.get_client(session, tax)
            if await gateway_service.find_service(session, client, SERVICE) is None:
                await gateway_service.add_service(
                    session,
                    tax,
                    SERVICE,
                    f"{system}/push",
                    description="e-invoices, as asynchronous messages (ZB-STD-009)",
                    ecosystem="tax",
                )
                await gateway_service.grant(
                    session,
                    tax,
                    SERVICE,
                    "subsystem",
                    subsystem_id(organisation("finance-ecosystem")),
                )
            await gateway_service.set_push_endpoint(session, tax, f"{system}/push")
    finally:
        await engine.dispose()


def submit_call(ports: Ports) -> str:
    company = subsystem_id(organisation("finance-ecosystem"))
    url = f"http://127.0.0.1:{ports.client(finance_index())}"
    body = orjson.dumps({**DEMO_INVOICE, "invoice_number": "INV-1405-000002"}).decode()
    return (
        f"curl -s -H 'X-Road-Client: {company}' -H 'Content-Type: application/json' "
        f"-H 'Idempotency-Key: demo-e-invoice-2' -d '{body}' {url}/messages/v1/{service_id()}"
    )


def status_call(ports: Ports, message_id: str) -> str:
    company = subsystem_id(organisation("finance-ecosystem"))
    url = f"http://127.0.0.1:{ports.client(finance_index())}"
    return f"curl -s -H 'X-Road-Client: {company}' {url}/messages/v1/outbox/{message_id}"


async def send_demo_invoice(ports: Ports, within: float = 30.0) -> dict[str, Any]:
    """Submit the demo's first e-invoice (once: the same idempotency key on every run) and
    wait until the tax organisation has answered it; its status resource."""
    company = subsystem_id(organisation("finance-ecosystem"))
    url = f"http://127.0.0.1:{ports.client(finance_index())}"
    headers = {"X-Road-Client": company, "Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=30) as client:
        submitted = await client.post(
            f"{url}/messages/v1/{service_id()}",
            content=orjson.dumps(DEMO_INVOICE),
            headers={**headers, "Idempotency-Key": DEMO_KEY},
        )
        submitted.raise_for_status()
        message_id = submitted.json()["id"]
        deadline = time.monotonic() + within
        while True:
            status = (
                await client.get(f"{url}/messages/v1/outbox/{message_id}", headers=headers)
            ).json()
            if status["status"] in ("processed", "rejected", "failed") or (
                time.monotonic() > deadline
            ):
                return dict(status)
            await asyncio.sleep(0.2)


# --- the tax organisation's e-invoice system --------------------------------------------------


def tracking_number(message_id: str) -> str:
    return "TAX-" + hashlib.sha256(message_id.encode()).hexdigest()[:12].upper()


async def _answer(gateway: str, subsystem: str, message_id: str, body: bytes) -> None:
    try:
        invoice = orjson.loads(body)
        number = invoice["invoice_number"]
        total = int(invoice["total_rials"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        status = "rejected"
        answer: dict[str, object] = {"reason": "an e-invoice needs invoice_number and total_rials"}
    else:
        status = "processed"
        answer = {
            "tracking_number": tracking_number(message_id),
            "invoice_number": number,
            "total_rials": total,
        }
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(20):
            with contextlib.suppress(httpx.TransportError):
                response = await client.post(
                    f"{gateway}/messages/v1/inbox/{message_id}/answer",
                    params={"status": status},
                    content=orjson.dumps(answer),
                    headers={"X-Road-Client": subsystem, "Content-Type": "application/json"},
                )
                if response.status_code in (202, 409):  # 409: answered already
                    return
            await asyncio.sleep(1)


def system_app(gateway: str, subsystem: str) -> web.Application:
    app = web.Application()
    tasks: set[asyncio.Task[None]] = set()

    async def push(request: web.Request) -> web.Response:
        body = await request.read()
        message_id = request.headers.get("X-Road-Id", "")
        if request.headers.get("Zb-Message-Kind") == "message" and message_id:
            task = asyncio.create_task(_answer(gateway, subsystem, message_id, body))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return web.Response(status=204)

    async def health(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_post("/push", push)
    app.router.add_get("/health", health)
    return app


def run_system(port: int, gateway: str, subsystem: str) -> None:
    web.run_app(
        system_app(gateway, subsystem), host="127.0.0.1", port=port, print=None, access_log=None
    )
