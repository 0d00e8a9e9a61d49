"""A real identity provider for the tests: ``zistboom idp init``, ``client add`` (two clients),
``user import`` (synthetic people), then ``zistboom idp serve`` on a free port, its output
collected so that a test reads the console SMS line; and a browser-like walk through the
sign-in pages with httpx. The SMTP server for its e-mailed codes is ``mail_server``'s."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from central_process import ZISTBOOM, central_env
from federation import drain, wait_http
from support import free_port
from zistboom.core.iran import generate_foreign_national_id, generate_national_code

WINDOW = "window"
OTHER = "other-service"
WINDOW_REDIRECT = "http://127.0.0.1:9/window/callback"
OTHER_REDIRECT = "http://127.0.0.1:9/other/callback"
WINDOW_LOGOUT = "http://127.0.0.1:9/window/signed-out"
SMS_LINE = re.compile(r"^SMS to (\+98\d{10}): .*?\b(\d{6})\b")


@dataclass(frozen=True)
class Person:
    subject: str
    national_code: str
    phone_number: str
    email: str
    locale: str

    def record(self) -> dict[str, Any]:
        return {
            "subject": self.subject, "given_name_fa": "زهرا", "family_name_fa": "احمدی",
            "given_name_en": "Zahra", "family_name_en": "Ahmadi", "birthdate": "1990-03-21",
            "phone_number": self.phone_number, "email": self.email, "locale": self.locale,
        }  # fmt: skip


def new_person(rng: random.Random, *, locale: str = "fa", foreign: bool = False) -> Person:
    number = generate_foreign_national_id(rng) if foreign else generate_national_code(rng)
    phone = "+989" + "".join(rng.choice("0123456789") for _ in range(9))
    prefix = "FN" if foreign else "IR"
    return Person(f"{prefix}{number}", number, phone, f"p{number}@example.org", locale)


@dataclass
class Provider:
    url: str
    data_dir: Path
    env: dict[str, str]
    secrets: dict[str, str]
    people: list[Person]
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``zistboom idp ARGS``, run as the idp's own command module (``serve`` is run as
        ``zistboom idp serve``, so the registration in the main command is used too)."""
        return subprocess.run(
            [sys.executable, "-m", "zistboom.idp.cli", *args, "--data-dir", str(self.data_dir)],
            env=self.env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def sms_code(self, phone_number: str, *, after: int, seconds: float = 15) -> str:
        """The code of the first SMS to ``phone_number`` printed after output line ``after``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for line in self.output[after:]:
                found = SMS_LINE.match(line)
                if found and found.group(1) == phone_number:
                    return found.group(2)
            time.sleep(0.05)
        raise AssertionError(f"no SMS to {phone_number}:\n" + "".join(self.output[after:]))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)


def start_provider(
    root: Path,
    database_url: str | None,
    *,
    smtp_port: int | None = None,
    extra_env: dict[str, str] | None = None,
    seed: int = 7,
    window_redirect: str = WINDOW_REDIRECT,
    window_logout: str = WINDOW_LOGOUT,
) -> Provider:
    """A provider with the clients ``window`` and ``other-service`` and four people (Persian
    and English speakers, a foreign national), serving on a free port; the window's redirect
    and sign-out addresses may be those of a real window."""
    port = free_port()
    data_dir = root / "idp"
    env = central_env(database_url, extra_env)
    rng = random.Random(seed)
    people = [new_person(rng), new_person(rng, locale="en"), new_person(rng, foreign=True),
              new_person(rng)]  # fmt: skip
    provider = Provider(f"http://127.0.0.1:{port}", data_dir, env, {}, people)
    init = ["init", "--port", str(port)]
    if smtp_port is not None:
        init += ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port)]
    _check(provider.cli(*init))
    for client_id, redirect, logout in (
        (WINDOW, window_redirect, window_logout),
        (OTHER, OTHER_REDIRECT, WINDOW_LOGOUT),
    ):
        secret_file = root / f"{client_id}.secret"
        _check(
            provider.cli(
                "client", "add", "--client-id", client_id, "--redirect-uri", redirect,
                "--post-logout-redirect-uri", logout, "--secret-file", str(secret_file),
            )
        )  # fmt: skip
        provider.secrets[client_id] = secret_file.read_text().strip()
    users = root / "users.json"
    users.write_text(json.dumps([p.record() for p in people], ensure_ascii=False))
    _check(provider.cli("user", "import", "--file", str(users)))
    provider.process = subprocess.Popen(
        [ZISTBOOM, "idp", "serve", "--data-dir", str(data_dir)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    drain(provider.process, provider.output)
    try:
        wait_http(f"{provider.url}/health", provider.process, provider.output)
    except BaseException:
        provider.stop()
        raise
    return provider


def _check(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{result.args}:\n{result.stdout}{result.stderr}"


# --- the pages, as a browser walks them -----------------------------------------------------


class FormFields(HTMLParser):
    """The named inputs of a page (the last value wins), its <html> attributes and h1s."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.html: dict[str, str | None] = {}
        self.h1 = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html = attributes
        if tag == "h1":
            self.h1 += 1
        if tag == "input" and attributes.get("name"):
            self.fields[str(attributes["name"])] = attributes.get("value") or ""


def page_of(html: str) -> FormFields:
    parser = FormFields()
    parser.feed(html)
    return parser


@dataclass
class SignIn:
    """One walk through the pages in one browser (cookies kept)."""

    provider: Provider
    browser: httpx.AsyncClient
    fields: dict[str, str] = field(default_factory=dict)

    async def open(self, authorization_url: str) -> httpx.Response:
        page = await self.browser.get(authorization_url)
        if page.status_code == 200:
            self.fields = page_of(page.text).fields
        return page

    async def identify(self, identifier: str, channel: str = "sms") -> httpx.Response:
        form = {"csrf_token": self.fields["csrf_token"], "request_id": self.fields["request_id"],
                "identifier": identifier, "channel": channel}  # fmt: skip
        return await self.browser.post(f"{self.provider.url}/authorize/identify", data=form)

    async def verify(self, code: str) -> httpx.Response:
        form = {"csrf_token": self.fields["csrf_token"], "request_id": self.fields["request_id"],
                "code": code}  # fmt: skip
        return await self.browser.post(f"{self.provider.url}/authorize/verify", data=form)

    async def code_by_sms(self, person: Person) -> str:
        """Ask for a code by SMS and read it from the provider's output."""
        mark = len(self.provider.output)
        answer = await self.identify(person.national_code)
        assert answer.status_code == 200, answer.text
        return self.provider.sms_code(person.phone_number, after=mark)


def browser() -> httpx.AsyncClient:
    return httpx.AsyncClient(follow_redirects=False, timeout=30)
