"""Agents do not collide (issue 11): each agent's console says which conversation it has open,
and the space's other agents hear who is viewing what, and who is typing; visitors never do.

Real agent and widget sockets against a real server; agent A is the organization's admin, agent
B a second agent of it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import trio

from chat.config import Settings
from chat.server import serve
from tests.conftest import ServerProcess, free_port
from tests.helpers.api import NO_SUCH_ID, add_member
from tests.helpers.chat import Client, Org, agent_socket, make_org, widget

# Frames one agent sends to another's socket while clicking through conversations quickly.
CLICKS = 10
# What the pace lets through of CLICKS changes at once: the first, then the last one a second
# later (leaving one thread and opening another: two entries each).
MOST_VIEWERS_FRAMES = 4


async def viewers_of(agent: Client, thread_id: str, agent_ids: list[str]) -> dict[str, Any]:
    """The next `viewers` frame of this thread saying exactly these agents."""
    return await agent.expect("viewers", thread_id=thread_id, agent_ids=sorted(agent_ids))


async def second_agent(base: str, org: Org) -> tuple[str, str]:
    """Agent B of the organization: (its id, its access token)."""
    member = await add_member(f"{base}/api/v1", org.token, "Bea")
    return str(member.agent["id"]), member.token


async def test_colleagues_hear_who_views_a_thread_and_visitors_never_do(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        space_id, a_id = org.space["id"], org.agent["id"]
        b_id, b_token = await second_agent(base_url, org)
        async with (
            widget(org) as (visitor, _),
            agent_socket(base_url, b_token, subscribe=space_id) as (b, _),
        ):
            ack = await visitor.say("hello")
            thread_id = ack["thread_id"]
            async with agent_socket(base_url, org.token, subscribe=space_id) as (a, _):
                await a.send({"type": "viewing", "thread_id": thread_id})
                heard = await viewers_of(b, thread_id, [a_id])
                assert heard["space_id"] == space_id and heard["cursor"]
                # B opens it too: both are listed, to both.
                await b.send({"type": "viewing", "thread_id": thread_id})
                await viewers_of(b, thread_id, [a_id, b_id])
                await viewers_of(a, thread_id, [a_id, b_id])
                # A colleague's typing reaches B (and the visitor, as before).
                await a.send({"type": "typing", "thread_id": thread_id, "active": True})
                typing = await b.expect("typing", thread_id=thread_id, sender_id=a_id)
                assert typing["sender_type"] == "agent" and typing["active"] is True
                assert (await visitor.expect("typing"))["active"] is True
                # A's socket closes: it views nothing any more.
            await viewers_of(b, thread_id, [b_id])
            # B leaves the thread: nobody is viewing it.
            await b.send({"type": "viewing", "thread_id": None})
            await viewers_of(b, thread_id, [])
            # A barrier for the visitor: B's message is in the log after every viewers entry,
            # and the visitor's feed is in log order.
            await b.send(
                {"type": "message", "thread_id": thread_id, "client_id": "c1", "content": "hi"}
            )
            await visitor.expect("message", client_id="c1")
            kinds = {f["type"] for f in visitor.seen}
            assert "viewers" not in kinds, visitor.seen
            others = [f for f in visitor.seen if f["type"] != "message"]
            assert not any(a_id in str(f) or b_id in str(f) for f in others), others


async def test_a_new_subscriber_learns_who_is_viewing(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        space_id, a_id = org.space["id"], org.agent["id"]
        _, b_token = await second_agent(base_url, org)
        async with widget(org) as (visitor, _):
            ack = await visitor.say("hello")
            async with agent_socket(base_url, org.token, subscribe=space_id) as (a, _):
                await a.send({"type": "viewing", "thread_id": ack["thread_id"]})
                await viewers_of(a, ack["thread_id"], [a_id])
                async with agent_socket(base_url, b_token) as (b, _):
                    await b.send({"type": "subscribe", "space_id": space_id})
                    subscribed = await b.expect("subscribed", space_id=space_id)
                    assert subscribed["viewers"] == [
                        {"thread_id": ack["thread_id"], "agent_ids": [a_id]}
                    ]
                    # Resuming with a cursor brings the current viewers too.
                    cursor = subscribed["cursor"]
                    await b.send({"type": "subscribe", "space_id": space_id, "cursor": cursor})
                    again = await b.expect("subscribed", space_id=space_id)
                    assert again["viewers"] == subscribed["viewers"]


async def test_clicking_through_conversations_is_paced(base_url: str) -> None:
    """CLICKS viewing frames in a burst: the last one wins, and few entries are written."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        space_id, a_id = org.space["id"], org.agent["id"]
        _, b_token = await second_agent(base_url, org)
        threads = []
        for _ in range(2):
            async with widget(org) as (visitor, _):
                threads.append((await visitor.say("hello"))["thread_id"])
        async with (
            agent_socket(base_url, b_token, subscribe=space_id) as (b, _),
            agent_socket(base_url, org.token) as (a, _),
        ):
            for n in range(CLICKS):
                await a.send({"type": "viewing", "thread_id": threads[n % 2]})
            last = threads[(CLICKS - 1) % 2]
            await viewers_of(b, last, [a_id])
            # The final state is A on `last` only; nothing else is left to come.
            await a.send({"type": "typing", "thread_id": last, "active": True})
            await b.expect("typing", sender_id=a_id)
            frames = [f for f in b.seen if f["type"] == "viewers"]
            assert len(frames) <= MOST_VIEWERS_FRAMES, frames
            state = {f["thread_id"]: f["agent_ids"] for f in frames}
            assert state[last] == [a_id]
            assert all(ids == [] for t, ids in state.items() if t != last), state


async def test_viewing_needs_a_thread_of_the_agents_spaces(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        other = await make_org(base_url)
        async with widget(other) as (visitor, _):
            foreign = (await visitor.say("hello"))["thread_id"]
        async with agent_socket(base_url, org.token) as (a, _):
            for thread_id in (foreign, NO_SUCH_ID):
                await a.send({"type": "viewing", "thread_id": thread_id})
                refused = await a.expect("error", ref="viewing", thread_id=thread_id)
                assert refused["code"] == "not_found"
            await a.send({"type": "viewing", "thread_id": "not-a-uuid"})
            assert (await a.expect("error"))["code"] == "invalid"


async def test_a_crashed_process_viewers_go_by_ttl(
    settings: Settings, nursery: trio.Nursery, tmp_path: Path
) -> None:
    """A's process is killed (no goodbye): the survivor's sweep forgets what A was viewing
    once the presence TTL has passed."""
    quick = settings.model_copy(update={"presence_ttl_seconds": 2})
    base = str((await nursery.start(serve, quick, "127.0.0.1", 0))[0])
    doomed = ServerProcess(quick, free_port())
    try:
        with trio.fail_after(60):
            await doomed.start("doomed-" + uuid.uuid4().hex[:4], tmp_path)
            org = await make_org(base)
            space_id, a_id = org.space["id"], org.agent["id"]
            _, b_token = await second_agent(base, org)
            async with widget(org) as (visitor, _):
                thread_id = (await visitor.say("hello"))["thread_id"]
            async with agent_socket(base, b_token, subscribe=space_id) as (b, _):
                async with agent_socket(doomed.base, org.token) as (a, _):
                    await a.send({"type": "viewing", "thread_id": thread_id})
                    await viewers_of(b, thread_id, [a_id])
                    doomed.kill()
                await viewers_of(b, thread_id, [])
    finally:
        doomed.stop()
