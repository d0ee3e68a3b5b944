"""German reminder e-mails and how they leave: SMTP, or a file/log sink when PRAEVCASE_SMTP_URL is unset.

An e-mail names no family and no detail: the kind of reminder, its corridor, the pseudonymous case
number and a link (config BASE_URL) that leads to the sign-in. The Message-ID is derived from the
outbox row, so a message that is sent again after a crash carries the same id.
"""
from __future__ import annotations

import fcntl
import json
import logging
import smtplib
import ssl
from collections.abc import Mapping
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from typing import Protocol
from urllib.parse import unquote
from urllib.parse import urlsplit

from flask import current_app

from praevcase.reminders.windows import TIMEZONE

log = logging.getLogger("praevcase.reminders.mail")

FOOTER = ("\n--\nDiese E-Mail enthält bewusst keine Namen und keine Einzelheiten zur Familie. "
          "Bitte melden Sie sich in praevcase an, um mehr zu sehen.\n"
          "Ob Sie Erinnerungen sofort oder einmal täglich erhalten, stellen Sie hier ein: {inbox}\n")


def _date(value: Any) -> str:
    return value.astimezone(TIMEZONE).strftime("%d.%m.%Y")


def _line(text: str, reminder: Any, base_url: str) -> str:
    case = f" – Fall {reminder.case_number}" if reminder.case_number else ""
    return (f"{text}{case}\n  fällig ab {_date(reminder.opens_dt)}, spätestens bis {_date(reminder.due_dt)}\n"
            f"  {base_url}{reminder.link_path}\n")


def compose_single(reminder: Any, text: str, base_url: str) -> tuple[str, str]:
    """Subject and body of the e-mail about one reminder."""
    case = f" – Fall {reminder.case_number}" if reminder.case_number else ""
    subject = f"Erinnerung: {text}{case}"
    body = ("Guten Tag,\n\nin praevcase liegt eine neue Erinnerung für Sie vor:\n\n"
            + _line(text, reminder, base_url) + FOOTER.format(inbox=f"{base_url}/erinnerungen"))
    return subject[:300], body


def compose_digest(items: Sequence[tuple[Any, str]], base_url: str) -> tuple[str, str]:
    """Subject and body of a daily digest of *items* (reminder, German text)."""
    count = len(items)
    subject = "praevcase: 1 neue Erinnerung" if count == 1 else f"praevcase: {count} neue Erinnerungen"
    lines = "\n".join(_line(text, r, base_url) for r, text in items)
    body = (f"Guten Tag,\n\nseit der letzten Sammel-E-Mail sind in praevcase {count} Erinnerung(en) "
            f"für Sie hinzugekommen:\n\n{lines}" + FOOTER.format(inbox=f"{base_url}/erinnerungen"))
    return subject, body


def build(message: Any, *, to: str, sender: str) -> EmailMessage:
    """The RFC 5322 message of an outbox row."""
    domain = sender.rpartition("@")[2] or "praevcase.localhost"
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(message.created_dt)
    mail["Message-ID"] = f"<{message.id}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body)
    return mail


class Transport(Protocol):
    def send(self, mail: EmailMessage) -> None: ...


class SmtpTransport:
    """smtp://user:pass@host:port (STARTTLS when offered) or smtps://… (implicit TLS)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    def send(self, mail: EmailMessage) -> None:
        context = ssl.create_default_context()
        if self.tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=30, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=30)
        with client:
            client.ehlo()
            if not self.tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if self.user:
                client.login(self.user, self.password or "")
            client.send_message(mail)


class FileSink:
    """Development sink: one JSON line per e-mail in the instance folder, and a log line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, mail: EmailMessage) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"message_id": mail["Message-ID"], "to": mail["To"], "subject": mail["Subject"],
                           "body": mail.get_content()}, ensure_ascii=False)
        with open(self.path, "a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # several processes may deliver at once
            f.write(line + "\n")
        log.info("e-mail to %s written to %s: %s", mail["To"], self.path, mail["Message-ID"])

    def messages(self) -> list[Mapping[str, str]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line]


def transport() -> Transport:
    """The configured transport: SMTP if PRAEVCASE_SMTP_URL is set, else the file sink.

    Tests may put any object with ``send(mail)`` into ``app.config["MAIL_TRANSPORT"]``.
    """
    config = current_app.config
    if config.get("MAIL_TRANSPORT") is not None:
        return config["MAIL_TRANSPORT"]
    if config.get("SMTP_URL"):
        return SmtpTransport(config["SMTP_URL"])
    return FileSink(Path(current_app.instance_path) / "mail-sink.jsonl")
