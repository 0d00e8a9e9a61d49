"""Sign-in through OpenID Connect: the authorization code flow with PKCE (S256), ``state`` and
``nonce``, against any provider named by its issuer URL (the national identity provider, or
Zistboom's small one in development and the demo: the same code for both).

authlib's client builds the authorization request and exchanges the code (client_secret_basic);
the ID token is checked here, by the rules of OpenID Connect Core §3.1.3.7: signed (ES256 or
EdDSA, by a key of the provider's JWKS, refetched once for an unknown ``kid``), issued by the
configured issuer, for this client (``aud``, and ``azp`` when there are several audiences),
not expired, and carrying the sign-in's ``nonce``. The provider's discovery document must name
the configured issuer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import authlib.deprecate
import httpx
import orjson

with warnings.catch_warnings():
    # authlib 1.9 prefers the httpx2 fork and warns when it falls back to httpx, which works.
    # (authlib.deprecate puts its own "always" filter first when imported: it is imported
    # before the filter below, so that this one wins while the client module loads.)
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from zistboom.core.crypto.jws import jwk_to_public_key, unverified_header, verify_jws
from zistboom.core.errors import (
    AuthenticationError,
    ConfigurationError,
    CryptoError,
)

DISCOVERY_PATH: Final = "/.well-known/openid-configuration"
ALGORITHMS: Final = ("ES256", "EdDSA")
CLOCK_SKEW_SECONDS: Final = 60
DISCOVERY_SECONDS: Final = 300


class SignInRefusedError(AuthenticationError):
    """The provider's answer to a sign-in cannot be accepted (state, code, ID token)."""

    code = "sign-in-refused"
    title = "Sign-in refused"


@dataclass(frozen=True, slots=True)
class Provider:
    """What the provider's discovery document says."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


@dataclass(frozen=True, slots=True)
class Started:
    """A sign-in begun: where to send the browser, and what to keep until it comes back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A sign-in the provider completed: the ID token and its checked claims, and userinfo."""

    id_token: str
    claims: dict[str, Any]
    userinfo: dict[str, Any]

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])


class OpenIdClient:
    """The window as a client of one OpenID provider; one HTTP connection pool, closed with
    :meth:`close`."""

    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scopes: str,
        timeout: float = 20.0,
    ) -> None:
        if not issuer:
            raise ConfigurationError(
                "the window signs people in through OpenID Connect: set ZB_OIDC_ISSUER (the "
                "identity provider's issuer URL)"
            )
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.scopes = scopes
        self._http = httpx.AsyncClient(timeout=timeout, trust_env=False)
        self._provider: Provider | None = None
        self._provider_at = 0.0
        self._keys: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_secret_file(cls, path: str, **values: Any) -> OpenIdClient:
        try:
            secret = Path(path).read_text().strip()
        except OSError as error:
            raise ConfigurationError(
                f"the window's client secret file {path!r} cannot be read: {error}"
            ) from error
        if not secret:
            raise ConfigurationError(f"the window's client secret file {path} is empty")
        return cls(client_secret=secret, **values)

    async def close(self) -> None:
        await self._http.aclose()

    async def provider(self) -> Provider:
        """The provider's endpoints, from its discovery document (kept for five minutes)."""
        if self._provider is not None and time.monotonic() - self._provider_at < DISCOVERY_SECONDS:
            return self._provider
        document = await self._get_json(self.issuer + DISCOVERY_PATH, "discovery document")
        if document.get("issuer") != self.issuer:
            raise ConfigurationError(
                f"the provider at {self.issuer} names another issuer in its discovery document: "
                f"{document.get('issuer')!r}"
            )
        try:
            provider = Provider(
                issuer=self.issuer,
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                userinfo_endpoint=str(document["userinfo_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
                end_session_endpoint=document.get("end_session_endpoint"),
            )
        except KeyError as missing:
            raise ConfigurationError(
                f"the provider's discovery document lacks {missing.args[0]}"
            ) from None
        self._provider, self._provider_at = provider, time.monotonic()
        return provider

    def _oauth(self) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self.client_id,
            client_secret=self._client_secret,
            scope=self.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 (a method name)
            timeout=self._http.timeout,
            trust_env=False,
        )

    async def start(self, *, locale: str) -> Started:
        """A new sign-in: fresh ``state``, ``nonce`` and PKCE verifier, and the provider's
        authorization URL carrying them (the verifier only as its S256 challenge)."""
        provider = await self.provider()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        async with self._oauth() as oauth:
            url, _ = oauth.create_authorization_url(
                provider.authorization_endpoint,
                state=state,
                nonce=nonce,
                code_verifier=verifier,
                ui_locales=locale,
            )
        return Started(url, state, nonce, verifier)

    async def finish(
        self,
        *,
        expected_state: str,
        nonce: str,
        code_verifier: str,
        state: str | None,
        code: str | None,
        error: str | None,
    ) -> SignedIn:
        """The provider's answer (``state``, ``code`` or ``error``) checked and exchanged."""
        if state is None or not hmac.compare_digest(state.encode(), expected_state.encode()):
            raise SignInRefusedError(
                "the answer from the identity provider does not belong to this sign-in (its "
                "state differs); start the sign-in again",
                field="state",
            )
        if error is not None:
            raise SignInRefusedError(
                f"the identity provider refused the sign-in: {error}", field="error"
            )
        if not code:
            raise SignInRefusedError("the identity provider sent no code", field="code")
        provider = await self.provider()
        async with self._oauth() as oauth:
            try:
                token = await oauth.fetch_token(
                    provider.token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                )
            except Exception as failure:  # authlib raises OAuthError and httpx errors
                raise SignInRefusedError(
                    f"the identity provider did not exchange the code: {failure}", field="code"
                ) from failure
        id_token = token.get("id_token")
        access_token = token.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise SignInRefusedError("the provider's token answer lacks an ID or access token")
        claims = await self.check_id_token(id_token, nonce=nonce)
        userinfo = await self._userinfo(provider, access_token)
        if userinfo.get("sub") != claims["sub"]:
            raise SignInRefusedError(
                "the provider's userinfo is about another subject than its ID token"
            )
        return SignedIn(id_token, claims, userinfo)

    async def check_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The claims of ``id_token`` once it passes every check, else SignInRefusedError."""
        try:
            header = unverified_header(id_token)
            key = await self._key(str(header.get("kid", "")))
            _, payload = verify_jws(id_token, jwk_to_public_key(key), algorithms=ALGORITHMS)
            claims = orjson.loads(payload)
        except (CryptoError, orjson.JSONDecodeError) as failure:
            raise SignInRefusedError(f"the ID token does not verify: {failure}") from failure
        if not isinstance(claims, dict):
            raise SignInRefusedError("the ID token's payload is not a JSON object")
        now = time.time()
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        problems = [
            (claims.get("iss") != self.issuer, f"it was issued by {claims.get('iss')!r}"),
            (self.client_id not in audiences, "it was issued to another client"),
            (
                len(audiences) > 1 and claims.get("azp") != self.client_id,
                "it names several audiences but not this client as its authorized party",
            ),
            (not isinstance(claims.get("sub"), str) or not claims["sub"], "it names no subject"),
            (
                not isinstance(claims.get("exp"), int | float)
                or claims["exp"] < now - CLOCK_SKEW_SECONDS,
                "it has expired",
            ),
            (
                not isinstance(claims.get("iat"), int | float)
                or claims["iat"] > now + CLOCK_SKEW_SECONDS,
                "it was issued in the future",
            ),
            (
                not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()),
                "its nonce is not this sign-in's",
            ),
        ]
        for failed, reason in problems:
            if failed:
                raise SignInRefusedError(f"the ID token is refused: {reason}")
        return claims

    async def end_session_url(self, *, id_token: str, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser to end its session at the provider (RP-Initiated Logout),
        or None when the provider offers no such endpoint."""
        provider = await self.provider()
        if not provider.end_session_endpoint:
            return None
        query = httpx.QueryParams(
            {
                "id_token_hint": id_token,
                "post_logout_redirect_uri": post_logout_redirect_uri,
                "client_id": self.client_id,
            }
        )
        separator = "&" if "?" in provider.end_session_endpoint else "?"
        return f"{provider.end_session_endpoint}{separator}{query}"

    async def _key(self, kid: str) -> dict[str, Any]:
        if kid not in self._keys:
            provider = await self.provider()
            jwks = await self._get_json(provider.jwks_uri, "key set")
            keys = jwks.get("keys")
            if not isinstance(keys, list):
                raise CryptoError("the provider's JWKS holds no keys")
            self._keys = {str(k.get("kid", "")): k for k in keys if isinstance(k, dict)}
        key = self._keys.get(kid)
        if key is None:
            raise CryptoError(f"the provider's JWKS has no key {kid!r}")
        return key

    async def _userinfo(self, provider: Provider, access_token: str) -> dict[str, Any]:
        try:
            answer = await self._http.get(
                provider.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"}
            )
        except httpx.HTTPError as error:
            raise SignInRefusedError(f"the provider's userinfo did not answer: {error}") from error
        if answer.status_code != 200:
            raise SignInRefusedError(
                f"the provider's userinfo refused the access token ({answer.status_code})"
            )
        document = answer.json()
        if not isinstance(document, dict):
            raise SignInRefusedError("the provider's userinfo is not a JSON object")
        return document

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            answer = await self._http.get(url)
            answer.raise_for_status()
            document = answer.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ConfigurationError(
                f"the identity provider's {what} at {url} could not be read: {error}"
            ) from error
        if not isinstance(document, dict):
            raise ConfigurationError(f"the identity provider's {what} at {url} is no JSON object")
        return document


def digest(value: str) -> str:
    """The SHA-256 (hex) a cookie's value is stored under."""
    return hashlib.sha256(value.encode()).hexdigest()
