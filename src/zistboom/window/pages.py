"""How every window page is made: the web layer's templates and messages with the window's
(``window/messages``, ``window/templates``) and those of its parts, the CSRF token of the page's
forms, and the signed-in viewer the page header shows (set on ``request.state.viewer`` by the
session layer). Persian by default, English with ``?lang=en``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import HTMLResponse

from zistboom.web.csrf import CsrfProtection
from zistboom.web.i18n import Catalogue
from zistboom.web.rendering import Pages, content_security_policy

# Where the window's messages and templates are, in order; a later message overrides an
# earlier one of the same key (the window's own tagline over the web layer's).
MESSAGE_SOURCES: Final = (
    ("zistboom.web", "messages"),
    ("zistboom.window", "messages"),
    ("zistboom.window.catalogue", "messages"),
    ("zistboom.window.tracker", "messages"),
    ("zistboom.window.locker", "messages"),
    ("zistboom.window.applications", "messages"),
)
TEMPLATE_SOURCES: Final = (
    ("zistboom.window", "templates"),
    ("zistboom.window.catalogue", "templates"),
    ("zistboom.window.tracker", "templates"),
    ("zistboom.window.locker", "templates"),
    ("zistboom.window.applications", "templates"),
)


def merged_catalogue(sources: Sequence[tuple[str, str]] = MESSAGE_SOURCES) -> Catalogue:
    """The messages of ``sources`` together."""
    return Catalogue.merged(sources)


class WindowPages:
    """The window's templates, messages and CSRF protection."""

    def __init__(self, csrf: CsrfProtection, *, form_origins: Sequence[str] = ()) -> None:
        """``form_origins``: the identity provider's, where sign-out continues."""
        self.pages = Pages(TEMPLATE_SOURCES, catalogue=merged_catalogue())
        self.csrf = csrf
        self.form_origins = tuple(form_origins)

    @property
    def catalogue(self) -> Catalogue:
        return self.pages.catalogue

    def page(
        self, request: Request, template: str, *, status_code: int = 200, **values: Any
    ) -> HTMLResponse:
        """``template`` in the request's language, with ``token`` (the CSRF token of its
        forms) and ``viewer`` (the signed-in person, or None) among its values."""
        token = self.csrf.token(request)
        viewer = getattr(request.state, "viewer", None)
        response = self.pages.response(
            request, template, status_code=status_code, token=token, viewer=viewer, **values
        )
        response.headers["Content-Security-Policy"] = content_security_policy(self.form_origins)
        self.csrf.set_cookie(request, response, token)
        response.headers.setdefault("Cache-Control", "no-store")
        return response
