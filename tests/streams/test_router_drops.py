"""A subscription that falls behind the stream reader is dropped deliberately, and counted by
route kind for /metrics (chat/streams/reader.py StreamRouter.overflows)."""

from __future__ import annotations

import uuid

import trio

from chat.config import Settings
from chat.events import LogEntry, MessagePosted
from chat.streams.client import open_redis
from chat.streams.log import StreamLog
from chat.streams.reader import SUBSCRIPTION_BUFFER, StreamRouter, route_kind


def _message(n: int, thread_id: str) -> LogEntry:
    event = MessagePosted(
        thread_id=thread_id,
        sender_type="visitor",
        sender_id="v",
        sender_name="V",
        content=f"m{n}",
        client_id=f"c{n}",
    )
    return LogEntry(f"{n + 1}-0", event)


def test_route_kinds_carry_no_ids() -> None:
    assert route_kind("*") == "space"
    assert route_kind("*presence") == "presence"
    assert route_kind("v:" + str(uuid.uuid4())) == "visitor"
    assert route_kind(str(uuid.uuid4())) == "thread"


async def test_a_full_subscription_is_dropped_and_counted(settings: Settings) -> None:
    with trio.fail_after(10):
        async with open_redis(settings.redis_url) as redis:
            router = StreamRouter(StreamLog(redis, settings.key_prefix, "written"), "node")
            space_id, thread_id = str(uuid.uuid4()), str(uuid.uuid4())
            slow = await router.subscribe(space_id, route=thread_id)
            other = await router.subscribe(space_id, route=str(uuid.uuid4()))
            router.deliver(space_id, [_message(n, thread_id) for n in range(SUBSCRIPTION_BUFFER)])
            assert not slow.overflowed and not router.overflows
            router.deliver(space_id, [_message(SUBSCRIPTION_BUFFER, thread_id)])
            assert slow.overflowed and not other.overflowed
            assert router.overflows == {"thread": 1}
            router.unsubscribe(other)
