"""The documents hub's settings: ``DATA_DIR/hub.toml`` (written by ``zistboom documents hub
init``), then ``ZB_*`` environment variables. The files it keeps beside them are named here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from zistboom.core.settings import ComponentSettings

SETTINGS_FILE = "hub.toml"
ANCHOR_FILE = "anchor.json"
KEY_FILE = "doc.key"
CERTIFICATE_FILE = "doc.pem"
"""The hub's ``doc`` certificate, then the CA certificate above it (PEM)."""
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 (a file name)
CSRF_SECRET_FILE = "csrf.secret"  # noqa: S105 (a file name)
CONF_CACHE = "global-conf"
TRUST_LIST_CACHE = "trust-list"
_WRITTEN = (
    "member_id",
    "subsystem",
    "host",
    "port",
    "public_url",
    "central_url",
    "window_subsystem",
    "gateway_admin_url",
    "gateway_admin_token_file",
)


class HubSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="ZB_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8095
    public_url: str = ""
    """The hub's public address (default ``http://host:port``): the base of the URLs documents
    carry (type schemas, status lists) and of pull links."""
    member_id: str = ""
    """The member that runs the hub (the authority, or an accredited ecosystem company),
    ``INSTANCE/CLASS/CODE``: the subject of its ``doc`` certificate."""
    subsystem: str = "documents"
    """Its subsystem whose services the hub's are (``documents``, ``lockers``,
    ``shared-documents``)."""
    central_url: str = ""
    window_subsystem: str = ""
    """The single-window operator's subsystem, ``INSTANCE/CLASS/CODE/SUBSYSTEM``: the only
    client that may act for a person (with ``X-Road-UserId`` naming the person)."""
    gateway_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    """Addresses the hub's gateway calls from; exchange calls from anywhere else are refused."""
    gateway_admin_url: str = ""
    """The hub's gateway management API (loopback), used to register the hub's services."""
    gateway_admin_token_file: str = ""
    refresh_seconds: float = 60.0
    """How often the global configuration (and the trust list it names) is refreshed."""
    max_share_days: int = Field(default=365, ge=1)
    """The longest a share may last: a consent is for a period, never open-ended."""
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """The largest document (PDF, image) the hub takes, in a deposit or a verification."""

    log_level: str = "INFO"

    @classmethod
    def load(cls, data_dir: Path, **overrides: Any) -> HubSettings:
        """Settings from ``DATA_DIR/hub.toml``, then the environment, then ``overrides``."""
        return cls(**cls.layered(data_dir, SETTINGS_FILE, overrides))

    def write(self) -> None:
        """``DATA_DIR/hub.toml`` (mode 0600) with what ``zistboom documents hub init`` sets."""
        self.write_file(SETTINGS_FILE, _WRITTEN)

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def subsystem_id(self) -> str:
        return f"{self.member_id}/{self.subsystem}"
