"""Setting an issuer up (``zistboom documents issuer init``): the anchor checked against what
central serves, the document-signing key generated in the data directory (0600; it never
leaves), its certificate of kind ``doc`` enrolled with the operator's one-time token, the
secret the gateway will send, ``issuer.toml``, whose presence marks a finished setup (a setup
that failed half-way can be run again: the key it made is reused), and, given the gateway's
management API, the issuer's service registered on the gateway."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from zistboom.core import backend
from zistboom.core import globalconf as gc
from zistboom.core.crypto import keys, x509
from zistboom.core.enrolment import enrol_certificate
from zistboom.core.errors import ConfigurationError, GlobalConfError, ValidationError
from zistboom.core.identifiers import MemberId, ServiceId, SubsystemId
from zistboom.documents.issuer.settings import SETTINGS_FILE, IssuerSettings


@dataclass(frozen=True, slots=True)
class SetupInput:
    data_dir: Path
    central_url: str
    anchor_file: Path
    token: str
    member_id: str
    gateway_url: str
    hub_service: str
    hub_url: str
    registry_subsystem: str = ""
    subsystem: str = "issuer"
    host: str = "127.0.0.1"
    port: int = 8095
    gateway_admin_url: str = ""
    """The agency gateway's management API: when given, the issuer's service is registered."""
    gateway_admin_token_file: str = ""


def _checked(given: SetupInput) -> None:
    MemberId.parse(given.member_id, field="member")
    SubsystemId.parse(f"{given.member_id}/{given.subsystem}", field="subsystem")
    ServiceId.parse(given.hub_service, field="hub_service")
    if given.registry_subsystem:
        registry = SubsystemId.parse(given.registry_subsystem, field="registry_subsystem")
        if str(registry.member) != given.member_id:
            raise ValidationError(
                f"the registry subsystem {registry} is not the agency's own ({given.member_id}): "
                "an issuer pulls subjects only from its own base registry",
                field="registry_subsystem",
            )
    for name in ("central_url", "gateway_url", "hub_url"):
        value = getattr(given, name)
        if not value.startswith(("http://", "https://")):
            raise ValidationError(f"{name} must be an http(s) URL, got {value!r}", field=name)


async def _verified_conf(anchor: gc.Anchor, data_dir: Path) -> gc.GlobalConf:
    client = gc.GlobalConfClient(anchor, data_dir / "global-conf")
    try:
        return await client.refresh()
    except GlobalConfError as error:
        raise ConfigurationError(
            f"the global configuration at {anchor.url} does not verify against the anchor: "
            f"{error.detail}"
        ) from error
    finally:
        await client.aclose()


async def init(given: SetupInput) -> IssuerSettings:
    """Set the issuer up in ``given.data_dir``; its settings."""
    _checked(given)
    data_dir = given.data_dir
    if (data_dir / SETTINGS_FILE).exists():
        raise ConfigurationError(f"{data_dir} already holds an issuer; use another directory")
    try:
        anchor = gc.Anchor.from_json(given.anchor_file.read_bytes())
    except (OSError, ValueError) as error:
        raise ValidationError(
            f"{given.anchor_file} is not an anchor (central's /anchor): {error}", field="anchor"
        ) from error
    if anchor.instance != MemberId.parse(given.member_id).instance:
        raise ValidationError(
            f"{given.member_id} is not in instance {anchor.instance}, which the anchor is for",
            field="member",
        )
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    conf = await _verified_conf(anchor, data_dir)
    if conf.member(given.member_id) is None:
        raise ValidationError(
            f"{given.member_id} is not a member listed in the global configuration",
            field="member",
        )
    settings = IssuerSettings(
        data_dir=data_dir,
        member_id=given.member_id,
        subsystem=given.subsystem,
        central_url=given.central_url.rstrip("/"),
        gateway_url=given.gateway_url.rstrip("/"),
        hub_service=given.hub_service,
        hub_url=given.hub_url.rstrip("/"),
        registry_subsystem=given.registry_subsystem,
        host=given.host,
        port=given.port,
    )
    key = keys.ensure_private_key(settings.key_path)
    certificate, chain = await enrol_certificate(settings.central_url, given.token, key, kind="doc")
    holder = x509.certificate_identity(certificate)
    if holder != given.member_id:
        raise ConfigurationError(
            f"the token is for {holder}, not for {given.member_id}: ask central's operator for "
            "a doc token of this member"
        )
    if not {x509.certificate_pem(c) for c in chain} & set(conf.ca_certificates):
        raise ConfigurationError(
            "central's enrolment answer names a CA that the global configuration does not list"
        )
    _write(settings.certificate_path, x509.certificate_pem(certificate))
    _write(settings.chain_path, x509.chain_pem(chain))
    _write(settings.anchor_path, anchor.to_json())
    backend.gateway_secret(data_dir)
    settings.write()
    if given.gateway_admin_url:
        # Imported here: the app brings the formats (PDF rendering) that loading takes a while.
        from zistboom.documents.issuer.app import create_app
        from zistboom.documents.issuer.publishing import register_service

        await register_service(
            settings,
            create_app(settings),
            admin_url=given.gateway_admin_url,
            admin_token_file=given.gateway_admin_token_file,
        )
    return settings


def _write(path: Path, text: str) -> None:
    """Replace ``path`` atomically (a certificate is public: 0644)."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.replace(temporary, path)
