"""An assigned agent who goes away before answering: after the grace period the conversation
goes back to the queue (`thread.requeued`) and to another agent, with nothing lost."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
import trio

from chat.config import Settings
from tests.helpers.chat import agent_socket, widget
from tests.helpers.http import call
from tests.routing.helpers import make_team


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"router_pass_seconds": 0.3, "router_requeue_grace_seconds": 1.0}
    )


async def test_a_gone_agents_unanswered_conversation_is_requeued_and_reassigned(
    base_url: str,
) -> None:
    with trio.fail_after(60):
        team = await make_team(base_url, 2, "round_robin", cap=5)
        first, second = team.members
        space = team.org.space["id"]
        async with AsyncExitStack() as stack:
            watch, _ = await stack.enter_async_context(
                agent_socket(base_url, team.org.token, subscribe=space)
            )
            async with agent_socket(base_url, first.token, subscribe=space) as (gone, _):
                await gone.send({"type": "heartbeat"})
                await watch.expect("presence", agent_id=first.agent["id"], online=True)
                async with widget(team.org) as (visitor, _):
                    ack = await visitor.say("is anyone there?")
                assigned = await watch.expect("thread.updated", change="assigned")
                assert assigned["agent_id"] == first.agent["id"]
            # The first agent's socket is gone, without a word to the visitor.
            await watch.expect("presence", agent_id=first.agent["id"], online=False)
            requeued = await watch.expect("thread.updated", change="requeued")
            assert requeued["agent_id"] == first.agent["id"]
            assert requeued["thread"]["status"] == "unassigned"
            assert requeued["thread"]["assigned_agent_id"] is None
            other, _ = await stack.enter_async_context(
                agent_socket(base_url, second.token, subscribe=space)
            )
            await other.send({"type": "heartbeat"})
            again = await watch.expect("thread.updated", change="assigned")
            assert again["agent_id"] == second.agent["id"]
            assert again["thread"]["id"] == ack["thread_id"]
        messages = await call(
            "GET", f"{team.api}/threads/{ack['thread_id']}/messages", token=second.token
        )
        assert [m["content"] for m in messages.body["items"]] == ["is anyone there?"]


async def test_an_agent_who_answered_keeps_the_conversation(base_url: str) -> None:
    """Requeue takes back only what the agent never answered: of two conversations, the one
    it answered stays with it when the other goes back to the queue."""
    with trio.fail_after(60):
        team = await make_team(base_url, 1, "round_robin", cap=5)
        member = team.members[0]
        space = team.org.space["id"]
        async with agent_socket(base_url, team.org.token, subscribe=space) as (watch, _):
            async with agent_socket(base_url, member.token, subscribe=space) as (agent, _):
                await agent.send({"type": "heartbeat"})
                await watch.expect("presence", agent_id=member.agent["id"], online=True)
                acks = []
                for n in range(2):
                    async with widget(team.org) as (visitor, _):
                        acks.append(await visitor.say(f"hello {n}"))
                    await watch.expect("thread.updated", change="assigned")
                answered, unanswered = (a["thread_id"] for a in acks)
                reply = {"type": "message", "thread_id": answered, "client_id": "c-1"}
                await agent.send({**reply, "content": "Hi!"})
                await agent.expect("ack")
            requeued = await watch.expect("thread.updated", change="requeued")
            assert requeued["thread"]["id"] == unanswered
            others = [f for f in watch.seen if f.get("change") == "requeued"]
            assert [f["thread"]["id"] for f in others] == [unanswered]
