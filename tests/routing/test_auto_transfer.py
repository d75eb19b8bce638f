"""Auto-transfer (a group's `auto_transfer_seconds`): a conversation the router gave an agent
who does not answer in time goes back to the queue (`thread.requeued`, reason `no_reply`) and to
another member, never back to the silent one; an agent who answered keeps it."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
import trio

from chat.config import Settings
from tests.helpers.chat import agent_socket, widget
from tests.helpers.http import call
from tests.routing.helpers import make_team, online


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"router_pass_seconds": 0.3})


async def test_an_unanswered_conversation_goes_to_another_member(base_url: str) -> None:
    with trio.fail_after(60):
        team = await make_team(base_url, 2, "round_robin", cap=5)
        space = team.org.space["id"]
        on = await call(
            "PATCH",
            f"{team.api}/groups/{team.group_id}",
            {"auto_transfer_seconds": 1},
            token=team.org.token,
        )
        assert on.status == 200 and on.body["auto_transfer_seconds"] == 1, on.body
        async with AsyncExitStack() as stack:
            watch, _ = await stack.enter_async_context(
                agent_socket(base_url, team.org.token, subscribe=space)
            )
            agents = await stack.enter_async_context(online(team))
            by_id = {m.agent["id"]: a for m, a in zip(team.members, agents, strict=True)}
            for member in team.members:
                await watch.expect("presence", agent_id=member.agent["id"], online=True)

            visitor, _ = await stack.enter_async_context(widget(team.org))
            await visitor.say("hello?")
            first = await watch.expect("thread.updated", change="assigned")
            silent, thread_id = first["agent_id"], first["thread"]["id"]

            back = await watch.expect("thread.updated", change="requeued", timeout=15)
            assert back["thread"]["id"] == thread_id
            assert back["agent_id"] == silent and back["reason"] == "no_reply"
            again = await watch.expect("thread.updated", change="assigned", timeout=15)
            assert again["thread"]["id"] == thread_id and again["agent_id"] != silent
            helper = again["agent_id"]

            # The new agent answers: past the delay again, it keeps the conversation.
            reply = {"type": "message", "thread_id": thread_id, "client_id": "r1"}
            await by_id[helper].send({**reply, "content": "Here I am"})
            await by_id[helper].expect("ack", client_id="r1")
            await visitor.say("thanks")
            with trio.move_on_after(2.5):  # two delays and several passes: nothing may move
                moved = await watch.expect("thread.updated", change="requeued", timeout=10)
                raise AssertionError(f"an answered conversation was moved: {moved}")
            thread = await call("GET", f"{team.api}/threads/{thread_id}", token=team.org.token)
            assert thread.body["assigned_agent_id"] == helper


async def test_auto_transfer_is_off_by_default_and_can_be_turned_off(base_url: str) -> None:
    with trio.fail_after(30):
        team = await make_team(base_url, 1, "least_loaded", cap=5)
        url = f"{team.api}/groups/{team.group_id}"
        got = await call("GET", url, token=team.org.token)
        assert got.body["auto_transfer_seconds"] is None
        on = await call("PATCH", url, {"auto_transfer_seconds": 30}, token=team.org.token)
        assert on.body["auto_transfer_seconds"] == 30
        renamed = await call("PATCH", url, {"name": "Sales 2"}, token=team.org.token)
        assert renamed.body["auto_transfer_seconds"] == 30, "a PATCH without it keeps it"
        off = await call("PATCH", url, {"auto_transfer_seconds": None}, token=team.org.token)
        assert off.status == 200 and off.body["auto_transfer_seconds"] is None
        bad = await call("PATCH", url, {"auto_transfer_seconds": 0}, token=team.org.token)
        assert bad.status == 422
