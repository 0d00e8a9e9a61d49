"""Sending one-time codes: by SMS through an adapter, or by e-mail over SMTP, each in the
person's language. The adapters and the SMTP sending are ``core/notify.py``'s, shared with the
window.

The console adapter is the demo's phone: it prints one line per SMS on standard output and
nothing else anywhere, in this stable form (tests and people read it)::

    SMS to +989121234567: <the message, with the code in ASCII digits>

that is ``SMS to `` + the full E.164 number + ``: `` + the text, on one line. No other log line
of the provider carries a code."""

from __future__ import annotations

import logging
from email.message import EmailMessage

from zistboom.core.errors import DeliveryError
from zistboom.core.notify import ConsoleSms, MailServer, SmsAdapter, send_email
from zistboom.idp.codes import Delivery
from zistboom.idp.settings import IdpSettings
from zistboom.web.i18n import EN, FA, Catalogue

log = logging.getLogger("zistboom.idp.notify")


def sms_adapter(settings: IdpSettings) -> SmsAdapter:
    if settings.sms_adapter == "console":
        return ConsoleSms()
    raise AssertionError(f"no SMS adapter {settings.sms_adapter!r}")  # the settings' Literal


def mail_server(settings: IdpSettings) -> MailServer:
    return MailServer(
        settings.smtp_host,
        settings.smtp_port,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username,
        password_file=settings.smtp_password_file,
    )


class Notifier:
    """Sends a :class:`Delivery` by its channel."""

    def __init__(self, settings: IdpSettings, catalogue: Catalogue, sms: SmsAdapter) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.sms = sms

    async def send(self, delivery: Delivery) -> None:
        locale = EN if delivery.user.locale == "en" else FA
        text = self.catalogue.text(locale, "message.code", code=delivery.code)
        if delivery.channel == "sms":
            assert delivery.user.phone_number is not None
            await self.sms.send(delivery.user.phone_number, text)
            return
        assert delivery.user.email is not None
        if not self.settings.smtp_host:
            log.warning("no SMTP server is configured: an e-mailed code was not sent")
            return
        message = EmailMessage()
        message["From"] = self.settings.smtp_sender
        message["To"] = delivery.user.email
        message["Subject"] = self.catalogue.text(locale, "message.subject")
        message.set_content(
            text + "\n\n" + self.catalogue.text(locale, "message.ignore") + "\n", charset="utf-8"
        )
        try:
            await send_email(mail_server(self.settings), message)
        except DeliveryError as error:
            # The person asks for another code; the detail names the server, never the code.
            log.error("the e-mailed code could not be sent: %s", error.detail)
