"""A window served for real (uvicorn in a thread running ``create_app``), for the window's tests."""

from __future__ import annotations

import asyncio
import random
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from zistboom.core.database import transaction, utc_now
from zistboom.core.iran import generate_legal_entity_id
from zistboom.window.app import create_app
from zistboom.window.catalogue.seed import install_seed
from zistboom.window.database import open_database
from zistboom.window.settings import WindowSettings


@dataclass(frozen=True, slots=True)
class Site:
    url: str
    admin_token: str
    settings: WindowSettings

    def operator(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.admin_token}"}
        )

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers)

    def new_agency(self) -> tuple[str, str]:
        """A freshly registered agency (a random legal-entity ID) and its key."""
        member = f"IR-DEMO/GOV/{generate_legal_entity_id(random.Random())}"
        with self.operator() as operator:
            created = operator.post(
                "/api/v1/agencies",
                json={"member_id": member, "name_fa": "دستگاه آزمون", "name_en": "Test agency"},
            )
            assert created.status_code == 201, created.text
            issued = operator.post(f"/api/v1/agencies/{member}/keys")
            assert issued.status_code == 201, issued.text
        return member, str(issued.json()["key"])


def seed_database(settings: WindowSettings) -> None:
    async def work() -> None:
        opened = await open_database(settings.resolved_database_url("window"))
        try:
            async with transaction(opened.sessions) as session:
                await install_seed(session, now=utc_now())
        finally:
            await opened.engine.dispose()

    asyncio.run(work())


def serve(settings: WindowSettings) -> Iterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning"
        )
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the window did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def definition(code: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid definition, its outcome a kind of its own (so it is parallel to nothing)."""
    code = code or f"svc-{secrets.token_hex(4)}"
    body: dict[str, Any] = {
        "code": code,
        "name_fa": "خدمت آزمایشی",
        "name_en": f"Trial service {code}",
        "summary_fa": "خدمتی برای آزمون",
        "summary_en": "A service for the tests",
        "keywords_fa": ["آزمون"],
        "keywords_en": ["trial"],
        "ecosystem": "tourism",
        "audience": ["person"],
        "outcome": {"kind": f"result-{code}", "name_fa": "نتیجه", "name_en": "Result"},
        "base_data": [
            {
                "registry": "IR-DEMO/GOV/12147922321/population-registry/persons",
                "items": ["national_code"],
                "why_fa": "شناسایی",
                "why_en": "Identification",
            }
        ],
        "documents": [],
        "form": {
            "type": "object",
            "properties": {"note": {"type": "string", "title": "یادداشت", "x-title-en": "Note"}},
            "required": ["note"],
        },
        "fees": [{"amount_rials": 1000, "label_fa": "هزینه", "label_en": "Fee"}],
        "expected_days": 3,
        "steps": [
            {
                "key": "a",
                "name_fa": "گام یک",
                "name_en": "Step one",
                "agencies": ["IR-DEMO/GOV/12147922321"],
                "deadline_days": 1,
            },
            {
                "key": "b",
                "name_fa": "گام دو",
                "name_en": "Step two",
                "agencies": ["IR-DEMO/GOV/12147922321"],
                "deadline_days": 2,
                "after": ["a"],
            },
        ],
    }
    body.update(changes)
    return body
