"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and a mailer that only records.

* ``SmtpInbox`` / the ``smtp_server`` fixture: aiosmtpd's ``Controller`` on a free 127.0.0.1 port in its own thread;
  ``inbox.messages`` are the parsed messages with their envelope recipients, ``inbox.code_for(address)`` the latest
  one-time code mailed to ``address`` (RET-4 step-up).
* ``RecordingMailer``: the default mailer of ``tests.support.store.make_service``, so no test writes to ``var/outbox``.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

CODE_IN_MAIL = re.compile(r"\b(\d{6})\b")


def code_in(message: EmailMessage) -> str | None:
    match = CODE_IN_MAIL.search(message.get_content())
    return match.group(1) if match else None


@dataclass
class RecordingMailer:
    sender: str = "support@test.example"
    sent: list = field(default_factory=list)

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)

    def code_for(self, address: str) -> str | None:
        found = [code_in(m) for m in self.sent if m["To"] == address]
        return found[-1] if found else None


@dataclass
class Received:
    envelope_from: str
    recipients: list
    message: EmailMessage


class _Handler:
    def __init__(self, inbox: SmtpInbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.inbox.lock:
            self.inbox.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class SmtpInbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.host = "127.0.0.1"
        self.port = _free_port()

    def code_for(self, address: str) -> str | None:
        with self.lock:
            found = [code_in(r.message) for r in self.messages if address in r.recipients]
        return found[-1] if found else None

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.messages if address in r.recipients]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_smtp() -> Iterator[SmtpInbox]:
    """aiosmtpd on a free loopback port for the duration of the block."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    controller = Controller(_Handler(inbox), hostname=inbox.host, port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpInbox]:
    with running_smtp() as inbox:
        yield inbox
