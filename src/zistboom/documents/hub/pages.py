"""The public verification page, ``GET /verify`` and its form's ``POST /verify``: paste a
VC-JWT, a QR text or a pull link of this hub, or upload a PDF or a picture of the QR; see each
check by its name with its result and reason, in Persian (the default, right to left, Persian
digits and Jalali dates) or English (``?lang=en``). The form is CSRF-protected (the web layer's
signed double-submit token); the page is the web layer's ``base.html``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from zistboom.core.errors import DocumentError, ZistboomError
from zistboom.core.problems import problem_responses
from zistboom.documents.hub import verifying
from zistboom.documents.hub.state import state_of
from zistboom.web.csrf import CsrfProtection
from zistboom.web.i18n import Catalogue, request_locale
from zistboom.web.rendering import Pages

TEMPLATE = "verify.html"
HTML = "text/html"


def catalogue() -> Catalogue:
    """The web layer's messages and the hub's own (``hub/messages``), together."""
    return Catalogue.merged([("zistboom.web", "messages"), ("zistboom.documents.hub", "messages")])


class VerificationPage:
    """The page's templates and its CSRF protection (the secret in the hub's data folder)."""

    def __init__(self, csrf: CsrfProtection) -> None:
        self.pages = Pages([("zistboom.documents.hub", "templates")], catalogue=catalogue())
        self.csrf = csrf

    def router(self) -> APIRouter:
        router = APIRouter(tags=["verification page"])
        router.add_api_route("/verify", self.show, methods=["GET"], response_class=HTMLResponse)
        router.add_api_route(
            "/verify",
            self.take,
            methods=["POST"],
            response_class=HTMLResponse,
            dependencies=[Depends(self.csrf.verify)],
            # 400: a body that is no form; 403: the form without its CSRF token; 413 and 422:
            # the page again, saying why.
            responses={
                **problem_responses(400, 403),
                413: {"description": "the file is too large", "content": {HTML: {}}},
                422: {"description": "nothing to verify, or not a document", "content": {HTML: {}}},
            },
        )
        return router

    def _page(self, request: Request, *, status_code: int = 200, **values: object) -> HTMLResponse:
        token = self.csrf.token(request)
        # The form posts to /verify also from a pull link's page (/p/{token}).
        defaults: dict[str, object] = {
            "report": None, "error": None, "text": "", "type_name": None,
            "form_action": request.scope.get("root_path", "") + "/verify",
        }  # fmt: skip
        response = self.pages.response(
            request, TEMPLATE, status_code=status_code, token=token, **{**defaults, **values}
        )
        self.csrf.set_cookie(request, response, token)
        return response

    async def show(self, request: Request) -> HTMLResponse:
        """The form."""
        return self._page(request)

    async def take(
        self,
        request: Request,
        text: Annotated[str, Form(max_length=200_000)] = "",
        file: Annotated[UploadFile | None, File()] = None,
    ) -> HTMLResponse:
        """The report of what the form sent (a text, else the file)."""
        state = state_of(request)
        locale = request_locale(request)
        t = self.pages.catalogue.text
        data: str | bytes | None = text.strip() or None
        if data is None and file is not None and file.filename:
            limit = state.settings.max_upload_bytes
            data = await file.read(limit + 1)
            if len(data) > limit:
                return self._page(
                    request, status_code=413, error=t(locale, "verify.too_large", limit=limit)
                )
        if not data:
            return self._page(request, status_code=422, error=t(locale, "verify.nothing"))
        try:
            outcome = await verifying.verify_input(state, data)
        except (DocumentError, ZistboomError) as error:
            return self._page(request, status_code=422, error=error.detail, text=text)
        return await self.report(request, outcome)

    async def report(self, request: Request, outcome: verifying.Outcome) -> HTMLResponse:
        """The page with the report of ``outcome``: what the form sent, or a pull link a
        browser opened (``GET /p/{token}``, which answers JSON to anything else)."""
        state = state_of(request)
        locale = request_locale(request)
        names = await verifying.type_names(state)
        type_name = None
        if outcome.report.record is not None and outcome.report.record.type in names:
            fa, en = names[outcome.report.record.type]
            type_name = fa if locale.code == "fa" else en
        return self._page(request, report=outcome.report, type_name=type_name)
