"""A widget socket's reads on joining, in one script call (chat/streams/visitor_join.py): a new
visitor, a stored and verified one, and the agents online by their heartbeats' age."""

from __future__ import annotations

import uuid

import trio

from chat.clock import now_ms
from chat.streams.identity import verified_key
from chat.streams.log import StreamLog


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
