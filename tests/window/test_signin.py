"""Signing in at the window through the identity provider, every part a real process
(``world.py``): the first sign-in asks before the person's names are read from the civil
registry through the exchange, and keeps the choice; sign-out ends the session at the window and
at the provider; an answer with another sign-in's state, and an ID token issued to another
client, are refused. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from window.walk import Browser, form, sign_in
from window.world import REGISTRY_NAMES, World, window_world
from zistboom.window.sessions import SESSION_COOKIE
from zistboom.window.signin import OpenIdClient, SignInRefusedError

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def world(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    with window_world(tmp_path_factory.mktemp("window-signin"), backend_database) as built:
        yield built


def signed_in(world: World, index: int, browser: Browser) -> httpx.Response:
    person = world.people[index]
    mark = len(world.provider.output)
    return sign_in(
        browser, world.window.url, person.national_code, lambda: world.sms_code(person, mark)
    )


def test_first_sign_in_asks_before_reading_names_then_reads_them_through_the_exchange(
    world: World,
) -> None:
    browser = Browser()
    try:
        landed = signed_in(world, 0, browser)
        assert urlsplit(str(landed.url)).path == "/me/names", landed.url
        assert landed.status_code == 200
        # What is read, from where and why is shown before anything is read.
        assert world.exchange.persons_service in landed.text
        assert 'lang="fa" dir="rtl"' in landed.text
        profile = browser.submit(landed, "/me/names", choice="read")
        assert urlsplit(str(profile.url)).path == "/me", profile.url
        record = REGISTRY_NAMES
        assert f"{record['given_name_fa']} {record['family_name_fa']}" in profile.text
        assert world.exchange.persons_service in profile.text
        # The choice is among the person's consents, and the names are kept: the next page
        # shows them in the header without another read.
        assert "<td>پذیرفته</td>" in profile.text
        english = browser.get(world.window.url + "/me?lang=en")
        assert f"{record['given_name_en']} {record['family_name_en']}" in english.text
        assert 'lang="en" dir="ltr"' in english.text
    finally:
        browser.close()


def test_declining_keeps_the_choice_and_reads_nothing(world: World) -> None:
    browser = Browser()
    try:
        landed = signed_in(world, 3, browser)
        assert urlsplit(str(landed.url)).path == "/me/names"
        profile = browser.submit(landed, "/me/names", choice="decline")
        assert urlsplit(str(profile.url)).path == "/me"
        assert REGISTRY_NAMES["family_name_fa"] not in profile.text
        assert world.people[3].record()["family_name_fa"] in profile.text  # the provider's
        assert "<td>نپذیرفته</td>" in profile.text
        # The next sign-in does not ask again.
        again = Browser()
        try:
            assert urlsplit(str(signed_in(world, 3, again).url)).path == "/me"
        finally:
            again.close()
    finally:
        browser.close()


def test_sign_out_ends_the_session_at_the_window_and_at_the_provider(world: World) -> None:
    browser = Browser()
    try:
        page = signed_in(world, 1, browser)
        if urlsplit(str(page.url)).path == "/me/names":
            page = browser.submit(page, "/me/names", choice="decline")
        cookie = browser.http.cookies.get(SESSION_COOKIE)
        assert cookie
        out = browser.submit(page, "/signout")
        hops = [str(hop.url) for hop in browser.hops[-4:]]
        assert any(world.provider.url in hop and "end_session" in hop for hop in hops), hops
        assert urlsplit(str(out.url)).path == "/signed-out", out.url
        assert out.status_code == 200
        # The window no longer knows the session, even when the old cookie is sent again.
        stale = httpx.get(
            world.window.url + "/me", cookies={SESSION_COOKIE: cookie}, follow_redirects=False
        )
        assert stale.status_code == 303
        assert stale.headers["location"].startswith("/signin")
        # The provider asks for a code again: its session ended too.
        again = browser.get(world.window.url + "/signin")
        assert "/authorize" in str(again.url)
        form(again.text, "/authorize/identify")
    finally:
        browser.close()


def test_an_answer_with_another_state_is_refused_and_opens_no_session(world: World) -> None:
    browser = Browser()
    try:
        person = world.people[1]
        page = browser.get(world.window.url + "/signin")
        mark = len(world.provider.output)
        coded = browser.submit(page, "/authorize/identify", identifier=person.national_code)
        back = browser.submit(
            coded, "/authorize/verify", follow=False, code=world.sms_code(person, mark)
        )
        assert back.status_code == 303
        callback = urlsplit(back.headers["location"])
        query = parse_qs(callback.query)
        assert query["state"][0]
        forged = httpx.URL(
            world.window.url + callback.path,
            params={"code": query["code"][0], "state": secrets.token_urlsafe(32)},
        )
        refused = browser.http.get(forged)
        assert refused.status_code == 401, refused.text
        assert "ورود پذیرفته نشد" in refused.text
        assert "state" in refused.text
        assert browser.http.cookies.get(SESSION_COOKIE) is None
        # The pending sign-in served once: the genuine answer now finds nothing to finish.
        late = browser.http.get(world.window.url + callback.path + "?" + callback.query)
        assert late.status_code == 401
        assert browser.http.cookies.get(SESSION_COOKIE) is None
    finally:
        browser.close()


def test_an_id_token_issued_to_another_client_is_refused(world: World) -> None:
    """The window checks ``aud``: a token the provider issued to another of its clients (here
    obtained by that client itself) does not sign anyone in at the window."""
    from idp.provider import OTHER, OTHER_REDIRECT

    person = world.people[0]
    browser = Browser()

    async def check() -> None:
        other = OpenIdClient(
            issuer=world.provider.url, client_id=OTHER,
            client_secret=world.provider.secrets[OTHER], redirect_uri=OTHER_REDIRECT,
            scopes="openid profile",
        )  # fmt: skip
        window = OpenIdClient(
            issuer=world.provider.url, client_id="window",
            client_secret=world.provider.secrets["window"],
            redirect_uri=world.window.url + "/signin/callback", scopes="openid profile",
        )  # fmt: skip
        try:
            started = await other.start(locale="fa")
            page = browser.get(started.url)
            mark = len(world.provider.output)
            coded = browser.submit(page, "/authorize/identify", identifier=person.national_code)
            back = browser.submit(
                coded, "/authorize/verify", follow=False, code=world.sms_code(person, mark)
            )
            query = parse_qs(urlsplit(back.headers["location"]).query)
            signed = await other.finish(
                expected_state=started.state, nonce=started.nonce,
                code_verifier=started.code_verifier, state=query["state"][0],
                code=query["code"][0], error=None,
            )  # fmt: skip
            assert signed.claims["aud"] in (OTHER, [OTHER])
            with pytest.raises(SignInRefusedError, match="another client"):
                await window.check_id_token(signed.id_token, nonce=started.nonce)
        finally:
            await other.close()
            await window.close()

    try:
        asyncio.run(check())
    finally:
        browser.close()
