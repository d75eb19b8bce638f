"""Budgets of a client address in POST_MESSAGE (chat/streams/lua.py) and the socket leases of
chat/streams/limits.py, against the real Valkey."""

from __future__ import annotations

import uuid

import pytest
import trio

from chat.errors import QueueFullError, RateLimitedError
from chat.streams.limits import SocketSlots
from chat.streams.log import AddressBudget, StreamLog

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
