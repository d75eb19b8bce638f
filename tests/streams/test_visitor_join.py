"""A widget socket's reads on joining, in one script call (chat/streams/visitor_join.py): a new
visitor, a stored and verified one, and the agents online by their heartbeats' age."""

from __future__ import annotations

import uuid

import trio

from chat.clock import now_ms
from chat.streams.identity import verified_key
from chat.streams.log import StreamLog
from chat.streams.visitor_join import JoinRead


async def test_a_new_visitor_then_a_stored_verified_one_with_agents_online(
    stream_log: StreamLog,
) -> None:
    with trio.fail_after(20):
        space_id, visitor_id = str(uuid.uuid4()), str(uuid.uuid4())
        first = await stream_log.joins.read(space_id, visitor_id)
        assert (first.visitor, first.verified, first.online_agents) == (None, False, [])

        keys = stream_log.keys(space_id)
        created = now_ms()
        await stream_log.redis.hset(keys.visitor(visitor_id), {"name": "Ada", "created": created})
        await stream_log.redis.set(verified_key(keys, visitor_id), "user-1")
        await stream_log.do_heartbeat(space_id, "agent-live", "s1")
        # A heartbeat older than the presence TTL no longer counts.
        stale = now_ms() - stream_log.presence_ttl_ms - 1000
        await stream_log.redis.zadd(keys.online, {"agent-gone": stale})

        joined = await stream_log.joins.read(space_id, visitor_id)
        assert joined.visitor is not None
        assert (joined.visitor.id, joined.visitor.name, joined.visitor.created) == (
            visitor_id,
            "Ada",
            created,
        )
        assert joined.verified
        assert joined.online_agents == ["agent-live"]


async def test_concurrent_joins_over_spaces_each_get_their_own_in_fewer_calls(
    stream_log: StreamLog,
) -> None:
    """A connect burst: joins in flight together go in one script call (one per space in a
    cluster), and each caller still gets its own visitor, its own flag and its space's agents."""
    spaces = [str(uuid.uuid4()) for _ in range(3)]
    visitors = [(space_id, str(uuid.uuid4())) for space_id in spaces for _ in range(12)]
    for number, space_id in enumerate(spaces):
        await stream_log.do_heartbeat(space_id, f"agent-{number}", "s1")
    stored = visitors[::2]  # every other visitor has a name; every third is verified
    for space_id, visitor_id in stored:
        keys = stream_log.keys(space_id)
        await stream_log.redis.hset(
            keys.visitor(visitor_id), {"name": visitor_id[:8], "created": 1}
        )
    for space_id, visitor_id in visitors[::3]:
        await stream_log.redis.set(verified_key(stream_log.keys(space_id), visitor_id), "u")
    calls_before = stream_log.joins.calls
    joined: dict[str, JoinRead] = {}

    async def join(space_id: str, visitor_id: str) -> None:
        joined[visitor_id] = await stream_log.joins.read(space_id, visitor_id)

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            for space_id, visitor_id in visitors:
                nursery.start_soon(join, space_id, visitor_id)

    for index, (space_id, visitor_id) in enumerate(visitors):
        read = joined[visitor_id]
        name = visitor_id[:8] if index % 2 == 0 else None
        assert (read.visitor.name if read.visitor else None) == name
        assert read.verified == (index % 3 == 0)
        assert read.online_agents == [f"agent-{spaces.index(space_id)}"]
    # The leader lets the tasks already runnable queue before it sends: one call for them all
    # (one per space in a cluster), never one per visitor.
    calls = stream_log.joins.calls - calls_before
    assert 1 <= calls <= len(spaces)
