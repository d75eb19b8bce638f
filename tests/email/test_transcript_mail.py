"""The transcript emailed to a visitor on request (chat/http/api/transcript_mail.py), through a
real SMTP sink: the visitor's own conversation, messages only (never a note), one address (no
header injection), a bounded number per visitor and conversation; not offered without SMTP."""

from __future__ import annotations

import uuid
from typing import Any

import trio

from tests.helpers.chat import ORIGIN, Org, agent_socket, make_org, widget
from tests.helpers.http import Reply, call
from tests.helpers.mail import Sink

NOTE = "NOTE: refund approved internally"


async def _email(org: Org, session: str, thread_id: str, email: str, **extra: Any) -> Reply:
    url = f"{org.base}/api/v1/widget/{org.space['widget_key']}/threads/{thread_id}/transcript/email"
    headers = {"X-Chat-Session": session, **extra.pop("headers", {})}
    return await call("POST", url, {"email": email, **extra}, origin=ORIGIN, headers=headers)


async def _conversation(org: Org) -> tuple[str, str]:
    """A conversation with an agent's answer and a private note, closed; (session, thread)."""
    async with (
        agent_socket(org.base, org.token, subscribe=org.space["id"]) as (agent, _),
        widget(org) as (visitor, hello),
    ):
        first = await visitor.say("Where is my parcel? <b>now</b>")
        thread_id = str(first["thread_id"])
        await agent.expect("thread.new")
        await agent.send({"type": "claim", "thread_id": thread_id})
        await agent.expect("ack", ref="claim")
        await agent.say("It arrives tomorrow", thread_id=thread_id)
        note = {"type": "note", "thread_id": thread_id, "client_id": str(uuid.uuid4())}
        await agent.send({**note, "content": NOTE})
        await agent.expect("ack", ref="note")
        await agent.send({"type": "close", "thread_id": thread_id})
        await agent.expect("ack", ref="close")
        return str(hello["session"]), thread_id


async def test_a_visitor_gets_their_transcript_by_mail(mail_base_url: str, sink: Sink) -> None:
    with trio.fail_after(60):
        org = await make_org(mail_base_url)
        config = await call(
            "GET", f"{org.base}/api/v1/widget/{org.space['widget_key']}/config", origin=ORIGIN
        )
        assert config.body["transcript_email"] is True
        session, thread_id = await _conversation(org)
        sent = await _email(org, session, thread_id, "lea@example.org")
        assert sent.status == 202, sent.body
        mail = await sink.wait_for_mail("lea@example.org")
        msg = mail.message
        assert msg["To"] == "lea@example.org" and msg["Subject"] == "Your conversation with Shop"
        text = msg.get_content()
        assert "Where is my parcel? <b>now</b>" in text and "It arrives tomorrow" in text
        assert "NOTE:" not in text and b"NOTE:" not in mail.raw
        assert mail.rcpt_tos == ["lea@example.org"]


async def test_only_ones_own_conversation_one_address_and_a_bounded_number(
    mail_base_url: str, sink: Sink
) -> None:
    with trio.fail_after(60):
        org = await make_org(mail_base_url)
        session, thread_id = await _conversation(org)
        async with widget(org) as (_, stranger):
            other = await _email(org, stranger["session"], thread_id, "x@example.org")
        assert other.status == 404 and other.body["error"]["code"] == "not_found"
        no_token = await _email(org, "", thread_id, "x@example.org")
        assert no_token.status == 401
        for injected in ("a@example.org\r\nBcc: b@example.org", "a@example.org, b@example.org"):
            refused = await _email(org, session, thread_id, injected)
            assert refused.status == 422, refused.body
        wrong_origin = await _email(
            org, session, thread_id, "a@example.org", headers={"Origin": "https://evil.example"}
        )
        assert wrong_origin.status == 403
        # Three a conversation an hour; the fourth is 429 with Retry-After.
        for _ in range(3):
            assert (await _email(org, session, thread_id, "lea@example.org")).status == 202
        over = await _email(org, session, thread_id, "lea@example.org")
        assert over.status == 429 and over.body["error"]["code"] == "rate_limited"
        await sink.wait_for(3)
        assert len([r for r in sink.received if "b@example.org" in r.rcpt_tos]) == 0


async def test_without_smtp_the_widget_is_not_offered_it(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        config = await call(
            "GET", f"{org.base}/api/v1/widget/{org.space['widget_key']}/config", origin=ORIGIN
        )
        assert config.body["transcript_email"] is False
        session, thread_id = await _conversation(org)
        off = await _email(org, session, thread_id, "lea@example.org")
        assert off.status == 404
