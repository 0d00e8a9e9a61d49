"""Handing a message to a person's phone or mailbox, for every component that writes to people
(the identity provider's one-time codes, the window's notices): SMS through an adapter
(:class:`SmsAdapter`, so that a real SMS gateway can be added beside the development ones), and
e-mail over SMTP (aiosmtplib) to a :class:`MailServer`.

The development adapters are the demo's phone. Each SMS becomes one line, in this stable form
(tests and people read it)::

    SMS to +989121234567: <the text, on one line>

that is ``SMS to `` + the full E.164 number + ``: `` + the text with its whitespace folded.
:class:`ConsoleSms` prints it on standard output (the identity provider's); :class:`LoggedSms`
writes it as the message of one INFO record of a logger (the window's JSON log)."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib

from zistboom.core.errors import DeliveryError

SMTP_TIMEOUT_SECONDS = 30.0


class SmsAdapter(Protocol):
    """Sends one text message to a mobile number (E.164); a :class:`DeliveryError` when it
    cannot."""

    async def send(self, phone_number: str, text: str) -> None: ...


def sms_line(phone_number: str, text: str) -> str:
    """The one line a development adapter writes for an SMS (see the module's docstring)."""
    return f"SMS to {phone_number}: {' '.join(text.split())}"


class ConsoleSms:
    """Prints each SMS as one line on standard output."""

    async def send(self, phone_number: str, text: str) -> None:
        sys.stdout.write(sms_line(phone_number, text) + "\n")
        sys.stdout.flush()


class LoggedSms:
    """Writes each SMS as one INFO record of ``logger``, its message the SMS line."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    async def send(self, phone_number: str, text: str) -> None:
        self.logger.info("%s", sms_line(phone_number, text))


class NoSms:
    """Sends nothing: for a deployment without an SMS gateway."""

    async def send(self, phone_number: str, text: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class MailServer:
    """Where e-mail is handed on: an SMTP server, with STARTTLS and a login when it asks."""

    host: str
    port: int = 25
    starttls: bool = False
    username: str = ""
    password_file: str = ""
    """A file (0600) holding the password; read at each sending, so a new one needs no
    restart."""
    timeout_seconds: float = SMTP_TIMEOUT_SECONDS

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def password(self) -> str | None:
        if not self.password_file:
            return None
        try:
            return Path(self.password_file).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise DeliveryError(
                f"the password file {self.password_file} of the SMTP server {self.address} "
                f"cannot be read ({type(error).__name__}): e-mail is not sent until it can"
            ) from error


async def send_email(server: MailServer, message: EmailMessage) -> None:
    """Hand ``message`` to ``server``; a :class:`DeliveryError` naming the server and what went
    wrong (never the recipient: the error may be logged) when it is not accepted."""
    try:
        await aiosmtplib.send(
            message,
            hostname=server.host,
            port=server.port,
            start_tls=server.starttls,
            username=server.username or None,
            password=server.password(),
            timeout=server.timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = sorted({refused.code for refused in error.recipients})
        raise DeliveryError(
            f"the SMTP server {server.address} refused the recipient "
            f"({', '.join(map(str, codes))})",
            permanent=all(code >= 500 for code in codes),
        ) from error
    except aiosmtplib.SMTPResponseException as error:
        raise DeliveryError(
            f"the SMTP server {server.address} answered {error.code} "
            f"({type(error).__name__}): the e-mail was not accepted",
            permanent=error.code >= 500,
        ) from error
    except (aiosmtplib.SMTPException, OSError) as error:
        raise DeliveryError(
            f"the SMTP server {server.address} could not be reached or dropped the connection "
            f"({type(error).__name__}: {error})"
        ) from error
