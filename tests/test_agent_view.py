"""What agents see is the log's (CONTRACT.md, "What an agent sees is consistent with the log"):
the subscribe snapshot, REST thread lists that hold unprojected open threads, and a new space
that the projector follows at once."""

from __future__ import annotations

import dataclasses

import trio

from chat.config import Settings
from chat.server import serve
from tests.helpers.chat import agent_socket, make_org, widget
from tests.helpers.db import query, wait_for_rows
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


async def test_rest_lists_open_threads_the_projector_has_not_written(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """With no projector, PostgreSQL holds no thread: the first page lists the log's open ones
    (filters applied), later pages and closed lists come from PostgreSQL alone."""
    unprojected = settings.model_copy(update={"projector_enabled": False})
    base = str((await nursery.start(serve, unprojected, "127.0.0.1", 0))[0])
    with trio.fail_after(30):
        org = await make_org(base)
        threads = f"{base}/api/v1/spaces/{org.space['id']}/threads"
        acks = []
        for _ in range(3):
            async with widget(org) as (visitor, _):
                acks.append(await visitor.say("hello"))
        async with agent_socket(base, org.token) as (agent, _):
            await agent.send({"type": "claim", "thread_id": acks[0]["thread_id"]})
            await agent.expect("ack", ref="claim")
        assert not query(settings.database_url, "SELECT 1 FROM threads")
        listed = await call("GET", threads, token=org.token)
        assert listed.status == 200, listed.body
        ids = [t["id"] for t in listed.body["items"]]
        assert sorted(ids) == sorted(a["thread_id"] for a in acks)
        assert ids[0] == acks[0]["thread_id"]  # newest activity first: the claim
        assert listed.body["items"][0]["status"] == "active"
        assert listed.body["next_cursor"] is None
        mine = await call("GET", f"{threads}?assigned=me", token=org.token)
        assert [t["id"] for t in mine.body["items"]] == [acks[0]["thread_id"]]
        waiting = await call("GET", f"{threads}?status=unassigned", token=org.token)
        assert len(waiting.body["items"]) == 2
        closed = await call("GET", f"{threads}?status=closed", token=org.token)
        assert closed.body["items"] == []


async def test_rest_merges_without_doubles_once_projected(
    base_url: str, settings: Settings
) -> None:
    """A projected open thread on a later page is not repeated on the first."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        acks = []
        for _ in range(3):
            async with widget(org) as (visitor, _):
                acks.append(await visitor.say("hello"))
        threads = f"{base_url}/api/v1/spaces/{org.space['id']}/threads"
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM threads WHERE space_id = %s",
            (org.space["id"],),
            3,
        )
        first = await call("GET", f"{threads}?limit=2", token=org.token)
        assert len(first.body["items"]) == 2 and first.body["next_cursor"]
        cursor = first.body["next_cursor"]
        second = await call("GET", f"{threads}?limit=2&cursor={cursor}", token=org.token)
        ids = [t["id"] for t in first.body["items"] + second.body["items"]]
        assert sorted(ids) == sorted(a["thread_id"] for a in acks)
