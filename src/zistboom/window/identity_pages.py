"""The pages of signing in and out, of the person's profile, and of the officials: routes that
parse the request and call ``signin``, ``sessions``, ``people``, ``names_reading`` and
``officials``. Every form is CSRF-protected; a page that needs a signed-in person sends the
browser to sign in first, and comes back.

Cookies: the pending sign-in (``zb_window_signin``, ten minutes, path ``/signin``) and the
session (``zb_window_session``) are HttpOnly, SameSite=Lax (the provider's redirect back is a
top-level navigation from another site, which SameSite=Strict would strip), and Secure on
https."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Final
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from zistboom.core.database import transaction
from zistboom.core.errors import (
    AuthenticationError,
    ConflictError,
    ValidationError,
    ZistboomError,
)
from zistboom.core.identifiers import MemberId
from zistboom.web.csrf import CsrfProtection
from zistboom.web.i18n import request_locale
from zistboom.window import identity_repository as repository
from zistboom.window import names_reading, officials, people, sessions
from zistboom.window.error_pages import SignInFirst, error_page
from zistboom.window.identity_models import PendingSignIn
from zistboom.window.sessions import PENDING_COOKIE, SESSION_COOKIE, Viewer
from zistboom.window.signin import SignInRefusedError, digest
from zistboom.window.state import WindowState, state_of

PENDING_SECONDS: Final = 600
MAX_RETURN = 500


def _safe_return(path: str | None) -> str:
    """Only a path of this site (never ``//host`` or a URL) is a place to come back to."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/me"
    return path[:MAX_RETURN]


def _cookie(state: WindowState, response: Response, name: str, value: str, **extra: object) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="lax", secure=state.settings.cookies_secure,
        **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def viewer_of(request: Request) -> Viewer | None:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    return viewer


def signed_in(request: Request) -> Viewer:
    viewer = viewer_of(request)
    if viewer is None:
        raise AuthenticationError("sign in first", field="session")
    return viewer


def person(request: Request) -> Viewer:
    """A page's dependency: the signed-in person, or (``SignInFirst``) to the sign-in."""
    viewer = viewer_of(request)
    if viewer is None:
        raise SignInFirst(to_sign_in(request))
    return viewer


PersonPage = Annotated[Viewer, Depends(person)]
"""A page's parameter: the signed-in person (else the browser is sent to sign in)."""


def to_sign_in(request: Request, return_to: str | None = None) -> RedirectResponse:
    """To sign in, then back to ``return_to`` (this page by default)."""
    back = _safe_return(return_to or request.url.path)
    return RedirectResponse("/signin?return_to=" + quote(back, safe="/"), status_code=303)


def _agency_id(state: WindowState, member_class: str, member_code: str) -> str:
    instance = state.settings.subsystem_id.split("/", 1)[0]
    return str(MemberId.parse(f"{instance}/{member_class}/{member_code}", field="agency"))


def router(protection: CsrfProtection) -> APIRouter:
    """The routes, their forms checked by ``protection``."""
    csrf = [Depends(protection.verify)]
    routes = APIRouter(include_in_schema=False)

    @routes.get("/signin")
    async def sign_in(
        request: Request, return_to: Annotated[str | None, Query()] = None
    ) -> Response:
        """Begin a sign-in: to the identity provider, with this sign-in's state kept here."""
        state = state_of(request)
        started = await state.oidc.start(locale=request_locale(request).code)
        value = secrets.token_urlsafe(32)
        now = state.clock()
        async with transaction(state.sessions) as session:
            await repository.forget_pending_before(
                session, now - timedelta(seconds=PENDING_SECONDS)
            )
            session.add(
                PendingSignIn(
                    id_hash=digest(value), state=started.state, nonce=started.nonce,
                    code_verifier=started.code_verifier, return_to=_safe_return(return_to),
                    created_at=now,
                )
            )  # fmt: skip
        response = RedirectResponse(started.url, status_code=303)
        _cookie(state, response, PENDING_COOKIE, value, max_age=PENDING_SECONDS, path="/signin")
        return response

    @routes.get("/signin/callback")
    async def sign_in_callback(
        request: Request,
        code: Annotated[str | None, Query(max_length=512)] = None,
        state_: Annotated[str | None, Query(alias="state", max_length=512)] = None,
        error: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Response:
        """The provider's answer: checked, exchanged, and the session opened."""
        state = state_of(request)
        value = request.cookies.get(PENDING_COOKIE)
        now = state.clock()
        try:
            async with transaction(state.sessions) as session:
                pending = (
                    await repository.take_pending_sign_in(session, digest(value)) if value else None
                )
            if pending is None or now - pending.created_at > timedelta(seconds=PENDING_SECONDS):
                raise SignInRefusedError(
                    "this sign-in is unknown or has expired; start it again", field="state"
                )
            signed = await state.oidc.finish(
                expected_state=pending.state, nonce=pending.nonce,
                code_verifier=pending.code_verifier, state=state_, code=code, error=error,
            )  # fmt: skip
            async with transaction(state.sessions) as session:
                person = await people.signed_in(
                    session, subject=signed.subject, claims={**signed.userinfo, **signed.claims},
                    now=now,
                )  # fmt: skip
                cookie = await sessions.open_session(
                    session, subject=person.subject, id_token=signed.id_token,
                    provider_session=signed.claims.get("sid"), now=now, settings=state.settings,
                )  # fmt: skip
                ask_names = person.names_choice is None and (
                    names_reading.source_for(state.settings, person.subject) is not None
                )
        except ZistboomError as refused:
            response = error_page(state.pages, request, refused)
            response.delete_cookie(PENDING_COOKIE, path="/signin")
            return response
        target = (
            "/me/names?return_to=" + quote(pending.return_to, safe="/")
            if ask_names
            else (pending.return_to)
        )
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(PENDING_COOKIE, path="/signin")
        _cookie(state, response, SESSION_COOKIE, cookie, path="/")
        return response

    @routes.post("/signout", dependencies=csrf)
    async def sign_out(request: Request) -> Response:
        """End the session here, then at the provider."""
        state = state_of(request)
        cookie = request.cookies.get(SESSION_COOKIE)
        ended = None
        if cookie:
            async with transaction(state.sessions) as session:
                ended = await sessions.end_session(session, cookie, state.clock())
        target = "/signed-out"
        if ended is not None:
            at_provider = await state.oidc.end_session_url(
                id_token=ended.id_token,
                post_logout_redirect_uri=state.settings.base_url + "/signed-out",
            )
            target = at_provider or target
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @routes.get("/signed-out", response_class=HTMLResponse)
    async def signed_out(request: Request) -> Response:
        return state_of(request).pages.page(request, "signed_out.html")

    @routes.get("/me", response_class=HTMLResponse)
    async def me(request: Request) -> Response:
        """The person's profile: names and where they came from, contacts, consents."""
        viewer = viewer_of(request)
        if viewer is None:
            return to_sign_in(request)
        return await _profile(request, viewer)

    async def _profile(
        request: Request, viewer: Viewer, *, status_code: int = 200,
        errors: dict[str, str] | None = None, entered: dict[str, str] | None = None,
    ) -> Response:  # fmt: skip
        state = state_of(request)
        async with transaction(state.sessions) as session:
            person = await repository.person(session, viewer.subject)
            given = await repository.consents(session, viewer.subject)
            agencies = await repository.agencies_named(session, list(viewer.roles))
        return state.pages.page(
            request, "me.html", status_code=status_code, person=person, consents=given,
            agencies=agencies, errors=errors or {}, entered=entered,
            can_read_names=names_reading.source_for(state.settings, viewer.subject) is not None,
        )  # fmt: skip

    @routes.post("/me/contacts", dependencies=csrf, response_class=HTMLResponse)
    async def change_contacts(
        request: Request,
        email: Annotated[str, Form(max_length=300)] = "",
        phone_number: Annotated[str, Form(max_length=40)] = "",
    ) -> Response:
        viewer = signed_in(request)
        state = state_of(request)
        try:
            async with transaction(state.sessions) as session:
                await people.update_contacts(
                    session, viewer.subject, email=email, phone_number=phone_number,
                    now=state.clock(),
                )  # fmt: skip
        except ValidationError as invalid:
            return await _profile(
                request, viewer, status_code=422, errors={invalid.field or "email": invalid.detail},
                entered={"email": email, "phone_number": phone_number},
            )  # fmt: skip
        return RedirectResponse("/me?saved=contacts", status_code=303)

    @routes.get("/me/names", response_class=HTMLResponse)
    async def names(request: Request, return_to: Annotated[str | None, Query()] = None) -> Response:
        """What will be read, from which registry, and why; the person chooses."""
        viewer = viewer_of(request)
        if viewer is None:
            return to_sign_in(request)
        state = state_of(request)
        source = names_reading.source_for(state.settings, viewer.subject)
        return state.pages.page(
            request, "names.html", source=source, items=names_reading.ITEMS,
            return_to=_safe_return(return_to), failure=None,
        )  # fmt: skip

    @routes.post("/me/names", dependencies=csrf, response_class=HTMLResponse)
    async def choose_names(
        request: Request,
        choice: Annotated[str, Form(pattern="^(read|decline)$")],
        return_to: Annotated[str, Form(max_length=MAX_RETURN)] = "/me",
    ) -> Response:
        viewer = signed_in(request)
        state = state_of(request)
        source = names_reading.source_for(state.settings, viewer.subject)
        if source is None:
            raise ValidationError("no registry keeps names for you here", field="choice")
        now = state.clock()
        if choice == "decline":
            async with transaction(state.sessions) as session:
                await people.decline_names(session, viewer.subject, source, now)
            return RedirectResponse(_safe_return(return_to), status_code=303)
        try:
            read = await names_reading.read_names(
                state.exchange, state.settings, viewer.subject, now=now
            )
        except names_reading.ExchangeReadError as failure:
            return state.pages.page(
                request, "names.html", status_code=502, source=source, items=names_reading.ITEMS,
                return_to=_safe_return(return_to), failure=failure.detail,
            )  # fmt: skip
        async with transaction(state.sessions) as session:
            await people.record_names(session, viewer.subject, read)
        return RedirectResponse(_safe_return(return_to), status_code=303)

    @routes.get("/officials", response_class=HTMLResponse)
    async def officials_home(request: Request) -> Response:
        """The agencies where the viewer holds roles."""
        viewer = viewer_of(request)
        if viewer is None:
            return to_sign_in(request)
        state = state_of(request)
        async with transaction(state.sessions) as session:
            agencies = await repository.agencies_named(session, list(viewer.roles))
        return state.pages.page(request, "officials.html", agencies=agencies)

    @routes.get("/officials/{member_class}/{member_code}", response_class=HTMLResponse)
    async def agency_desk(request: Request, member_class: str, member_code: str) -> Response:
        """An agency's desk: only for its own officials."""
        viewer = viewer_of(request)
        if viewer is None:
            return to_sign_in(request)
        state = state_of(request)
        agency_id = _agency_id(state, member_class, member_code)
        async with transaction(state.sessions) as session:
            agency = await officials.agency_of_official(session, viewer, agency_id)
        return state.pages.page(
            request, "agency.html", agency=agency, held=sorted(viewer.roles[agency_id]),
            member_class=member_class, member_code=member_code,
        )  # fmt: skip

    @routes.get("/officials/{member_class}/{member_code}/roles", response_class=HTMLResponse)
    async def agency_roles(request: Request, member_class: str, member_code: str) -> Response:
        """Who holds which role at the agency, the grant form and the audit trail: for the
        agency's admins only."""
        viewer = viewer_of(request)
        if viewer is None:
            return to_sign_in(request)
        return await _roles_page(request, viewer, member_class, member_code)

    async def _roles_page(
        request: Request, viewer: Viewer, member_class: str, member_code: str, *,
        status_code: int = 200, error: ZistboomError | None = None,
        entered: dict[str, str] | None = None,
    ) -> Response:  # fmt: skip
        state = state_of(request)
        agency_id = _agency_id(state, member_class, member_code)
        async with transaction(state.sessions) as session:
            held = await officials.agency_roles(session, viewer, agency_id)
        return state.pages.page(
            request, "roles.html", status_code=status_code, held=held, roles=officials.ROLES,
            member_class=member_class, member_code=member_code, error=error,
            entered=entered or {"subject": "", "role": "clerk"},
        )  # fmt: skip

    @routes.post(
        "/officials/{member_class}/{member_code}/roles",
        dependencies=csrf,
        response_class=HTMLResponse,
    )
    async def grant(
        request: Request,
        member_class: str,
        member_code: str,
        subject: Annotated[str, Form(max_length=40)],
        role: Annotated[str, Form(max_length=32)],
    ) -> Response:
        viewer = signed_in(request)
        state = state_of(request)
        agency_id = _agency_id(state, member_class, member_code)
        try:
            async with transaction(state.sessions) as session:
                await officials.grant_role(
                    session, viewer, agency=agency_id, subject=subject, role=role,
                    now=state.clock(),
                )  # fmt: skip
        except (ValidationError, ConflictError) as refused:
            return await _roles_page(
                request, viewer, member_class, member_code, status_code=refused.status,
                error=refused, entered={"subject": subject, "role": role},
            )  # fmt: skip
        return RedirectResponse(
            f"/officials/{member_class}/{member_code}/roles?granted=1", status_code=303
        )

    @routes.post(
        "/officials/{member_class}/{member_code}/roles/{grant_id}/revoke",
        dependencies=csrf,
        response_class=HTMLResponse,
    )
    async def revoke(
        request: Request, member_class: str, member_code: str, grant_id: int
    ) -> Response:
        viewer = signed_in(request)
        state = state_of(request)
        agency_id = _agency_id(state, member_class, member_code)
        try:
            async with transaction(state.sessions) as session:
                await officials.revoke_role(
                    session, viewer, agency=agency_id, grant_id=grant_id, now=state.clock()
                )
        except ConflictError as refused:
            return await _roles_page(
                request, viewer, member_class, member_code, status_code=409, error=refused
            )
        return RedirectResponse(
            f"/officials/{member_class}/{member_code}/roles?revoked=1", status_code=303
        )

    return routes
