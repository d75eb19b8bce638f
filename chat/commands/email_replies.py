"""A visitor's reply by email joins its conversation (structures.md, "Email"). The inbound
route (chat/http/api/inbound.py) hands the raw mail here.

The reply address's MAC names the thread; the message is appended as the thread's visitor on the
email channel, under a client_id derived from the mail's Message-ID, so a mail delivered twice
(providers retry) is stored once: POST_MESSAGE's client_id dedupe, then the messages table's
unique (thread, sender, client_id). Like any message of a visitor it goes into the visitor's
open conversation, or opens one (flagged email) when that one was closed meanwhile.
"""

from __future__ import annotations

import trio

from chat.config import Settings
from chat.db import outbox
from chat.db.pool import Database
from chat.errors import NotFoundError
from chat.mail import LEAD_MAX_OPEN_THREADS
from chat.mail.addresses import settings_reply_key
from chat.mail.inbound import read_reply
from chat.protocol.inbound import MAX_CONTENT_CHARS, check_content
from chat.streams.log import Ack, StreamLog

# Marks a reply cut to the contract's message size.
CUT_MARK = "…"


async def do_post_email_reply(
    stream_log: StreamLog, db: Database, settings: Settings, raw: bytes
) -> Ack:
    """Append the reply in `raw` (RFC 822) to its conversation; its ack.

    NotFoundError for a mail that names no valid reply address or an unknown, non-email or
    deleted space's thread (one answer for all, so addresses cannot be probed); InvalidError
    when nothing is left once the quoted mail is cut. Cancellation: as `do_post_message` (the
    provider's retry of the same mail is stored once).
    """
    key = settings_reply_key(settings)
    # Parsing a mail of up to a MiB takes milliseconds of CPU: off the event loop.
    reply = await trio.to_thread.run_sync(read_reply, raw, key)
    if reply is None:
        raise NotFoundError("no such conversation")
    thread = await db.run(lambda c: outbox.reply_thread(c, reply.thread_id))
    if thread is None:
        raise NotFoundError("no such conversation")
    return await stream_log.do_post_message(
        thread.space_id,
        sender_type="visitor",
        sender_id=thread.visitor_id,
        sender_name=thread.visitor_name or thread.email,
        content=check_content(capped(reply.text)),
        client_id=reply.client_id,
        max_open_threads=LEAD_MAX_OPEN_THREADS,
        visitor_ttl_seconds=settings.visitor_active_ttl_seconds,
        channel="email",
        email=thread.email,
    )


def capped(text: str) -> str:
    """At most the contract's message size: a longer reply is cut and marked, not refused (the
    sender is not there to shorten it)."""
    text = text.strip()
    if len(text) <= MAX_CONTENT_CHARS:
        return text
    return text[: MAX_CONTENT_CHARS - len(CUT_MARK)].rstrip() + CUT_MARK
