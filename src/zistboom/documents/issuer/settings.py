"""The issuer service's settings: ``DATA_DIR/issuer.toml`` (written by ``zistboom documents
issuer init``), then ``ZB_*`` environment variables, then what a command passes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from zistboom.core.settings import ComponentSettings
from zistboom.documents.statuslist import MIN_SIZE

SETTINGS_FILE = "issuer.toml"
DOC_KEY = "doc.key"
DOC_CERT = "doc.pem"
CHAIN_FILE = "chain.pem"
"""The document-signing certificate's issuers, up to the instance CA (PEM, leaf excluded)."""
ANCHOR_FILE = "anchor.json"
# What `init` writes to issuer.toml; the rest keep their defaults unless the environment says.
WRITTEN = (
    "member_id",
    "subsystem",
    "central_url",
    "gateway_url",
    "hub_service",
    "hub_url",
    "registry_subsystem",
    "host",
    "port",
    "status_list_size",
)


class IssuerSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="ZB_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8095
    member_id: str = ""
    """The agency whose documents this service signs, ``INSTANCE/CLASS/CODE``; its
    document-signing certificate names it."""
    subsystem: str = "issuer"
    """The agency's subsystem the issuer calls the exchange as (``X-Road-Client``) and whose
    services (issuance, status) its gateway serves."""
    central_url: str = ""
    gateway_url: str = ""
    """The agency gateway's client port (``http://127.0.0.1:8080``): every call to the hub and
    to the agency's registry goes through it."""
    hub_service: str = ""
    """The hub's ``documents`` service, ``INSTANCE/CLASS/CODE/SUBSYSTEM/documents``, where
    documents are deposited and status lists published."""
    hub_url: str = ""
    """The hub's public address, the base of the URLs documents carry (schema, status lists,
    pull links)."""
    registry_subsystem: str = ""
    """The agency's registry subsystem (``…/registry``) a subject is pulled from; empty when
    the agency keeps no base registry."""
    gateway_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "::1"])
    """Addresses the gateway calls from; calls from anywhere else are refused."""
    status_list_size: int = Field(MIN_SIZE, ge=MIN_SIZE)
    """Entries per status list (Bitstring Status List v1.0 asks for at least 131,072)."""
    exchange_timeout_seconds: float = Field(60.0, gt=0)
    type_cache_seconds: float = Field(300.0, ge=0)
    """How long a document type fetched from the hub is used before it is asked for again."""
    status_check_seconds: float = Field(600.0, gt=0)
    """How often the background pass looks for lists to re-sign or to publish again."""
    conf_refresh_seconds: float = Field(60.0, gt=0)
    log_level: str = "INFO"

    @classmethod
    def load(cls, data_dir: Path, **overrides: Any) -> IssuerSettings:
        """Settings from ``DATA_DIR/issuer.toml``, then the environment, then ``overrides``."""
        return cls(**cls.layered(data_dir, SETTINGS_FILE, overrides))

    def write(self) -> None:
        """``DATA_DIR/issuer.toml`` (mode 0600, replaced atomically) with what ``init`` sets."""
        self.write_file(
            SETTINGS_FILE,
            WRITTEN,
            heading="Written by `zistboom documents issuer init`; ZB_* variables override it.",
        )

    @property
    def client_id(self) -> str:
        """Who the issuer is on the exchange: its subsystem."""
        return f"{self.member_id}/{self.subsystem}"

    @property
    def key_path(self) -> Path:
        return self.data_dir / DOC_KEY

    @property
    def certificate_path(self) -> Path:
        return self.data_dir / DOC_CERT

    @property
    def chain_path(self) -> Path:
        return self.data_dir / CHAIN_FILE

    @property
    def anchor_path(self) -> Path:
        return self.data_dir / ANCHOR_FILE
