"""The email channel end to end against a real SMTP server (issue 11): the team hears of a lead
by mail, an agent's answer reaches the visitor by mail, and the visitor's reply joins the
conversation."""

from __future__ import annotations

import uuid

import trio

from chat.config import Settings
from chat.mail.addresses import settings_reply_key, thread_of_reply_address
from tests.email.conftest import REPLY_DOMAIN, mail_settings
from tests.email.helpers import leave_lead, post_mail, reply_to
from tests.helpers.chat import agent_socket, make_org
from tests.helpers.db import wait_for_rows
from tests.helpers.mail import Sink


async def test_an_offline_message_reaches_the_team_by_mail(mail_base_url: str, sink: Sink) -> None:
    with trio.fail_after(30):
        org = await make_org(mail_base_url)
        thread = await leave_lead(org, "lea@example.org")
        got = await sink.wait_for_mail(org.agent["email"])
        mail = got.message
        assert mail["To"] == org.agent["email"]
        assert "lea@example.org" in mail["Subject"] and "Shop" in mail["Subject"]
        assert mail["From"].addresses[0].display_name == "Shop"
        body = mail.get_content()
        assert "lea@example.org" in body and "Left a message" in body
        assert "https://chat.example.com/console" in body
        # No reply address on the team's mail: an agent's reply must not post as the visitor.
        assert mail["Reply-To"] is None
        assert thread["id"] in mail["Message-ID"]


async def test_an_answer_goes_to_the_visitor_and_the_reply_joins_the_conversation(
    mail_base_url: str, sink: Sink, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(mail_base_url)
        thread = await leave_lead(org, "lea@example.org")
        space = org.space["id"]
        async with agent_socket(mail_base_url, org.token, subscribe=space) as (agent, _):
            await agent.send(
                {
                    "type": "message",
                    "thread_id": thread["id"],
                    "client_id": str(uuid.uuid4()),
                    "content": "Hello Lea, the blue one ships on Monday.",
                }
            )
            await agent.expect("ack")
            got = await sink.wait_for_mail("lea@example.org")
            answer = got.message
            assert answer["To"] == "lea@example.org"
            assert "Hello Lea, the blue one ships on Monday." in answer.get_content()
            assert org.agent["email"] not in got.raw.decode()  # nothing of the team's leaks
            [reply_address] = [a.addr_spec for a in answer["Reply-To"].addresses]
            assert reply_address.endswith("@" + REPLY_DOMAIN)
            key = settings_reply_key(mail_settings(settings, sink.port))
            assert thread_of_reply_address(key, reply_address) == thread["id"]
            assert answer["Message-ID"].endswith(f"@{REPLY_DOMAIN}>")
            assert thread["id"] in answer["In-Reply-To"]

            raw = reply_to(answer, "Great, thanks!", message_id="<r1@example.org>")
            posted = await post_mail(mail_base_url, raw)
            assert posted.status == 202, posted.body
            assert posted.body["thread_id"] == thread["id"]
            seen = await agent.expect("message", id=posted.body["id"])
            assert seen["sender_type"] == "visitor"
            assert seen["content"] == "Great, thanks!"  # the quoted mail is cut off
            assert seen["client_id"].startswith("email:")

            again = await post_mail(mail_base_url, raw)  # the provider delivers it twice
            assert again.status == 202 and again.body["id"] == posted.body["id"]
        sql = "SELECT count(*) FROM messages WHERE thread_id = %s AND content = %s"
        await wait_for_rows(settings.database_url, sql, (thread["id"], "Great, thanks!"), 1)
        # The reply is news for the team: a second team mail, threaded after the first.
        second = await sink.wait_for_mail(org.agent["email"], skip=1)
        assert "Great, thanks!" in second.message.get_content()
        first = await sink.wait_for_mail(org.agent["email"])
        assert second.message["In-Reply-To"] == first.message["Message-ID"]
        assert first.message["Message-ID"] in second.message["References"]


async def test_a_forged_or_foreign_reply_address_is_not_found(
    mail_base_url: str, sink: Sink
) -> None:
    with trio.fail_after(30):
        org = await make_org(mail_base_url)
        thread = await leave_lead(org, "lea@example.org")
        await sink.wait_for_mail(org.agent["email"])
        for to in (
            f"reply+{thread['id']}.0123456789abcdef@{REPLY_DOMAIN}",
            f"reply+{uuid.uuid4()}.0123456789abcdef@{REPLY_DOMAIN}",
            "someone@example.org",
        ):
            raw = (
                f"From: lea@example.org\r\nTo: {to}\r\nSubject: hi\r\n"
                "Message-ID: <f@example.org>\r\n\r\nLet me in\r\n"
            ).encode()
            posted = await post_mail(mail_base_url, raw)
            assert posted.status == 404, (to, posted.body)
            assert posted.body["error"]["code"] == "not_found"


async def test_the_inbound_route_needs_its_token(mail_base_url: str, base_url: str) -> None:
    with trio.fail_after(30):
        raw = b"From: a@example.org\r\nTo: b@example.org\r\n\r\nhi\r\n"
        wrong = await post_mail(mail_base_url, raw, token="not-the-token")
        assert wrong.status == 401 and wrong.body["error"]["code"] == "unauthorized"
        # A server without CHAT_INBOUND_EMAIL_TOKEN has no such route, whatever is sent.
        off = await post_mail(base_url, raw)
        assert off.status == 404 and off.body["error"]["code"] == "not_found"
