"""The gateway's settings: ``DATA_DIR/gateway.toml`` (written by ``zistboom gateway init``),
overridden by ``ZB_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from zistboom.core.settings import ComponentSettings

SETTINGS_FILE = "gateway.toml"


class GatewaySettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="ZB_", extra="ignore")

    gateway_id: str = ""
    """This gateway's identifier, ``INSTANCE/CLASS/CODE/GATEWAY``."""
    central_url: str = ""
    instance_name: str = ""
    """The replica's name: one message-log chain per replica (defaults to the gateway code)."""

    client_host: str = "127.0.0.1"
    client_port: int = 8080
    client_tls: bool = False
    """Information systems connect over HTTPS with a client certificate; when false, plain HTTP
    is accepted, and only from a loopback address."""
    peer_host: str = "0.0.0.0"  # noqa: S104  (peers reach the gateway from the network)
    peer_port: int = 8443
    admin_host: str = "127.0.0.1"
    admin_port: int = 8081

    backend_timeout: float = 30.0
    peer_timeout: float = 60.0
    connect_timeout: float = 5.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_clock_skew: int = 30
    header_timeout: float = Field(10.0, gt=0)
    """Seconds from a connection (or the end of the previous response on it) to the end of
    the next request's head, and for a TLS handshake; then the connection is closed."""
    body_timeout: float = Field(60.0, gt=0)
    """Seconds for a whole request body; then the request is refused (408)."""
    max_connections: int = Field(1000, gt=0)
    """Connections each message listener (client port, peer port) holds at once; beyond, a
    new connection is closed at once."""
    body_budget_bytes: int = Field(64 * 1024 * 1024, gt=0)
    """Bytes of request bodies the process holds at once, both ports together; a body that
    does not fit is refused (503, ``…Busy``). At least ``max_body_bytes``."""

    conf_refresh_seconds: float = 60.0
    messagelog_interval: float = 60.0
    timestamp_grace_seconds: float = 4 * 3600.0
    renewal_check_seconds: float = 3600.0
    operational_log: bool = True
    """One JSON line per exchanged message on the log (metrics are kept either way)."""
    log_level: str = "INFO"

    # Asynchronous messages (ZB-STD-009).
    message_lifetime_seconds: float = Field(86400.0, gt=0)
    """How long the sending gateway retries a message before it is ``failed``; the receiving
    gateway eliminates duplicates for at least this long."""
    message_retry_base_seconds: float = Field(1.0, gt=0)
    """The first retry's delay; each next one doubles, with jitter, up to the cap."""
    message_retry_cap_seconds: float = Field(300.0, gt=0)
    message_retention_days: float = Field(90.0, gt=0)
    """Messages, receipts and answers are kept this long after they reached a final status."""
    message_workers: int = Field(512, gt=0)
    """Deliveries (to peers and to information systems) in flight at once, per worker. A
    delivery spends most of its time waiting (for the peer, for a group commit), so a busy
    gateway needs many in flight to keep its processor busy."""
    message_batch: int = Field(64, gt=0)
    """Messages one worker claims at a time."""
    message_bytes_in_flight: int = Field(64 * 1024 * 1024, gt=0)
    """Bytes of bodies a worker's deliveries hold at once; while they hold this much it claims
    no more (so at most this plus one claim's bodies, ``message_batch`` of them)."""
    message_poll_seconds: float = Field(0.5, gt=0)
    """How often a worker looks for due work that no local submission announced."""
    push_timeout: float = Field(30.0, gt=0)
    """Seconds an information system's push endpoint has to answer."""

    @classmethod
    def load(cls, data_dir: Path, **overrides: Any) -> GatewaySettings:
        """Settings from ``DATA_DIR/gateway.toml``, then the environment, then ``overrides``
        (each overriding the one before)."""
        settings = cls(**cls.layered(data_dir, SETTINGS_FILE, overrides))
        if not settings.instance_name:
            settings.instance_name = settings.gateway_id.rsplit("/", 1)[-1] or "gateway"
        return settings

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def certs_dir(self) -> Path:
        return self.data_dir / "certs"
