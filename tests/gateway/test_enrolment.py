"""Gateway set-up and certificate renewal against a real central."""

from __future__ import annotations

import asyncio
import os
import stat
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from cryptography import x509 as cx509

from central_process import CentralProcess, start_central
from federation import Federation
from zistboom.core.crypto import keys, x509
from zistboom.core.database import utc_now
from zistboom.core.errors import ConfigurationError
from zistboom.gateway import enrolment


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Federation:
    root = tmp_path_factory.mktemp("enrolment")
    central: CentralProcess = start_central(root / "central", None)
    federation = Federation(central=central, root=root, database_url=None)
    yield federation  # type: ignore[misc]
    federation.stop()


def test_init_writes_private_keys_and_settings(fed: Federation) -> None:
    member = fed.add_member("Agency", ["app"])
    gateway = fed.add_gateway("g1", member)
    for key in (gateway.data_dir / "keys").iterdir():
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600, key
    assert stat.S_IMODE(os.stat(gateway.data_dir / "gateway.toml").st_mode) == 0o600
    auth = x509.load_certificate((gateway.data_dir / "certs" / "auth.pem").read_bytes())
    assert x509.certificate_identity(auth) == gateway.gateway_id
    again = gateway.cli("init", "--central", fed.central.url, "--anchor", "0" * 64,
                        "--member", member, "--token", "x", check=False)  # fmt: skip
    assert again.returncode == 2
    assert "already holds a gateway" in again.stderr


def test_a_wrong_anchor_is_refused(fed: Federation, tmp_path: Path) -> None:
    member = fed.add_member("Agency 2", ["app"])
    with pytest.raises(ConfigurationError, match="anchor"):
        asyncio.run(
            enrolment.init(
                tmp_path / "gw",
                central_url=fed.central.url,
                anchor_fingerprint="ab" * 32,
                member_id=member,
                token="zbe_unused",
                listen=enrolment.Listen(),
            )
        )


def test_renewal_replaces_key_and_certificate_with_proof_of_the_current_key(
    fed: Federation,
) -> None:
    member = fed.add_member("Agency 3", ["app"])
    gateway = fed.add_gateway("g3", member)
    key_path = gateway.data_dir / "keys" / "auth.key"
    cert_path = gateway.data_dir / "certs" / "auth.pem"
    before = x509.load_certificate(cert_path.read_bytes())
    old_key = key_path.read_bytes()
    assert not enrolment.renewal_due(before, utc_now())
    lifetime = before.not_valid_after_utc - before.not_valid_before_utc
    assert enrolment.renewal_due(before, before.not_valid_before_utc + lifetime * 0.7)

    async def renew() -> cx509.Certificate:
        async with httpx.AsyncClient() as http:
            return await enrolment.renew(fed.central.url, key_path, cert_path, http=http)

    renewed = asyncio.run(renew())
    assert renewed.serial_number != before.serial_number
    assert x509.certificate_identity(renewed) == gateway.gateway_id
    assert key_path.read_bytes() != old_key
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    on_disk = x509.load_certificate(cert_path.read_bytes())
    assert on_disk.serial_number == renewed.serial_number
    assert renewed.not_valid_after_utc - utc_now() > timedelta(days=80)
    # The new certificate reaches the global configuration for peers to pin.
    conf = httpx.get(f"{fed.central.url}/global-conf").text

    payload = orjson.loads(keys.b64url_decode(conf.split(".")[1]))
    entry = next(g for g in payload["gateways"] if g["id"] == gateway.gateway_id)
    assert x509.certificate_fingerprint(renewed) in entry["auth_certificates"]
