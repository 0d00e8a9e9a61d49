"""The sign-in pages and logout: ``GET /authorize`` (the request checked, then the sign-in
form), ``POST /authorize/identify`` (the identifier, and where to send the one-time code),
``POST /authorize/verify`` (the code; then the session cookie and the redirect with the
authorization code) and ``GET /end_session`` (RP-Initiated Logout). Every page is the web
layer's ``base.html``: Persian by default (right to left, Persian digits), English with
``?lang=en``; its forms are CSRF-protected. A request naming an unknown client or an
unregistered redirect URI gets an error page and is never redirected."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from zistboom.core.database import transaction
from zistboom.core.errors import ValidationError
from zistboom.core.persian import normalize_digits
from zistboom.core.problems import problem_responses
from zistboom.idp import authorization, codes, tokens
from zistboom.idp.errors import AuthorizationError, SignInError, UnknownClientError
from zistboom.idp.state import state_of
from zistboom.web.csrf import CsrfProtection
from zistboom.web.i18n import Catalogue, request_locale
from zistboom.web.rendering import CONTENT_SECURITY_POLICY, Pages, content_security_policy

SESSION_COOKIE = "zb_idp_session"
HTML = "text/html"
Query = str | None
_ORIGIN = re.compile(r"https?://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")
"""An origin that may stand in a CSP source list as it is."""


def catalogue() -> Catalogue:
    """The web layer's messages and the provider's own (``idp/messages``), together."""
    return Catalogue.merged([("zistboom.web", "messages"), ("zistboom.idp", "messages")])


def form_action_to(uri: str) -> str:
    """The web layer's policy, its forms allowed to end at ``uri``'s origin too."""
    parts = urlsplit(uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    if not _ORIGIN.fullmatch(origin):
        return CONTENT_SECURITY_POLICY
    return content_security_policy([origin])


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {HTML: {}}}


class SignInPages:
    """The pages' templates and their CSRF protection."""

    def __init__(self, csrf: CsrfProtection, catalogue: Catalogue) -> None:
        self.pages = Pages([("zistboom.idp", "templates")], catalogue=catalogue)
        self.csrf = csrf

    def router(self) -> APIRouter:
        router = APIRouter(tags=["sign-in pages"])
        error_page = _html("an unknown client, an unregistered redirect URI, or a sign-in "
                           "that expired: a page saying so")  # fmt: skip
        router.add_api_route(
            "/authorize",
            self.authorize,
            methods=["GET"],
            response_class=HTMLResponse,
            responses={
                303: {"description": "an error sent back to the client's redirect URI"},
                400: error_page,
            },
        )
        form_posts = {
            303: {"description": "signed in: back to the client with the authorization code"},
            400: error_page,
            **problem_responses(403),
            422: _html("the form again, saying what was wrong"),
        }
        router.add_api_route(
            "/authorize/identify",
            self.identify,
            methods=["POST"],
            response_class=HTMLResponse,
            dependencies=[Depends(self.csrf.verify)],
            responses=form_posts,
        )
        router.add_api_route(
            "/authorize/verify",
            self.verify,
            methods=["POST"],
            response_class=HTMLResponse,
            dependencies=[Depends(self.csrf.verify)],
            responses=form_posts,
        )
        router.add_api_route(
            "/end_session",
            self.end_session,
            methods=["GET"],
            response_class=HTMLResponse,
            responses={
                303: {"description": "signed out: back to the client's post-logout URI"},
                400: error_page,
            },
        )
        return router

    def _page(
        self, request: Request, template: str, *, status_code: int = 200, **values: object
    ) -> HTMLResponse:
        token = self.csrf.token(request)
        response = self.pages.response(
            request, template, status_code=status_code, token=token, **values
        )
        response.headers["Cache-Control"] = "no-store"
        self.csrf.set_cookie(request, response, token)
        return response

    def _error(self, request: Request, message_key: str) -> HTMLResponse:
        return self._page(request, "error.html", status_code=400, message_key=message_key)

    def _signin(
        self,
        request: Request,
        request_id: str,
        *,
        status_code: int = 200,
        identifier: str = "",
        channel: str = "sms",
        error: str | None = None,
        client_name: str | None = None,
    ) -> HTMLResponse:
        return self._page(
            request, "signin.html", status_code=status_code, request_id=request_id,
            identifier=identifier, channel=channel, error=error, client_name=client_name,
        )  # fmt: skip

    def _code_page(
        self,
        request: Request,
        request_id: str,
        identifier: str,
        channel: str,
        client_uri: str,
        *,
        status_code: int = 200,
        error: str | None = None,
    ) -> HTMLResponse:
        response = self._page(
            request, "code.html", status_code=status_code, request_id=request_id,
            identifier=identifier, channel=channel, error=error,
        )  # fmt: skip
        # The right code's answer redirects the form's submission to the client: a browser
        # holds a redirect after a form to the page's form-action (CSP Level 3), so the
        # client's origin is allowed there, on this page only.
        response.headers["Content-Security-Policy"] = form_action_to(client_uri)
        return response

    async def authorize(
        self,
        request: Request,
        client_id: Query = None,
        redirect_uri: Query = None,
        response_type: Query = None,
        scope: Query = None,
        state: Query = None,
        nonce: Query = None,
        code_challenge: Query = None,
        code_challenge_method: Query = None,
        prompt: Query = None,
        max_age: Query = None,
        request_uri: Query = None,
    ) -> Response:
        """The authorization endpoint (OIDC Core §3.1.2.1): checks the request, then shows
        the sign-in form (or, with a live provider session and no prompt=login, goes straight
        back with a code)."""
        idp = state_of(request)
        # The parameters above name the query in the OpenAPI document; the rules read them
        # (and ``request``, a Python name taken here) from the query itself.
        parameters = authorization.AuthorizationParameters.from_query(request.query_params)
        async with transaction(idp.sessions) as session:
            try:
                client = await authorization.registered_client(session, client_id, redirect_uri)
            except UnknownClientError as error:
                return self._error(request, error.message_key)
            assert redirect_uri is not None
            try:
                authorization.check(parameters)
            except AuthorizationError as error:
                target = authorization.redirect_to(
                    redirect_uri,
                    {"error": error.redirect_error, "error_description": error.detail,
                     "state": state},
                )  # fmt: skip
                return RedirectResponse(target, status_code=303)
            resumed = await codes.single_sign_on(
                session,
                request.cookies.get(SESSION_COOKIE),
                parameters,
                now=idp.clock(),
                settings=idp.settings,
            )
            if resumed is not None:
                return RedirectResponse(resumed, status_code=303)
            if "none" in (prompt or "").split():
                target = authorization.redirect_to(
                    redirect_uri,
                    {"error": "login_required", "state": state,
                     "error_description": "the person is not signed in at the provider"},
                )  # fmt: skip
                return RedirectResponse(target, status_code=303)
            request_id = await authorization.start(
                session, parameters, now=idp.clock(), life=idp.settings.request_seconds
            )
        return self._signin(request, request_id, client_name=client.name)

    async def identify(
        self,
        request: Request,
        request_id: Annotated[str, Form(max_length=200)],
        identifier: Annotated[str, Form(max_length=64)] = "",
        channel: Annotated[Literal["sms", "email"], Form()] = "sms",
    ) -> Response:
        """Send a one-time code to the person the identifier names (the same answer when it
        names nobody), then the page to enter it."""
        idp = state_of(request)
        t = self.pages.catalogue.text
        locale = request_locale(request)
        try:
            async with transaction(idp.sessions) as session:
                client_uri, delivery = await codes.issue_code(
                    session, request_id, identifier, channel,
                    now=idp.clock(), settings=idp.settings,
                )  # fmt: skip
        except SignInError as error:
            return self._error(request, error.message_key)
        except ValidationError:
            return self._signin(
                request, request_id, status_code=422, identifier=identifier, channel=channel,
                error=t(locale, "signin.identifier_invalid"),
            )  # fmt: skip
        if delivery is not None:
            await idp.notifier.send(delivery)
        return self._code_page(request, request_id, identifier, channel, client_uri)

    async def verify(
        self,
        request: Request,
        request_id: Annotated[str, Form(max_length=200)],
        code: Annotated[str, Form(max_length=32)] = "",
        identifier: Annotated[str, Form(max_length=64)] = "",
        channel: Annotated[Literal["sms", "email"], Form()] = "sms",
    ) -> Response:
        """Check the one-time code; the right one signs the person in and sends them back to
        the client with an authorization code."""
        idp = state_of(request)
        t = self.pages.catalogue.text
        locale = request_locale(request)
        try:
            async with transaction(idp.sessions) as session:
                result = await codes.verify_code(
                    session, request_id, normalize_digits(code),
                    now=idp.clock(), settings=idp.settings,
                )  # fmt: skip
        except SignInError as error:
            return self._error(request, error.message_key)
        if result.outcome != "signed-in":
            message = (
                t(
                    locale,
                    "code.wrong",
                    remaining=self.pages.formatter(locale).digits(result.remaining),
                )
                if result.outcome == "wrong"
                else t(locale, f"code.{result.outcome}")
            )
            return self._code_page(
                request, request_id, identifier, channel, result.client_redirect_uri,
                status_code=422, error=message,
            )  # fmt: skip
        response = RedirectResponse(result.redirect, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            result.session_cookie,
            max_age=idp.settings.session_seconds,
            path="/",
            httponly=True,
            secure=request.url.scheme == "https" or idp.settings.issuer_url.startswith("https"),
            samesite="lax",
        )
        return response

    async def end_session(
        self,
        request: Request,
        id_token_hint: Query = None,
        post_logout_redirect_uri: Query = None,
        state: Query = None,
        client_id: Query = None,
    ) -> Response:
        """RP-Initiated Logout 1.0: ends the provider session, then returns to the client's
        registered post-logout URI (with ``state``) or shows that the person is signed out."""
        idp = state_of(request)
        try:
            hint = (
                tokens.logout_hint(id_token_hint, idp.key, idp.settings.issuer_url)
                if id_token_hint
                else None
            )
            async with transaction(idp.sessions) as session:
                await tokens.sign_out(
                    session,
                    cookie=request.cookies.get(SESSION_COOKIE),
                    hint=hint,
                    client_id=client_id,
                    post_logout_redirect_uri=post_logout_redirect_uri,
                    now=idp.clock(),
                )
        except UnknownClientError as error:
            return self._error(request, error.message_key)
        response: Response
        if post_logout_redirect_uri is not None:
            target = authorization.redirect_to(post_logout_redirect_uri, {"state": state})
            response = RedirectResponse(target, status_code=303)
        else:
            response = self._page(request, "signed_out.html")
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
        return response
