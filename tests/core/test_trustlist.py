"""The trust list contract: model, signature, and a reader's client over real HTTP.

A real aiohttp server on 127.0.0.1 plays central's ``GET /trust-list``: it serves whatever
token the test gives it; the client follows pointers as a gateway does after each global
configuration refresh.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from zistboom.core.crypto.keys import generate_private_key, public_key_fingerprint
from zistboom.core.globalconf import TrustListPointer
from zistboom.core.trustlist import (
    FORMAT,
    TrustList,
    TrustListClient,
    TrustListRefused,
    sign_trust_list,
    token_digest,
    verify_trust_list,
)

INSTANCE = "IR-DEMO"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
KEY = generate_private_key("ec-p256")
ROGUE = generate_private_key("ec-p256")
FINGERPRINT = public_key_fingerprint(KEY.public_key())
COMPANY = "IR-DEMO/COM/10101010101"


def payload(sequence: int = 1, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": FORMAT,
        "instance": INSTANCE,
        "sequence": sequence,
        "issued_at": (T0 + timedelta(minutes=sequence)).isoformat(),
        "next_update": (T0 + timedelta(hours=24, minutes=sequence)).isoformat(),
        "schemes": [
            {
                "code": "tax-e-invoice-provider",
                "ecosystem": "tax",
                "kind": "e-invoice-provider",
                "actions": ["provide"],
                "levels": ["basic", "substantial", "high"],
                "name_fa": "ارائه‌دهندهٔ صورتحساب الکترونیکی",
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
                "level": "substantial",
                "valid_from": "2026-11-10T00:00:00Z",
                "valid_until": "2027-11-10T00:00:00Z",
                "history": [{"status": "granted", "at": "2026-11-10T00:00:00Z"}],
            }
        ],
        "recognitions": [],
        "assessors": [],
    }
    document.update(changes)
    return document


def trust_list(sequence: int = 1, **changes: Any) -> TrustList:
    return TrustList.model_validate_json(json.dumps(payload(sequence, **changes)))


def signed(sequence: int = 1, key: Any = KEY, **changes: Any) -> str:
    return sign_trust_list(trust_list(sequence, **changes), key)


def pointer(token: str, url: str, sequence: int | None = None) -> TrustListPointer:
    seq = sequence if sequence is not None else json.loads(b64(token.split(".")[1]))["sequence"]
    return TrustListPointer(
        url=url, sequence=seq, digest=token_digest(token), key_fingerprint=FINGERPRINT
    )


def b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_signed_list_verifies_and_a_changed_byte_does_not() -> None:
    token = signed()
    verified = verify_trust_list(
        token, key_fingerprint=FINGERPRINT, instance=INSTANCE, now=T0 + timedelta(hours=1)
    )
    assert verified == trust_list()
    header, body, signature = token.split(".")
    forged = b64(body).replace(b'"substantial"', b'"high"', 1)
    forged_token = f"{header}.{base64.urlsafe_b64encode(forged).decode().rstrip('=')}.{signature}"
    with pytest.raises(TrustListRefused) as caught:
        verify_trust_list(forged_token, key_fingerprint=FINGERPRINT, instance=INSTANCE, now=T0)
    assert caught.value.reason == "tampered"


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"key": ROGUE}, "untrusted-key"),
        ({"instance": "IR-TEST"}, "wrong-instance"),
    ],
)
def test_a_list_from_another_key_or_instance_is_refused(
    options: dict[str, Any], reason: str
) -> None:
    key = options.pop("key", KEY)
    token = sign_trust_list(trust_list(**options), key)
    with pytest.raises(TrustListRefused) as caught:
        verify_trust_list(token, key_fingerprint=FINGERPRINT, instance=INSTANCE, now=T0)
    assert caught.value.reason == reason


def test_older_sequence_stale_and_wrong_digest_are_refused() -> None:
    token = signed(3)
    common = {"key_fingerprint": FINGERPRINT, "instance": INSTANCE}
    with pytest.raises(TrustListRefused) as caught:
        verify_trust_list(token, **common, now=T0, min_sequence=4)
    assert caught.value.reason == "older-sequence"
    with pytest.raises(TrustListRefused) as caught:
        verify_trust_list(token, **common, now=T0 + timedelta(hours=25))
    assert caught.value.reason == "stale"
    assert "was due to be replaced" in caught.value.detail
    with pytest.raises(TrustListRefused) as caught:
        verify_trust_list(token, **common, now=T0, digest=token_digest(signed(4)))
    assert caught.value.reason == "tampered"
    assert verify_trust_list(token, **common, now=T0, digest=token_digest(token), min_sequence=3)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"next_update": T0.isoformat()}, "next_update must be later"),
        ({"surprise": 1}, "surprise"),
        (
            {
                "accreditations": [
                    {**payload()["accreditations"][0], "scheme": "health-e-prescription-platform"}
                ]
            },
            "is not listed",
        ),
        (
            {"accreditations": [{**payload()["accreditations"][0], "scope": "subsystem"}]},
            "is not a subsystem of",
        ),
        (
            {
                "accreditations": [
                    {
                        **payload()["accreditations"][0],
                        "history": [
                            {"status": "suspended", "at": "2026-11-12T00:00:00Z"},
                            {"status": "granted", "at": "2026-11-10T00:00:00Z"},
                        ],
                    }
                ]
            },
            "history must be in time order",
        ),
        ({"schemes": payload()["schemes"] * 2}, "duplicate codes"),
    ],
)
def test_invalid_lists_are_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        trust_list(**changes)


@dataclass
class Central:
    """A stand-in for central's ``GET /trust-list``."""

    url: str = ""
    token: str = ""
    status: int = 200
    served: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        if self.status != 200:
            return web.Response(status=self.status, text="maintenance")
        self.served += 1
        return web.Response(body=self.token.encode("ascii"), content_type="application/jose")


@pytest.fixture
async def central() -> AsyncIterator[Central]:
    stub = Central()
    app = web.Application()
    app.router.add_get("/trust-list", stub.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    stub.url = f"http://127.0.0.1:{runner.addresses[0][1]}/trust-list"
    yield stub
    await runner.cleanup()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_the_client_follows_newer_pointers_and_keeps_the_last_good_copy(
    central: Central, tmp_path: Path
) -> None:
    clock = Clock(T0 + timedelta(hours=1))
    async with httpx.AsyncClient() as http:
        client = TrustListClient(INSTANCE, tmp_path / "cache", http=http, clock=clock)
        with pytest.raises(TrustListRefused) as caught:
            _ = client.current
        assert caught.value.reason == "missing"
        assert await client.follow(None) is None

        first = signed(1)
        central.token = first
        assert (await client.follow(pointer(first, central.url))).sequence == 1  # type: ignore[union-attr]
        assert client.current.sequence == 1
        # The same sequence again is not fetched.
        await client.follow(pointer(first, central.url))
        assert central.served == 1

        # A newer pointer whose list has a changed byte, an older list, a rogue key: refused,
        # and the held list stays current.
        second = signed(2)
        central.token = second[:-3] + ("AAA" if not second.endswith("AAA") else "BBB")
        with pytest.raises(TrustListRefused) as caught:
            await client.follow(pointer(second, central.url, 2))
        assert caught.value.reason == "tampered"
        central.token = first
        with pytest.raises(TrustListRefused) as caught:
            await client.follow(pointer(second, central.url, 2))
        assert caught.value.reason == "tampered"  # the digest names another list
        with pytest.raises(TrustListRefused) as caught:
            await client.follow(pointer(first, central.url, 2))
        assert caught.value.reason == "older-sequence"  # the pointer names a newer one
        rogue = signed(2, key=ROGUE)
        central.token = rogue
        with pytest.raises(TrustListRefused) as caught:
            await client.follow(
                TrustListPointer(
                    url=central.url,
                    sequence=2,
                    digest=token_digest(rogue),
                    key_fingerprint=FINGERPRINT,
                )
            )
        assert caught.value.reason == "untrusted-key"
        assert client.current.sequence == 1
        assert client.last_error is caught.value

        # Unreachable: the held list is kept, the failure recorded.
        central.status = 503
        assert (await client.follow(pointer(second, central.url, 2))).sequence == 1  # type: ignore[union-attr]
        assert client.last_error is not None and client.last_error.extra["reason"] == "unreachable"
        central.status = 200

        central.token = second
        generation = client.generation
        assert (await client.follow(pointer(second, central.url))).sequence == 2  # type: ignore[union-attr]
        assert client.generation == generation + 1 and client.last_error is None

        # Past its next update the list is stale for checks, but still held.
        clock.now = T0 + timedelta(hours=25)
        with pytest.raises(TrustListRefused) as caught:
            _ = client.current
        assert caught.value.reason == "stale"
        assert client.held is not None and client.held.sequence == 2

    # A restarted reader loads the last good copy from disk, verified against the key.
    restarted = TrustListClient(INSTANCE, tmp_path / "cache", clock=Clock(T0 + timedelta(hours=2)))
    assert restarted.load_cached(FINGERPRINT).sequence == 2  # type: ignore[union-attr]
    with pytest.raises(TrustListRefused) as caught:
        TrustListClient(INSTANCE, tmp_path / "cache").load_cached(
            public_key_fingerprint(ROGUE.public_key())
        )
    assert caught.value.reason == "untrusted-key"
    await restarted.aclose()
