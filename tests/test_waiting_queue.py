"""Nobody turned away by default (issue 11, item 2), end to end: waiting visitors hear their
place in the queue, unanswered conversations close by themselves with a system message, and a
closed conversation reopens when the visitor writes again or an agent reopens it."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import trio

from chat.config import Settings
from chat.streams.client import open_redis
from chat.streams.log import StreamLog
from tests.helpers.chat import Client, agent_socket, make_org, widget
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call

WAITING = 50


async def _position(client: Client) -> int | None:
    """The visitor's place as its latest `queue` frame says (waiting for one if none came)."""
    frames = [f for f in client.seen if f.get("type") == "queue"]
    frame = frames[-1] if frames else await client.expect("queue")
    position: int | None = frame["position"]
    return position


async def _since(client: Client, mark: int, type_: str, **match: Any) -> dict[str, Any]:
    """The first frame of this type (and fields) after the first `mark` frames seen, waiting
    for it if it has not come: one that came before an ack the test waited for counts."""
    for frame in client.seen[mark:]:
        if frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items()):
            return frame
    return await client.expect(type_, **match)


async def test_fifty_visitors_at_once_all_wait_each_with_a_place(base_url: str) -> None:
    """A space whose agent is online and claims nothing: none refused, each told a distinct
    place 1..50, and everyone behind moves up when the first is claimed."""
    with trio.fail_after(90):
        org = await make_org(base_url)  # the default cap: 100 waiting
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(agent_socket(base_url, org.token))
            clients = [(await stack.enter_async_context(widget(org)))[0] for _ in range(WAITING)]
            acks: list[dict[str, Any]] = [{}] * WAITING

            async def write(n: int) -> None:
                acks[n] = await clients[n].say(f"hello from visitor {n}")

            async with trio.open_nursery() as nursery:
                for n in range(WAITING):
                    nursery.start_soon(write, n)
            assert not [f for c in clients for f in c.seen if f.get("type") == "error"]
            places = [await _position(c) for c in clients]
            assert sorted(p or 0 for p in places) == list(range(1, WAITING + 1))
            first = places.index(1)
            claimed = await call(
                "POST",
                f"{base_url}/api/v1/threads/{acks[first]['thread_id']}/claim",
                token=org.token,
            )
            assert claimed.status == 200, claimed.body
            assert (await clients[first].expect("queue"))["position"] is None
            for client, place in zip(clients, places, strict=True):
                if place != 1:
                    assert place is not None
                    await client.expect("queue", position=place - 1)


async def test_an_unanswered_conversation_closes_and_the_visitors_reply_reopens_it(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url, settings={"idle_close_seconds": 1})
        space = org.space["id"]
        async with (
            agent_socket(base_url, org.token, subscribe=space) as (agent, _),
            widget(org) as (visitor, welcome),
        ):
            assert welcome["queue_position"] is None
            thread = (await visitor.say("hello?"))["thread_id"]
            assert await _position(visitor) == 1
            await agent.send({"type": "claim", "thread_id": thread})
            await agent.expect("ack", ref="claim")
            assert (await visitor.expect("queue"))["position"] is None  # served now
            await agent.send(
                {"type": "message", "thread_id": thread, "client_id": "a1", "content": "Hi!"}
            )
            system = await visitor.expect("message", sender_type="system")
            assert "closed after 1 second without a reply" in system["content"]
            assert (await visitor.expect("thread"))["thread"]["status"] == "closed"
            await agent.expect("message", sender_type="system")
            update = await agent.expect("thread.updated", change="closed")
            assert update["reason"] == "idle" and update["by"] is None
            sql = "SELECT count(*) FROM messages WHERE thread_id = %s AND sender_type = 'system'"
            await wait_for_rows(settings.database_url, sql, (thread,), 1)
            status = "SELECT status FROM threads WHERE id = %s"
            await wait_for_rows(settings.database_url, status, (thread,), "closed")

            mark = len(visitor.seen)
            again = await visitor.say("sorry, I was away")
            assert again["thread_id"] == thread  # the same conversation, not a new one
            frame = await _since(visitor, mark, "thread")  # may come before the ack
            assert frame["thread"]["status"] == "unassigned"
            reopened = await agent.expect("thread.updated", change="reopened")
            assert reopened["thread"]["assigned_agent_id"] is None
            assert (await _since(visitor, mark, "queue"))["position"] == 1
            await wait_for_rows(settings.database_url, status, (thread,), "unassigned")
            # The projector has handled the close and the reopen: the keys stay.
            async with open_redis(settings.redis_url) as redis:
                keys = StreamLog(redis, settings.key_prefix, "written").keys(space)
                assert await redis.ttl(keys.thread_state(thread)) == -1
                assert await redis.ttl(keys.thread(thread)) == -1


async def test_an_agent_reopens_a_closed_conversation_over_rest_and_the_socket(
    base_url: str,
) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        other = await make_org(base_url)
        async with (
            agent_socket(base_url, org.token) as (agent, _),
            widget(org) as (visitor, _),
        ):
            thread = (await visitor.say("help"))["thread_id"]
            api = f"{base_url}/api/v1/threads/{thread}"
            assert (await call("POST", f"{api}/close", token=org.token)).status == 200
            foreign = await call("POST", f"{api}/reopen", token=other.token)
            assert foreign.status == 404 and foreign.body["error"]["code"] == "not_found"
            reopened = await call("POST", f"{api}/reopen", token=org.token)
            assert reopened.status == 200, reopened.body
            assert reopened.body["status"] == "active" and reopened.body["closed_at"] is None
            assert reopened.body["assigned_agent_id"] == org.agent["id"]
            frame = await visitor.expect("thread")
            while frame["thread"]["status"] != "active":
                frame = await visitor.expect("thread")
            assert (await call("POST", f"{api}/reopen", token=org.token)).status == 200  # as is

            assert (await call("POST", f"{api}/close", token=org.token)).status == 200
            await agent.send({"type": "reopen", "thread_id": thread})
            ack = await agent.expect("ack", ref="reopen")
            assert ack["thread"]["status"] == "active"
            await agent.send({"type": "reopen", "thread_id": other.space["id"]})
            error = await agent.expect("error", ref="reopen")
            assert error["code"] == "not_found"
