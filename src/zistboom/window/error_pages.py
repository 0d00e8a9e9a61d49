"""Errors shown to a browser as a page: a request for a page (not under ``/api/``) that fails
with one of our errors gets the error page in its language (the problem's title by its code,
and what was wrong); API clients keep RFC 9457 problem details."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, cast

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from zistboom.core.errors import ZistboomError
from zistboom.window.pages import WindowPages

# The error page's heading by problem code; anything else is shown by its HTTP status.
KNOWN: Final = frozenset(
    {
        "validation-error", "not-found", "conflict", "unauthenticated", "forbidden",
        "csrf-refused", "sign-in-refused", "exchange-read-failed", "configuration-error",
    }
)  # fmt: skip


def wants_page(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def error_page(pages: WindowPages, request: Request, error: ZistboomError) -> Response:
    kind = error.code if error.code in KNOWN else "other"
    return pages.page(
        request, "error.html", status_code=error.status, kind=kind, detail=error.detail
    )


class SignInFirst(Exception):
    """Raised by ``identity_pages.person`` for a page that needs a signed-in person: the
    handler below sends the browser to sign in, then back to the page."""

    def __init__(self, response: Response) -> None:
        super().__init__("sign in first")
        self.response = response


def install_error_pages(app: FastAPI, pages: WindowPages) -> None:
    """Our errors and HTTP errors as pages for browsers (after ``install_problem_handlers``)."""

    Handler = Callable[[Request, Exception], Awaitable[Response]]
    problem_error = cast(Handler, app.exception_handlers[ZistboomError])

    @app.exception_handler(ZistboomError)
    async def _zistboom_error(request: Request, error: ZistboomError) -> Response:
        if wants_page(request):
            return error_page(pages, request, error)
        return await problem_error(request, error)

    @app.exception_handler(SignInFirst)
    async def _sign_in_first(request: Request, error: SignInFirst) -> Response:
        return error.response

    problem_http = cast(Handler, app.exception_handlers[StarletteHTTPException])

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if wants_page(request) and error.status_code == 404:
            return pages.page(
                request, "error.html", status_code=404, kind="not-found", detail=str(error.detail)
            )
        return await problem_http(request, error)
