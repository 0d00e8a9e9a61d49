"""Bearer tokens and shared secrets kept in a component's data directory: created once with 256
random bits in a 0600 file (the folder 0700), read back on every start, never logged."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from zistboom.core.errors import ConfigurationError


def ensure_token_file(path: Path, *, field: str, minimum: int = 16) -> str:
    """The token in ``path``, created on first use. When two processes start at once, one
    creates the file (``O_EXCL``) and both read it."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        token = secrets.token_urlsafe(32)
        with contextlib.suppress(FileExistsError):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(token + "\n")
    token = path.read_text().strip()
    if len(token) < minimum:
        raise ConfigurationError(
            f"{path} holds no usable token (at least {minimum} characters); delete it to get a "
            "new one",
            field=field,
        )
    return token
