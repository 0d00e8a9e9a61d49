"""A real SMTP server for the tests (aiosmtpd on a free port) and the mailbox it fills: the
identity provider's e-mailed codes and the window's notices arrive here."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from support import free_port


class Mailbox:
    """An aiosmtpd handler keeping every message it receives, parsed with the modern policy
    (headers decoded, parts found by type)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.arrived:
            parsed = message_from_bytes(envelope.content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, to: str, *, after: int, seconds: float = 15) -> EmailMessage:
        """The first message to ``to`` among those after the first ``after``."""
        deadline = time.monotonic() + seconds
        with self.arrived:
            while True:
                for message in self.messages[after:]:
                    if message["To"] == to:
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no e-mail to {to} within {seconds} s")
                self.arrived.wait(left)


@dataclass
class SmtpServer:
    controller: Controller
    mailbox: Mailbox
    port: int


def start_smtp() -> SmtpServer:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    return SmtpServer(controller, mailbox, port)
