"""The person's data tracker over real processes (``world.py``, with a tax office on its own
gateway reading the civil registry): the window's read of the person's names and the tax
office's read of their record are both listed, who/when/why, newest first, in Persian and
English, and the filter narrows them; another person sees none of them, whatever the query
says; a registry that is down is named while the page still answers. On SQLite and
PostgreSQL."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from federation import GatewayProcess
from window.walk import Browser, sign_in
from window.world import World, window_world
from zistboom.core.persian import to_jalali_iso
from zistboom.web.formatting import tehran_time
from zistboom.window import names_reading

pytestmark = pytest.mark.timeout(600)

OFFICIAL = "IR4945689199"
"""The tax office's official who reads (synthetic, with a valid check digit)."""
TAX_PURPOSE = "tax-clearance:TRK-7"


@dataclass
class TrackerWorld:
    world: World
    tax: str
    """The tax office's member id."""
    tax_gateway: GatewayProcess

    @property
    def url(self) -> str:
        return self.world.window.url + "/me/data-tracker"

    def tax_read(self, national_code: str) -> str:
        """The tax office's official reads the person's record; the exchange's message id."""
        answer = httpx.post(
            f"{self.tax_gateway.url}/r1/{self.world.exchange.persons_service}/1.0/read",
            json={"query": {"content": {"national_code": national_code}}},
            headers={
                "X-Road-Client": f"{self.tax}/services",
                "X-Road-UserId": OFFICIAL,
                "X-Road-Purpose": TAX_PURPOSE,
            },
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.headers["x-road-id"]


def wait_for(describe: str, check: Callable[[], bool], seconds: float = 30) -> None:
    """Call ``check`` until it returns true; fail at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{describe} did not happen within {seconds}s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def tracker(
    backend_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TrackerWorld]:
    with window_world(tmp_path_factory.mktemp("window-tracker"), backend_database) as world:
        ex = world.exchange
        fed = ex.federation
        window = ex.window_subsystem
        ex.civil_gateway.cli(
            "access", "grant", f"{ex.civil}/registry", "personal-data-usage", window
        )
        tax = fed.add_member("Tax office", ["services"])
        tax_gateway = fed.add_gateway("tax", tax)
        tax_gateway.cli("client", "add", f"{tax}/services")
        tax_gateway.launch()
        tax_gateway.wait_serving()
        ex.civil_gateway.cli(
            "access", "grant", f"{ex.civil}/registry", "persons", f"{tax}/services"
        )
        with world.window.operator() as operator:
            for member, fa, en in ((tax, "ادارهٔ مالیات", "Tax office"),
                                   (ex.civil, "ثبت احوال", "Civil registration")):  # fmt: skip
                added = operator.post(
                    "/api/v1/agencies", json={"member_id": member, "name_fa": fa, "name_en": en}
                )
                assert added.status_code == 201, added.text
        built = TrackerWorld(world, tax, tax_gateway)

        last: list[str] = []

        def usage_granted() -> bool:
            answer = httpx.get(
                f"{ex.gateway.url}/r1/{ex.civil}/registry/personal-data-usage/1.0",
                headers={"X-Road-Client": window, "X-Road-UserId": world.people[3].subject,
                         "X-Road-Purpose": "test"},
                timeout=30,
            )  # fmt: skip
            last[:] = [f"{answer.status_code} {answer.text[:300]}"]
            return answer.status_code == 200

        def tax_granted() -> bool:
            answer = httpx.post(
                f"{tax_gateway.url}/r1/{ex.persons_service}/1.0/read",
                json={"query": {"content": {"national_code": "0000000000"}}},
                headers={"X-Road-Client": f"{tax}/services", "X-Road-UserId": OFFICIAL,
                         "X-Road-Purpose": "test"},
                timeout=30,
            )  # fmt: skip
            last[:] = [f"{answer.status_code} {answer.text[:300]}"]
            return "X-Road-Error" not in answer.headers

        wait_for(f"the window's grant of personal-data-usage ({last})", usage_granted)
        wait_for(f"the tax office's grant of persons ({last})", tax_granted)
        yield built


def signed_in(world: World, index: int, *, names: str = "decline") -> Browser:
    """A browser signed in as person ``index``, who chose ``names`` if asked."""
    browser = Browser()
    person = world.people[index]
    mark = len(world.provider.output)
    page = sign_in(
        browser, world.window.url, person.national_code, lambda: world.sms_code(person, mark)
    )
    if urlsplit(str(page.url)).path == "/me/names":
        page = browser.submit(page, "/me/names", choice=names)
    assert urlsplit(str(page.url)).path == "/me", page.url
    return browser


ROW = re.compile(r'<tr class="tracker-entry" data-message-id="([^"]*)">(.*?)</tr>', re.S)


def rows(html: str) -> list[tuple[str, str]]:
    """The tracker's rows: (message id, the row's markup), in the page's order."""
    return [(found[1], found[2]) for found in ROW.finditer(html)]


def jalali_day(moment: datetime) -> str:
    return to_jalali_iso(tehran_time(moment).date()).replace("-", "/")


def test_the_tracker_lists_the_window_s_and_the_tax_office_s_reads_newest_first_and_filters(
    tracker: TrackerWorld,
) -> None:
    world = tracker.world
    person = world.people[0]
    browser = signed_in(world, 0, names="read")  # the window reads the names: a usage entry
    try:
        tax_message = tracker.tax_read(person.national_code)
        me = browser.get(world.window.url + "/me")
        assert 'href="/me/data-tracker"' in me.text

        page = browser.get(tracker.url)
        assert page.status_code == 200, page.text
        assert 'lang="fa" dir="rtl"' in page.text
        listed = rows(page.text)
        assert len(listed) >= 2, page.text
        (newest_id, newest), (older_id, older) = listed[0], listed[1]
        # Newest first: the tax office read after the window read the names.
        assert newest_id == tax_message
        assert "ادارهٔ مالیات" in newest and f"{tracker.tax}/services" in newest
        assert OFFICIAL in newest and TAX_PURPOSE in newest
        assert "خواندن از ثبت" in newest and world.exchange.persons_service in newest
        assert names_reading.PURPOSE in older and older_id and older_id != tax_message
        assert world.exchange.window_subsystem in older
        # When, in Jalali with Persian digits; nothing is unreadable.
        today = jalali_day(datetime.now(UTC))
        assert today.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))[:4] in newest
        assert "خوانده نشد" not in page.text

        english = browser.get(tracker.url + "?lang=en")
        assert 'lang="en" dir="ltr"' in english.text
        assert "Tax office" in english.text and "Read from a registry" in english.text
        assert [m for m, _ in rows(english.text)] == [m for m, _ in listed]

        def ids(query: str) -> list[str]:
            answer = browser.get(tracker.url + "?" + query)
            assert answer.status_code == 200, answer.text
            return [m for m, _ in rows(answer.text)]

        assert ids(f"reader={tracker.tax}") == [tax_message]
        assert ids("purpose=PROFILE-names") == [older_id]
        assert ids("kind=document-share") == []
        assert ids("kind=registry-read")[:2] == [tax_message, older_id]
        yesterday = jalali_day(datetime.now(UTC) - timedelta(days=1))
        assert ids(f"to={yesterday}") == []
        assert ids(f"from={today}&to={today}")[:2] == [tax_message, older_id]
        # The reading members are the reader filter's choices, by name.
        assert f'<option value="{tracker.tax}"' in page.text
    finally:
        browser.close()


def test_another_person_sees_only_their_own_entries(tracker: TrackerWorld) -> None:
    world = tracker.world
    first = world.people[0]
    tax_message = tracker.tax_read(first.national_code)
    own_message = tracker.tax_read(world.people[3].national_code)
    browser = signed_in(world, 3)
    try:
        # The subject is the session's: a query naming someone else changes nothing.
        for query in ("", f"?userID={first.subject}&subject={first.subject}"):
            page = browser.get(tracker.url + query)
            assert page.status_code == 200, page.text
            assert tax_message not in page.text
            assert [m for m, _ in rows(page.text)] == [own_message], page.text
        nothing = browser.get(tracker.url + "?kind=document-fetch")
        assert rows(nothing.text) == []
        assert "برای این انتخاب استفاده‌ای" in nothing.text
    finally:
        browser.close()


def test_the_tracker_is_for_the_signed_in_only(tracker: TrackerWorld) -> None:
    answer = httpx.get(tracker.url, timeout=30)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?return_to=/me/data-tracker"


def test_a_filter_that_cannot_be_read_is_named_at_its_field(tracker: TrackerWorld) -> None:
    browser = signed_in(tracker.world, 3)
    try:
        page = browser.get(tracker.url + "?from=1404/13/40&kind=teleport&lang=en")
        assert page.status_code == 422, page.text
        assert "Write the day as 1404/05/15" in page.text
        assert "Choose one of the listed kinds." in page.text
        assert 'aria-invalid="true"' in page.text
        assert 'value="1404/13/40"' in page.text
        assert rows(page.text) == []
    finally:
        browser.close()


def test_a_registry_that_is_down_is_named_while_the_page_answers(tracker: TrackerWorld) -> None:
    world = tracker.world
    ex = world.exchange
    browser = signed_in(world, 1)
    ex.registry.stop()
    try:
        page = browser.get(tracker.url)
        assert page.status_code == 200, page.text
        assert "خوانده نشد: ثبت احوال" in page.text
        assert f"{ex.civil}/registry" in page.text
        english = browser.get(tracker.url + "?lang=en")
        assert "Could not be read: Civil registration" in english.text
    finally:
        browser.close()
        ex.registry.start()
        ex.wait_until_granted()
