"""Applying once, end to end over real processes and real HTTP (the apply world: central, four
gateways, two registries of two agencies, the documents hub, the identity provider, the
window), on SQLite and PostgreSQL:

- a person signs in, asks for a service whose data comes from two registries, sees what will
  be read and why, asks for it, sees the preview with sources and times, uses one item and
  declines another (then types it), shares a document from their locker, fills the form with
  one error corrected, submits and gets the tracking code; the task reaches the tax
  administration's inbox as a reliable message carrying the application, the consented data
  with its sources, what was typed, and the share, which the agency fetches; the timeline
  shows the task received;
- another person cannot see or act on that application (direct URLs);
- killing the window right after the tracking code is shown loses nothing: the task is handed
  over after a restart."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import httpx
import pytest

from window.apply_world import ApplyWorld, Resident
from window.applying import NAME_FA, Journey
from window.inboxes import acknowledge, inbox, wait_for_task
from window.walk import Browser, sign_in
from zistboom.core.persian import normalize_digits

pytestmark = pytest.mark.timeout(900)


def signed_in(world: ApplyWorld, resident: Resident) -> Browser:
    browser = Browser()
    mark = len(world.provider.output)
    sign_in(browser, world.window.url, resident.national_code,
            lambda: world.sms_code(resident.person, mark))  # fmt: skip
    return browser


ROW = re.compile(
    r'<th scope="row">([^<]+)</th>\s*<td dir="auto">([^<]*)</td>\s*<td><fieldset.*?'
    r'name="item-(\d+)"',
    re.S,
)
TRACKING = re.compile(r'data-tracking-code="([0-9]{21})"')


def apply_until_submitted(journey: Journey, browser: Browser) -> tuple[str, str]:
    """The whole way through the pages; the application's URL and its tracking code."""
    world = journey.world
    service = browser.get(world.window.url + journey.service_path)
    request = browser.submit(service, journey.service_path + "/apply")
    assert request.status_code == 200, (time.sleep(2), "".join(world.window.output[-60:]))[1]
    application_url = str(request.url)
    text = request.text
    for expected in (
        world.persons_service,
        world.taxpayers_service,
        "متقاضی شناسایی می‌شود.",
        "بدهی قطعی شما بررسی می‌شود.",
        "سازمان امور مالیاتی کشور",
    ):
        assert expected in text, expected
    action = application_url.removeprefix(world.window.url)
    preview = browser.submit(request, f"{action}/request", choice="fetch")
    assert preview.status_code == 200, preview.text[:2000]
    rows = {label: (value, item) for label, value, item in ROW.findall(preview.text)}
    resident = world.person
    assert rows["نام"][0] == resident.record["given_name_fa"]
    assert rows["شناسهٔ مودی"][0] == resident.national_code
    assert preview.text.count("خوانده‌شده در") == 2  # each source with its time
    choices = {f"item-{item}": "confirmed" for _, item in rows.values()}
    choices[f"item-{rows['نام'][1]}"] = "declined"
    documents = browser.submit(preview, f"{action}/choices", **choices)
    assert "کیف اسناد" in documents.text, documents.text[:2000]
    form_page = browser.submit(documents, f"{action}/documents")
    assert 'name="f-purpose"' in form_page.text, form_page.text[:2000]
    declined = f"item-{rows['نام'][1]}"
    assert f'name="{declined}"' in form_page.text  # the declined item, to type
    refused = browser.submit(form_page, f"{action}/submit", **{
        declined: "نرگس‌خانم", "f-purpose": "وام مسکن از بانک ملی برای خرید آپارتمان در کاشان",
        "f-copies": "2"})  # fmt: skip
    assert refused.status_code == 422
    assert "این مقدار بیش از ۴۰ نویسه است." in refused.text
    done = browser.submit(refused, f"{action}/submit", **{
        declined: "نرگس‌خانم", "f-purpose": "وام مسکن", "f-copies": "2"})  # fmt: skip
    assert done.status_code == 200, done.text[:2000]
    assert "درخواست شما ثبت شد" in done.text
    [code] = TRACKING.findall(done.text)
    return application_url, code


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", normalize_digits(text))


def _wait_in_output(world: ApplyWorld, code: str, seconds: float = 30) -> bool:
    """Whether the window logged the console SMS line with ``code`` (within ``seconds``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any("SMS to " in line and code in line for line in list(world.window.output)):
            return True
        time.sleep(0.3)
    return False


def wait_for_text(browser: Browser, url: str, text: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while True:
        page = browser.get(url)
        if text in page.text:
            return page.text
        assert time.monotonic() < deadline, f"{text!r} never showed on {url}"
        time.sleep(0.5)


def test_apply_once_and_the_task_reaches_the_agency(journey: Journey) -> None:
    world = journey.world
    browser = signed_in(world, world.person)
    try:
        mails = len(journey.smtp.mailbox.messages)
        application_url, code = apply_until_submitted(journey, browser)
        mail = journey.smtp.mailbox.wait_for(world.person.person.email, after=mails, seconds=60)
        assert code in _digits(mail.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        assert _wait_in_output(world, code), "no SMS line carried the tracking code"
        message = wait_for_task(world, world.tax, code)
        task = message["task"]
        assert task["task"]["step"] == "review"
        assert task["application"]["applicant"] == world.person.subject
        data = {entry["field"]: entry for entry in task["data"]}
        assert data["given_name_fa"]["self_declared"] is True
        assert data["given_name_fa"]["value"] == "نرگس‌خانم"
        assert data["family_name_fa"]["source"]["agency"] == world.civil
        assert data["status"]["source"]["agency"] == world.tax
        assert data["family_name_fa"]["source"]["message_id"]
        assert task["form"] == {"purpose": "وام مسکن", "copies": 2}
        [share] = task["shares"]
        fetched = world.fetch_share(f"{world.tax}/inbox", share["share_id"],
                                    purpose=task["application"]["purpose"])  # fmt: skip
        assert fetched.status_code == 200, fetched.text
        assert fetched.json()["document"]["id"] == world.document_id
        page = wait_for_text(browser, application_url, "درخواست را دریافت کرد")
        assert NAME_FA in page
        assert world.civil not in {
            m["task"]["task"]["agency"]
            for m in inbox(world, world.civil)
            if m["task"]["application"]["tracking_code"] == code
        }
        acknowledge(world, world.tax, message["id"])
        wait_for_text(browser, application_url, "درخواست به سامانهٔ")
        reads = {data[f]["source"]["message_id"] for f in ("family_name_fa", "status")}
        check_the_tracker(browser, journey, task["application"]["purpose"], reads, share)
    finally:
        browser.close()


ENTRY = re.compile(r'<tr class="tracker-entry" data-message-id="([^"]*)">(.*?)</tr>', re.S)


def check_the_tracker(
    browser: Browser, journey: Journey, purpose: str, reads: set[str], share: dict[str, str]
) -> None:
    """The data tracker lists, for the application's purpose, both registry reads (the
    window's log and each registry's usage log, read through the exchange, agreeing on the
    message id), the share to the tax administration and its fetch through the tax
    administration's gateway."""
    world = journey.world
    page = browser.get(f"{world.window.url}/me/data-tracker?"
                       + urlencode({"purpose": purpose, "lang": "en"}))  # fmt: skip
    assert page.status_code == 200, page.text
    # The catalogue's seed names the demo's registries too, which this world does not run: the
    # tracker says so of them, and of none of the world's own.
    unreadable = re.findall(r'Could not be read: .*? <span dir="ltr" class="ltr">([^<]+)</span>',
                            page.text)  # fmt: skip
    assert f"{world.civil}/registry" not in unreadable, unreadable
    assert f"{world.tax}/registry" not in unreadable, unreadable
    entries = ENTRY.findall(page.text)
    by_id = {message_id: row for message_id, row in entries if message_id}
    for message_id in reads:
        row = by_id[message_id]
        assert "the registry&#39;s log" in row and "the window&#39;s log" in row, row
        assert purpose in row
    registries = [row for _, row in entries if "the registry&#39;s log" in row]
    assert {world.persons_service in r or world.taxpayers_service in r for r in registries} == {
        True
    }
    assert len(registries) == 2, entries
    shared = [row for _, row in entries if "Document shared:" in row]
    fetched = [row for _, row in entries if "Document fetched:" in row]
    assert len(shared) == 1 and len(fetched) == 1, entries
    assert "Iranian National Tax Administration" in fetched[0], fetched[0]
    assert purpose in shared[0] and purpose in fetched[0]
    assert share["purpose"] == purpose


def test_nobody_reaches_anothers_application(journey: Journey) -> None:
    world = journey.world
    owner = signed_in(world, world.person)
    other = signed_in(world, world.other_person)
    try:
        service = owner.get(world.window.url + journey.service_path)
        draft = owner.submit(service, journey.service_path + "/apply")
        path = str(draft.url).removeprefix(world.window.url)
        assert other.get(world.window.url + path).status_code == 404
        assert path not in other.get(world.window.url + "/applications").text
        for action in ("request", "choices", "abandon"):
            answer = other.http.post(
                f"{world.window.url}{path}/{action}",
                data={"csrf_token": _token(other, world), "choice": "fetch"},
            )
            assert answer.status_code == 404, (action, answer.status_code)
        assert owner.get(world.window.url + path).status_code == 200
        # The same through the person's JSON API, with each one's session.
        application_id = path.removeprefix("/applications/")
        api = f"{world.window.url}/api/v1/me/applications"
        own = owner.http.get(f"{api}/{application_id}")
        assert own.status_code == 200, own.text
        assert own.json()["id"] == application_id and own.json()["state"] == "draft"
        assert application_id in {a["id"] for a in owner.http.get(api).json()}
        refused = other.http.get(f"{api}/{application_id}")
        assert refused.status_code == 404, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert world.person.subject not in refused.text and "draft" not in refused.text
        assert application_id not in {a["id"] for a in other.http.get(api).json()}
        consents = other.http.get(f"{world.window.url}/api/v1/me/consents")
        assert consents.status_code == 200
        assert world.person.subject not in consents.text
        anonymous = httpx.get(f"{api}/{application_id}")
        assert anonymous.status_code == 401, anonymous.text
    finally:
        owner.close()
        other.close()


def _token(browser: Browser, world: ApplyWorld) -> str:
    page = browser.get(world.window.url + "/track")
    [token] = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[:1]
    return token


def test_killing_the_window_after_the_tracking_code_loses_nothing(journey: Journey) -> None:
    world = journey.world
    window = world.window
    # The hand-over worker's next round an hour away: the task is still only in the window's
    # database when the window is killed.
    window.stop()
    window.env["ZB_HANDOVER_POLL_SECONDS"] = "3600"
    window.start()
    browser = signed_in(world, world.person)
    try:
        application_url, code = apply_until_submitted(journey, browser)
        assert "در نوبت فرستادن" in browser.get(application_url).text
        assert window.process is not None
        window.process.kill()
        window.process.wait(timeout=20)
        assert code not in str(inbox(world, world.tax))
        window.env["ZB_HANDOVER_POLL_SECONDS"] = "1"
        window.start()
        message = wait_for_task(world, world.tax, code)
        assert message["task"]["application"]["tracking_code"] == code
        assert len([m for m in inbox(world, world.tax)
                    if m["task"]["application"]["tracking_code"] == code]) == 1  # fmt: skip
    finally:
        browser.close()
