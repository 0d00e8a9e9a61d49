"""The window's settings: ``DATA_DIR/window.toml`` (written by ``zistboom window init``), then
``ZB_*`` environment variables. The files it keeps beside them are named here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from zistboom.core.settings import ComponentSettings

SETTINGS_FILE = "window.toml"
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 (a file name)
CSRF_SECRET_FILE = "csrf.secret"  # noqa: S105 (a file name)
SESSION_SECRET_FILE = "session.secret"  # noqa: S105 (a file name)
_WRITTEN = (
    "host",
    "port",
    "public_url",
    "subsystem_id",
    "gateway_url",
    "central_url",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret_file",
    "persons_registry_service",
    "foreign_nationals_registry_service",
    "hub_lockers_service",
    "smtp_host",
    "smtp_port",
    "mail_from",
    "sms_adapter",
)


class WindowSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="ZB_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8098
    public_url: str = ""
    """The window's public address (default ``http://host:port``): the base of its sign-in
    redirect and of the links it mails."""
    subsystem_id: str = ""
    """The single-window operator's subsystem, ``INSTANCE/CLASS/CODE/SUBSYSTEM``: the
    ``X-Road-Client`` of every call the window makes through the exchange."""
    gateway_url: str = ""
    """The client interface of the operator's gateway (``http://127.0.0.1:PORT``)."""
    central_url: str = ""
    """Central, whose public catalogue (the providers' services and their accreditation) the
    window joins with the agencies' service definitions."""
    oidc_issuer: str = ""
    """The identity provider's issuer URL (its discovery document is read from there)."""
    oidc_client_id: str = "window"
    oidc_client_secret_file: str = ""
    """The file (0600) holding the window's client secret at the provider."""
    oidc_scopes: str = "openid profile email phone"
    persons_registry_service: str = ""
    """The civil registry's persons service, ``INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE``: where a
    person's names are read from (with their consent) on first sign-in."""
    foreign_nationals_registry_service: str = ""
    """The foreign nationals registry's service, for people signed in with a foreign-national
    ID."""
    registry_version: str = "1.0"
    hub_lockers_service: str = ""
    """The documents hub's lockers service, ``INSTANCE/CLASS/CODE/SUBSYSTEM/lockers``: the
    person's locker (documents, shares, access events), read through the exchange acting for
    the signed-in person."""
    task_service_code: str = "window-tasks"
    """The service code at which an agency's inbox subsystem receives the window's tasks as
    asynchronous messages (ZB-STD-009)."""
    smtp_host: str = ""
    """The SMTP server of the window's notices; none: no e-mail is sent (notices are kept)."""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password_file: str = ""
    """A file (0600) holding the SMTP password, when the server asks for one."""
    mail_from: str = "no-reply@window.zistboom.ir"
    sms_adapter: str = "console"
    """How SMS notices are sent: ``console`` writes ``SMS to <number>: <text>`` to the log (the
    development adapter); ``none`` sends none."""
    notice_retry_seconds: float = Field(default=30.0, gt=0)
    """How long a notice that could not be sent waits before it is tried again."""
    tracking_lookups_per_code: int = Field(default=10, ge=1)
    """Lookups of one tracking code without sign-in allowed per hour."""
    tracking_lookups_per_address: int = Field(default=30, ge=1)
    """Lookups without sign-in allowed per hour from one client address."""
    handover_poll_seconds: float = Field(default=1.0, gt=0)
    """How often the window submits waiting hand-overs and follows the ones sent."""
    session_idle_seconds: int = Field(default=15 * 60, ge=1)
    """A session unused this long is over."""
    session_absolute_seconds: int = Field(default=8 * 3600, ge=1)
    """A session is over this long after sign-in, however busy."""
    exchange_timeout_seconds: float = Field(default=20.0, gt=0)
    secure_cookies: bool | None = None
    """Mark cookies Secure: None means exactly when the window's address is https."""

    log_level: str = "INFO"

    @classmethod
    def load(cls, data_dir: Path, **overrides: Any) -> WindowSettings:
        """Settings from ``DATA_DIR/window.toml``, then the environment, then ``overrides``."""
        return cls(**cls.layered(data_dir, SETTINGS_FILE, overrides))

    def write(self) -> None:
        """``DATA_DIR/window.toml`` (mode 0600) with what ``zistboom window init`` sets."""
        self.write_file(SETTINGS_FILE, _WRITTEN)

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def cookies_secure(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.base_url.startswith("https:")
