"""Leads and replies as a visitor's widget and mail client make them."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

from tests.email.conftest import INBOUND_TOKEN
from tests.helpers.chat import Org, agent_socket, widget
from tests.helpers.http import Reply, call
from tests.helpers.mail import Sink


async def leave_lead(org: Org, email: str, name: str = "Lea") -> dict[str, Any]:
    """A visitor leaves an email offline; the email conversation it opens."""
    async with widget(org) as (visitor, welcome):
        assert welcome["agents_online"] is False
        await visitor.send({"type": "identify", "name": name, "email": email, "offline": True})
        opened = await visitor.expect("thread")
    thread: dict[str, Any] = opened["thread"]
    assert thread["channel"] == "email"
    return thread


def reply_to(received: EmailMessage, text: str, *, message_id: str) -> bytes:
    """The visitor's answer to `received`, quoting it as mail clients do."""
    quoted = "\n".join("> " + line for line in str(received.get_content()).splitlines())
    reply = EmailMessage()
    reply["From"] = str(received["To"])
    reply["To"] = str(received["Reply-To"])
    reply["Subject"] = "Re: " + str(received["Subject"])
    reply["Message-ID"] = message_id
    reply["In-Reply-To"] = str(received["Message-ID"])
    attribution = f"On Sat, 5 Dec 2026 at 21:40, {received['From']}\nwrote:"
    reply.set_content(f"{text}\n\n{attribution}\n{quoted}\n")
    return bytes(reply)


async def post_mail(base: str, raw: bytes, *, token: str = INBOUND_TOKEN) -> Reply:
    return await call(
        "POST",
        f"{base}/api/v1/inbound/email",
        raw,
        headers={"Content-Type": "message/rfc822", "Authorization": f"Bearer {token}"},
    )


async def answer_by_mail(
    base: str, org: Org, thread_id: str, sink: Sink, text: str = "We can help."
) -> EmailMessage:
    """An agent answers in the console; the mail the visitor receives."""
    async with agent_socket(base, org.token) as (agent, _):
        client_id = str(uuid.uuid4())
        await agent.send(
            {"type": "message", "thread_id": thread_id, "client_id": client_id, "content": text}
        )
        await agent.expect("ack", client_id=client_id)
    got = await sink.wait_for_mail(await _thread_email(base, org, thread_id))
    return got.message


async def _thread_email(base: str, org: Org, thread_id: str) -> str:
    found = await call("GET", f"{base}/api/v1/threads/{thread_id}", token=org.token)
    assert found.status == 200, found.body
    return str(found.body["email"])
