"""Anonymous widget clients cannot exhaust a space (issue 15, findings 1, 2 and 16): per-address
budgets counted in Redis, visitors stored only once they do something, paced side channels.

A second client address comes from binding the client socket to 127.0.0.2 (Linux routes all
of 127.0.0.0/8 to loopback); trio-websocket's URL opener cannot choose a source address, so
`widget_from` connects the TCP stream itself and wraps it."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import trio
from trio_websocket import ConnectionRejected, open_websocket_url, wrap_client_stream

from chat.config import Settings
from chat.server import serve
from chat.streams.client import open_redis
from chat.streams.log import StreamLog
from tests.helpers.chat import ORIGIN, Client, Org, agent_socket, assert_alive, make_org, widget
from tests.helpers.db import query
from tests.helpers.streams import wait_projected

OTHER_ADDRESS = "127.0.0.2"


# The defaults (tests/conftest.py lifts them for every other test).
BUDGETS = {
    name: Settings.model_fields[name].default
    for name in (
        "visitor_sockets_per_address",
        "visitor_open_threads_per_address",
        "visitor_threads_per_address_per_hour",
        "visitor_messages_per_address_per_second",
    )
}


async def _serve(nursery: trio.Nursery, settings: Settings, **update: object) -> str:
    with_budgets = settings.model_copy(update={**BUDGETS, **update})
    binds = await nursery.start(serve, with_budgets, "127.0.0.1", 0)
    return str(binds[0])


@asynccontextmanager
async def widget_from(org: Org, source: str) -> AsyncIterator[tuple[Client, dict[str, Any]]]:
    """A widget socket whose TCP connection comes from `source`."""
    url = urlsplit(org.ws_base)
    assert url.hostname is not None and url.port is not None
    resource = f"/ws/widget?key={org.space['widget_key']}"
    async with trio.open_nursery() as nursery:
        stream = await trio.open_tcp_stream(url.hostname, url.port, local_address=source)
        ws = await wrap_client_stream(
            nursery, stream, url.hostname, resource, extra_headers=[(b"Origin", ORIGIN.encode())]
        )
        try:
            client = Client(ws)
            yield client, await client.expect("welcome")
        finally:
            await ws.aclose()


async def _refusal(org: Org) -> tuple[int, dict[str, Any]] | None:
    """The status and body a widget handshake is refused with; None if it is accepted."""
    url = f"{org.ws_base}/ws/widget?key={org.space['widget_key']}"
    try:
        async with open_websocket_url(url, extra_headers=[(b"Origin", ORIGIN.encode())]):
            return None
    except ConnectionRejected as rejected:
        return int(rejected.status_code), json.loads(rejected.body or b"{}")


@asynccontextmanager
async def _log(settings: Settings) -> AsyncIterator[StreamLog]:
    """The service's own log (its key prefix), to look at what it stored."""
    async with open_redis(settings.redis_url) as redis:
        yield StreamLog(redis, settings.key_prefix, "written")


async def _visitor_updates(log: StreamLog, space_id: str) -> list[dict[str, Any]]:
    entries = await log.redis.xrange(log.keys(space_id).events, "-", "+")
    return [
        json.loads(e.field_values["d"]) for e in entries if e.field_values["t"] == "visitor.updated"
    ]


async def _send_one(client: Client) -> dict[str, Any]:
    client_id = str(uuid.uuid4())
    await client.send({"type": "message", "client_id": client_id, "content": "spam"})
    return await client.expect_any(("ack", "error"))


async def test_squatting_from_one_address_leaves_a_visitor_elsewhere_able_to_chat(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """Finding 1: twelve sockets of one address, one message each, used to take every one of
    the space's 10 open slots, and every visitor after them got queue_full."""
    with trio.fail_after(60):
        base = await _serve(nursery, settings)
        org = await make_org(base, settings={"max_open_threads": 10})
        answers: list[dict[str, Any]] = []
        async with AsyncExitStack() as stack:
            for _ in range(12):
                client, _welcome = await stack.enter_async_context(widget(org))
                answers.append(await _send_one(client))
                await assert_alive(client)  # refused, never closed
            acked = [a for a in answers if a["type"] == "ack"]
            assert len(acked) == 3  # visitor_open_threads_per_address
            assert {a["code"] for a in answers if a["type"] == "error"} == {"rate_limited"}
            async with widget_from(org, OTHER_ADDRESS) as (real, _welcome):
                ack = await real.say("hello, I need help")
                assert ack["thread_id"] not in {a["thread_id"] for a in acked}


async def test_sockets_per_address_are_capped_and_store_nothing(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """Finding 2: 1,500 sockets of one address were all accepted, and each handshake stored a
    permanent visitor hash, a visitor.updated entry and a PostgreSQL row."""
    with trio.fail_after(120):
        base = await _serve(nursery, settings)
        org = await make_org(base)
        cap = 50  # visitor_sockets_per_address
        async with AsyncExitStack() as stack:
            for _ in range(cap):
                await stack.enter_async_context(widget(org))
            refused = await _refusal(org)
            assert refused is not None
            status, body = refused
            assert status == 429
            assert body["error"]["code"] == "rate_limited" and body["error"]["message"]
            async with widget_from(org, OTHER_ADDRESS) as (other, _welcome):
                await assert_alive(other)  # another address has its own budget
        async with widget(org) as (client, welcome):  # closed sockets gave their slots back
            assert welcome["visitor"]["id"] and welcome["session"]  # as before: in memory
            await assert_alive(client)
        space_id = org.space["id"]
        async with _log(settings) as log:
            assert await _visitor_updates(log, space_id) == []
            assert await log.redis.keys(log.keys(space_id).visitor("*")) == set()
            await wait_projected(log, space_id)
        rows = query(settings.database_url, "SELECT count(*) FROM visitors")
        assert rows == [(0,)]


async def test_a_visitor_is_stored_with_a_ttl_once_it_does_something(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """Lingering on a page stores a visitor for an hour; writing keeps it for 30 days."""
    with trio.fail_after(60):
        base = await _serve(nursery, settings, visitor_linger_seconds=0.2)
        org = await make_org(base)
        space_id = org.space["id"]
        async with _log(settings) as log, widget(org) as (client, welcome):
            key = log.keys(space_id).visitor(welcome["visitor"]["id"])
            await client.send({"type": "page", "url": "https://shop.example.com/a"})
            with trio.fail_after(10):
                while not await log.redis.exists([key]):
                    await trio.sleep(0.05)  # the linger threshold is time-driven: poll
            assert 0 < await log.redis.ttl(key) <= settings.visitor_idle_ttl_seconds
            await client.say("hello")
            assert await log.redis.ttl(key) > settings.visitor_idle_ttl_seconds
            assert await log.redis.ttl(key) <= settings.visitor_active_ttl_seconds


async def test_page_floods_are_coalesced_for_the_log_and_for_agents(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """Finding 16: 20 sockets sending 15 page frames a second with 2,000-character URLs added
    291 stream entries a second, and one agent got 750 frames in 8 s."""
    sockets, per_second, seconds = 20, 15, 3
    with trio.fail_after(90):
        base = await _serve(nursery, settings, visitor_linger_seconds=0.0)
        org = await make_org(base)
        space_id = org.space["id"]
        frames: dict[str, list[tuple[float, str]]] = defaultdict(list)
        final: dict[str, str] = {}

        async def flood(client: Client, visitor_id: str) -> None:
            for n in range(per_second * seconds):
                url = f"https://shop.example.com/{n}?" + "x" * 1990
                final[visitor_id] = f"https://shop.example.com/{n}?"
                await client.send({"type": "page", "url": url, "title": "t"})
                await trio.sleep(1 / per_second)  # the load's pace, not a synchronisation

        async with AsyncExitStack() as stack:
            agent, _welcome = await stack.enter_async_context(
                agent_socket(base, org.token, subscribe=space_id)
            )
            clients = [await stack.enter_async_context(widget(org)) for _ in range(sockets)]
            started = trio.current_time()
            async with trio.open_nursery() as flooding:
                for client, welcome in clients:
                    flooding.start_soon(flood, client, welcome["visitor"]["id"])
            elapsed = trio.current_time() - started
            # Every visitor's last page arrives, so the agent's count is complete.
            while any(
                not frames[v] or not frames[v][-1][1].startswith(last) for v, last in final.items()
            ):
                frame = await agent.expect("visitor.updated")
                visitor = frame["visitor"]
                frames[visitor["visitor_id"]].append(
                    (trio.current_time(), visitor.get("current_url", ""))
                )
            async with _log(settings) as log:
                entries = await _visitor_updates(log, space_id)
        most = elapsed + 2  # one a second, plus the first and the trailing one
        assert len(entries) <= sockets * most, (len(entries), elapsed)
        for visitor_id, got in frames.items():
            assert len(got) <= most, (visitor_id, len(got), elapsed)
            assert all(len(url) <= 1024 for _t, url in got)


async def test_identify_and_typing_are_throttled_without_closing(
    settings: Settings, nursery: trio.Nursery
) -> None:
    with trio.fail_after(60):
        base = await _serve(nursery, settings)
        org = await make_org(base)
        space_id = org.space["id"]
        async with widget(org) as (client, _welcome):
            for n in range(5):
                await client.send({"type": "identify", "name": f"Vera {n}"})
            await assert_alive(client)
            limited = [f for f in client.seen if f["type"] == "error"]
            assert [f["code"] for f in limited] == ["rate_limited"] * 2
            await client.say("hello")  # typing needs a thread
            for active in (True, True, True, False, True, False):
                await client.send({"type": "typing", "active": active})
            await assert_alive(client)
            async with _log(settings) as log:
                with trio.fail_after(10):  # the trailing state arrives when its second ends
                    while True:
                        entries = await log.redis.xrange(log.keys(space_id).events, "-", "+")
                        typing = [
                            json.loads(e.field_values["d"])["active"]
                            for e in entries
                            if e.field_values["t"] == "typing"
                        ]
                        if typing and typing[-1] is False:
                            break
                        await trio.sleep(0.05)
        # The first change at once, repeats never, the last one when its second ends.
        assert typing == [True, False], typing
