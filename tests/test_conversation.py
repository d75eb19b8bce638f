"""A visitor and an agent converse through one server."""

from __future__ import annotations

import trio

from tests.helpers.chat import agent_socket, make_org, widget


async def test_visitor_and_agent_converse(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, welcome):
            assert welcome["agent"]["id"] == org.agent["id"]
            async with widget(org) as (visitor, hello):
                assert hello["thread"] is None and hello["history"] == []
                ack = await visitor.say("hello, anyone there?")
                new = await agent.expect("thread.new")
                assert new["thread"]["id"] == ack["thread_id"]
                msg = await agent.expect("message")
                assert msg["content"] == "hello, anyone there?" and msg["id"] == ack["id"]
                await agent.send({"type": "claim", "thread_id": ack["thread_id"]})
                claimed = await agent.expect("ack", ref="claim")
                assert claimed["thread"]["status"] == "active"
                await agent.say("Hi! How can I help?", thread_id=ack["thread_id"])
                reply = await visitor.expect("message")
                assert reply["content"] == "Hi! How can I help?"
                assert reply["sender_type"] == "agent"
                changes = [f["thread"] for f in visitor.seen if f["type"] == "thread"]
                assert changes[-1]["status"] == "active"
                assert changes[-1]["assigned_agent_id"] == org.agent["id"]


async def test_two_tabs_of_one_visitor_share_the_conversation(base_url: str) -> None:
    """A thread opened in one tab shows up in the other; the echo goes only to the other tab."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with widget(org) as (tab_a, welcome):
            async with widget(org, session=welcome["session"]) as (tab_b, again):
                assert again["visitor"]["id"] == welcome["visitor"]["id"]
                ack = await tab_a.say("typed in tab A")
                opened = await tab_b.expect("thread")
                assert opened["thread"]["id"] == ack["thread_id"]
                echoed = await tab_b.expect("message")
                assert echoed["id"] == ack["id"] and echoed["content"] == "typed in tab A"
                async with agent_socket(base_url, org.token) as (agent, _):
                    reply = await agent.say("to both tabs", thread_id=ack["thread_id"])
                assert (await tab_a.expect("message"))["id"] == reply["id"]
                assert (await tab_b.expect("message"))["id"] == reply["id"]
                assert not [
                    f for f in tab_a.seen if f.get("id") == ack["id"] and f["type"] == "message"
                ]
