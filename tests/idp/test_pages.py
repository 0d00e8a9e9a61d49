"""The sign-in pages of a real provider process: Persian by default (right to left, Persian
digits), English with ?lang=en, one h1, labelled controls with their hints tied by
aria-describedby, the web layer's Content-Security-Policy; and logout's pages: signed out, an
expired ID token hint accepted, an unregistered return address or a forged hint refused with
a page and no redirect."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client

from idp.provider import (
    WINDOW,
    WINDOW_LOGOUT,
    WINDOW_REDIRECT,
    Provider,
    SignIn,
    browser,
    page_of,
    start_provider,
)
from zistboom.core.persian import to_persian_digits


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """On SQLite (the pages do not depend on the store), with one-second ID tokens."""
    started = start_provider(
        Path(tmp_path_factory.mktemp("pages")), None, extra_env={"ZB_ID_TOKEN_SECONDS": "1"}
    )
    try:
        yield started
    finally:
        started.stop()


def authorize_url(provider: Provider, **extra: str) -> str:
    client = AsyncOAuth2Client(
        client_id=WINDOW, redirect_uri=WINDOW_REDIRECT, scope="openid profile",
        code_challenge_method="S256",
    )  # fmt: skip
    url, _ = client.create_authorization_url(
        f"{provider.url}/authorize", code_verifier=generate_token(48), nonce="n-1", **extra
    )
    return str(url)


async def test_the_sign_in_page_is_persian_by_default_and_accessible(provider: Provider) -> None:
    async with browser() as http:
        page = await http.get(authorize_url(provider))
    assert page.status_code == 200
    assert '<html lang="fa" dir="rtl">' in page.text
    assert page.headers["content-language"] == "fa"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "ورود به زیست‌بوم" in page.text
    parsed = page_of(page.text)
    assert parsed.h1 == 1
    assert '<label class="field__label" for="identifier">' in page.text
    assert 'aria-describedby="identifier-hint"' in page.text
    assert '<label for="channel-sms">' in page.text and '<label for="channel-email">' in page.text
    assert {"csrf_token", "request_id", "identifier", "channel"} <= parsed.fields.keys()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page.text


async def test_with_lang_en_the_pages_are_english(provider: Provider) -> None:
    async with browser() as http:
        page = await http.get(authorize_url(provider) + "&lang=en")
        assert '<html lang="en" dir="ltr">' in page.text
        assert "Sign in to Zistboom" in page.text
        assert "window asks you to sign in." in page.text  # the client's name (its id here)
        sign_in = SignIn(provider, http)
        sign_in.fields = page_of(page.text).fields
        # The choice is remembered: the next page, the code page, is English too.
        person = provider.people[0]
        code_page = await sign_in.identify(person.national_code)
        assert '<html lang="en" dir="ltr">' in code_page.text
        assert f'If <bdi dir="ltr">{person.national_code}</bdi> is registered' in code_page.text


async def test_the_code_page_shows_persian_digits_and_errors_tied_to_the_field(
    provider: Provider,
) -> None:
    async with browser() as http:
        sign_in = SignIn(provider, http)
        await sign_in.open(authorize_url(provider))
        person = provider.people[0]
        code_page = await sign_in.identify(person.national_code)
        assert to_persian_digits(person.national_code) in code_page.text
        # The right code's redirect goes to the client: only its origin joins form-action.
        policy = code_page.headers["content-security-policy"]
        assert "form-action 'self' http://127.0.0.1:9;" in policy
        assert "script-src 'self';" in policy
        assert page_of(code_page.text).h1 == 1
        wrong = await sign_in.verify("000000")
        assert 'id="code-error" role="alert"' in wrong.text
        assert 'aria-describedby="code-hint code-error" aria-invalid="true"' in wrong.text
        invalid = await sign_in.identify("12345")
        assert invalid.status_code == 422
        assert 'aria-describedby="identifier-hint identifier-error"' in invalid.text


async def test_logout_with_an_expired_hint_and_the_signed_out_page(provider: Provider) -> None:
    async with browser() as http:
        sign_in = SignIn(provider, http)
        verifier = generate_token(48)
        client = AsyncOAuth2Client(
            client_id=WINDOW, client_secret=provider.secrets[WINDOW], scope="openid",
            redirect_uri=WINDOW_REDIRECT, code_challenge_method="S256",
        )  # fmt: skip
        url, _ = client.create_authorization_url(
            f"{provider.url}/authorize", code_verifier=verifier, nonce="n-2"
        )
        await sign_in.open(url)
        answer = await sign_in.verify(await sign_in.code_by_sms(provider.people[0]))
        token = await client.fetch_token(
            f"{provider.url}/token", authorization_response=answer.headers["location"],
            code_verifier=verifier,
        )  # fmt: skip
        await client.aclose()
        issued = time.time()
        # The ID token lasts one second (exp is whole seconds): wait for the clock only.
        await asyncio.sleep(max(0.0, issued + 2.1 - time.time()))
        refused = await http.get(
            f"{provider.url}/end_session",
            params={"id_token_hint": token["id_token"], "post_logout_redirect_uri":
                    "http://127.0.0.1:9/not-registered"},
        )  # fmt: skip
        assert refused.status_code == 400 and "location" not in refused.headers
        assert 'data-error="error.unknown_logout_uri"' in refused.text
        forged = await http.get(
            f"{provider.url}/end_session", params={"id_token_hint": token["id_token"][:-4] + "AAAA"}
        )
        assert forged.status_code == 400 and 'data-error="error.bad_hint"' in forged.text
        ended = await http.get(
            f"{provider.url}/end_session",
            params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": WINDOW_LOGOUT},
        )
        assert ended.status_code == 303
        assert ended.headers["location"] == WINDOW_LOGOUT
        page = await http.get(f"{provider.url}/end_session")
        assert page.status_code == 200 and '<html lang="fa" dir="rtl">' in page.text
        assert "از حساب خود خارج شدید" in page.text
