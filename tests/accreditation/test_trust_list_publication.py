"""Central publishes the trust list (ZB-STD-007) against a real central process on SQLite and
PostgreSQL: signed by a key of its own that the global configuration names with the list's
URL, sequence number and digest; served with an entity tag; re-issued with the next sequence
number after every successful accreditation change (and the configuration right after it), and
when half its validity has passed; numbers never reused across restarts."""

from __future__ import annotations

import asyncio
import random
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from central_process import CentralProcess, stop_central
from trust_list_central import (
    Content,
    accreditation,
    change,
    published,
    put_content,
    running_list_central,
    scheme,
    served_sequence,
    start_list_central,
    wait_for,
)
from zistboom.core.crypto import keys
from zistboom.core.errors import TrustListError
from zistboom.core.iran import generate_legal_entity_id
from zistboom.core.trustlist import TrustListClient, TrustListRefused, verify_trust_list

rng = random.Random()


@pytest.fixture(scope="module")
def central(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CentralProcess]:
    yield from running_list_central(tmp_path_factory.mktemp("central"), backend_database)


def one_accreditation(member: str) -> Content:
    now = datetime.now(UTC)
    tax = scheme("tax", "e-invoice-provider", since=now - timedelta(days=30))
    granted = [change("granted", now - timedelta(days=10), "all criteria met")]
    return Content(
        schemes=[tax],
        accreditations=[
            accreditation(
                rng.randrange(1, 10**6),
                tax.code,
                member,
                changes=granted,
                valid_until=now + timedelta(days=355),
            )
        ],
    )


def a_member() -> str:
    return f"IR-DEMO/COM/{generate_legal_entity_id(rng)}"


def test_the_list_verifies_with_the_key_the_global_configuration_names(
    central: CentralProcess,
) -> None:
    now = published(central)  # verified as a gateway verifies it
    assert now.pointer.url == f"{central.url}/trust-list"
    assert now.trust_list.instance == "IR-DEMO"
    assert now.trust_list.next_update - now.trust_list.issued_at == timedelta(days=1)

    key_file = central.data_dir / "keys" / "trust-list.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    trust_key = keys.load_private_key(key_file).public_key()
    assert now.pointer.key_fingerprint == keys.public_key_fingerprint(trust_key)
    conf_key = keys.load_private_key(central.data_dir / "keys" / "global-conf.key").public_key()
    assert now.pointer.key_fingerprint != keys.public_key_fingerprint(conf_key)

    response = httpx.get(now.pointer.url)
    assert response.headers["content-type"] == "application/jose"
    header, payload, signature = response.text.split(".")
    changed = orjson.loads(keys.b64url_decode(payload))
    changed["next_update"] = "2999-01-01T00:00:00Z"
    forged = ".".join((header, keys.b64url_encode(orjson.dumps(changed)), signature))
    with pytest.raises(TrustListRefused) as refused:
        verify_trust_list(
            forged,
            key_fingerprint=now.pointer.key_fingerprint,
            instance="IR-DEMO",
            now=datetime.now(UTC),
        )
    assert refused.value.reason == "tampered"
    with pytest.raises(TrustListRefused) as refused:
        verify_trust_list(
            response.text,
            key_fingerprint=keys.public_key_fingerprint(conf_key),
            instance="IR-DEMO",
            now=datetime.now(UTC),
        )
    assert refused.value.reason == "untrusted-key"


def test_a_change_reissues_the_list_then_the_configuration_that_names_it(
    central: CentralProcess, tmp_path: Path
) -> None:
    before = published(central)
    content = one_accreditation(a_member())
    response = put_content(central, content)
    assert response.status_code == 204, response.text

    after = published(central)
    assert after.pointer.sequence == before.pointer.sequence + 1
    assert after.trust_list.sequence == after.pointer.sequence
    assert after.conf.version > before.conf.version
    assert after.pointer.digest != before.pointer.digest
    assert after.trust_list.accreditations == content.accreditations
    assert after.trust_list.schemes == content.schemes
    assert after.trust_list.issued_at > before.trust_list.issued_at

    # A gateway's client follows the pointer over HTTP and takes the new list.
    async def follow() -> int:
        client = TrustListClient("IR-DEMO", tmp_path / "cache")
        try:
            taken = await client.follow(after.pointer)
            assert taken is not None
            assert client.current.accreditations == content.accreditations
            # An older pointer (a configuration from before) is not followed back.
            assert await client.follow(before.pointer) is taken
            return taken.sequence
        finally:
            await client.aclose()

    assert asyncio.run(follow()) == after.pointer.sequence


def test_only_a_successful_accreditation_change_takes_a_new_number(
    central: CentralProcess,
) -> None:
    before = published(central)
    # Refused (an accreditation under a scheme the list does not hold): nothing is issued.
    broken = one_accreditation(a_member()).model_copy(update={"schemes": []})
    response = put_content(central, broken)
    assert response.status_code == 422, response.text
    assert served_sequence(central) == before.pointer.sequence

    # A change elsewhere re-issues the configuration, with the same list in it.
    member = {
        "member_class": "COM",
        "code": generate_legal_entity_id(rng),
        "name_fa": "شرکت نمونه",
        "name_en": "Sample company",
        "kind": "company",
    }
    with central.admin as client:
        assert client.post("/api/v1/members", json=member).status_code == 201
    after = published(central)
    assert after.conf.version == before.conf.version + 1
    assert after.pointer == before.pointer
    assert after.token == before.token


def test_conditional_get(central: CentralProcess) -> None:
    first = httpx.get(f"{central.url}/trust-list")
    etag = first.headers["etag"]
    again = httpx.get(f"{central.url}/trust-list", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    listed = httpx.get(f"{central.url}/trust-list", headers={"If-None-Match": f'"x", {etag}'})
    assert listed.status_code == 304
    other = httpx.get(f"{central.url}/trust-list", headers={"If-None-Match": '"1-0000"'})
    assert other.status_code == 200 and other.text == first.text

    assert put_content(central, one_accreditation(a_member())).status_code == 204
    changed = httpx.get(f"{central.url}/trust-list", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.text != first.text


def test_the_openapi_document_describes_the_trust_list(central: CentralProcess) -> None:
    document = httpx.get(f"{central.url}/openapi.json").json()
    get = document["paths"]["/trust-list"]["get"]
    assert "application/jose" in get["responses"]["200"]["content"]
    assert "304" in get["responses"]
    assert "security" not in get


def test_reissued_at_half_its_validity_and_numbers_survive_a_restart(
    fresh_backend_database: str | None, tmp_path: Path
) -> None:
    env = {"ZB_TRUST_LIST_VALIDITY_SECONDS": "4"}
    central = start_list_central(tmp_path / "central", fresh_backend_database, env)
    try:
        first = published(central)
        assert first.trust_list.next_update - first.trust_list.issued_at == timedelta(seconds=4)

        def newer() -> int | None:
            try:
                seen = published(central)
            except TrustListError:
                # Issued between reading the configuration and the list (every 2 s here):
                # the next read sees both.
                return None
            if seen.pointer.sequence > first.pointer.sequence:
                return seen.pointer.sequence
            return None

        # No change was made: the list and the configuration naming it are re-issued on time.
        later = wait_for(newer, seconds=20, what="the trust list re-issued at half its validity")
        last = max(later, served_sequence(central))
    finally:
        stop_central(central.process)

    again = start_list_central(central.data_dir, fresh_backend_database, env, first_start=False)
    try:
        assert served_sequence(again) > last
    finally:
        stop_central(again.process)
