"""Signing in against a real provider process with authlib's client, as the single window
will: authorization code with S256 PKCE, a one-time code by SMS (read from the console line)
or by e-mail (read from a real SMTP server), the ID token verified against the JWKS, userinfo,
single sign-on, and RP-initiated logout; and every refusal the flow must make: wrong, void and
expired one-time codes, a reused authorization code (whose access token is then revoked),
another client's code, a wrong verifier, an unregistered redirect URI, plain PKCE, a form
without its CSRF token. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.provider import (
    OTHER,
    OTHER_REDIRECT,
    WINDOW,
    WINDOW_LOGOUT,
    WINDOW_REDIRECT,
    Person,
    Provider,
    SignIn,
    browser,
    page_of,
    start_provider,
)
from mail_server import SmtpServer
from support import create_pg_database, drop_pg_database
from zistboom.core.persian import to_persian_digits

SCOPE = "openid profile email phone"


def oauth_client(provider: Provider, client_id: str = WINDOW, **options: str) -> AsyncOAuth2Client:
    redirect = WINDOW_REDIRECT if client_id == WINDOW else OTHER_REDIRECT
    return AsyncOAuth2Client(
        client_id=client_id, client_secret=provider.secrets[client_id], scope=SCOPE,
        redirect_uri=redirect, code_challenge_method="S256", **options,
    )  # fmt: skip


class Flow:
    """An authlib client's authorization request, walked through the pages."""

    def __init__(self, provider: Provider, client: AsyncOAuth2Client) -> None:
        self.provider = provider
        self.client = client
        self.verifier = generate_token(48)
        self.nonce = secrets.token_urlsafe(16)
        self.state = secrets.token_urlsafe(16)
        self.url, _ = client.create_authorization_url(
            f"{provider.url}/authorize", code_verifier=self.verifier, nonce=self.nonce,
            state=self.state,
        )  # fmt: skip

    async def signed_in(self, sign_in: SignIn, person: Person) -> str:
        """The redirect back to the client (with the code), after a right one-time code."""
        page = await sign_in.open(self.url)
        assert page.status_code == 200, page.text
        code = await sign_in.code_by_sms(person)
        answer = await sign_in.verify(code)
        assert answer.status_code == 303, answer.text
        return answer.headers["location"]


def code_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


async def exchange(
    provider: Provider, code: str, verifier: str, client_id: str = WINDOW
) -> httpx.Response:
    redirect = WINDOW_REDIRECT if client_id == WINDOW else OTHER_REDIRECT
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(
            f"{provider.url}/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
                  "code_verifier": verifier},
            auth=(client_id, provider.secrets[client_id]),
        )  # fmt: skip


def assert_oauth_error(answer: httpx.Response, status: int, error: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["error"] == error, body
    assert body["error_description"]


async def test_sign_in_with_authlib_the_id_token_userinfo_sso_and_logout(
    provider: Provider,
) -> None:
    person = provider.people[0]
    async with oauth_client(provider) as client, browser() as http:
        flow = Flow(provider, client)
        sign_in = SignIn(provider, http)
        page = await sign_in.open(flow.url)
        assert page.status_code == 200
        # The identifier typed with Persian digits.
        mark = len(provider.output)
        sent = await sign_in.identify(to_persian_digits(person.national_code))
        assert sent.status_code == 200, sent.text
        one_time = provider.sms_code(person.phone_number, after=mark)
        printed = [line for line in provider.output[mark:] if one_time in line]
        assert printed == [next(line for line in printed if line.startswith("SMS to +98"))]
        answer = await sign_in.verify(one_time)
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert location.startswith(WINDOW_REDIRECT + "?")
        assert parse_qs(urlsplit(location).query)["state"] == [flow.state]
        session_cookie = answer.cookies["zb_idp_session"]
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "zb_idp_session=" in cookie

        token = await client.fetch_token(
            f"{provider.url}/token", authorization_response=location,
            code_verifier=flow.verifier, state=flow.state,
        )  # fmt: skip
        assert token["token_type"] == "Bearer"
        assert token["scope"] == SCOPE
        assert 0 < token["expires_in"] <= 600

        discovery = (await http.get(f"{provider.url}/.well-known/openid-configuration")).json()
        assert discovery["issuer"] == provider.url
        assert discovery["code_challenge_methods_supported"] == ["S256"]
        keys = KeySet.import_key_set((await http.get(discovery["jwks_uri"])).json())
        id_token = jwt.decode(token["id_token"], keys, algorithms=["ES256"])
        assert id_token.header["typ"] == "JWT"
        assert id_token.header["kid"] == keys.keys[0].kid == keys.keys[0].thumbprint()
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": provider.url},
            aud={"essential": True, "value": WINDOW},
            sub={"essential": True, "value": person.subject},
            nonce={"essential": True, "value": flow.nonce},
        ).validate(id_token.claims)
        claims = id_token.claims
        digest = hashlib.sha256(token["access_token"].encode()).digest()
        assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
        assert claims["amr"] == ["otp"] and claims["sid"]
        assert claims["iat"] <= claims["auth_time"] + 5 and claims["exp"] > claims["iat"]
        assert (claims["given_name"], claims["family_name"]) == ("زهرا", "احمدی")
        assert claims["locale"] == "fa-IR"

        info = (await client.get(discovery["userinfo_endpoint"])).json()
        assert info["sub"] == person.subject
        assert info["name"] == "زهرا احمدی"
        assert info["given_name#en"] == "Zahra" and info["family_name#fa-IR"] == "احمدی"
        assert info["phone_number"] == person.phone_number and info["phone_number_verified"]
        assert info["email"] == person.email and info["birthdate"] == "1990-03-21"
        posted = await client.post(discovery["userinfo_endpoint"])
        assert posted.json() == info

        # A second request in the same browser is answered from the provider session.
        again = Flow(provider, client)
        resumed = await http.get(again.url)
        assert resumed.status_code == 303, resumed.text
        assert code_of(resumed.headers["location"])
        # ... unless the client asks the person to sign in again.
        fresh = await http.get(again.url + "&prompt=login")
        assert fresh.status_code == 200 and "request_id" in page_of(fresh.text).fields
        # ... or when the sign-in is older than max_age allows.
        too_old = await http.get(again.url + "&max_age=0")
        assert too_old.status_code == 200 and "request_id" in page_of(too_old.text).fields
        recent = await http.get(Flow(provider, client).url + "&max_age=3600")
        assert recent.status_code == 303, recent.text

        ended = await http.get(
            discovery["end_session_endpoint"],
            params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": WINDOW_LOGOUT,
                    "state": "after-logout"},
        )  # fmt: skip
        assert ended.status_code == 303, ended.text
        assert ended.headers["location"] == f"{WINDOW_LOGOUT}?state=after-logout"
        assert 'zb_idp_session=""' in ended.headers["set-cookie"]
        # The session is over at the provider: its cookie, were it kept, opens nothing.
        kept = {"Cookie": f"zb_idp_session={session_cookie}"}
        async with httpx.AsyncClient(headers=kept, timeout=30) as old_browser:
            after = await old_browser.get(Flow(provider, client).url)
        assert after.status_code == 200 and "request_id" in page_of(after.text).fields


async def test_the_code_by_email_in_the_persons_language(
    provider: Provider, smtp: SmtpServer
) -> None:
    person = provider.people[1]  # an English speaker
    post = "client_secret_post"
    async with oauth_client(provider, token_endpoint_auth_method=post) as client, browser() as http:
        flow = Flow(provider, client)
        sign_in = SignIn(provider, http)
        await sign_in.open(flow.url)
        mark = len(smtp.mailbox.messages)
        sent = await sign_in.identify(person.national_code, channel="email")
        assert sent.status_code == 200
        mail = smtp.mailbox.wait_for(person.email, after=mark)
        body = mail.get_payload(decode=True).decode()
        assert "Your Zistboom sign-in code" in mail["Subject"]
        code = next(word.strip(".") for word in body.split() if word.strip(".").isdigit())
        answer = await sign_in.verify(code)
        assert answer.status_code == 303, answer.text
        token = await client.fetch_token(
            f"{provider.url}/token", authorization_response=answer.headers["location"],
            code_verifier=flow.verifier,
        )  # fmt: skip
    assert token["id_token"]


async def test_a_wrong_code_counts_and_after_the_limit_even_the_right_one_is_refused(
    provider: Provider,
) -> None:
    person = provider.people[3]
    async with oauth_client(provider) as client, browser() as http:
        flow = Flow(provider, client)
        sign_in = SignIn(provider, http)
        await sign_in.open(flow.url)
        right = await sign_in.code_by_sms(person)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        for remaining in (4, 3, 2, 1):
            answer = await sign_in.verify(wrong)
            assert answer.status_code == 422
            assert f"{to_persian_digits(str(remaining))} بار دیگر" in answer.text
        void = await sign_in.verify(wrong)
        assert void.status_code == 422 and "باطل" in void.text
        refused = await sign_in.verify(right)
        assert refused.status_code == 422 and "باطل" in refused.text
        assert "location" not in refused.headers
        # A new code may be asked for, and works.
        renewed = await sign_in.code_by_sms(person)
        assert (await sign_in.verify(renewed)).status_code == 303


async def test_an_unknown_identifier_gets_the_same_page_and_no_code(provider: Provider) -> None:
    async with oauth_client(provider) as client, browser() as http:
        sign_in = SignIn(provider, http)
        await sign_in.open(Flow(provider, client).url)
        mark = len(provider.output)
        nobody = await sign_in.identify("0499370899")  # valid, and nobody's here
        assert nobody.status_code == 200
        known = SignIn(provider, http)
        await known.open(Flow(provider, client).url)
        person = provider.people[0]
        answer = await known.identify(person.national_code)
        shape = [page_of(p.text).fields.keys() for p in (nobody, answer)]
        assert shape[0] == shape[1]
        provider.sms_code(person.phone_number, after=mark)
        assert [line for line in provider.output[mark:] if line.startswith("SMS to")] == [
            line
            for line in provider.output[mark:]
            if line.startswith(f"SMS to {person.phone_number}")
        ]
        assert (await sign_in.verify("123456")).status_code == 422


async def test_a_reused_code_is_refused_and_its_access_token_revoked(provider: Provider) -> None:
    async with oauth_client(provider) as client, browser() as http:
        flow = Flow(provider, client)
        code = code_of(await flow.signed_in(SignIn(provider, http), provider.people[0]))
        first = await exchange(provider, code, flow.verifier)
        assert first.status_code == 200, first.text
        assert (
            first.headers["cache-control"] == "no-store" and first.headers["pragma"] == "no-cache"
        )
        access = first.json()["access_token"]
        bearer = {"Authorization": f"Bearer {access}"}
        assert (await http.get(f"{provider.url}/userinfo", headers=bearer)).status_code == 200
        assert_oauth_error(await exchange(provider, code, flow.verifier), 400, "invalid_grant")
        revoked = await http.get(f"{provider.url}/userinfo", headers=bearer)
        assert_oauth_error(revoked, 401, "invalid_token")
        assert revoked.headers["www-authenticate"].startswith('Bearer realm="zistboom-idp"')
        assert 'error="invalid_token"' in revoked.headers["www-authenticate"]


async def test_a_code_presented_by_another_client_is_refused(provider: Provider) -> None:
    async with oauth_client(provider) as client, browser() as http:
        flow = Flow(provider, client)
        code = code_of(await flow.signed_in(SignIn(provider, http), provider.people[0]))
        stolen = await exchange(provider, code, flow.verifier, client_id=OTHER)
        assert_oauth_error(stolen, 400, "invalid_grant")
        # The client the code was issued to still gets its tokens.
        assert (await exchange(provider, code, flow.verifier)).status_code == 200


async def test_a_wrong_verifier_and_a_wrong_secret_are_refused(provider: Provider) -> None:
    async with oauth_client(provider) as client, browser() as http:
        flow = Flow(provider, client)
        code = code_of(await flow.signed_in(SignIn(provider, http), provider.people[0]))
        assert_oauth_error(await exchange(provider, code, generate_token(48)), 400, "invalid_grant")
        wrong_secret = await http.post(
            f"{provider.url}/token",
            data={"grant_type": "authorization_code", "code": code,
                  "redirect_uri": WINDOW_REDIRECT, "code_verifier": flow.verifier},
            auth=(WINDOW, "not-the-secret"),
        )  # fmt: skip
        assert_oauth_error(wrong_secret, 401, "invalid_client")
        assert wrong_secret.headers["www-authenticate"].startswith("Basic")
        other_grant = await http.post(
            f"{provider.url}/token", data={"grant_type": "password"},
            auth=(WINDOW, provider.secrets[WINDOW]),
        )  # fmt: skip
        assert_oauth_error(other_grant, 400, "unsupported_grant_type")


async def test_an_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(
    provider: Provider,
) -> None:
    async with oauth_client(provider) as client, browser() as http:
        url = Flow(provider, client).url.replace(
            "window%2Fcallback", "window%2Fcallback%2Felsewhere"
        )
        assert "elsewhere" in url
        answer = await http.get(url)
        assert answer.status_code == 400
        assert "location" not in answer.headers
        assert 'data-error="error.unknown_redirect_uri"' in answer.text
        unknown = await http.get(url.replace("client_id=window", "client_id=nobody"))
        assert unknown.status_code == 400 and 'data-error="error.unknown_client"' in unknown.text


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (("code_challenge_method=S256", "code_challenge_method=plain"), "invalid_request"),
        (("response_type=code", "response_type=token"), "unsupported_response_type"),
        (("scope=openid+", "scope="), "invalid_scope"),
        (("&nonce=", "&not-a-nonce="), "invalid_request"),
        (("&code_challenge=", "&no_challenge="), "invalid_request"),
        (("&nonce=", "&prompt=none&nonce="), "login_required"),
    ],
    ids=["plain-pkce", "implicit", "no-openid", "no-nonce", "no-pkce", "prompt-none"],
)
async def test_a_request_the_provider_will_not_serve_goes_back_with_an_error(
    provider: Provider, change: tuple[str, str], error: str
) -> None:
    async with oauth_client(provider) as client, browser() as http:
        flow = Flow(provider, client)
        assert change[0] in flow.url
        answer = await http.get(flow.url.replace(*change))
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert location.startswith(WINDOW_REDIRECT + "?")
        query = parse_qs(urlsplit(location).query)
        assert query["error"] == [error] and query["state"] == [flow.state]
        assert query["error_description"]


async def test_a_form_without_its_csrf_token_is_refused(provider: Provider) -> None:
    async with oauth_client(provider) as client, browser() as http:
        sign_in = SignIn(provider, http)
        await sign_in.open(Flow(provider, client).url)
        answer = await http.post(
            f"{provider.url}/authorize/identify",
            data={"request_id": sign_in.fields["request_id"], "identifier": "0499370899"},
        )
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"].endswith("/csrf-refused")


@pytest.fixture(scope="module")
def short_lived(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Provider]:
    """A provider whose one-time codes last one second, in a database of its own."""
    database = None
    if backend_database is not None:
        database = asyncio.run(create_pg_database())
    try:
        started = start_provider(
            tmp_path_factory.mktemp("short"), database[1] if database else None,
            extra_env={"ZB_ONE_TIME_CODE_SECONDS": "1"},
        )  # fmt: skip
        try:
            yield started
        finally:
            started.stop()
    finally:
        if database is not None:
            asyncio.run(drop_pg_database(database[0]))


async def test_an_expired_code_is_refused(short_lived: Provider) -> None:
    provider = short_lived
    person = provider.people[0]
    async with oauth_client(provider) as client, browser() as http:
        sign_in = SignIn(provider, http)
        await sign_in.open(Flow(provider, client).url)
        asked = time.monotonic()
        code = await sign_in.code_by_sms(person)
        # The code was made after ``asked``: once its second (and a margin) has passed by the
        # clock, the right code is refused as expired. Only the clock is waited for.
        await asyncio.sleep(max(0.0, asked + 1.5 - time.monotonic()))
        answer = await sign_in.verify(code)
        assert answer.status_code == 422, answer.text
        assert "زمان این کد به پایان رسیده" in answer.text
        assert "location" not in answer.headers


async def test_one_sign_in_may_ask_for_only_so_many_codes(provider: Provider) -> None:
    async with oauth_client(provider) as client, browser() as http:
        sign_in = SignIn(provider, http)
        await sign_in.open(Flow(provider, client).url)
        for _ in range(5):  # the default one_time_codes_per_request
            assert (await sign_in.identify("0499370899")).status_code == 200
        refused = await sign_in.identify("0499370899")
        assert refused.status_code == 400
        assert 'data-error="error.too_many_codes"' in refused.text
