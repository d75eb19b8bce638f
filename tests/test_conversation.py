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
