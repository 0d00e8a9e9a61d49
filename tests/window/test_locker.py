"""My documents at the window, every part a real process (``apply_world.py``): the person signs
in, lists their locker, opens their birth-certificate extract and downloads its PDF, shares it
with the tax administration for a purpose until a day, the tax administration fetches it through
its own gateway, the page shows the share and the fetch, the person revokes the share and the
next fetch is refused. Another person's document is not found; a form sent without its CSRF
token is refused. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from window.apply_world import ApplyWorld, Resident
from window.applying import Journey
from window.walk import Browser, sign_in
from zistboom.window.locker.service import TEHRAN

pytestmark = pytest.mark.timeout(600)
REVOKE = re.compile(r'action="/me/documents/[^/"]+/shares/([^/"]+)/revoke"')


@pytest.fixture(scope="module")
def world(journey: Journey) -> ApplyWorld:
    return journey.world


def signed_in(world: ApplyWorld, resident: Resident) -> Browser:
    browser = Browser()
    person = resident.person
    mark = len(world.provider.output)
    landed = sign_in(
        browser, world.window.url, person.national_code, lambda: world.sms_code(person, mark)
    )
    if urlsplit(str(landed.url)).path == "/me/names":
        browser.submit(landed, "/me/names", choice="decline")
    return browser


@pytest.fixture(scope="module")
def browser(world: ApplyWorld) -> Iterator[Browser]:
    signed = signed_in(world, world.person)
    yield signed
    signed.close()


def test_my_documents_lists_the_locker_and_the_profile_links_it(
    world: ApplyWorld, browser: Browser
) -> None:
    profile = browser.get(world.window.url + "/me")
    assert 'href="/me/documents"' in profile.text
    page = browser.get(world.window.url + "/me/documents?lang=fa")
    assert page.status_code == 200, page.text
    assert f'href="/me/documents/{world.document_id}"' in page.text
    assert "گواهی ولادت (عصاره)" in page.text
    assert "معتبر" in page.text
    english = browser.get(world.window.url + "/me/documents?lang=en")
    assert "Birth certificate extract" in english.text
    assert world.civil in english.text


def test_the_document_shows_its_facts_and_downloads_as_a_pdf(
    world: ApplyWorld, browser: Browser
) -> None:
    page = browser.get(f"{world.window.url}/me/documents/{world.document_id}?lang=en")
    assert page.status_code == 200, page.text
    assert "National Organization for Civil Registration" in page.text  # the issuer, by name
    assert f"/me/documents/{world.document_id}/pdf" in page.text
    download = browser.get(f"{world.window.url}/me/documents/{world.document_id}/pdf")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.content.startswith(b"%PDF")


def test_a_share_is_fetched_by_its_agency_shown_with_the_fetch_then_revoked(
    world: ApplyWorld, browser: Browser
) -> None:
    url = f"{world.window.url}/me/documents/{world.document_id}"
    page = browser.get(url + "?lang=en")  # the language is kept for the pages after it
    earlier = set(REVOKE.findall(page.text))  # the shares of applications, when any
    until = (datetime.now(TEHRAN) + timedelta(days=30)).date().isoformat()
    purpose = "tax clearance application TRK-7"
    shared = browser.submit(
        page, f"/me/documents/{world.document_id}/shares", recipient=world.tax,
        purpose=purpose, until=until,
    )  # fmt: skip
    assert shared.status_code == 200, shared.text
    assert "shared=1" in str(shared.url)
    assert "Iranian National Tax Administration" in shared.text  # the recipient, by name
    share_ids = set(REVOKE.findall(shared.text)) - earlier
    assert len(share_ids) == 1, shared.text
    [share_id] = share_ids

    fetched = world.fetch_share(world.tax_inbox, share_id, purpose="checking TRK-7")
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["document"]["id"] == world.document_id
    assert fetched.json()["share"]["purpose"] == purpose
    # Only the recipient fetches: the civil agency is refused.
    assert world.fetch_share(world.civil_inbox, share_id).status_code == 403

    events = browser.get(url + "?lang=en")
    assert "Fetched" in events.text and "checking TRK-7" in events.text
    assert "Shared" in events.text and purpose in events.text
    assert "Iranian National Tax Administration" in events.text

    revoked = browser.submit(events, f"/me/documents/{world.document_id}/shares/{share_id}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert "revoked=1" in str(revoked.url)
    assert "The share is revoked" in revoked.text
    assert set(REVOKE.findall(revoked.text)) == earlier
    refused = world.fetch_share(world.tax_inbox, share_id)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("/share-revoked")


def test_a_share_past_the_bound_or_to_an_unknown_agency_is_refused_and_nothing_is_shared(
    world: ApplyWorld, browser: Browser
) -> None:
    url = f"{world.window.url}/me/documents/{world.document_id}"
    page = browser.get(url + "?lang=en")
    before = len(REVOKE.findall(page.text))
    too_late = (datetime.now(UTC) + timedelta(days=400)).date().isoformat()
    answer = browser.submit(
        page, f"/me/documents/{world.document_id}/shares", recipient=world.tax,
        purpose="x", until=too_late,
    )  # fmt: skip
    assert answer.status_code == 422
    assert "the last day must be" in answer.text
    unknown = browser.submit(
        page, f"/me/documents/{world.document_id}/shares", recipient=world.hub_member,
        purpose="x", until=(datetime.now(TEHRAN) + timedelta(days=3)).date().isoformat(),
    )  # fmt: skip
    assert unknown.status_code == 422
    assert "choose one of the agencies" in unknown.text
    assert len(REVOKE.findall(browser.get(url).text)) == before


def test_another_persons_document_is_not_found(world: ApplyWorld) -> None:
    other = signed_in(world, world.other_person)
    try:
        own = other.get(world.window.url + "/me/documents")
        assert own.status_code == 200
        assert world.document_id not in own.text
        for path in ("", "/pdf"):
            page = other.get(f"{world.window.url}/me/documents/{world.document_id}{path}")
            assert page.status_code == 404, page.text
            assert world.person.record["family_name_fa"] not in page.text
            assert world.person.subject not in page.text
    finally:
        other.close()


def test_a_form_without_its_csrf_token_is_refused(world: ApplyWorld, browser: Browser) -> None:
    url = f"{world.window.url}/me/documents/{world.document_id}"
    shares = set(REVOKE.findall(browser.get(url).text))
    answer = browser.http.post(
        f"{world.window.url}/me/documents/{world.document_id}/shares",
        data={"recipient": world.tax, "purpose": "x", "until": "2030-01-01"},
    )
    assert answer.status_code == 403, answer.text
    page = browser.get(f"{world.window.url}/me/documents/{world.document_id}")
    assert set(REVOKE.findall(page.text)) == shares  # nothing shared


def test_my_documents_needs_a_sign_in(world: ApplyWorld) -> None:
    answer = httpx.get(world.window.url + "/me/documents", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?return_to=/me/documents"
