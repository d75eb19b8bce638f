"""A visitor asks for their conversation's transcript by email (structures.md, "Transcripts
and export"): the widget's "Email me the transcript", after a close or from its menu.

The mail goes out through the email channel's SMTP server and sender (chat/mail/smtp.py, the
mailer's settings), at once: the answer (202) means the server took it, and a failure is
503 unavailable, which the visitor can retry; it is not queued, because the visitor is there
to see whether it went. Without an SMTP server the route is 404 and the widget config says
`transcript_email: false`, so the widget does not offer it. Bounded: per visitor and per
conversation (TRANSCRIPT_MAILS_PER_VISITOR, TRANSCRIPT_MAILS_PER_THREAD: 429 past them) and in
size (chat/mail/transcript.py); messages only, never a note; the visitor's own conversation only
(404 otherwise); the address is parsed as one address (no header injection).
"""

from __future__ import annotations

import math
import smtplib
from functools import partial
from typing import Any

import trio
from pydantic import BaseModel, ConfigDict, Field
from quart import Response, jsonify

from chat.clock import now_ms
from chat.errors import InvalidError, NotFoundError, RateLimitedError, UnavailableError
from chat.http.api.attachments import visitor_space
from chat.http.api.transcripts import all_messages, check_visitor_thread
from chat.http.openapi import Routes
from chat.mail.addresses import settings_reply_domain
from chat.mail.compose import BadAddressError
from chat.mail.smtp import PermanentSmtpError, SmtpServer, send
from chat.mail.transcript import TranscriptLine, compose_transcript, transcript_text
from chat.services import Services
from chat.streams.limits import Rate, RateLimiter

routes = Routes(tag="transcripts")

# A visitor asks again when a mail did not arrive or for another address: a few an hour is
# plenty, and it keeps the route from being a way to mail strangers.
TRANSCRIPT_MAILS_PER_VISITOR = Rate(count=5, period_seconds=3600, burst=5)
TRANSCRIPT_MAILS_PER_THREAD = Rate(count=3, period_seconds=3600, burst=3)
VISITOR_BUCKET = "transcript-mail:visitor"  # id: the visitor id
THREAD_BUCKET = "transcript-mail:thread"  # id: the thread id
# The whole SMTP session; past it the answer is 503 (the mail may still arrive).
SEND_TIMEOUT_SECONDS = 30.0


class EmailTranscript(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    email: str = Field(
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s,;<>]+@[^@\s,;<>]+$",
        description="One address",
    )


class TranscriptSent(BaseModel):
    model_config = ConfigDict(frozen=True)
    email: str = Field(description="Where it was sent")


def email_on(services: Services) -> bool:
    """Transcripts can be emailed: an SMTP server is set (the email channel's)."""
    return bool(services.settings.smtp_host)


@routes.route(
    "POST",
    "/widget/<widget_key>/threads/<uuid:thread_id>/transcript/email",
    summary="The visitor has their conversation's transcript emailed to them",
    auth="public",
    body=EmailTranscript,
    reply=TranscriptSent,
    status=202,
    errors=(401, 403, 404, 429, 503),
)
async def email_transcript(
    services: Services, widget_key: str, thread_id: Any, body: EmailTranscript
) -> tuple[Response, int]:
    """With the widget's session token in X-Chat-Session, from an allowed Origin (as the
    attachment routes). Only the visitor's own conversation; 404 when email is off."""
    space, visitor_id = await visitor_space(services, widget_key)
    if not email_on(services):
        raise NotFoundError("transcripts cannot be emailed here")
    wanted = str(thread_id)
    await check_visitor_thread(services, space.id, visitor_id, wanted)
    await _spend(services, visitor_id, wanted)
    messages, truncated = await all_messages(services, space.id, wanted)
    lines = [TranscriptLine(m["created_at"], m["sender_name"], m["content"]) for m in messages]
    settings = services.settings
    try:
        msg = compose_transcript(
            space_name=space.name,
            from_address=settings.email_from,
            to=body.email,
            domain=settings_reply_domain(settings),
            text=transcript_text(space.name, lines, truncated),
            now_ms=now_ms(),
        )
    except BadAddressError as exc:
        raise InvalidError("not a mail address", field="email") from exc
    try:
        with trio.fail_after(SEND_TIMEOUT_SECONDS):
            await trio.to_thread.run_sync(
                partial(send, SmtpServer.of(settings), msg, [body.email]), abandon_on_cancel=True
            )
    except PermanentSmtpError as exc:
        raise InvalidError("the mail server refused this address", field="email") from exc
    except (OSError, smtplib.SMTPException, trio.TooSlowError) as exc:
        raise UnavailableError("the mail could not be sent now; try again later") from exc
    return jsonify({"email": body.email}), 202


async def _spend(services: Services, visitor_id: str, thread_id: str) -> None:
    """One mail of the visitor's and the conversation's budgets, or 429 with Retry-After."""
    limiter = RateLimiter(services.redis, services.settings.key_prefix)  # cheap: no I/O
    for bucket, ident, rate in (
        (VISITOR_BUCKET, visitor_id, TRANSCRIPT_MAILS_PER_VISITOR),
        (THREAD_BUCKET, thread_id, TRANSCRIPT_MAILS_PER_THREAD),
    ):
        verdict = await limiter.hit(bucket, ident, rate)
        if not verdict.allowed:
            retry_after = max(1, math.ceil(verdict.retry_after))
            raise RateLimitedError(
                "too many transcript mails; retry later",
                retry_after=retry_after,
                retry_after_seconds=retry_after,
            )
