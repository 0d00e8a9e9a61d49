"""Settings shared by every component: environment variables with the ``ZB_`` prefix and an
optional TOML file (``ZB_CONFIG_FILE``). Each component subclasses :class:`ComponentSettings`."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class ComponentSettings(BaseSettings):
    """Base settings: where the component keeps its files and which database it uses."""

    model_config = SettingsConfigDict(env_prefix="ZB_", extra="ignore")

    data_dir: Path = Path("var/zistboom")
    database_url: str | None = None
    """SQLAlchemy async URL; unset means an SQLite file in ``data_dir``."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("ZB_CONFIG_FILE")
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)

    @classmethod
    def layered(cls, data_dir: Path, file_name: str, overrides: dict[str, Any]) -> dict[str, Any]:
        """A component's values: ``DATA_DIR/file_name`` (as its ``init`` wrote it), then the
        ``ZB_*`` environment, then ``overrides`` (those that are not ``None``)."""
        values: dict[str, Any] = {}
        path = data_dir / file_name
        if path.exists():
            values.update(tomllib.loads(path.read_text()))
        from_env = cls()
        values.update({k: getattr(from_env, k) for k in from_env.model_fields_set})
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["data_dir"] = data_dir
        return values

    def write_file(
        self, file_name: str, names: Sequence[str], *, heading: str | None = None
    ) -> None:
        """``DATA_DIR/file_name`` (mode 0600, in a 0700 folder, replaced atomically) holding the
        settings ``names`` as TOML: what a component's ``init`` sets, read back by
        :meth:`layered`."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        lines = [f"# {heading}"] if heading else []
        lines += [f"{name} = {toml_value(getattr(self, name))}" for name in names]
        temporary = self.data_dir / (file_name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write("\n".join(lines) + "\n")
        os.replace(temporary, self.data_dir / file_name)

    def resolved_database_url(self, component: str) -> str:
        """The configured URL, or the component's SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{component}.db').resolve()}"

    def model_post_init(self, __context: Any) -> None:
        self.data_dir = self.data_dir.expanduser()


def toml_value(value: object) -> str:
    """A setting as a TOML value: a boolean, a number, or a basic string (escaped)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
