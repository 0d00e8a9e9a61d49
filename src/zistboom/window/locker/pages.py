"""The person's documents at the window ("my documents"): the list (``/me/documents``), a
document with its shares and access events and the share form (``/me/documents/{id}``), its
PDF (``/me/documents/{id}/pdf``), and the forms that share and revoke. Signed-in only (else to
sign in and back); every form is CSRF-protected; everything is read through ``service`` for
the viewer's own subject, so another person's document id is simply not found."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.responses import Response

from zistboom.core.database import transaction
from zistboom.core.errors import ConflictError, ValidationError
from zistboom.web.csrf import CsrfProtection
from zistboom.window.identity_pages import PersonPage, signed_in
from zistboom.window.locker import service
from zistboom.window.locker.client import LockerClient
from zistboom.window.sessions import Viewer
from zistboom.window.state import state_of

EVENT_KINDS = ("issued", "shared", "share-revoked", "fetched", "verified", "listed")


def _client(request: Request) -> LockerClient:
    state = state_of(request)
    return service.locker_client(state.settings, state.exchange)


def router(protection: CsrfProtection) -> APIRouter:
    """The routes, their forms checked by ``protection``."""
    csrf = [Depends(protection.verify)]
    routes = APIRouter(include_in_schema=False)

    @routes.get("/me/documents", response_class=HTMLResponse)
    async def documents(request: Request, viewer: PersonPage) -> Response:
        state = state_of(request)
        held = await _client(request).documents(viewer.subject)
        return state.pages.page(request, "locker_documents.html", documents=held,
                                now=state.clock())  # fmt: skip

    @routes.get("/me/documents/{document_id}", response_class=HTMLResponse)
    async def document(request: Request, viewer: PersonPage, document_id: str) -> Response:
        return await _document_page(request, viewer, document_id)

    async def _document_page(
        request: Request, viewer: Viewer, document_id: str, *, status_code: int = 200,
        error: ValidationError | ConflictError | None = None,
        entered: dict[str, str] | None = None,
    ) -> Response:  # fmt: skip
        state = state_of(request)
        view = await service.document_view(_client(request), viewer, document_id)
        async with transaction(state.sessions) as session:
            agencies = await service.registered_agencies(session)
        now = state.clock()
        return state.pages.page(
            request, "locker_document.html", status_code=status_code, view=view,
            agencies=agencies, names={a.member_id: (a.name_fa, a.name_en) for a in agencies},
            bounds=service.share_bounds(now), now=now, error=error,
            entered=entered or {"recipient": "", "purpose": "", "until": ""},
            shared=request.query_params.get("shared"),
            revoked=request.query_params.get("revoked"),
        )  # fmt: skip

    @routes.get("/me/documents/{document_id}/pdf")
    async def document_pdf(request: Request, viewer: PersonPage, document_id: str) -> Response:
        found = await _client(request).document(viewer.subject, document_id)
        content = found.pdf_bytes
        if content is None:
            return RedirectResponse(f"/me/documents/{found.id}", status_code=303)
        return Response(
            content,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{found.type}.pdf"',
                "Cache-Control": "no-store",
            },
        )

    @routes.post(
        "/me/documents/{document_id}/shares", dependencies=csrf, response_class=HTMLResponse
    )
    async def share(
        request: Request,
        document_id: str,
        recipient: Annotated[str, Form(max_length=200)] = "",
        purpose: Annotated[str, Form(max_length=1000)] = "",
        until: Annotated[str, Form(max_length=20)] = "",
    ) -> Response:
        viewer = signed_in(request)
        state = state_of(request)
        try:
            async with transaction(state.sessions) as session:
                made = await service.share_document(
                    session, _client(request), viewer, document_id, recipient=recipient,
                    purpose=purpose, until=until, now=state.clock(),
                )  # fmt: skip
        except ValidationError as refused:
            return await _document_page(
                request, viewer, document_id, status_code=422, error=refused,
                entered={"recipient": recipient, "purpose": purpose, "until": until},
            )  # fmt: skip
        return RedirectResponse(f"/me/documents/{made.document_id}?shared=1", status_code=303)

    @routes.post(
        "/me/documents/{document_id}/shares/{share_id}/revoke",
        dependencies=csrf,
        response_class=HTMLResponse,
    )
    async def revoke(request: Request, document_id: str, share_id: str) -> Response:
        viewer = signed_in(request)
        try:
            await _client(request).revoke(viewer.subject, share_id)
        except ConflictError as refused:
            return await _document_page(
                request, viewer, document_id, status_code=409, error=refused
            )
        return RedirectResponse(f"/me/documents/{document_id}?revoked=1", status_code=303)

    return routes
