"""Outgoing mail: a port with file, console and SMTP implementations.

Mail is only ever sent after the transaction that caused it commits
(``uow.after_commit``), so a failed award or sign-up sends nothing.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from badger.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    def send(self, message: Message) -> None: ...


def _to_email(message: Message, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.to
    mail["Subject"] = message.subject
    # RFC 5322 requires a Date; spam filters also score a Message-ID whose
    # domain is not the sender's.
    mail["Date"] = formatdate(usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    mail["Message-ID"] = make_msgid(idstring="badger", domain=domain)
    # RFC 3834: sent by software, so vacation responders do not answer it.
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body)
    return mail


class FileMailer:
    """Writes each message as an ``.eml`` file into an outbox folder (default)."""

    def __init__(self, outbox: Path, sender: str) -> None:
        self.outbox = outbox
        self.sender = sender

    def send(self, message: Message) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4()}.eml"
        path = self.outbox / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(_to_email(message, self.sender).as_bytes())
        log.info("mail to %s written to %s", message.to, path)


class ConsoleMailer:
    """Logs messages; for development behind a terminal."""

    def __init__(self, sender: str) -> None:
        self.sender = sender

    def send(self, message: Message) -> None:
        log.warning("MAIL to=%s subject=%s\n%s", message.to, message.subject, message.body)


class SmtpMailer:
    """Sends through an SMTP server named by ``smtp://`` or ``smtps://`` URL."""

    def __init__(self, url: str, sender: str) -> None:
        self.parts = urlsplit(url)
        self.sender = sender

    def send(self, message: Message) -> None:
        parts = self.parts
        host = parts.hostname or "localhost"
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, parts.port or 465, context=ssl.create_default_context(), timeout=30
            )
        else:
            client = smtplib.SMTP(host, parts.port or 587, timeout=30)
        with client:
            if parts.scheme != "smtps":
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(_to_email(message, self.sender))


class MemoryMailer:
    """Keeps messages in a list (tests)."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        self.sent.append(message)


def make_mailer(settings: Settings) -> Mailer:
    if settings.mail_backend == "smtp":
        return SmtpMailer(settings.smtp_url, settings.mail_from)
    if settings.mail_backend == "console":
        return ConsoleMailer(settings.mail_from)
    return FileMailer(settings.instance_dir / "outbox", settings.mail_from)
