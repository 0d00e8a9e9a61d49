"""The identity provider's fixtures: a real SMTP server, and a real provider process on each
database backend (module-wide: every test makes its own authorization requests, so none sees
another's state)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from idp.provider import Provider, start_provider
from mail_server import SmtpServer, start_smtp


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = start_smtp()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture(scope="module")
def provider(
    backend_database: str | None, smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Provider]:
    started = start_provider(tmp_path_factory.mktemp("idp"), backend_database, smtp_port=smtp.port)
    try:
        yield started
    finally:
        started.stop()
