"""The Jinja2 environment of the pages and documents: templates from the web layer and from the
packages that use it, HTML autoescaping always on, undefined names an error, and the filters
every template formats with (``jdate``, ``digits``) bound to the page's locale.

A component makes one :class:`Pages` with its own template folders, e.g.
``Pages([("zistboom.documents", "templates")])``; the web layer's ``base.html`` and
``forms.html`` are always found after them. Pages are served with the headers they need
(``Content-Language``, a restrictive Content-Security-Policy) by :meth:`Pages.response`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    DictLoader,
    Environment,
    PackageLoader,
    StrictUndefined,
    pass_context,
)
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from zistboom.core.errors import ValidationError
from zistboom.web.formatting import Calendar, DateFormatter, Style
from zistboom.web.i18n import (
    LOCALE_PARAMETER,
    Catalogue,
    Locale,
    remember_locale,
    request_locale,
)

STATIC_URL: Final = "/static"
# Pages load only their own styles and images; a QR may be an inline data: image.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def content_security_policy(form_origins: Sequence[str] = ()) -> str:
    """The pages' policy; ``form_origins`` are other origins a form's answer may redirect to
    (browsers apply ``form-action`` to the redirects after a form is sent: a sign-in form
    whose answer sends the browser back to the client, a sign-out that continues at the
    identity provider)."""
    if not form_origins:
        return CONTENT_SECURITY_POLICY
    extra = " ".join(sorted(set(form_origins)))
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {extra}")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url`` (for a policy's source list)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"{url!r} is not an http(s) URL", field="url")
    return f"{parts.scheme}://{parts.netloc}"


def static_files() -> StaticFiles:
    """The web layer's styles, to be mounted at :data:`STATIC_URL`."""
    return StaticFiles(packages=[("zistboom.web", "static")])


class Pages:
    """Templates and their rendering in a locale."""

    def __init__(
        self,
        package_loader_paths: Sequence[tuple[str, str]] = (),
        *,
        catalogue: Catalogue | None = None,
        static_url: str = STATIC_URL,
        templates: Mapping[str, str] | None = None,
    ) -> None:
        """``templates`` are named template texts, found before the packages' files."""
        loaders: list[BaseLoader] = [DictLoader(dict(templates))] if templates else []
        loaders += [PackageLoader(package, path) for package, path in package_loader_paths]
        loaders.append(PackageLoader("zistboom.web", "templates"))
        self.catalogue = catalogue or Catalogue.load()
        self.static_url = static_url
        self.environment = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.environment.filters["jdate"] = _jdate
        self.environment.filters["digits"] = _digits

    def formatter(self, locale: Locale) -> DateFormatter:
        return DateFormatter(locale, self.catalogue)

    def context(
        self, locale: Locale, *, path: str = "/", query: Sequence[tuple[str, str]] = ()
    ) -> dict[str, Any]:
        """What every template can use: the locale, ``t`` (messages), ``dates`` (the
        formatter), the static URL and the link to the same page (``path`` with its ``query``)
        in the other language."""

        def t(key: str, /, **values: object) -> str:
            return self.catalogue.text(locale, key, **values)

        switched = [(name, value) for name, value in query if name != LOCALE_PARAMETER]
        switched.append((LOCALE_PARAMETER, locale.other.code))

        return {
            "locale": locale,
            "t": t,
            "dates": self.formatter(locale),
            "static_url": self.static_url,
            "path": path,
            "switch_url": path + "?" + urlencode(switched),
        }

    def render(
        self,
        template: str,
        *,
        locale: Locale,
        path: str = "/",
        query: Sequence[tuple[str, str]] = (),
        **values: Any,
    ) -> str:
        """Render the template file ``template`` in ``locale``."""
        return self.environment.get_template(template).render(
            {**self.context(locale, path=path, query=query), **values}
        )

    def render_fragment(self, source: str, *, locale: Locale, **values: Any) -> str:
        """Render a template given as text (a document type's ``template_fa``/``template_en``),
        with the same filters, escaping and names as a page."""
        return self.environment.from_string(source).render({**self.context(locale), **values})

    def response(
        self, request: Request, template: str, *, status_code: int = 200, **values: Any
    ) -> HTMLResponse:
        """A page in the request's language (``?lang=``, its cookie, else Persian); a language
        chosen with ``?lang=`` is remembered."""
        locale = request_locale(request)
        html = self.render(
            template,
            locale=locale,
            path=request.url.path,
            query=request.query_params.multi_items(),
            **values,
        )
        response = HTMLResponse(html, status_code=status_code)
        response.headers["Content-Language"] = locale.code
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        remember_locale(request, response, locale)
        return response


def _formatter_of(context: Context) -> DateFormatter:
    dates = context.get("dates")
    if not isinstance(dates, DateFormatter):
        raise ValidationError("the template was rendered without a locale", field="dates")
    return dates


@pass_context
def _jdate(
    context: Context,
    value: date | datetime | str,
    style: Style = "long",
    calendar: Calendar | None = None,
    time: bool | None = None,
) -> str:
    """A date (``1995-04-12`` or a date) or a moment (an aware datetime or RFC 3339 text) in
    the page's calendar and digits; a moment shows its Tehran time unless ``time=false``."""
    dates = _formatter_of(context)
    moment = _parsed(value) if isinstance(value, str) else value
    if isinstance(moment, datetime) and time is not False:
        return dates.moment(moment, style=style, calendar=calendar)
    return dates.day(moment, style=style, calendar=calendar)


@pass_context
def _digits(context: Context, value: object) -> str:
    return _formatter_of(context).digits(value)


def _parsed(text: str) -> date | datetime:
    try:
        if "T" in text:
            return datetime.fromisoformat(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{text!r} is neither a date (YYYY-MM-DD) nor an RFC 3339 moment", field="date"
        ) from None
