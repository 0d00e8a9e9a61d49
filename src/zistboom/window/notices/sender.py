"""Sending a rendered notice by e-mail (the window's SMTP server) or SMS (the adapter its
settings name), through ``core/notify.py``. A notice that does not go out is a
:class:`NoticeNotSent` saying which channel and server failed and whether trying again can help,
for the caller's outbox to keep and retry; nothing is retried here."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Final, Literal

from zistboom.core.errors import ConfigurationError, DeliveryError
from zistboom.core.notify import (
    LoggedSms,
    MailServer,
    NoSms,
    SmsAdapter,
    send_email,
)
from zistboom.window.notices.render import RenderedNotice
from zistboom.window.settings import WindowSettings

Channel = Literal["email", "sms"]
SMS_LOGGER: Final = "zistboom.window.notices"
log = logging.getLogger(SMS_LOGGER)


class NoticeNotSent(DeliveryError):
    """A notice that could not be sent: ``channel`` says by what; the detail names the server
    and the reason (never the recipient), ``permanent`` whether a retry can help."""

    code = "notice-not-sent"
    title = "Notice not sent"

    def __init__(self, detail: str, *, channel: Channel, permanent: bool = False) -> None:
        super().__init__(detail, permanent=permanent)
        self.channel = channel


def sms_adapter(settings: WindowSettings) -> SmsAdapter:
    """The adapter ``sms_adapter`` names: ``console`` (the window's log) or ``none``."""
    if settings.sms_adapter == "console":
        return LoggedSms(log)
    if settings.sms_adapter == "none":
        return NoSms()
    raise ConfigurationError(
        f"sms_adapter is {settings.sms_adapter!r}; the window knows 'console' and 'none'"
    )


class NoticeSender:
    """Sends notices with the window's settings (and, when given, another SMS adapter)."""

    def __init__(self, settings: WindowSettings, *, sms: SmsAdapter | None = None) -> None:
        self.settings = settings
        self.sms = sms or sms_adapter(settings)
        self.mail_server = MailServer(
            settings.smtp_host,
            settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password_file=settings.smtp_password_file,
        )

    async def send_email(self, to: str, rendered: RenderedNotice) -> None:
        """Hand the notice to the SMTP server for ``to``, as text with an HTML alternative."""
        if not self.settings.smtp_host:
            raise NoticeNotSent(
                "no SMTP server is configured (smtp_host): the e-mail notice is kept unsent",
                channel="email",
            )
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = to
        message["Subject"] = rendered.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.settings.mail_from.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
        message.set_content(rendered.text, charset="utf-8")
        message.add_alternative(rendered.html, subtype="html", charset="utf-8")
        message["Content-Language"] = rendered.locale  # after the parts: set_content drops it
        try:
            await send_email(self.mail_server, message)
        except DeliveryError as error:
            raise NoticeNotSent(error.detail, channel="email", permanent=error.permanent) from error

    async def send_sms(self, number: str, rendered: RenderedNotice) -> None:
        """Send the notice's SMS text (the tracking code, service and status only) to
        ``number`` (E.164)."""
        try:
            await self.sms.send(number, rendered.sms)
        except DeliveryError as error:
            raise NoticeNotSent(error.detail, channel="sms", permanent=error.permanent) from error
