"""The provider gateway's accreditation check (``gateway/accreditation.py``) over a trust list
fetched through real HTTP: a current list answers each requirement with the check of
ZB-STD-007 §10; a list past its next update, or none at all, refuses every call that needs it
with ``OutdatedTrustList`` (calls without a requirement never reach the check: see
``tests/accreditation/test_accreditation_exchange.py``); a newer list is taken when the
configuration names it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from aiohttp import web

from zistboom.core import exchange as xr
from zistboom.core.accreditation import Requirement
from zistboom.core.crypto.keys import generate_private_key, public_key_fingerprint
from zistboom.core.globalconf import TrustListPointer
from zistboom.core.trustlist import (
    FORMAT,
    TrustList,
    TrustListClient,
    sign_trust_list,
    token_digest,
)
from zistboom.gateway.accreditation import Accreditations

KEY = generate_private_key("ec-p256")
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
COMPANY = "IR-DEMO/COM/10101010101"
OTHER = "IR-DEMO/NGO/14000000011"
E_INVOICE = Requirement("tax", "e-invoice-provider", "substantial")


def signed(sequence: int, history: list[dict[str, str]]) -> str:
    document: dict[str, Any] = {
        "format": FORMAT,
        "instance": "IR-DEMO",
        "sequence": sequence,
        "issued_at": (T0 + timedelta(minutes=sequence)).isoformat(),
        "next_update": (T0 + timedelta(hours=1, minutes=sequence)).isoformat(),
        "schemes": [
            {
                "code": "tax-e-invoice-provider",
                "ecosystem": "tax",
                "kind": "e-invoice-provider",
                "actions": ["provide"],
                "levels": ["basic", "substantial", "high"],
                "name_fa": "ارائه‌دهندهٔ صورتحساب",
                "name_en": "E-invoice provider",
                "history": [{"status": "active", "at": "2026-11-01T00:00:00Z"}],
            }
        ],
        "accreditations": [
            {
                "id": "acc-1",
                "scheme": "tax-e-invoice-provider",
                "member": COMPANY,
                "scope": "member",
                "subject": COMPANY,
                "level": "high",
                "valid_from": "2026-11-10T00:00:00Z",
                "valid_until": "2027-11-10T00:00:00Z",
                "history": history,
            }
        ],
        "recognitions": [],
        "assessors": [],
    }
    return sign_trust_list(TrustList.model_validate_json(json.dumps(document)), KEY)


def conf_naming(token: str, url: str, sequence: int) -> Any:
    """What ``Accreditations.follow`` reads of a global configuration: its pointer."""
    pointer = TrustListPointer(
        url=url,
        sequence=sequence,
        digest=token_digest(token),
        key_fingerprint=public_key_fingerprint(KEY.public_key()),
    )
    return SimpleNamespace(trust_list=pointer)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def served() -> AsyncIterator[dict[str, str]]:
    state = {"token": "", "url": ""}

    async def handle(_request: web.Request) -> web.Response:
        return web.Response(body=state["token"].encode(), content_type="application/jose")

    app = web.Application()
    app.router.add_get("/trust-list", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state["url"] = f"http://127.0.0.1:{runner.addresses[0][1]}/trust-list"
    yield state
    await runner.cleanup()


async def test_the_check_follows_the_list_and_refuses_when_it_is_stale(
    served: dict[str, str], tmp_path: Path
) -> None:
    clock = Clock(T0 + timedelta(minutes=5))
    async with httpx.AsyncClient() as http:
        client = TrustListClient("IR-DEMO", tmp_path, http=http, clock=clock)
        accreditations = Accreditations(client, clock=clock)
        with pytest.raises(xr.OutdatedTrustList) as none_yet:
            accreditations.check(COMPANY, (E_INVOICE,))
        assert "no trust list has been obtained yet" in none_yet.value.detail

        granted = [{"status": "granted", "at": "2026-11-10T00:00:00Z"}]
        served["token"] = signed(1, granted)
        await accreditations.follow(conf_naming(served["token"], served["url"], 1))
        assert accreditations.sequence == 1
        accreditations.check(f"{COMPANY}/invoicing", (E_INVOICE,))
        with pytest.raises(xr.AccreditationRequired) as refused:
            accreditations.check(f"{OTHER}/portal", (E_INVOICE,))
        assert "tax:e-invoice-provider at level substantial or higher" in refused.value.detail
        assert "trust list sequence 1" in refused.value.detail
        # Any one of several requirements will do.
        other = Requirement("health", "e-prescription-platform")
        accreditations.check(COMPANY, (other, E_INVOICE))

        # A suspension in a newer list is taken when the configuration names it.
        suspended = [*granted, {"status": "suspended", "at": "2026-12-01T08:01:00Z"}]
        served["token"] = signed(2, suspended)
        await accreditations.follow(conf_naming(served["token"], served["url"], 2))
        with pytest.raises(xr.AccreditationRequired) as lapsed:
            accreditations.check(COMPANY, (E_INVOICE,))
        assert "accreditation acc-1 is suspended" in lapsed.value.detail

        # Past its next update and not replaced: every call that needs it is refused.
        clock.now = T0 + timedelta(hours=2)
        with pytest.raises(xr.OutdatedTrustList) as stale:
            accreditations.check(COMPANY, (E_INVOICE,))
        assert "was due to be replaced" in stale.value.detail
        assert stale.value.status == 503
