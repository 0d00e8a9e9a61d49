"""The registry service's settings: ``DATA_DIR/registry.toml``, then ``ZB_*`` environment
variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from zistboom.core.settings import ComponentSettings

SETTINGS_FILE = "registry.toml"


class RegistrySettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="ZB_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8090
    member_id: str = ""
    """The agency that runs the registry service, ``INSTANCE/CLASS/CODE``: the Database API
    answers only that member's subsystems."""
    subsystem: str = "registry"
    """The agency's subsystem whose services the registries are."""
    gateway_admin_url: str = ""
    """The agency's gateway management API (loopback), used when publishing."""
    gateway_admin_token_file: str = ""
    """The file holding the gateway's admin token (the gateway's ``DATA_DIR/admin-token``)."""
    gateway_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    """Addresses the gateway calls from; data requests from anywhere else are refused."""
    public_url: str = ""
    """The URL the gateway reaches this service at (default ``http://host:port``)."""

    log_level: str = "INFO"

    @classmethod
    def load(cls, data_dir: Path, **overrides: Any) -> RegistrySettings:
        """Settings from ``DATA_DIR/registry.toml`` (written by ``zistboom registry init``),
        then the environment, then ``overrides``."""
        return cls(**cls.layered(data_dir, SETTINGS_FILE, overrides))

    def write(self) -> None:
        """``DATA_DIR/registry.toml`` (mode 0600) with what ``zistboom registry init`` sets."""
        self.write_file(
            SETTINGS_FILE,
            ("member_id", "subsystem", "port", "gateway_admin_url", "gateway_admin_token_file"),
        )

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"
