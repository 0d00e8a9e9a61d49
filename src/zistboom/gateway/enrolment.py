"""Setting a gateway up and keeping its certificates fresh.

``init`` creates the gateway's keys (0600 files), fetches the global configuration and checks
it against the anchor fingerprint, enrols with central for an authentication (TLS) and a
signing certificate using the operator's one-time token (through ``core.enrolment``, which
document services use too), and writes the gateway's settings.
Renewal: after two thirds of a certificate's life the gateway asks central for a successor,
proving possession of the current key (ZB-STD-002), and switches to it without an operator.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import orjson
from cryptography import x509 as cx509

from zistboom.core import globalconf as gc
from zistboom.core.crypto import jws, keys, x509
from zistboom.core.database import utc_now
from zistboom.core.enrolment import enrol_certificate
from zistboom.core.errors import ConfigurationError, ValidationError
from zistboom.core.identifiers import MemberId
from zistboom.gateway.settings import SETTINGS_FILE
from zistboom.gateway.trust import AUTH_CERT, AUTH_KEY, CA_CERT, sign_key_name

log = logging.getLogger("zistboom.gateway.enrolment")
ANCHOR_FILE = "anchor.json"


@dataclass(frozen=True, slots=True)
class Listen:
    client_host: str = "127.0.0.1"
    client_port: int = 8080
    peer_host: str = "0.0.0.0"  # noqa: S104
    peer_port: int = 8443
    admin_port: int = 8081


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write_private(path: Path, text: str) -> None:
    """Write a file readable by the owner only (settings may name internal addresses)."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


async def fetch_anchor(central_url: str, fingerprint: str) -> gc.Anchor:
    """Build the anchor from central's URL and the fingerprint the operator gave, learning the
    instance from the configuration itself (whose signature the fingerprint then checks)."""
    url = central_url.rstrip("/") + "/global-conf"
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(url)
    if response.status_code != 200:
        raise ConfigurationError(f"central answered {response.status_code} for {url}")
    try:
        header = jws.unverified_header(response.text)
        payload = orjson.loads(keys.b64url_decode(response.text.split(".")[1]))
        instance = str(payload["instance"])
    except Exception as error:
        raise ConfigurationError(f"{url} did not return a global configuration") from error
    if header.get("kid") != fingerprint.lower():
        raise ConfigurationError(
            f"the configuration at {url} is signed by key {header.get('kid')}, not by the "
            f"anchor {fingerprint}"
        )
    anchor = gc.Anchor(instance=instance, url=url, key_fingerprint=fingerprint.lower())
    gc.verify_global_conf(response.text, anchor, now=utc_now())
    return anchor


def _prepare_directory(data_dir: Path) -> None:
    if (data_dir / SETTINGS_FILE).exists():
        raise ConfigurationError(f"{data_dir} already holds a gateway; use another directory")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


def _load_pair(key_path: Path, cert_path: Path) -> tuple[keys.PrivateKey, cx509.Certificate]:
    return keys.load_private_key(key_path), x509.load_certificate(cert_path.read_bytes())


async def init(
    data_dir: Path,
    *,
    central_url: str,
    anchor_fingerprint: str,
    member_id: str,
    token: str,
    listen: Listen,
) -> str:
    """Set up a gateway in ``data_dir``; returns its identifier."""
    member = MemberId.parse(member_id, field="member")
    _prepare_directory(data_dir)
    anchor = await fetch_anchor(central_url, anchor_fingerprint)
    if anchor.instance != member.instance:
        raise ValidationError(
            f"{member_id} is not in instance {anchor.instance}, which central serves",
            field="member",
        )
    keys_dir, certs_dir = data_dir / "keys", data_dir / "certs"
    keys_dir.mkdir(mode=0o700, exist_ok=True)
    certs_dir.mkdir(mode=0o755, exist_ok=True)
    auth_key, sign_key = keys.generate_private_key(), keys.generate_private_key()
    async with httpx.AsyncClient(timeout=30) as client:
        auth_cert, (ca_cert,) = await enrol_certificate(
            central_url, token, auth_key, kind="auth", client=client
        )
        sign_cert, _ = await enrol_certificate(
            central_url, token, sign_key, kind="sign", client=client
        )
    gateway_id = x509.certificate_identity(auth_cert)
    if gateway_id is None or gateway_id.rsplit("/", 1)[0] != str(member):
        raise ConfigurationError(f"the token is for {gateway_id}, not for a gateway of {member_id}")
    keys.save_private_key(auth_key, keys_dir / AUTH_KEY)
    keys.save_private_key(sign_key, keys_dir / (sign_key_name(str(member)) + ".key"))
    (certs_dir / AUTH_CERT).write_text(x509.certificate_pem(auth_cert))
    (certs_dir / (sign_key_name(str(member)) + ".pem")).write_text(x509.certificate_pem(sign_cert))
    (certs_dir / CA_CERT).write_text(x509.certificate_pem(ca_cert))
    (data_dir / ANCHOR_FILE).write_text(anchor.to_json())
    settings = {
        "gateway_id": gateway_id,
        "central_url": central_url.rstrip("/"),
        "client_host": listen.client_host,
        "client_port": listen.client_port,
        "peer_host": listen.peer_host,
        "peer_port": listen.peer_port,
        "admin_port": listen.admin_port,
    }
    _write_private(
        data_dir / SETTINGS_FILE,
        "# Written by `zistboom gateway init`; ZB_* environment variables override it.\n"
        + "".join(f"{k} = {_toml_value(v)}\n" for k, v in settings.items()),
    )
    return gateway_id


async def add_hosted_member(data_dir: Path, *, central_url: str, member_id: str, token: str) -> str:
    """Enrol a signing certificate for another member this gateway hosts (the operator has
    registered the hosting at central and issued a token of kind ``sign`` for that member)."""
    member = str(MemberId.parse(member_id, field="member"))
    key = keys.generate_private_key()
    certificate, _ = await enrol_certificate(central_url, token, key, kind="sign")
    if x509.certificate_identity(certificate) != member:
        raise ConfigurationError(
            f"the token is for {x509.certificate_identity(certificate)}, not for {member}"
        )
    _store_signing_pair(data_dir, member, key, certificate)
    return member


def _store_signing_pair(
    data_dir: Path, member: str, key: keys.PrivateKey, certificate: cx509.Certificate
) -> None:
    name = sign_key_name(member)
    keys.save_private_key(key, data_dir / "keys" / f"{name}.key")
    (data_dir / "certs" / f"{name}.pem").write_text(x509.certificate_pem(certificate))


def hosted_members(data_dir: Path) -> list[str]:
    """The members whose signing keys this gateway holds: its own and those it hosts."""
    members = []
    for cert_path in sorted((data_dir / "certs").glob("sign-*.pem")):
        identity = x509.certificate_identity(x509.load_certificate(cert_path.read_bytes()))
        if identity:
            members.append(identity)
    return members


def renewal_due(certificate: cx509.Certificate, now: datetime) -> bool:
    """Two thirds of the certificate's life have passed."""
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    return now >= start + (end - start) * 2 / 3


async def renew(
    central_url: str, key_path: Path, cert_path: Path, *, http: httpx.AsyncClient
) -> cx509.Certificate:
    """Replace one key and certificate with a successor (new key), proving the current key."""
    current_key, current = _load_pair(key_path, cert_path)
    new_key = keys.generate_private_key()
    request = jws.sign_jws(
        orjson.dumps(
            {
                "csr": x509.create_csr(new_key, common_name="renewal").decode(),
                "iat": int(time.time()),
            }
        ),
        current_key,
        headers={"x5c": [base64.b64encode(x509.certificate_der(current)).decode()]},
    )
    response = await http.post(
        central_url.rstrip("/") + "/api/v1/ca/renew",
        content=request,
        headers={"content-type": "application/jose"},
    )
    if response.status_code != 201:
        raise ConfigurationError(f"central refused the renewal: {response.text[:300]}")
    renewed = x509.load_certificate(response.json()["certificate"])
    staged_key = key_path.with_name(key_path.name + ".next")
    if staged_key.exists():
        staged_key.unlink()
    keys.save_private_key(new_key, staged_key)
    staged_cert = cert_path.with_name(cert_path.name + ".next")
    staged_cert.write_text(x509.certificate_pem(renewed))
    os.replace(staged_key, key_path)
    os.replace(staged_cert, cert_path)
    return renewed


async def renew_due_certificates(data_dir: Path, central_url: str) -> list[str]:
    """Renew every certificate of the gateway that is due; returns what was renewed."""
    renewed: list[str] = []
    now = utc_now()
    pairs = [(data_dir / "keys" / AUTH_KEY, data_dir / "certs" / AUTH_CERT)]
    for cert_path in sorted((data_dir / "certs").glob("sign-*.pem")):
        pairs.append((data_dir / "keys" / (cert_path.stem + ".key"), cert_path))
    async with httpx.AsyncClient(timeout=30) as http:
        for key_path, cert_path in pairs:
            certificate = x509.load_certificate(cert_path.read_bytes())
            if renewal_due(certificate, now):
                await renew(central_url, key_path, cert_path, http=http)
                renewed.append(cert_path.name)
                log.info("renewed %s", cert_path.name)
    return renewed


async def renewal_loop(
    data_dir: Path, central_url: str, interval: float, on_renewed: list[Callable[[], None]]
) -> None:
    """Check periodically; ``on_renewed`` callbacks (no arguments) run after a renewal."""
    while True:
        try:
            if await renew_due_certificates(data_dir, central_url):
                for callback in on_renewed:
                    callback()
        except Exception:
            log.exception("certificate renewal failed; retrying at the next check")
        await asyncio.sleep(interval)
