"""Central's settings (environment variables with the ``ZB_`` prefix, or a TOML file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from zistboom.core import identifiers
from zistboom.core.errors import ZistboomError
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

    # --- central as an information system on the exchange (ecosystem operators' ownership) ---
    exchange_gateway_url: str | None = None
    """The IT authority's gateway, its client interface (``r1``), e.g. ``http://127.0.0.1:8080``
    (plain HTTP from a loopback address) or ``https://…`` with a client certificate; unset,
    central makes no exchange calls and reads no ownership."""
    exchange_client: str | None = None
    """The subsystem central calls as: ``<instance>/GOV/<IT authority code>/<subsystem>``."""
    exchange_tls_cert: Path | None = None
    """PEM client certificate registered on the gateway for ``exchange_client`` (HTTPS only)."""
    exchange_tls_key: Path | None = None
    exchange_tls_ca: Path | None = None
    """Verifies the gateway's certificate; default the instance CA, which issued it."""
    exchange_timeout_seconds: float = Field(30.0, gt=0)
    companies_registry_service: str | None = None
    """The legal-entities registry's service, e.g.
    ``IR-DEMO/GOV/16394841376/company-registry/companies`` (its code is the registry's code)."""
    companies_registry_version: str = Field("1.0", pattern=r"^[0-9]{1,4}\.[0-9]{1,4}$")
    ownership_refresh_seconds: float = Field(86400.0, gt=0)
    """How old an operator's last ownership reading may grow before the daily refresh reads it
    again."""
    ownership_check_seconds: float = Field(300.0, gt=0)
    """How often the background task looks for operators whose reading is due."""

    @field_validator("exchange_client")
    @classmethod
    def _subsystem(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                identifiers.SubsystemId.parse(value, field="exchange_client")
            except ZistboomError as error:
                raise ValueError(error.detail) from error
        return value

    @field_validator("companies_registry_service")
    @classmethod
    def _service(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                identifiers.ServiceId.parse(value, field="companies_registry_service")
            except ZistboomError as error:
                raise ValueError(error.detail) from error
        return value

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
