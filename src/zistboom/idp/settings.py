"""The identity provider's settings: ``DATA_DIR/idp.toml`` (written by ``zistboom idp init``),
then ``ZB_*`` environment variables. The files it keeps beside them are named here."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from zistboom.core.settings import ComponentSettings

SETTINGS_FILE = "idp.toml"
KEYS_DIR = "keys"
SIGNING_KEY_FILE = "idp-signing.key"
CSRF_SECRET_FILE = "csrf.secret"  # noqa: S105 (a file name)
_WRITTEN = (
    "host",
    "port",
    "issuer",
    "smtp_host",
    "smtp_port",
    "smtp_sender",
    "smtp_starttls",
    "smtp_username",
    "smtp_password_file",
)


class IdpSettings(ComponentSettings):
    model_config = SettingsConfigDict(env_prefix="ZB_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8097
    issuer: str = ""
    """The provider's public URL, its ``iss`` (default ``http://host:port``)."""
    one_time_code_seconds: int = Field(default=300, ge=1)
    """How long a one-time code sent by SMS or e-mail may be used."""
    one_time_code_attempts: int = Field(default=5, ge=1)
    """Wrong tries after which a one-time code is void (even the right one is then refused)."""
    one_time_codes_per_request: int = Field(default=5, ge=1)
    """How many codes one sign-in may ask for; then it must start again from the client."""
    authorization_code_seconds: int = Field(default=60, ge=1)
    access_token_seconds: int = Field(default=600, ge=1)
    id_token_seconds: int = Field(default=600, ge=1)
    session_seconds: int = Field(default=8 * 3600, ge=1)
    """How long a person stays signed in at the provider."""
    request_seconds: int = Field(default=900, ge=1)
    """How long a pending authorization request (the sign-in pages) is kept."""
    sms_adapter: Literal["console"] = "console"
    """How SMS are sent: ``console`` prints them on standard output (the demo's phone)."""
    smtp_host: str = ""
    """Where e-mailed codes go; empty means no e-mail is sent."""
    smtp_port: int = 25
    smtp_sender: str = "idp@zistboom.invalid"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password_file: str = ""
    log_level: str = "INFO"

    @classmethod
    def load(cls, data_dir: Path, **overrides: Any) -> IdpSettings:
        """Settings from ``DATA_DIR/idp.toml``, then the environment, then ``overrides``."""
        return cls(**cls.layered(data_dir, SETTINGS_FILE, overrides))

    def write(self) -> None:
        """``DATA_DIR/idp.toml`` (mode 0600) with what ``zistboom idp init`` sets."""
        self.write_file(SETTINGS_FILE, _WRITTEN)

    @property
    def issuer_url(self) -> str:
        return self.issuer.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def signing_key_path(self) -> Path:
        return self.data_dir / KEYS_DIR / SIGNING_KEY_FILE
