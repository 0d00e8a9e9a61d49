"""The base template, the language switch and CSRF protection, served by a real uvicorn server:
a page is Persian (rtl) by default and English (ltr) with ?lang=en, every control has a label,
and a form without its genuine token is refused."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Annotated

import httpx
import pytest
import uvicorn
from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse

from support import free_port
from zistboom.core.problems import install_problem_handlers
from zistboom.web.csrf import CSRF_COOKIE, CsrfProtection, load_or_create_secret
from zistboom.web.i18n import FA, LOCALE_COOKIE
from zistboom.web.rendering import STATIC_URL, Pages, static_files

NOWRUZ = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)

FORM_PAGE = """{% extends "base.html" %}
{% import "forms.html" as forms with context %}
{% block title %}{{ heading }}{% endblock %}
{% block content %}
<h1>{{ heading }}</h1>
<p id="when">{{ moment | jdate }}</p>
<p id="said">{{ said }}</p>
<form method="post" action="/form">
  {{ forms.csrf_field(token) }}
  {{ forms.textarea_field("text", "Text", hint="paste it", required=True) }}
  {{ forms.file_field("upload", "File", accept="application/pdf,image/png", error="too big") }}
  {{ forms.submit("Send") }}
</form>
{% endblock %}
"""


def create_app(secret: bytes) -> FastAPI:
    pages = Pages(templates={"form.html": FORM_PAGE})
    csrf = CsrfProtection(secret)
    app = FastAPI()
    install_problem_handlers(app)
    app.mount(STATIC_URL, static_files(), name="static")

    @app.get("/form", response_class=HTMLResponse)
    async def show(request: Request, said: str = "") -> HTMLResponse:
        token = csrf.token(request)
        response = pages.response(
            request, "form.html", heading="Test", moment=NOWRUZ, said=said, token=token
        )
        csrf.set_cookie(request, response, token)
        return response

    @app.post("/form", dependencies=[Depends(csrf.verify)])
    async def take(text: Annotated[str, Form()]) -> dict[str, str]:
        return {"received": text}

    return app


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    secret = load_or_create_secret(tmp_path_factory.mktemp("web") / "csrf.secret")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(secret), port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test site did not start")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class Elements(HTMLParser):
    """Every start tag with its attributes, in order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def first(self, tag: str) -> dict[str, str | None]:
        return next(attrs for name, attrs in self.tags if name == tag)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


def page_token(html: str) -> str:
    field = next(a for a in Elements(html).all("input") if a.get("name") == "csrf_token")
    assert field["value"]
    return str(field["value"])


def test_a_page_is_persian_and_right_to_left_by_default(site: str) -> None:
    response = httpx.get(f"{site}/form")
    assert response.status_code == 200
    html = Elements(response.text)
    assert html.first("html") == {"lang": "fa", "dir": "rtl"}
    assert response.headers["content-language"] == "fa"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert '<p id="when">۱ فروردین ۱۴۰۴، ساعت ۰۰:۳۰</p>' in response.text
    # The skip link leads to the main landmark, which can take the focus.
    skip = html.all("a")[0]
    assert skip["href"] == "#main" and "پرش به محتوای اصلی" in response.text
    assert html.first("main")["id"] == "main"
    # The switch to English is marked as English.
    switch = next(a for a in html.all("a") if a.get("hreflang"))
    assert switch == {
        "href": "/form?lang=en",
        "lang": "en",
        "hreflang": "en",
        "title": "نمایش این صفحه به انگلیسی",
    }
    assert LOCALE_COOKIE not in response.cookies


def test_lang_en_switches_to_english_left_to_right_and_is_remembered(site: str) -> None:
    with httpx.Client(base_url=site) as client:
        response = client.get("/form", params={"lang": "en"})
        assert Elements(response.text).first("html") == {"lang": "en", "dir": "ltr"}
        assert '<p id="when">21 March 2025, 00:30 Tehran time</p>' in response.text
        assert response.cookies[LOCALE_COOKIE] == "en"
        later = client.get("/form")
        assert Elements(later.text).first("html") == {"lang": "en", "dir": "ltr"}
        back = client.get("/form", params={"lang": "fa"})
        assert Elements(back.text).first("html") == {"lang": "fa", "dir": "rtl"}
        assert Elements(client.get("/form").text).first("html")["lang"] == "fa"


def test_every_control_has_a_label_and_its_notes(site: str) -> None:
    html = Elements(httpx.get(f"{site}/form").text)
    labelled = {attrs["for"] for attrs in html.all("label")}
    controls = [a for a in html.all("input") if a.get("type") != "hidden"] + html.all("textarea")
    assert len(controls) == 2
    for control in controls:
        assert control["id"] in labelled, control
    text = next(a for a in html.all("textarea"))
    assert text["aria-describedby"] == "text-hint" and "required" in text
    upload = next(a for a in html.all("input") if a.get("type") == "file")
    assert upload["aria-describedby"] == "upload-error" and upload["aria-invalid"] == "true"
    ids = {a["id"] for _, a in html.tags if a.get("id")}
    assert {"text-hint", "upload-error"} <= ids


def test_text_is_escaped(site: str) -> None:
    response = httpx.get(f"{site}/form", params={"said": "<script>alert(1)</script>"})
    assert "<script>" not in response.text
    # The language switch keeps the page's own query.
    switch = next(a for a in Elements(response.text).all("a") if a.get("hreflang"))
    assert switch["href"] == "/form?said=%3Cscript%3Ealert%281%29%3C%2Fscript%3E&lang=en"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_the_styles_are_served(site: str) -> None:
    response = httpx.get(f"{site}/static/zistboom.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    assert '"Vazirmatn", "Noto Sans Arabic", "Noto Naskh Arabic", Tahoma' in response.text


def test_a_form_with_the_pages_token_is_taken(site: str) -> None:
    with httpx.Client(base_url=site) as client:
        page = client.get("/form")
        cookie = page.headers["set-cookie"]
        assert f"{CSRF_COOKIE}=" in cookie
        assert "samesite=strict" in cookie.lower() and "httponly" in cookie.lower()
        token = page_token(page.text)
        assert client.cookies[CSRF_COOKIE] == token
        sent = client.post("/form", data={"csrf_token": token, "text": "سلام"})
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"received": "سلام"}
        # A multipart form (the page has a file input) is read the same way.
        multipart = client.post(
            "/form",
            data={"csrf_token": token, "text": "x"},
            files={"upload": ("a.pdf", b"%PDF-1.7", "application/pdf")},
        )
        assert multipart.status_code == 200, multipart.text
        # The page shown again keeps the browser's token.
        assert page_token(client.get("/form").text) == token


def refused(response: httpx.Response, field: str) -> str:
    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["type"].endswith("/csrf-refused")
    assert problem["errors"][0]["field"] == field
    return str(problem["detail"])


def test_a_form_without_a_genuine_token_is_refused(site: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=site) as client:
        token = page_token(client.get("/form").text)
        assert "without its CSRF token" in refused(
            client.post("/form", data={"text": "x"}), "csrf_token"
        )
        assert "does not match" in refused(
            client.post("/form", data={"csrf_token": token[:-2] + "AA", "text": "x"}),
            "csrf_token",
        )
    # No cookie at all (another site's form, which SameSite=Strict sends without it).
    assert "without its CSRF cookie" in refused(
        httpx.post(f"{site}/form", data={"csrf_token": token, "text": "x"}), CSRF_COOKIE
    )
    # A token made with another secret, planted in the cookie and the field alike.
    other = CsrfProtection(load_or_create_secret(tmp_path / "other.secret")).new_token()
    forged = httpx.post(
        f"{site}/form",
        data={"csrf_token": other, "text": "x"},
        cookies={CSRF_COOKIE: other},
    )
    assert "not issued by this site" in refused(forged, "csrf_token")
    # The header form (for scripts) is checked the same way.
    header = httpx.post(
        f"{site}/form",
        data={"text": "x"},
        headers={"X-CSRF-Token": other},
        cookies={CSRF_COOKIE: token},
    )
    assert "does not match" in refused(header, "csrf_token")


def test_the_csrf_secret_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "web" / "csrf.secret"
    secret = load_or_create_secret(path)
    assert len(secret) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret(path) == secret
    path.chmod(0o644)
    with pytest.raises(Exception, match="chmod 600"):
        load_or_create_secret(path)


def test_a_fragment_renders_with_the_page_filters() -> None:
    pages = Pages()
    text = pages.render_fragment(
        "{{ d | jdate }} · {{ d | jdate('short') }} · {{ m | jdate(time=false) }} · "
        "{{ n | digits }}",
        locale=FA,
        d="1995-04-12",
        m="2025-03-20T21:00:00Z",
        n=42,
    )
    assert text == "۲۳ فروردین ۱۳۷۴ · ۱۳۷۴/۰۱/۲۳ · ۱ فروردین ۱۴۰۴ · ۴۲"
