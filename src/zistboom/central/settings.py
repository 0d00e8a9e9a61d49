"""Central's settings (environment variables with the ``ZB_`` prefix, or a TOML file)."""

from __future__ import annotations

from pydantic import Field

from zistboom.core.settings import ComponentSettings


class CentralSettings(ComponentSettings):
    instance: str = "IR-DEMO"
    host: str = "127.0.0.1"
    port: int = 8600
    public_url: str | None = None
    """The URL gateways reach central at; defaults to ``http://host:port``."""
    conf_validity_seconds: int = 600
    conf_refresh_seconds: int = 60
    certificate_validity_days: int = 90
    enrolment_token_minutes: int = 1440
    renewal_max_clock_skew_seconds: int = 300
    trust_list_validity_seconds: int = Field(default=86400, ge=2)
    """How long a trust list is good for (its ``next_update``); central re-issues it when it is
    older than half of this, and after every accreditation change."""

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
