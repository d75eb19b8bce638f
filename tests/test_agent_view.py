"""What agents see is the log's (CONTRACT.md, "What an agent sees is consistent with the log"):
the subscribe snapshot, REST thread lists that hold unprojected open threads, and a new space
that the projector follows at once."""

from __future__ import annotations

import dataclasses

import trio

from chat.config import Settings
from tests.helpers.chat import agent_socket, make_org, widget
from tests.helpers.db import query
from tests.helpers.http import call

SPACES = 4
# The projector's idle read blocks 1 s; the old 5 s refresh took 2.5 s on average.
PROJECTED_WITHIN = 2.0


async def test_a_new_space_is_projected_at_once(base_url: str, settings: Settings) -> None:
    """Each new space's first thread reaches PostgreSQL well before the 5 s refresh."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        for n in range(SPACES):
            made = await call(
                "POST",
                f"{base_url}/api/v1/spaces",
                {"name": f"S{n}", "allowed_domains": ["shop.example.com"]},
                token=org.token,
            )
            assert made.status == 201, made.body
            space = dataclasses.replace(org, space=made.body)
            async with widget(space) as (visitor, _):
                ack = await visitor.say("hello")
            started = trio.current_time()
            while not await trio.to_thread.run_sync(
                query,
                settings.database_url,
                "SELECT 1 FROM threads WHERE id = %s",
                (ack["thread_id"],),
            ):
                assert trio.current_time() - started < PROJECTED_WITHIN, f"space {n} not projected"
                await trio.sleep(0.05)


async def test_subscribe_answers_the_open_threads_with_their_cursor(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with widget(org) as (visitor, _):
            ack = await visitor.say("hello")
            async with agent_socket(base_url, org.token) as (agent, _):
                await agent.send({"type": "subscribe", "space_id": org.space["id"]})
                subscribed = await agent.expect("subscribed", space_id=org.space["id"])
                [thread] = subscribed["threads"]
                assert thread["id"] == ack["thread_id"]
                assert thread["status"] == "unassigned"
                assert thread["visitor"]["id"] == thread["visitor_id"]
                later = await visitor.say("still there?")
                message = await agent.expect("message")
                assert message["id"] == later["id"]
                await agent.send(
                    {"type": "subscribe", "space_id": org.space["id"], "cursor": ack["id"]}
                )
                again = await agent.expect("subscribed", space_id=org.space["id"])
                assert "threads" not in again
