"""Budgets of a client address in POST_MESSAGE (chat/streams/lua.py) and the socket leases of
chat/streams/socket_slots.py, against the real Valkey."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack

import pytest
import trio

from chat.clock import now_ms
from chat.errors import QueueFullError, RateLimitedError
from chat.streams import socket_slots
from chat.streams.log import AddressBudget, StreamLog
from chat.streams.socket_slots import SocketSlots, slots_key

SPACE = "s1"


async def _open(log: StreamLog, budget: AddressBudget, max_open: int = 100) -> str:
    ack = await log.do_post_message(
        SPACE,
        sender_type="visitor",
        sender_id=str(uuid.uuid4()),  # a new visitor id each time, as a squatter does
        sender_name="V",
        content="hi",
        client_id=str(uuid.uuid4()),
        max_open_threads=max_open,
        address=budget,
        visitor_ttl_seconds=3600,
    )
    return ack.thread_id


async def test_open_threads_per_address_are_capped_and_freed_by_closing(
    stream_log: StreamLog,
) -> None:
    with trio.fail_after(10):
        budget = AddressBudget("10.0.0.1", open_threads=2)
        first = await _open(stream_log, budget)
        await _open(stream_log, budget)
        with pytest.raises(RateLimitedError, match="open conversations"):
            await _open(stream_log, budget)
        await _open(stream_log, AddressBudget("10.0.0.2", open_threads=2))  # another address
        await stream_log.do_change_thread(SPACE, first, "close", agent_id="a")
        await _open(stream_log, budget)


async def test_the_space_cap_still_applies_after_the_address_budget(
    stream_log: StreamLog,
) -> None:
    with trio.fail_after(10):
        await _open(stream_log, AddressBudget("10.0.0.1", open_threads=5), max_open=1)
        with pytest.raises(QueueFullError):
            await _open(stream_log, AddressBudget("10.0.0.2", open_threads=5), max_open=1)


async def test_threads_per_hour_and_messages_per_address_span_visitor_ids(
    stream_log: StreamLog,
) -> None:
    with trio.fail_after(10):
        hourly = AddressBudget("10.0.0.3", threads_per_hour=2)
        await _open(stream_log, hourly)
        await _open(stream_log, hourly)
        with pytest.raises(RateLimitedError, match="new conversations"):
            await _open(stream_log, hourly)
        chatty = AddressBudget("10.0.0.4", messages_per_second=0.01, messages_burst=3)
        for _ in range(3):
            await _open(stream_log, chatty)
        with pytest.raises(RateLimitedError, match="messages"):
            await _open(stream_log, chatty)


async def test_socket_leases_are_capped_released_and_lapse(stream_log: StreamLog) -> None:
    with trio.fail_after(10):
        slots = SocketSlots(stream_log.redis, stream_log.prefix, limit=2)
        async with slots.open_slot("10.0.0.5") as first, slots.open_slot("10.0.0.5") as second:
            assert first and second
            async with slots.open_slot("10.0.0.5") as third:
                assert not third
            assert await slots.count("10.0.0.5") == 2
        assert await slots.count("10.0.0.5") == 0
        # A process that dies never releases: its lease lapses by itself.
        key = f"{stream_log.prefix}:ws:10.0.0.6"
        await stream_log.redis.zadd(key, {"dead": 1})  # a lease that ended at epoch + 1 ms
        await stream_log.redis.zadd(key, {"dead2": 2})
        async with slots.open_slot("10.0.0.6") as admitted:
            assert admitted


async def test_one_renewal_extends_every_held_lease_and_only_those(
    stream_log: StreamLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SocketSlots.renew_held (what the process's renewer runs every SLOT_RENEW_SECONDS): the
    leases of the sockets held now move forward, in batches; a released socket is not renewed;
    a lease Redis lost meanwhile is taken again."""
    monkeypatch.setattr(socket_slots, "RENEW_BATCH", 3)  # 10 leases: four round trips
    with trio.fail_after(10):
        redis = stream_log.redis
        slots = SocketSlots(redis, stream_log.prefix, limit=3)
        addresses = [f"10.0.1.{i}" for i in range(5)]
        keys = [slots_key(stream_log.prefix, a) for a in addresses]
        async with AsyncExitStack() as stack:
            for address in addresses:
                for _ in range(2):
                    assert await stack.enter_async_context(slots.open_slot(address))
            async with slots.open_slot(addresses[0]) as gone:
                assert gone
            assert slots.held == 10
            # Age every lease to end 5 s from now, and lose one of them entirely.
            ending = now_ms() + 5_000
            for key in keys:
                members = await redis.zrange(key, 0, -1)
                await redis.zadd(key, {m: ending for m in members})
            [lost] = await redis.zrange(keys[4], 0, 0)
            await redis.zrem(keys[4], [lost])
            assert await slots.renew_held() == 10
            for key in keys:
                scores = [s for _, s in await redis.zrange(key, 0, -1, withscores=True)]
                assert len(scores) == 2, key
                assert all(s > ending + 30_000 for s in scores), (key, scores)
        assert slots.held == 0
        assert await slots.renew_held() == 0
        assert [await slots.count(a) for a in addresses] == [0] * 5
