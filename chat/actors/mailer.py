"""The mailer: sends the mail of the outbox (email_outbox) over SMTP (structures.md, "Email").

Safe to run in every process at once: rows are claimed with a lease (chat/db/outbox.py), so two
mailers never send one row at once. Delivery is at least once: a process that dies between the
server taking a mail and the row being marked sent leaves the row to be claimed again when its
lease ends, and that mail goes out a second time, under the same Message-ID.

Crash policy: a failed send (server down, timeout, a 4xx answer) is retried after
retry * 2**(attempts - 1) seconds with jitter, at most MAX_RETRY_DELAY_SECONDS, and parked
(`failed_at`) after `smtp_max_attempts`; a permanent refusal (5xx, an address that is not one)
parks the row at once. PostgreSQL errors back off and the loop goes on. Anything else
propagates to the supervisor.
"""

from __future__ import annotations

import logging
import random
import smtplib
from dataclasses import dataclass
from functools import partial

import psycopg
import trio

from chat.backoff import Backoff
from chat.config import Settings
from chat.db import outbox
from chat.db.outbox import Claimed
from chat.db.pool import Database
from chat.mail.addresses import settings_reply_domain, settings_reply_key
from chat.mail.compose import MAX_REFERENCES, BadAddressError, MailFacts, Sender, compose
from chat.mail.smtp import PermanentSmtpError, SmtpServer, send

logger = logging.getLogger(__name__)

# Rows claimed in one pass. Bounded so a pass's sends end well within the lease even if every
# one of them runs into its timeout (10 x 30 s < LEASE_SECONDS).
MAX_ROWS_PER_PASS = 10
# One mail's whole SMTP session (connect, TLS, login, send); each socket operation also has
# chat.mail.smtp.SMTP_TIMEOUT_SECONDS.
SEND_TIMEOUT_SECONDS = 30.0
# How long a claimed row is its mailer's: past it another mailer may claim it again.
LEASE_SECONDS = 600.0
MAX_RETRY_DELAY_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class MailerConfig:
    server: SmtpServer
    sender: Sender
    poll_seconds: float
    retry_seconds: float
    max_attempts: int
    batch: int = MAX_ROWS_PER_PASS

    @classmethod
    def of(cls, settings: Settings) -> MailerConfig | None:
        """None without an SMTP host: then no mail is sent at all."""
        if not settings.smtp_host:
            return None
        sender = Sender(
            from_address=settings.email_from,
            reply_domain=settings_reply_domain(settings),
            reply_key=settings_reply_key(settings),
            public_url=settings.public_url,
        )
        return cls(
            SmtpServer.of(settings),
            sender,
            settings.mailer_poll_seconds,
            settings.smtp_retry_seconds,
            settings.smtp_max_attempts,
        )


async def run_mailer(
    db: Database,
    config: MailerConfig,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Send due outbox rows, a pass every `poll_seconds` (at once again after a full pass).

    Never returns unless cancelled. Cancellation may abandon a send on its worker thread: the
    mail may still go out, and its row is sent again once its lease ends.
    """
    backoff = Backoff("mailer")
    logger.info("mailer: sending through %r", config.server)
    task_status.started()
    while True:
        try:
            claimed = await mail_due(db, config)
        except psycopg.Error as exc:  # PostgreSQL down or slow: the rows wait in the outbox
            await backoff.wait(logger, exc)
            continue
        backoff.reset()
        if claimed < config.batch:
            await trio.sleep(config.poll_seconds)


async def mail_due(db: Database, config: MailerConfig) -> int:
    """Claim up to `config.batch` due rows and send each; how many were claimed."""
    rows = await db.run(lambda c: outbox.claim_due(c, config.batch, LEASE_SECONDS))
    for row in rows:
        await _mail_one(db, config, row)
    return len(rows)


async def _mail_one(db: Database, config: MailerConfig, row: Claimed) -> None:
    facts = await db.run(lambda c: outbox.mail_facts(c, row, MAX_REFERENCES))
    if facts is None:
        await _failed(db, config, row, LookupError("its message is not projected yet"))
        return
    try:
        refused = await _send(config, facts)
    except (BadAddressError, PermanentSmtpError) as exc:
        logger.warning("mailer: %s mail of %s refused for good: %r", *_what(row), exc)
        await db.run(lambda c: outbox.mark_failed(c, row))
        return
    except (OSError, smtplib.SMTPException, trio.TooSlowError) as exc:
        await _failed(db, config, row, exc)
        return
    if refused:
        logger.warning(
            "mailer: %s mail of %s refused for %d recipient(s)", *_what(row), len(refused)
        )
    await db.run(lambda c: outbox.mark_sent(c, row))


async def _send(config: MailerConfig, facts: MailFacts) -> list[str]:
    msg, recipients = compose(facts, config.sender)
    if not recipients:
        raise BadAddressError("no recipient (an organization without agents)")
    with trio.fail_after(SEND_TIMEOUT_SECONDS):
        return await trio.to_thread.run_sync(
            partial(send, config.server, msg, recipients), abandon_on_cancel=True
        )


async def _failed(db: Database, config: MailerConfig, row: Claimed, exc: BaseException) -> None:
    """Retry later with backoff, or park the row after the last attempt."""
    if row.attempts >= config.max_attempts:
        logger.warning(
            "mailer: %s mail of %s parked after %d attempts: %r", *_what(row), row.attempts, exc
        )
        await db.run(lambda c: outbox.mark_failed(c, row))
        return
    delay = retry_delay(config.retry_seconds, row.attempts)
    logger.info("mailer: %s mail of %s not sent (%r); retry in %.1fs", *_what(row), exc, delay)
    await db.run(lambda c: outbox.mark_retry(c, row, delay))


def retry_delay(base_seconds: float, attempts: int) -> float:
    """Exponential, at most MAX_RETRY_DELAY_SECONDS, with jitter (half to all of it), so mail
    that failed together (a server down) is not retried all at once."""
    delay = min(MAX_RETRY_DELAY_SECONDS, base_seconds * 2.0 ** min(attempts - 1, 32))
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


def _what(row: Claimed) -> tuple[str, str]:
    """A row as the log names it: ids only, never an address or a message's text."""
    return row.recipient, f"thread {row.thread_id} entry {row.entry_id}"
