"""A service page joined with a real central's catalogue: a provider service published by a
member's gateway key appears with the provider's names and its accreditation rule; a provider
service central does not list is said to be unlisted; with central gone, the page still renders
and says the accreditation could not be checked. Central and the window run on SQLite here
(what is tested is the join over HTTP; both databases are tested in the other modules)."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from central.test_catalogue import enrol_signing, entry, new_member, publisher
from central_process import CentralProcess, start_central
from support import free_port
from window_site import Site, definition, seed_database, serve
from zistboom.window.settings import ADMIN_TOKEN_FILE, WindowSettings

SRC = str(Path(__file__).parents[2] / "src")


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CentralProcess]:
    proc = start_central(tmp_path_factory.mktemp("central"), None, {"PYTHONPATH": SRC})
    try:
        yield proc
    finally:
        proc.process.terminate()
        try:
            proc.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.process.kill()


@pytest.fixture(scope="module")
def joined(central: CentralProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("window")
    settings = WindowSettings(data_dir=data_dir, port=free_port(), central_url=central.url)
    seed_database(settings)
    for url in serve(settings):
        yield Site(url, (data_dir / ADMIN_TOKEN_FILE).read_text().strip(), settings)


def test_a_provider_service_in_centrals_catalogue_is_joined(
    central: CentralProcess, joined: Site
) -> None:
    member = new_member(central, "returns")
    key, cert, _ = enrol_signing(central, member)
    service_id = f"{member['id']}/returns/taxReturns"
    asyncio.run(
        publisher(central, key, cert).publish(entry(f"{member['id']}/returns", "taxReturns"))
    )

    agency, agency_key = joined.new_agency()
    listed, unlisted = (
        definition(provider_service=service_id),
        definition(provider_service=f"{member['id']}/returns/nothing{secrets.token_hex(3)}"),
    )
    with joined.client(agency_key) as client:
        for body in (listed, unlisted):
            assert client.put(f"/api/v1/services/{body['code']}", json=body).status_code == 201
    base = f"{joined.url}/services/{agency}"
    page = httpx.get(f"{base}/{listed['code']}", params={"lang": "en"})
    assert page.status_code == 200
    assert "Provided by Tax Administration." in page.text
    assert "needs no accreditation" in page.text
    fa = httpx.get(f"{base}/{listed['code']}", params={"lang": "fa"})
    assert "سازمان امور مالیاتی" in fa.text
    missing = httpx.get(f"{base}/{unlisted['code']}", params={"lang": "en"})
    assert "This provider service is not listed in central" in missing.text


def test_with_central_unreachable_the_page_says_the_accreditation_was_not_checked(
    tmp_path: Path,
) -> None:
    settings = WindowSettings(
        data_dir=tmp_path, port=free_port(), central_url=f"http://127.0.0.1:{free_port()}"
    )
    seed_database(settings)
    for url in serve(settings):
        page = httpx.get(
            f"{url}/services/IR-DEMO/GOV/60711446972/tax-clearance", params={"lang": "en"}
        )
        assert page.status_code == 200
        assert "could not be checked right now" in page.text
