"""Group commit (chat/streams/log.py): concurrent appends of one process share a pipeline, and
each caller still gets exactly its own reply or its own error."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import trio

from chat.config import AckDurability, Settings
from chat.errors import ChatError, RateLimitedError, ThreadNotFoundError
from chat.events import MessagePosted
from chat.streams.client import Redis, open_redis
from chat.streams.log import Ack, RateLimit, StreamLog

SENDERS = 40


async def _calls(redis: Redis, command: str) -> int:
    """How often Valkey has run `command` (server-wide, and tests run one at a time)."""
    stats = await redis.info("commandstats")
    entry = stats.get(f"cmdstat_{command}")
    return int(entry["calls"]) if isinstance(entry, dict) else 0


async def _post_all(log: StreamLog, space_id: str) -> tuple[dict[int, Ack], dict[str, Exception]]:
    """SENDERS visitors post at once, plus an agent into a missing thread and one visitor twice
    with room for one message only."""
    acks: dict[int, Ack] = {}
    refused: dict[str, Exception] = {}

    async def visitor(n: int) -> None:
        acks[n] = await log.do_post_message(
            space_id,
            sender_type="visitor",
            sender_id=f"v{n}",
            sender_name="V",
            content=f"m{n}",
            client_id=f"c{n}",
            max_open_threads=1000,
        )

    async def refused_as(name: str, **kwargs: Any) -> None:
        try:
            await log.do_post_message(space_id, sender_name="X", content=name, **kwargs)
        except ChatError as err:
            refused[name] = err

    thread = str(uuid.uuid4())
    limited: dict[str, Any] = {
        "sender_type": "visitor",
        "sender_id": "lim",
        "rate": RateLimit(0.001, 1),
        "max_open_threads": 1000,
    }
    async with trio.open_nursery() as nursery:
        for n in range(SENDERS):
            nursery.start_soon(visitor, n)
        nursery.start_soon(
            lambda: refused_as(
                "agent", sender_type="agent", sender_id="a", client_id="ca", thread_id=thread
            )
        )
        nursery.start_soon(lambda: refused_as("lim1", client_id="l1", **limited))
        nursery.start_soon(lambda: refused_as("lim2", client_id="l2", **limited))
    return acks, refused


@pytest.mark.parametrize("durability", ["written", "fsync"])
async def test_concurrent_posts_each_get_their_own_reply(
    settings: Settings, durability: AckDurability
) -> None:
    space_id = str(uuid.uuid4())
    with trio.fail_after(30):
        async with open_redis(settings.redis_url) as redis:
            log = StreamLog(redis, settings.key_prefix, durability)
            waits_before = await _calls(redis, "waitaof")
            acks, refused = await _post_all(log, space_id)
            waits = await _calls(redis, "waitaof") - waits_before
            entries = await log.read_range(log.keys(space_id).events, None, 1000)

    # A script's refusal reaches its caller only.
    assert isinstance(refused.pop("agent"), ThreadNotFoundError)
    assert [type(e) for e in refused.values()] == [RateLimitedError]  # one of the two
    assert len(acks) == SENDERS
    messages = {e.id: e.event for e in entries if isinstance(e.event, MessagePosted)}
    for n, ack in acks.items():
        stored = messages[ack.id]
        assert ack.client_id == f"c{n}"
        assert (stored.content, stored.client_id, stored.thread_id) == (
            f"m{n}",
            f"c{n}",
            ack.thread_id,
        )
    assert len(messages) == SENDERS + 1  # and the rate-limited visitor's first message
    if durability == "fsync":
        # One WAITAOF per batch, not per message: the first caller's batch, then the others'.
        assert 1 <= waits <= 2
    else:
        assert waits == 0


@pytest.mark.parametrize("durability", ["written", "fsync"])
async def test_a_flushed_script_cache_is_reloaded(
    settings: Settings, durability: AckDurability
) -> None:
    """A restarted Valkey has no scripts: a batch that hears NOSCRIPT loads them and resends."""
    space_id = str(uuid.uuid4())
    with trio.fail_after(30):
        async with open_redis(settings.redis_url) as redis:
            log = StreamLog(redis, settings.key_prefix, durability)
            await redis.script_flush()
            acks, _refused = await _post_all(log, space_id)
            again = await log.do_post_message(
                space_id,
                sender_type="visitor",
                sender_id="v0",
                sender_name="V",
                content="m0",
                client_id="c0",
            )
    assert len(acks) == SENDERS
    assert again == acks[0]  # stored once: the same client_id is answered with the first ack
