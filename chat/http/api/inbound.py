"""Inbound mail: a visitor's reply to a conversation's mail, forwarded by a mail provider or a
local mail server as the raw message (README, "Email"; structures.md, "Email")."""

from __future__ import annotations

import hmac

from quart import Response, jsonify, request

from chat.commands.email_replies import do_post_email_reply
from chat.errors import NotFoundError, UnauthorizedError, UnsupportedMediaTypeError
from chat.http.openapi import Routes
from chat.http.replies import InboundEmailAccepted
from chat.services import Services

INBOUND_EMAIL_PATH = "/inbound/email"
# A reply with an HTML part and a quoted thread fits easily; attachments beyond it are refused
# (413) rather than read: the service keeps only the text.
INBOUND_EMAIL_MAX_BYTES = 1024 * 1024
MEDIA_TYPES = ("message/rfc822", "text/plain")

routes = Routes(tag="inbound")


@routes.route(
    "POST",
    INBOUND_EMAIL_PATH,
    summary="A visitor's reply by email, as the raw mail (RFC 822)",
    auth="token",
    raw_body=MEDIA_TYPES,
    reply=InboundEmailAccepted,
    status=202,
    errors=(400, 404),
)
async def inbound_email(services: Services) -> Response:
    """For a mail provider or a mail server's pipe: the whole message as received, with
    `Authorization: Bearer <CHAT_INBOUND_EMAIL_TOKEN>`. The mail must be addressed (To, Cc,
    Delivered-To or X-Original-To) to the signed reply address of a conversation's mail; its
    new text (the quoted mail cut off, at most 4,000 characters) joins that conversation as the
    visitor's message. The same mail (by Message-ID) is stored once however often it is posted.
    404 when the route is off (no token set) or the mail names no valid reply address; 400
    `invalid` when the reply has no text of its own. Bodies up to 1 MiB."""
    expected = services.settings.inbound_email_token.get_secret_value()
    if not expected:
        raise NotFoundError("not found")
    _check_token(expected)
    if request.mimetype not in MEDIA_TYPES:
        raise UnsupportedMediaTypeError(f"send the mail as {' or '.join(MEDIA_TYPES)}")
    raw = await request.get_data(cache=True, as_text=False)
    assert isinstance(raw, bytes)  # as_text=False
    ack = await do_post_email_reply(services.stream_log, services.db, services.settings, raw)
    reply = jsonify({"id": ack.id, "thread_id": ack.thread_id, "created_at": ack.created_at})
    reply.status_code = 202
    return reply


def _check_token(expected: str) -> None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    # compare_digest: the time taken says nothing about how much of the token was right.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        raise UnauthorizedError("missing or wrong inbound token")
