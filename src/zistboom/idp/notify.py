"""Sending one-time codes: by SMS through an adapter (:class:`SmsAdapter`, so that a real
gateway can be added beside the console one), or by e-mail over SMTP (aiosmtplib), each in the
person's language.

The console adapter is the demo's phone: it prints one line per SMS on standard output and
nothing else anywhere, in this stable form (tests and people read it)::

    SMS to +989121234567: <the message, with the code in ASCII digits>

that is ``SMS to `` + the full E.164 number + ``: `` + the text, on one line. No other log line
of the provider carries a code."""

from __future__ import annotations

import logging
import sys
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from zistboom.idp.codes import Delivery
from zistboom.idp.settings import IdpSettings
from zistboom.web.i18n import EN, FA, Catalogue

log = logging.getLogger("zistboom.idp.notify")


class SmsAdapter(Protocol):
    """Sends one text message to a mobile number (E.164)."""

    async def send(self, phone_number: str, text: str) -> None: ...


class ConsoleSms:
    """Prints each SMS as one line on standard output (see the module's docstring)."""

    async def send(self, phone_number: str, text: str) -> None:
        line = " ".join(text.split())
        sys.stdout.write(f"SMS to {phone_number}: {line}\n")
        sys.stdout.flush()


def sms_adapter(settings: IdpSettings) -> SmsAdapter:
    if settings.sms_adapter == "console":
        return ConsoleSms()
    raise AssertionError(f"no SMS adapter {settings.sms_adapter!r}")  # the settings' Literal


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
            await aiosmtplib.send(
                message,
                hostname=self.settings.smtp_host,
                port=self.settings.smtp_port,
                start_tls=self.settings.smtp_starttls,
                username=self.settings.smtp_username or None,
                password=self.settings.smtp_password(),
                timeout=30,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            log.error("the e-mailed code could not be sent: %s", type(error).__name__)
