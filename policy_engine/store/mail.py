"""Outgoing mail: the one-time verification codes of RET-4's step-up, sent to the purchase email on file.

``mailer_from_env()`` picks the adapter from the environment:

* ``SMTP_HOST`` set: ``SmtpMailer`` (smtplib, blocking: the action server runs actions in worker threads).
  ``SMTP_PORT`` (default 25), ``SMTP_FROM`` (the sender address, required with ``SMTP_HOST``), optional
  ``SMTP_USER`` / ``SMTP_PASSWORD`` (login) and ``SMTP_STARTTLS`` (``1``/``true``/``yes``: upgrade with STARTTLS,
  certificate verified), ``SMTP_TIMEOUT`` (seconds, default 10).
* ``SMTP_HOST`` unset (the embedded default of ``make run``): ``OutboxMailer`` writes each message as an ``.eml`` file
  into ``var/outbox/`` (``MAIL_OUTBOX_DIR`` overrides), mode 0600, and logs that a message was written there, never
  the address or the code.

A mailer raises ``MailError`` when the message could not be handed on; the service logs it and answers the customer
exactly as if it had been sent (the answer must not depend on whether the email matched).
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

logger = logging.getLogger(__name__)

DEFAULT_OUTBOX = Path("var") / "outbox"
DEFAULT_SMTP_PORT = 25
DEFAULT_SMTP_TIMEOUT_S = 10.0
DEFAULT_FROM = "support@localhost"
_TRUE = {"1", "true", "yes", "on"}


class MailError(RuntimeError):
    """The message could not be handed to the mail server or written to the outbox."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


def code_message(sender: str, to: str, code: str, minutes: int) -> EmailMessage:
    """The email that carries a one-time code (RET-4 step-up)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Your Anker support verification code"
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message.set_content(
        f"Your verification code for the Anker support chat is {code}.\n\n"
        f"Type it into the chat to continue. It expires in {minutes} minutes and works once.\n\n"
        "If you did not ask for it, you can ignore this email: nobody can see your order without this code.\n"
    )
    return message


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int = DEFAULT_SMTP_PORT
    sender: str = DEFAULT_FROM
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = DEFAULT_SMTP_TIMEOUT_S

    def send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(f"SMTP delivery via {self.host}:{self.port} failed: {type(error).__name__}") from error


@dataclass(frozen=True)
class OutboxMailer:
    directory: Path = DEFAULT_OUTBOX
    sender: str = DEFAULT_FROM

    def send(self, message: EmailMessage) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
            path = self.directory / f"{stamp}-{secrets.token_hex(6)}.eml"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(message))
        except OSError as error:
            raise MailError(f"could not write to the outbox {self.directory}: {type(error).__name__}") from error
        logger.info("SMTP_HOST is not set: the message was written to %s (not sent)", path)


def mailer_from_env(env: Mapping[str, str] | None = None) -> SmtpMailer | OutboxMailer:
    env = os.environ if env is None else env
    sender = (env.get("SMTP_FROM") or "").strip()
    host = (env.get("SMTP_HOST") or "").strip()
    if not host:
        return OutboxMailer(Path(env.get("MAIL_OUTBOX_DIR") or DEFAULT_OUTBOX), sender or DEFAULT_FROM)
    if not sender:
        raise ValueError("SMTP_FROM must be set when SMTP_HOST is (the sender address of the verification codes)")
    raw_port = (env.get("SMTP_PORT") or str(DEFAULT_SMTP_PORT)).strip()
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise ValueError(f"SMTP_PORT must be a port number, got {raw_port!r}")
    try:
        timeout = float(env.get("SMTP_TIMEOUT") or DEFAULT_SMTP_TIMEOUT_S)
    except ValueError:
        raise ValueError(f"SMTP_TIMEOUT must be a number of seconds, got {env.get('SMTP_TIMEOUT')!r}") from None
    return SmtpMailer(
        host=host,
        port=int(raw_port),
        sender=sender,
        user=(env.get("SMTP_USER") or None),
        password=(env.get("SMTP_PASSWORD") or None),
        starttls=(env.get("SMTP_STARTTLS") or "").strip().lower() in _TRUE,
        timeout=timeout,
    )
