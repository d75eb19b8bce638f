"""A message left offline becomes an email conversation in every agent's inbox (issue 11)."""

from __future__ import annotations

import trio

from chat.config import Settings
from tests.helpers.chat import agent_socket, make_org, widget
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call


async def test_an_email_left_offline_opens_an_email_conversation(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with widget(org) as (visitor, welcome):
            assert welcome["agents_online"] is False
            await visitor.send(
                {"type": "identify", "name": "Lea", "email": "lea@example.org", "offline": True}
            )
            opened = await visitor.expect("thread")
        thread = opened["thread"]
        assert thread["channel"] == "email" and thread["email"] == "lea@example.org"
        sql = "SELECT channel FROM threads WHERE id = %s"
        await wait_for_rows(settings.database_url, sql, (thread["id"],), "email")
        listed = await call(
            "GET", f"{base_url}/api/v1/spaces/{org.space['id']}/threads", token=org.token
        )
        assert listed.status == 200, listed.body
        [row] = [t for t in listed.body["items"] if t["id"] == thread["id"]]
        assert row["channel"] == "email" and row["email"] == "lea@example.org"
        async with agent_socket(base_url, org.token) as (agent, _):
            await agent.send({"type": "subscribe", "space_id": org.space["id"], "cursor": "0-1"})
            new = await agent.expect("thread.new", timeout=5)
            assert new["thread"]["id"] == thread["id"], agent.seen
            assert new["thread"]["channel"] == "email"
            lead = await agent.expect("message")
            assert lead["sender_type"] == "visitor" and "lea@example.org" in lead["content"]


async def test_an_email_left_while_agents_are_online_opens_nothing(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
            async with widget(org) as (visitor, welcome):
                assert welcome["agents_online"] is True
                await visitor.send(
                    {"type": "identify", "email": "sam@example.org", "offline": True}
                )
                updated = await agent.expect("visitor.updated")
                assert updated["visitor"]["email"] == "sam@example.org"
                ack = await visitor.say("a question")
                new = await agent.expect("thread.new")
                assert new["thread"]["id"] == ack["thread_id"]
                assert "channel" not in new["thread"]


async def test_a_host_page_identify_leaves_no_lead(base_url: str) -> None:
    """Without `offline` (a host page naming its signed-in user), an email opens nothing."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with widget(org) as (visitor, _):
            await visitor.send({"type": "identify", "email": "kim@example.org"})
            ack = await visitor.say("hello")
            # The thread frame and the ack race: the first may already be among the seen frames.
            early = [f for f in visitor.seen if f.get("type") == "thread"]
            opened = early[0] if early else await visitor.expect("thread")
            assert opened["thread"]["id"] == ack["thread_id"]
            assert "channel" not in opened["thread"]
