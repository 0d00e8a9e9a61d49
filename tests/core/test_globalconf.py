"""The global configuration contract: model, signature, and the gateway's client over real HTTP.

A real aiohttp server on 127.0.0.1 plays central: it serves whatever token the test gives it,
with an ETag and conditional GET, and the client fetches it with httpx.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from zistboom.core.crypto.jws import public_key_to_jwk, sign_jws
from zistboom.core.crypto.keys import generate_private_key, public_key_fingerprint
from zistboom.core.errors import ConfigurationError, GlobalConfError
from zistboom.core.globalconf import (
    FORMAT,
    JWS_TYPE,
    Anchor,
    GlobalConf,
    GlobalConfClient,
    GlobalConfRefused,
    anchor_for,
    sign_global_conf,
    verify_global_conf,
)

INSTANCE = "IR-DEMO"
MINISTRY = "IR-DEMO/GOV/10380284790"
INSURER = "IR-DEMO/COM/10101234567"
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

CONFIG_KEY = generate_private_key("ec-p256")
ROGUE_KEY = generate_private_key("ec-p256")


def self_signed_pem() -> str:
    key = generate_private_key("ec-p256")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "IR-DEMO test CA")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(T0 - timedelta(days=1))
        .not_valid_after(T0 + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


CA_PEM = self_signed_pem()


def document(
    version: int = 1,
    *,
    generated_at: datetime = T0,
    validity: timedelta = timedelta(minutes=10),
    ministry_name: str = "Ministry of Health",
    instance: str = INSTANCE,
    **changes: Any,
) -> dict[str, Any]:
    """A global configuration payload as plain JSON data."""
    ministry = f"{instance}/GOV/10380284790"
    insurer = f"{instance}/COM/10101234567"
    payload: dict[str, Any] = {
        "format": FORMAT,
        "instance": instance,
        "version": version,
        "generated_at": generated_at.isoformat().replace("+00:00", "Z"),
        "expires_at": (generated_at + validity).isoformat().replace("+00:00", "Z"),
        "central": {
            "url": "https://central.demo.zistboom.ir",
            "tsa_url": "https://central.demo.zistboom.ir/tsa",
        },
        "members": [
            {
                "id": ministry,
                "member_class": "GOV",
                "code": "10380284790",
                "name_fa": "وزارت بهداشت",
                "name_en": ministry_name,
                "kind": "agency",
                "subsystems": ["patients", "licences"],
            },
            {
                "id": insurer,
                "member_class": "COM",
                "code": "10101234567",
                "name_fa": "بیمه نمونه",
                "name_en": "Sample Insurance",
                "kind": "company",
                "subsystems": ["claims"],
            },
        ],
        "gateways": [
            {
                "id": f"{ministry}/gw1",
                "member": ministry,
                "address": "gw1.health.demo:8443",
                "auth_certificates": ["ab" * 32],
            },
            {
                "id": f"{ministry}/gw2",
                "member": ministry,
                "address": "[2001:db8::2]:8443",
                "auth_certificates": ["cd" * 32, "ef" * 32],
            },
            {
                "id": f"{insurer}/gw",
                "member": insurer,
                "address": "gw.insurer.demo:8443",
                "auth_certificates": [],
            },
        ],
        "ca_certificates": [CA_PEM],
        "tsa_certificates": [],
        "revoked_serials": ["1f", "7a3c"],
        "revoked_certificates": [
            {"serial": "1f", "revoked_at": "2026-11-20T08:30:00Z"},
            {"serial": "7a3c", "revoked_at": "2026-11-27T16:05:12Z"},
        ],
        "global_groups": [
            {
                "code": "health-providers",
                "description": "Health data providers",
                "members": [f"{ministry}/patients", insurer],
            }
        ],
        "ecosystems": [
            {
                "key": "health",
                "name_fa": "سلامت",
                "name_en": "Health",
                "phase": 1,
                "deadline": "2027-03-20",
                "operator": ministry,
            }
        ],
        "trust_list": {
            "url": "https://central.demo.zistboom.ir/trust-list",
            "sequence": 3,
            "digest": "12" * 32,
            "key_fingerprint": "34" * 32,
        },
    }
    payload.update(changes)
    return payload


def conf(version: int = 1, **options: Any) -> GlobalConf:
    return GlobalConf.model_validate_json(json.dumps(document(version, **options)))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the model ---------------------------------------------------------------------------------


def test_document_parses_and_looks_up() -> None:
    doc = conf()
    assert doc.generated_at == T0
    assert doc.generated_at.tzinfo is UTC
    assert doc.ecosystems[0].deadline == date(2027, 3, 20)
    member = doc.member(MINISTRY)
    assert member is not None
    assert member.name_en == "Ministry of Health"
    assert doc.member("IR-DEMO/GOV/10000000000") is None
    assert [g.id for g in doc.gateway_for_member(MINISTRY)] == [
        f"{MINISTRY}/gw1",
        f"{MINISTRY}/gw2",
    ]
    assert doc.gateway_for_member("IR-DEMO/GOV/10000000000") == []
    assert doc.is_revoked(0x1F)
    assert doc.is_revoked(0x7A3C)
    assert not doc.is_revoked(0x7A3D)
    assert doc.revoked_at(0x1F) == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert doc.revoked_at(0x7A3C) == datetime(2026, 11, 27, 16, 5, 12, tzinfo=UTC)
    assert doc.revoked_at(0x7A3D) is None


def test_canonical_json_is_sorted_compact_and_utc() -> None:
    doc = conf()
    canonical = doc.canonical_json()
    assert canonical == orjson.dumps(orjson.loads(canonical), option=orjson.OPT_SORT_KEYS)
    assert b'"generated_at":"2026-11-28T09:00:00Z"' in canonical
    assert GlobalConf.model_validate_json(canonical) == doc


def test_times_in_other_zones_are_normalised_to_utc() -> None:
    doc = conf(generated_at=T0, expires_at="2026-11-28T12:40:00+03:30")
    assert doc.expires_at == T0 + timedelta(minutes=10)
    assert b'"expires_at":"2026-11-28T09:10:00Z"' in doc.canonical_json()


def test_content_digest_ignores_issue_fields_only() -> None:
    first = conf(1)
    reissued = conf(2, generated_at=T0 + timedelta(minutes=1))
    changed = conf(1, ministry_name="Ministry of Health and Medical Education")
    assert first.content_digest() == reissued.content_digest()
    assert first.content_digest() != changed.content_digest()
    assert len(first.content_digest()) == 64


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"generated_at": "2026-11-28T09:00:00"}, "generated_at"),
        ({"version": 0}, "version"),
        ({"format": "zistboom-global-conf/2"}, "format"),
        ({"surprise": 1}, "surprise"),
        ({"revoked_serials": ["01f"]}, "revoked_serials"),
        ({"revoked_serials": ["1F"]}, "revoked_serials"),
        (
            {
                "trust_list": {
                    "url": "https://c/t",
                    "sequence": 1,
                    "digest": "12",
                    "key_fingerprint": "34" * 32,
                }
            },
            "trust_list.digest",
        ),
        (
            {
                "trust_list": {
                    "url": "https://c/t",
                    "sequence": 0,
                    "digest": "12" * 32,
                    "key_fingerprint": "34" * 32,
                }
            },
            "trust_list.sequence",
        ),
        ({"ca_certificates": ["not a pem"]}, "ca_certificates"),
        ({"revoked_certificates": []}, "no revocation time for 1f, 7a3c of revoked_serials"),
        (
            {
                "revoked_certificates": [
                    {"serial": "1f", "revoked_at": "2026-11-20T08:30:00Z"},
                    {"serial": "7a3c", "revoked_at": "2026-11-27T16:05:12Z"},
                    {"serial": "99", "revoked_at": "2026-11-27T16:05:12Z"},
                ]
            },
            "99 not in revoked_serials",
        ),
        (
            {
                "revoked_certificates": [
                    {"serial": "1f", "revoked_at": "2026-11-20T08:30:00Z"},
                    {"serial": "1f", "revoked_at": "2026-11-21T08:30:00Z"},
                    {"serial": "7a3c", "revoked_at": "2026-11-27T16:05:12Z"},
                ]
            },
            "duplicate serials 1f",
        ),
        (
            {"revoked_certificates": [{"serial": "1f", "revoked_at": "2026-11-20T08:30:00"}]},
            "revoked_certificates.0.revoked_at",
        ),
        (
            {"revoked_certificates": [{"serial": "01f", "revoked_at": "2026-11-20T08:30:00Z"}]},
            "revoked_certificates.0.serial",
        ),
        ({"expires_at": "2026-11-28T08:00:00Z"}, "expires_at must be later"),
    ],
)
def test_invalid_documents_are_refused(changes: dict[str, Any], message: str) -> None:
    data = {**document(), **changes}
    with pytest.raises(ValueError, match=message):
        GlobalConf.model_validate_json(json.dumps(data))


def test_cross_references_are_checked() -> None:
    data = document()
    data["gateways"][0]["member"] = "IR-DEMO/GOV/10000000000"
    data["members"][1]["id"] = "IR-DEMO/COM/10000000001"
    data["global_groups"][0]["members"].append(f"{MINISTRY}/nonexistent")
    data["ecosystems"][0]["operator"] = "IR-DEMO/NGO/10000000002"
    with pytest.raises(ValueError, match="gateways") as caught:
        GlobalConf.model_validate(data)
    text = str(caught.value)
    assert "members[1].id" in text
    assert f"{MINISTRY}/nonexistent" in text
    assert "ecosystems[0].operator" in text


def test_anchor_json_round_trips() -> None:
    anchor = anchor_for(
        CONFIG_KEY.public_key(), instance=INSTANCE, url="https://central.demo/global-conf"
    )
    assert anchor.key_fingerprint == public_key_fingerprint(CONFIG_KEY.public_key())
    assert Anchor.from_json(anchor.to_json()) == anchor
    assert json.loads(anchor.to_json()) == {
        "instance": INSTANCE,
        "url": "https://central.demo/global-conf",
        "key_fingerprint": anchor.key_fingerprint,
    }


@pytest.mark.parametrize(
    ("text", "field_name"),
    [
        ('{"instance": "IR", "url": "https://c/g", "key_fingerprint": "AB"}', "key_fingerprint"),
        ('{"instance": "IR", "key_fingerprint": "' + "a" * 64 + '"}', "url"),
        ("not json", None),
    ],
)
def test_invalid_anchor_is_a_configuration_error(text: str, field_name: str | None) -> None:
    with pytest.raises(ConfigurationError, match="invalid anchor") as caught:
        Anchor.from_json(text)
    assert caught.value.field == field_name


# --- signing and verification -----------------------------------------------------------------


ANCHOR = anchor_for(
    CONFIG_KEY.public_key(), instance=INSTANCE, url="https://central.demo/global-conf"
)


def test_signed_document_verifies_with_header_as_specified() -> None:
    doc = conf()
    token = sign_global_conf(doc, CONFIG_KEY)
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header == {
        "alg": "ES256",
        "typ": JWS_TYPE,
        "jwk": public_key_to_jwk(CONFIG_KEY.public_key()),
        "kid": ANCHOR.key_fingerprint,
    }
    assert b64url_decode(token.split(".")[1]) == doc.canonical_json()
    assert verify_global_conf(token, ANCHOR, now=T0) == doc


def test_ed25519_configuration_key_works() -> None:
    key = generate_private_key("ed25519")
    anchor = anchor_for(key.public_key(), instance=INSTANCE, url="https://central.demo/global-conf")
    assert verify_global_conf(sign_global_conf(conf(), key), anchor, now=T0).version == 1


def refusal(token: str, *, now: datetime = T0, min_version: int | None = None) -> GlobalConfRefused:
    with pytest.raises(GlobalConfRefused) as caught:
        verify_global_conf(token, ANCHOR, now=now, min_version=min_version)
    assert isinstance(caught.value, GlobalConfError)
    assert caught.value.extra["reason"] == caught.value.reason
    return caught.value


def test_verification_refusals_name_their_reason() -> None:
    token = sign_global_conf(conf(3), CONFIG_KEY)
    assert refusal(token, now=T0 + timedelta(minutes=10)).reason == "expired"
    assert refusal(token, min_version=4).reason == "older-version"
    assert verify_global_conf(token, ANCHOR, now=T0, min_version=3).version == 3

    rogue = refusal(sign_global_conf(conf(3), ROGUE_KEY))
    assert rogue.reason == "untrusted-key"
    assert rogue.detail == (
        f"global configuration signed by key {public_key_fingerprint(ROGUE_KEY.public_key())}, "
        f"the anchor trusts {ANCHOR.key_fingerprint}"
    )
    assert (
        refusal(sign_global_conf(conf(3, instance="IR-TEST"), CONFIG_KEY)).reason
        == "wrong-instance"
    )
    assert refusal("not a token").reason == "malformed"


def test_rogue_signature_under_the_trusted_jwk_is_tampering() -> None:
    """An attacker copies the anchor's jwk into the header but can only sign with their own key."""
    headers = {
        "typ": JWS_TYPE,
        "jwk": public_key_to_jwk(CONFIG_KEY.public_key()),
        "kid": ANCHOR.key_fingerprint,
    }
    token = sign_jws(conf(9).canonical_json(), ROGUE_KEY, headers=headers)
    assert refusal(token).reason == "tampered"


def test_wrong_typ_or_kid_is_malformed() -> None:
    jwk = public_key_to_jwk(CONFIG_KEY.public_key())
    payload = conf().canonical_json()
    wrong_typ = sign_jws(payload, CONFIG_KEY, headers={"typ": "JWT", "jwk": jwk})
    assert "typ" in refusal(wrong_typ).detail
    wrong_kid = sign_jws(payload, CONFIG_KEY, headers={"typ": JWS_TYPE, "jwk": jwk, "kid": "x"})
    assert "kid" in refusal(wrong_kid).detail
    no_jwk = sign_jws(payload, CONFIG_KEY, headers={"typ": JWS_TYPE})
    assert refusal(no_jwk).reason == "malformed"


def test_signed_but_invalid_payload_names_the_field() -> None:
    headers = {
        "typ": JWS_TYPE,
        "jwk": public_key_to_jwk(CONFIG_KEY.public_key()),
        "kid": ANCHOR.key_fingerprint,
    }
    token = sign_jws(json.dumps(document(version=0)).encode(), CONFIG_KEY, headers=headers)
    error = refusal(token)
    assert error.reason == "malformed"
    assert error.field == "version"
    assert "version" in error.detail
    # Strict parsing: a version given as a string is not silently converted.
    token = sign_jws(
        json.dumps({**document(), "version": "2"}).encode(), CONFIG_KEY, headers=headers
    )
    assert refusal(token).field == "version"


# --- the client over real HTTP ----------------------------------------------------------------


@dataclass
class Central:
    """A stand-in for central's ``GET /global-conf``, with ETag and conditional GET."""

    url: str = ""
    token: str = ""
    etag: str = ""
    status: int = 200
    served: int = 0
    not_modified: int = 0
    seen_if_none_match: list[str | None] = field(default_factory=list)

    def serve(self, token: str) -> None:
        self.token = token
        try:
            version = json.loads(b64url_decode(token.split(".")[1]))["version"]
        except (ValueError, KeyError, IndexError):
            version = 0
        self.etag = f'"{version}-{hashlib.sha256(token.encode()).hexdigest()[:16]}"'

    async def handle(self, request: web.Request) -> web.Response:
        self.seen_if_none_match.append(request.headers.get("If-None-Match"))
        if self.status != 200:
            return web.Response(status=self.status, text="maintenance")
        if request.headers.get("If-None-Match") == self.etag:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": self.etag})
        self.served += 1
        return web.Response(
            body=self.token.encode("ascii"),
            content_type="application/jose",
            headers={"ETag": self.etag, "Cache-Control": "no-cache"},
        )


@pytest.fixture
async def central() -> AsyncIterator[Central]:
    stub = Central()
    app = web.Application()
    app.router.add_get("/global-conf", stub.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    stub.url = f"http://127.0.0.1:{port}/global-conf"
    yield stub
    await runner.cleanup()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(seconds=5))


@pytest.fixture
def anchor(central: Central) -> Anchor:
    return anchor_for(CONFIG_KEY.public_key(), instance=INSTANCE, url=central.url)


@pytest.fixture
async def client(anchor: Anchor, tmp_path: Path, clock: Clock) -> AsyncIterator[GlobalConfClient]:
    async with httpx.AsyncClient() as http:
        yield GlobalConfClient(anchor, tmp_path / "cache", http=http, clock=clock)


def cached_token(client: GlobalConfClient) -> str:
    return (client.cache_dir / "global-conf.jws").read_text().strip()


async def accept(client: GlobalConfClient, central: Central, version: int, **options: Any) -> str:
    token = sign_global_conf(conf(version, **options), CONFIG_KEY)
    central.serve(token)
    assert (await client.refresh()).version == version
    return token


async def refused(client: GlobalConfClient, reason: str) -> GlobalConfRefused:
    """Refresh, expect a refusal, and check that nothing the client holds has changed."""
    before_current = client.current
    before_cache = cached_token(client)
    with pytest.raises(GlobalConfRefused) as caught:
        await client.refresh()
    assert caught.value.reason == reason
    assert client.last_error is caught.value
    assert client.current is before_current
    assert cached_token(client) == before_cache
    return caught.value


async def test_refresh_accepts_and_caches(client: GlobalConfClient, central: Central) -> None:
    with pytest.raises(GlobalConfRefused) as caught:
        _ = client.current
    assert caught.value.reason == "missing"
    token = await accept(client, central, 1)
    assert client.current.version == 1
    assert cached_token(client) == token
    assert (client.cache_dir / "global-conf.etag").read_text().strip() == central.etag
    assert central.seen_if_none_match == [None]


async def test_not_modified_keeps_the_current_document(
    client: GlobalConfClient, central: Central
) -> None:
    await accept(client, central, 1)
    held = client.current
    assert await client.refresh() is held
    assert await client.refresh() is held
    assert central.not_modified == 2
    assert central.served == 1
    assert central.seen_if_none_match[1:] == [central.etag, central.etag]


async def test_changed_payload_byte_is_refused(client: GlobalConfClient, central: Central) -> None:
    token = await accept(client, central, 1)
    header, payload, signature = token.split(".")
    forged = b64url_decode(payload).replace(b"Ministry of Health", b"Ministry of Wealth")
    assert forged != b64url_decode(payload)
    central.serve(f"{header}.{b64url(forged)}.{signature}")
    error = await refused(client, "tampered")
    assert "signature does not verify" in error.detail


async def test_document_signed_by_another_key_is_refused(
    client: GlobalConfClient, central: Central
) -> None:
    await accept(client, central, 1)
    central.serve(sign_global_conf(conf(2), ROGUE_KEY))
    error = await refused(client, "untrusted-key")
    assert public_key_fingerprint(ROGUE_KEY.public_key()) in error.detail
    assert client.current.version == 1


async def test_older_version_after_a_newer_one_is_refused(
    client: GlobalConfClient, central: Central
) -> None:
    await accept(client, central, 2)
    central.serve(sign_global_conf(conf(1), CONFIG_KEY))
    error = await refused(client, "older-version")
    assert "version 1 is older than version 2" in error.detail
    assert client.current.version == 2


async def test_expired_document_is_refused(
    client: GlobalConfClient, central: Central, clock: Clock
) -> None:
    await accept(client, central, 1)
    stale = conf(2, generated_at=T0 - timedelta(minutes=20))
    central.serve(sign_global_conf(stale, CONFIG_KEY))
    error = await refused(client, "expired")
    assert "expired at 2026-11-28T08:50:00Z" in error.detail
    assert client.current.version == 1


async def test_current_expires_and_a_304_does_not_revive_it(
    client: GlobalConfClient, central: Central, clock: Clock
) -> None:
    await accept(client, central, 1)
    clock.now = T0 + timedelta(minutes=10)
    with pytest.raises(GlobalConfRefused) as caught:
        _ = client.current
    assert caught.value.reason == "expired"
    with pytest.raises(GlobalConfRefused) as caught:
        await client.refresh()  # central answers 304: still the same, expired document
    assert caught.value.reason == "expired"
    assert central.not_modified == 1
    # A fresh re-issue brings the gateway back.
    await accept(client, central, 1, generated_at=T0 + timedelta(minutes=9, seconds=30))
    assert client.current.expires_at == T0 + timedelta(minutes=19, seconds=30)


async def test_reissue_with_same_content_and_later_expiry_is_accepted(
    client: GlobalConfClient, central: Central, clock: Clock
) -> None:
    await accept(client, central, 4)
    clock.now = T0 + timedelta(minutes=1, seconds=5)
    token = await accept(client, central, 4, generated_at=T0 + timedelta(minutes=1))
    assert client.current.expires_at == T0 + timedelta(minutes=11)
    assert cached_token(client) == token
    # A replay of the first issue (same version and content, earlier expiry) does not shorten it.
    central.serve(sign_global_conf(conf(4), CONFIG_KEY))
    assert (await client.refresh()).expires_at == T0 + timedelta(minutes=11)
    assert cached_token(client) == token


async def test_same_version_with_other_content_is_refused(
    client: GlobalConfClient, central: Central
) -> None:
    await accept(client, central, 4)
    central.serve(sign_global_conf(conf(4, ministry_name="Ministry of Wealth"), CONFIG_KEY))
    await refused(client, "version-conflict")
    assert client.current.members[0].name_en == "Ministry of Health"


async def test_document_of_another_instance_is_refused(
    client: GlobalConfClient, central: Central
) -> None:
    await accept(client, central, 1)
    central.serve(sign_global_conf(conf(2, instance="IR-TEST"), CONFIG_KEY))
    await refused(client, "wrong-instance")


async def test_garbage_is_refused_as_malformed(client: GlobalConfClient, central: Central) -> None:
    await accept(client, central, 1)
    central.serve("<html>proxy error</html>")
    await refused(client, "malformed")


async def test_unreachable_central_keeps_the_last_good_copy(
    client: GlobalConfClient, central: Central, clock: Clock
) -> None:
    await accept(client, central, 1)
    central.status = 503
    held = client.current
    assert await client.refresh() is held
    assert client.last_error is not None
    assert client.last_error.extra["reason"] == "unreachable"
    assert "HTTP 503" in client.last_error.detail
    clock.now = T0 + timedelta(minutes=10)
    with pytest.raises(GlobalConfRefused) as caught:
        await client.refresh()
    assert caught.value.reason == "unreachable"
    with pytest.raises(GlobalConfRefused) as caught:
        _ = client.current
    assert caught.value.reason == "expired"
    assert "HTTP 503" in caught.value.detail  # says why it could not be refreshed


async def test_connection_refused_without_a_copy_is_unreachable(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    anchor = anchor_for(
        CONFIG_KEY.public_key(), instance=INSTANCE, url=f"http://127.0.0.1:{port}/global-conf"
    )
    async with GlobalConfClient(anchor, tmp_path, clock=Clock(T0)) as client:
        with pytest.raises(GlobalConfRefused) as caught:
            await client.refresh()
    assert caught.value.reason == "unreachable"
    assert "ConnectError" in caught.value.detail


async def test_cached_copy_survives_a_restart_and_keeps_the_version_floor(
    client: GlobalConfClient, central: Central, anchor: Anchor, clock: Clock
) -> None:
    await accept(client, central, 3)
    async with httpx.AsyncClient() as http:
        restarted = GlobalConfClient(anchor, client.cache_dir, http=http, clock=clock)
        loaded = restarted.load_cached()
        assert loaded == client.current
        assert restarted.current == loaded
        assert await restarted.refresh() is restarted.current  # the saved ETag gives a 304
        assert central.not_modified == 1
        central.serve(sign_global_conf(conf(2), CONFIG_KEY))
        await refused(restarted, "older-version")


async def test_edited_cache_is_refused_on_load(
    client: GlobalConfClient, central: Central, anchor: Anchor, clock: Clock
) -> None:
    token = await accept(client, central, 1)
    header, payload, signature = token.split(".")
    edited = b64url_decode(payload).replace(b'"1f"', b'"2f"')  # un-revoke a certificate
    assert edited != b64url_decode(payload)
    (client.cache_dir / "global-conf.jws").write_text(f"{header}.{b64url(edited)}.{signature}\n")
    restarted = GlobalConfClient(anchor, client.cache_dir, clock=clock)
    with pytest.raises(GlobalConfRefused) as caught:
        restarted.load_cached()
    assert caught.value.reason == "tampered"
    assert "global-conf.jws" in caught.value.detail
    with pytest.raises(GlobalConfRefused) as caught:
        _ = restarted.current
    assert caught.value.reason == "missing"
    await restarted.aclose()


async def test_expired_cache_loads_as_floor_only(
    client: GlobalConfClient, central: Central, anchor: Anchor, clock: Clock
) -> None:
    await accept(client, central, 5)
    clock.now = T0 + timedelta(hours=1)
    restarted = GlobalConfClient(anchor, client.cache_dir, clock=clock)
    assert restarted.load_cached() is None
    with pytest.raises(GlobalConfRefused) as caught:
        _ = restarted.current
    assert caught.value.reason == "expired"
    await restarted.aclose()


def test_load_cached_without_a_file_is_none(tmp_path: Path) -> None:
    client = GlobalConfClient(ANCHOR, tmp_path / "nothing-here")
    assert client.load_cached() is None
