"""Walking the window's and the identity provider's pages as a browser would, with httpx: one
cookie jar, redirects followed by hand (so a test sees each hop), forms read from the HTML
(hidden fields, CSRF tokens) and sent back filled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx

MAX_HOPS = 10


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = Form(values.get("action", ""), values.get("method", "get").lower())
            self.forms.append(self._open)
        elif self._open is not None and tag in ("input", "select", "textarea", "button"):
            name = values.get("name")
            kind = values.get("type", "text")
            if tag == "button" or kind == "submit":
                if name:
                    self._open.buttons.append((name, values.get("value", "")))
            elif name and (kind not in ("radio", "checkbox") or "checked" in values):
                self._open.fields.setdefault(name, values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form(html: str, action: str) -> Form:
    """The form that posts to ``action`` (its path)."""
    for found in forms(html):
        if found.action == action or found.action.endswith(action):
            return found
    raise AssertionError(f"no form posting to {action} in:\n{html[:2000]}")


class Browser:
    """One cookie jar over the window and the provider."""

    def __init__(self) -> None:
        self.http = httpx.Client(timeout=30, headers={"Accept": "text/html"})
        self.hops: list[httpx.Response] = []

    def close(self) -> None:
        self.http.close()

    def follow(self, response: httpx.Response) -> httpx.Response:
        """Follow redirects by hand, keeping each hop in :attr:`hops`."""
        for _ in range(MAX_HOPS):
            self.hops.append(response)
            if not response.is_redirect:
                return response
            target = urljoin(str(response.url), response.headers["location"])
            response = self.http.get(target)
        raise AssertionError("too many redirects")

    def get(self, url: str) -> httpx.Response:
        return self.follow(self.http.get(url))

    def submit(
        self, page: httpx.Response, action: str, *, follow: bool = True, **values: str
    ) -> httpx.Response:
        """Send the form of ``page`` that posts to ``action``, with ``values`` filled in."""
        found = form(page.text, action)
        data = {**found.fields, **values}
        answer = self.http.post(urljoin(str(page.url), found.action), data=data)
        return self.follow(answer) if follow else answer


def sign_in(
    browser: Browser,
    window_url: str,
    identifier: str,
    code_of: Callable[[], str],
    *,
    start: str = "/signin",
) -> httpx.Response:
    """Sign in at the window through the provider: the provider's sign-in page, the code sent
    (``code_of`` reads it), the code entered; the page the window lands on."""
    page = browser.get(window_url + start)
    assert "/authorize" in str(page.url), page.url
    coded = browser.submit(page, "/authorize/identify", identifier=identifier)
    return browser.submit(coded, "/authorize/verify", code=code_of())
