"""The mail outbox (email_outbox, written by the projector): claiming due rows, what their mail
is about, and how a send ended. structures.md, "Email", has the claim protocol.

A claim moves a row's `next_attempt_at` a lease ahead and counts the attempt, in one statement
over rows locked with FOR UPDATE SKIP LOCKED: two mailers (any processes) never take one row
at once, and a mailer that dies mid-send leaves its rows to be claimed again once the lease
ends (then the mail may go out twice, with the same Message-ID).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import psycopg

from chat.ids import format_id
from chat.mail.compose import MailFacts, Recipient

_CLAIM = """
WITH due AS (
    SELECT id_ms, id_seq, recipient FROM email_outbox
    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
    ORDER BY next_attempt_at LIMIT %s
    FOR UPDATE SKIP LOCKED
)
UPDATE email_outbox o
SET attempts = o.attempts + 1, next_attempt_at = now() + %s * interval '1 second'
FROM due
WHERE (o.id_ms, o.id_seq, o.recipient) = (due.id_ms, due.id_seq, due.recipient)
RETURNING o.id_ms, o.id_seq, o.recipient, o.space_id::text, o.thread_id::text, o.attempts
"""
_FACTS = """
SELECT m.sender_name, m.content, t.email, s.name, o.name, s.organization_id::text
FROM messages m
JOIN threads t ON t.id = m.thread_id
JOIN spaces s ON s.id = t.space_id
JOIN organizations o ON o.id = s.organization_id
WHERE m.thread_id = %s AND m.id_ms = %s AND m.id_seq = %s
"""
_TEAM = (
    "SELECT email FROM agents WHERE organization_id = %s AND deleted_at IS NULL"
    " ORDER BY created_at, id"
)
_EARLIER = """
SELECT id_ms, id_seq FROM email_outbox
WHERE thread_id = %s AND recipient = %s AND (id_ms, id_seq) < (%s, %s)
ORDER BY id_ms DESC, id_seq DESC LIMIT %s
"""
_SET_SENT = (
    "UPDATE email_outbox SET sent_at = now() WHERE id_ms = %s AND id_seq = %s AND recipient = %s"
)
_SET_RETRY = (
    "UPDATE email_outbox SET next_attempt_at = now() + %s * interval '1 second'"
    " WHERE id_ms = %s AND id_seq = %s AND recipient = %s"
)
_SET_FAILED = (
    "UPDATE email_outbox SET failed_at = now() WHERE id_ms = %s AND id_seq = %s AND recipient = %s"
)
_REPLY_THREAD = """
SELECT t.space_id::text, t.visitor_id::text, t.email, v.name
FROM threads t
JOIN spaces s ON s.id = t.space_id AND s.deleted_at IS NULL
LEFT JOIN visitors v ON v.id = t.visitor_id
WHERE t.id = %s AND t.channel = 'email'
"""


@dataclass(frozen=True, slots=True)
class Claimed:
    """One outbox row a mailer holds until its lease ends."""

    id_ms: int
    id_seq: int
    recipient: Recipient
    space_id: str
    thread_id: str
    attempts: int  # this one included

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.id_ms, self.id_seq, self.recipient)

    @property
    def entry_id(self) -> str:
        return format_id((self.id_ms, self.id_seq))


def claim_due(conn: psycopg.Connection, limit: int, lease_seconds: float) -> list[Claimed]:
    rows = conn.execute(_CLAIM, (limit, lease_seconds)).fetchall()
    return [Claimed(r[0], r[1], cast(Recipient, r[2]), r[3], r[4], r[5]) for r in rows]


def mail_facts(conn: psycopg.Connection, row: Claimed, max_earlier: int) -> MailFacts | None:
    """What the row's mail says; None while its message or thread is not projected yet (a
    reclaimed entry may be projected before its thread's opening)."""
    found = conn.execute(_FACTS, (row.thread_id, row.id_ms, row.id_seq)).fetchone()
    if found is None:
        return None
    sender_name, content, email, space_name, org_name, org_id = found
    team: tuple[str, ...] = ()
    if row.recipient == "team":
        team = tuple(r[0] for r in conn.execute(_TEAM, (org_id,)).fetchall())
    earlier = conn.execute(
        _EARLIER, (row.thread_id, row.recipient, row.id_ms, row.id_seq, max_earlier)
    ).fetchall()
    return MailFacts(
        recipient=row.recipient,
        thread_id=row.thread_id,
        entry_id=row.entry_id,
        sent_ms=row.id_ms,
        space_name=space_name,
        organization_name=org_name,
        sender_name=sender_name,
        content=content,
        thread_email=email or "",
        team_emails=team,
        earlier_entries=tuple(format_id((r[0], r[1])) for r in reversed(earlier)),
    )


def mark_sent(conn: psycopg.Connection, row: Claimed) -> None:
    conn.execute(_SET_SENT, row.key)


def mark_retry(conn: psycopg.Connection, row: Claimed, delay_seconds: float) -> None:
    conn.execute(_SET_RETRY, (delay_seconds, *row.key))


def mark_failed(conn: psycopg.Connection, row: Claimed) -> None:
    conn.execute(_SET_FAILED, row.key)


@dataclass(frozen=True, slots=True)
class ReplyThread:
    """An email conversation as a visitor's emailed reply needs it."""

    space_id: str
    visitor_id: str
    email: str
    visitor_name: str | None


def reply_thread(conn: psycopg.Connection, thread_id: str) -> ReplyThread | None:
    """The email conversation `thread_id` of a live space; None for any other thread."""
    found = conn.execute(_REPLY_THREAD, (thread_id,)).fetchone()
    if found is None:
        return None
    return ReplyThread(found[0], found[1], found[2] or "", found[3])
