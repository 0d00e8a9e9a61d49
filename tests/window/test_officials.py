"""Officials and their roles at the window, through its real pages and API (``world.py``): the
operator appoints an agency's first admin (once), the admin grants and revokes roles at their
agency, every change is audited; an official of agency A cannot open agency B's pages, even by
their URL, a role grant by a non-admin is refused, and a form without its CSRF token is refused.
On SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from window.walk import Browser, form, sign_in
from window.world import World, window_world
from zistboom.core.iran import generate_legal_entity_id
from zistboom.window.app import CSRF_COOKIE

pytestmark = pytest.mark.timeout(600)
rng = random.Random(11)


@dataclass
class Agencies:
    world: World
    a: str
    b: str

    def path(self, member_id: str, tail: str = "") -> str:
        _, member_class, code = member_id.split("/")
        return f"{self.world.window.url}/officials/{member_class}/{code}{tail}"


@pytest.fixture(scope="module")
def agencies(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Agencies]:
    with window_world(tmp_path_factory.mktemp("window-officials"), backend_database) as world:
        instance = world.exchange.operator.split("/")[0]
        a = f"{instance}/GOV/{generate_legal_entity_id(rng)}"
        b = f"{instance}/GOV/{generate_legal_entity_id(rng)}"
        with world.window.operator() as operator:
            for member, name in ((a, "Agency A"), (b, "Agency B")):
                added = operator.post(
                    "/api/v1/agencies",
                    json={"member_id": member, "name_fa": f"دستگاه {name[-1]}", "name_en": name},
                )
                assert added.status_code == 201, added.text
        yield Agencies(world, a, b)


def browser_of(world: World, index: int) -> Browser:
    browser = Browser()
    person = world.people[index]
    mark = len(world.provider.output)
    page = sign_in(
        browser, world.window.url, person.national_code, lambda: world.sms_code(person, mark)
    )
    if page.url.path == "/me/names":
        browser.submit(page, "/me/names", choice="decline")
    return browser


def test_roles_are_appointed_granted_revoked_and_audited_within_an_agency(
    agencies: Agencies,
) -> None:
    world = agencies.world
    admin, clerk = world.people[0], world.people[1]
    with world.window.operator() as operator:
        appointed = operator.post(
            f"/api/v1/agencies/{agencies.a}/first-admin",
            json={"subject": admin.subject, "request_reference": "letter 1404/123"},
        )
        assert appointed.status_code == 201, appointed.text
        again = operator.post(
            f"/api/v1/agencies/{agencies.a}/first-admin",
            json={"subject": clerk.subject, "request_reference": "letter 1404/124"},
        )
        assert again.status_code == 409, again.text
        assert again.headers["content-type"].startswith("application/problem+json")
        unknown = operator.post(
            f"/api/v1/agencies/{agencies.a[:-1]}9/first-admin",
            json={"subject": clerk.subject, "request_reference": "x"},
        )
        assert unknown.status_code in (404, 422), unknown.text
    anonymous = httpx.post(
        f"{world.window.url}/api/v1/agencies/{agencies.a}/first-admin",
        json={"subject": clerk.subject, "request_reference": "x"},
    )
    assert anonymous.status_code == 401

    browser = browser_of(world, 0)
    try:
        desk = browser.get(agencies.path(agencies.a))
        assert desk.status_code == 200
        roles = browser.get(agencies.path(agencies.a, "/roles"))
        assert roles.status_code == 200, roles.text
        granted = browser.submit(
            roles, agencies.path(agencies.a, "/roles").split(world.window.url)[1],
            subject="IR" + clerk.national_code, role="clerk",
        )  # fmt: skip
        assert granted.status_code == 200, granted.text
        assert clerk.subject in granted.text
        # A bad national code is refused beside the form, nothing granted.
        bad = browser.submit(
            granted, agencies.path(agencies.a, "/roles").split(world.window.url)[1],
            subject="1234567890", role="approver",
        )  # fmt: skip
        assert bad.status_code == 422
        with world.window.operator() as operator:
            held = operator.get(f"/api/v1/agencies/{agencies.a}/roles").json()
        assert sorted((g["subject"], g["role"]) for g in held) == sorted(
            [(admin.subject, "agency-admin"), (clerk.subject, "clerk")]
        )
        clerk_grant = next(g for g in held if g["role"] == "clerk")
        revoked = browser.submit(
            granted, f"/officials/{agencies.a.split('/', 1)[1]}/roles/{clerk_grant['id']}/revoke"
        )
        assert revoked.status_code == 200
        # The last admin cannot be revoked.
        admin_grant = next(g for g in held if g["role"] == "agency-admin")
        last = browser.submit(
            revoked, f"/officials/{agencies.a.split('/', 1)[1]}/roles/{admin_grant['id']}/revoke"
        )
        assert last.status_code == 409
        trail = browser.get(agencies.path(agencies.a, "/roles"))
        for subject in (clerk.subject, admin.subject):
            assert subject in trail.text
        assert trail.text.count("<li>") >= 3  # appointment, grant, revocation
    finally:
        browser.close()


def test_an_official_of_one_agency_cannot_see_or_change_another(agencies: Agencies) -> None:
    world = agencies.world
    official = world.people[3]
    with world.window.operator() as operator:
        appointed = operator.post(
            f"/api/v1/agencies/{agencies.b}/first-admin",
            json={"subject": official.subject, "request_reference": "letter B-1"},
        )
        assert appointed.status_code == 201, appointed.text
    outsider = world.people[1]  # holds no role at B (nor, now, at A)
    browser = browser_of(world, 1)
    try:
        for tail in ("", "/roles"):
            page = browser.get(agencies.path(agencies.b, tail))
            assert page.status_code == 403, (tail, page.status_code)
            assert "دسترسی ندارید" in page.text
        # A grant posted straight to B's form (with a genuine CSRF token of this browser) is
        # refused by the service: only B's admins grant B's roles.
        token = browser.http.cookies.get(CSRF_COOKIE)
        assert token
        refused = browser.http.post(
            agencies.path(agencies.b, "/roles"),
            data={"csrf_token": token, "subject": outsider.subject, "role": "agency-admin"},
        )
        assert refused.status_code == 403
        with world.window.operator() as operator:
            held = operator.get(f"/api/v1/agencies/{agencies.b}/roles").json()
        assert [g["subject"] for g in held] == [official.subject]
    finally:
        browser.close()
    admin_of_b = browser_of(world, 3)
    try:
        # B's admin is no official of A: A's pages are closed to them too.
        assert admin_of_b.get(agencies.path(agencies.a)).status_code == 403
        assert admin_of_b.get(agencies.path(agencies.b, "/roles")).status_code == 200
    finally:
        admin_of_b.close()


def test_forms_without_their_csrf_token_are_refused(agencies: Agencies) -> None:
    world = agencies.world
    browser = browser_of(world, 3)
    try:
        roles = browser.get(agencies.path(agencies.b, "/roles"))
        grant_form = form(roles.text, "/roles")
        without = {k: v for k, v in grant_form.fields.items() if k != "csrf_token"}
        without.update(subject=world.people[2].subject, role="clerk")
        for url, data in (
            (agencies.path(agencies.b, "/roles"), without),
            (world.window.url + "/me/contacts", {"email": "x@example.org"}),
            (world.window.url + "/signout", {}),
        ):
            refused = browser.http.post(url, data=data)
            assert refused.status_code == 403, (url, refused.status_code)
            assert "فرم پذیرفته نشد" in refused.text
        forged = browser.http.post(
            agencies.path(agencies.b, "/roles"),
            data={**without, "csrf_token": "forged.token"},
        )
        assert forged.status_code == 403
        with world.window.operator() as operator:
            held = operator.get(f"/api/v1/agencies/{agencies.b}/roles").json()
        assert world.people[2].subject not in [g["subject"] for g in held]
        # Still signed in: the refused forms changed nothing.
        assert browser.get(world.window.url + "/me").status_code == 200
    finally:
        browser.close()
