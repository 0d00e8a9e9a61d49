"""The window's notices: every kind written in Persian and English from the catalogues, an SMS
that tells nothing but the tracking code, service and status, e-mails that arrive at a real
SMTP server (aiosmtpd), the console SMS line in the window's log, and a server that is down or
refuses named in the error the outbox gets."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from mail_server import SmtpServer, start_smtp
from support import free_port
from zistboom.core.errors import ConfigurationError, ValidationError
from zistboom.core.persian import to_persian_digits
from zistboom.web.i18n import EN, FA, Catalogue
from zistboom.window.notices import (
    NoticeFacts,
    NoticeKind,
    NoticeNotSent,
    NoticeRenderer,
    NoticeSender,
    render_notice,
)
from zistboom.window.notices.render import MESSAGE_SOURCES
from zistboom.window.notices.sender import SMS_LOGGER
from zistboom.window.settings import WindowSettings
from zistboom.window.tracking import format_tracking_code, normalise_tracking_code

CODE = "123456789012345678901"
PHONE = "+989121234567"
# 21:00 UTC on 20 March 2025 is 00:30 on 1 Farvardin 1404 in Tehran (UTC+03:30).
AT = datetime(2025, 3, 20, 21, 0, tzinfo=UTC)
FACTS = NoticeFacts(
    tracking_code=CODE,
    service_name_fa="صدور گذرنامه",
    service_name_en="Passport issue",
    agency_name_fa="پلیس گذرنامه",
    agency_name_en="Passport Police",
    status="in-progress",
    at=AT,
    link="http://127.0.0.1:8098/applications/42",
    reasons=("Photo <missing>",),
)
STATUS_OF = {NoticeKind.DECIDED: "approved", NoticeKind.SUBMITTED: "submitted"}


@pytest.fixture(scope="module")
def renderer() -> NoticeRenderer:
    return NoticeRenderer()


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = start_smtp()
    try:
        yield server
    finally:
        server.controller.stop()


def window_settings(tmp_path: Path, **values: Any) -> WindowSettings:
    return WindowSettings(data_dir=tmp_path, **values)


def text_and_html(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None, message
    return str(text.get_content()), str(html.get_content())


# --- rendering -------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["fa", "en"])
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_renders_in_both_languages(
    renderer: NoticeRenderer, kind: NoticeKind, locale: str
) -> None:
    facts = replace(FACTS, status=STATUS_OF.get(kind, "in-progress"))
    notice = renderer.render(kind, locale, facts)
    shown_code = format_tracking_code(CODE)
    if locale == "fa":
        shown_code = to_persian_digits(shown_code)
    service = facts.service_name_fa if locale == "fa" else facts.service_name_en
    agency = facts.agency_name_fa if locale == "fa" else facts.agency_name_en
    assert notice.locale == locale
    assert shown_code in notice.subject
    for part in (shown_code, service, agency, facts.link, "Photo <missing>"):
        assert part in notice.text, (part, notice.text)
    assert "{" not in notice.text + notice.subject + notice.sms  # every placeholder filled
    assert f'lang="{locale}"' in notice.html
    assert 'dir="rtl"' in notice.html if locale == "fa" else 'dir="ltr"' in notice.html
    assert "Photo &lt;missing&gt;" in notice.html  # the agency's note is escaped
    # The SMS: the code in ASCII digits, the service, and nothing else of the person's.
    assert CODE in notice.sms and service in notice.sms
    for private in (agency, facts.link, "Photo"):
        assert private not in notice.sms


@pytest.mark.parametrize("locale", [FA, EN])
def test_every_status_has_its_words(renderer: NoticeRenderer, locale: Any) -> None:
    assert {"submitted", "approved", "rejected", "in-progress"} <= renderer.statuses
    shown = set()
    for status in sorted(renderer.statuses):
        notice = renderer.render(
            NoticeKind.STATUS_CHANGED, locale.code, replace(FACTS, status=status)
        )
        words = renderer.catalogue.text(locale, f"notice.status.{status}")
        assert words in notice.subject and words in notice.sms
        shown.add(words)
    assert len(shown) == len(renderer.statuses)  # no two statuses read alike


def test_a_persian_notice_shows_the_jalali_date_in_persian_digits(
    renderer: NoticeRenderer,
) -> None:
    notice = renderer.render(NoticeKind.SUBMITTED, "fa", replace(FACTS, status="submitted"))
    assert "۱ فروردین ۱۴۰۴" in notice.text and "۰۰:۳۰" in notice.text
    assert "2025" not in notice.text
    english = renderer.render(NoticeKind.SUBMITTED, "en", replace(FACTS, status="submitted"))
    assert "21 March 2025" in english.text and "00:30" in english.text


def test_render_notice_loads_the_catalogues_itself() -> None:
    notice = render_notice(NoticeKind.ANSWERED, "en", FACTS)
    assert "Passport Police" in notice.text


@pytest.mark.parametrize(
    ("kind", "locale", "changes", "said"),
    [
        (NoticeKind.STATUS_CHANGED, "fa", {"status": "lost"}, "no notice status 'lost'"),
        (NoticeKind.DECIDED, "fa", {"status": "in-progress"}, "approved or rejected"),
        (NoticeKind.SUBMITTED, "de", {}, "fa or en"),
    ],
)
def test_a_notice_that_cannot_be_written_is_refused_saying_why(
    renderer: NoticeRenderer, kind: NoticeKind, locale: str, changes: dict[str, Any], said: str
) -> None:
    with pytest.raises(ValidationError, match=said):
        renderer.render(kind, locale, replace(FACTS, **changes))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tracking_code": CODE[:-1] + "2"}, "tracking_code"),
        ({"at": datetime(2025, 3, 20, 21, 0)}, "moment"),
        ({"link": "javascript:alert(1)"}, "link"),
    ],
)
def test_facts_that_do_not_hold_are_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        replace(FACTS, **changes)
    assert refused.value.field == field


def test_an_sms_line_asking_for_more_than_code_service_and_status_is_refused() -> None:
    """The SMS limit is the renderer's, not the catalogue's good manners."""
    loaded = Catalogue.merged(MESSAGE_SOURCES)
    messages = {
        locale.code: {key: loaded.text(locale, key) for key in sorted(loaded.keys())}
        for locale in (FA, EN)
    }
    for locale in ("fa", "en"):
        messages[locale]["notice.kind.answered.sms"] = "{tracking_code} {agency} {link}"
    leaky = NoticeRenderer(Catalogue(messages))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match=r"notice\.kind\.answered\.sms"):
        leaky.render(NoticeKind.ANSWERED, "en", FACTS)


# --- sending ---------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["fa", "en"])
async def test_an_email_notice_arrives_in_the_persons_language(
    renderer: NoticeRenderer, smtp: SmtpServer, tmp_path: Path, locale: str
) -> None:
    settings = window_settings(
        tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port, mail_from="no-reply@window.test"
    )
    to = f"person-{locale}@example.org"
    notice = renderer.render(NoticeKind.SUBMITTED, locale, replace(FACTS, status="submitted"))
    mark = len(smtp.mailbox.messages)
    await NoticeSender(settings).send_email(to, notice)
    mail = smtp.mailbox.wait_for(to, after=mark)
    text, html = text_and_html(mail)
    assert mail["From"] == "no-reply@window.test"
    # A long subject is folded onto the next line; unfolded, it keeps the fold's space.
    assert mail["Subject"].strip() == notice.subject
    assert mail["Content-Language"] == locale
    assert mail["Message-ID"].endswith("@window.test>")
    found = re.search(r"[0-9۰-۹][0-9۰-۹-]{20,}[0-9۰-۹]", text)
    assert found is not None and normalise_tracking_code(found.group()) == CODE
    if locale == "fa":
        assert mail["Subject"].strip().startswith("درخواست شما ثبت شد")
        assert "۱ فروردین ۱۴۰۴" in text
        assert 'dir="rtl"' in html
    else:
        assert mail["Subject"].strip().startswith("Your application is submitted")
        assert "21 March 2025" in text
    assert FACTS.link in html


async def test_the_console_sms_is_one_line_in_the_windows_log(
    renderer: NoticeRenderer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notice = renderer.render(NoticeKind.DECIDED, "fa", replace(FACTS, status="rejected"))
    caplog.set_level(logging.INFO, logger=SMS_LOGGER)
    await NoticeSender(window_settings(tmp_path, sms_adapter="console")).send_sms(PHONE, notice)
    lines = [r.getMessage() for r in caplog.records if r.name == SMS_LOGGER]
    assert lines == [f"SMS to {PHONE}: {notice.sms}"]
    assert caplog.records[-1].levelno == logging.INFO
    assert lines[0].startswith(f"SMS to {PHONE}: درخواست {CODE} (صدور گذرنامه): ردشده")


async def test_with_no_sms_adapter_nothing_is_written(
    renderer: NoticeRenderer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    notice = renderer.render(NoticeKind.ANSWERED, "en", FACTS)
    await NoticeSender(window_settings(tmp_path, sms_adapter="none")).send_sms(PHONE, notice)
    assert not [r for r in caplog.records if PHONE in r.getMessage()]


def test_an_unknown_sms_adapter_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="'carrier-pigeon'"):
        NoticeSender(window_settings(tmp_path, sms_adapter="carrier-pigeon"))


async def test_an_smtp_server_that_is_down_is_named(
    renderer: NoticeRenderer, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there
    settings = window_settings(tmp_path, smtp_host="127.0.0.1", smtp_port=port)
    notice = renderer.render(NoticeKind.ANSWERED, "en", FACTS)
    with pytest.raises(NoticeNotSent) as failed:
        await NoticeSender(settings).send_email("person@example.org", notice)
    assert f"127.0.0.1:{port}" in failed.value.detail
    assert "person@example.org" not in failed.value.detail
    assert failed.value.channel == "email" and not failed.value.permanent


async def test_without_an_smtp_server_the_notice_is_kept_unsent(
    renderer: NoticeRenderer, tmp_path: Path
) -> None:
    notice = renderer.render(NoticeKind.ANSWERED, "en", FACTS)
    with pytest.raises(NoticeNotSent, match="smtp_host") as failed:
        await NoticeSender(window_settings(tmp_path, smtp_host="")).send_email("a@b.org", notice)
    assert not failed.value.permanent


class RefusingMailbox:
    """An SMTP server that knows no recipient (550)."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "550 5.1.1 no such mailbox"


@pytest.fixture
def refusing_smtp() -> Iterator[int]:
    port = free_port()
    controller = Controller(RefusingMailbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


async def test_a_refused_recipient_is_permanent_and_not_named(
    renderer: NoticeRenderer, tmp_path: Path, refusing_smtp: int
) -> None:
    settings = window_settings(tmp_path, smtp_host="127.0.0.1", smtp_port=refusing_smtp)
    notice = renderer.render(NoticeKind.ANSWERED, "fa", FACTS)
    with pytest.raises(NoticeNotSent) as failed:
        await NoticeSender(settings).send_email("nobody@example.org", notice)
    assert f"127.0.0.1:{refusing_smtp}" in failed.value.detail and "550" in failed.value.detail
    assert "nobody@example.org" not in failed.value.detail
    assert failed.value.permanent
