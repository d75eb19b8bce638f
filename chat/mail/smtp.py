"""Sending one mail over SMTP with the standard library's smtplib, a blocking call the mailer
runs on a worker thread (aiosmtplib would need asyncio; this service runs on trio)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

from chat.config import Settings, SmtpSecurity

# Each socket operation of a send (connect, each command's reply) waits at most this long; the
# mailer bounds the whole send too (chat/actors/mailer.py SEND_TIMEOUT_SECONDS).
SMTP_TIMEOUT_SECONDS = 10.0


class PermanentSmtpError(Exception):
    """The server refused the mail for good (a 5xx answer): retrying would not help."""


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    security: SmtpSecurity
    username: str
    password: str  # never logged: this object has no repr of it (see __repr__)

    def __repr__(self) -> str:
        return f"SmtpServer({self.host}:{self.port}, {self.security}, user={self.username!r})"

    @classmethod
    def of(cls, settings: Settings) -> SmtpServer:
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_username,
            settings.smtp_password.get_secret_value(),
        )


def send(server: SmtpServer, msg: EmailMessage, recipients: list[str]) -> list[str]:
    """Hand `msg` to the server for `recipients`; the recipients it refused while taking the
    mail for the others (not retried: the others would get it twice). Blocking.
    PermanentSmtpError when the server refuses it for good (5xx); OSError or
    smtplib.SMTPException for anything worth retrying (a login refused too: a setting to fix)."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if server.security == "tls":
        client = smtplib.SMTP_SSL(
            server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if server.security == "starttls":
            client.starttls(context=context)
        if server.username:
            client.login(server.username, server.password)
        try:
            refused = client.send_message(msg, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentSmtpError(f"every recipient refused: {sorted(exc.recipients)}") from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                raise PermanentSmtpError(f"refused: {exc.smtp_code}") from exc
            raise
        return sorted(refused)
