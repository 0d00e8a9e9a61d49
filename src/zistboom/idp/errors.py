"""The identity provider's errors. OAuth and OpenID errors keep the protocol's own shape
(``{"error", "error_description"}``, RFC 6749 §5.2, RFC 6750 §3), which a standard client
reads; they are :class:`~zistboom.core.errors.ZistboomError` s like every other, with the
protocol's error code beside the problem type. ``api.py`` turns them into answers."""

from __future__ import annotations

from typing import ClassVar

from zistboom.core.errors import ZistboomError


class OAuthError(ZistboomError):
    """An OAuth 2.0 / OpenID Connect error; ``error`` is the protocol's code."""

    status = 400
    code = "oauth-error"
    title = "OAuth request refused"
    error: ClassVar[str] = "invalid_request"


class InvalidRequestError(OAuthError):
    """A parameter missing, repeated, or of the wrong form (RFC 6749 §5.2)."""

    error = "invalid_request"


class InvalidClientError(OAuthError):
    """The client did not authenticate: unknown client, wrong secret, or no credentials."""

    status = 401
    error = "invalid_client"


class InvalidGrantError(OAuthError):
    """The authorization code is unknown, expired, used, another client's, for another
    redirect URI, or its PKCE verifier does not match."""

    error = "invalid_grant"


class UnsupportedGrantTypeError(OAuthError):
    """A grant type other than ``authorization_code``."""

    error = "unsupported_grant_type"


class InvalidTokenError(OAuthError):
    """An access token that is unknown, expired or revoked (RFC 6750 §3.1)."""

    status = 401
    error = "invalid_token"


class AuthorizationError(OAuthError):
    """An authorization request refused after its client and redirect URI were checked: it is
    answered by redirecting to the client with ``error`` (OIDC Core §3.1.2.6)."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.redirect_error = error


class UnknownClientError(ZistboomError):
    """An authorization or logout request naming no registered client, or a redirect URI the
    client has not registered: answered with an error page, never a redirect."""

    status = 400
    code = "unknown-client"
    title = "Unknown client or redirect URI"

    def __init__(self, detail: str, *, message_key: str) -> None:
        super().__init__(detail)
        self.message_key = message_key


class SignInError(ZistboomError):
    """A sign-in page's form that cannot go on (its request expired or is unknown): the page
    says so in the person's language (``message_key``)."""

    status = 400
    code = "sign-in-refused"
    title = "Sign-in refused"

    def __init__(self, detail: str, *, message_key: str) -> None:
        super().__init__(detail)
        self.message_key = message_key
