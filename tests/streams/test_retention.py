"""The trim (chat/streams/retention.py): a space's stream and every open thread's stream lose
what is projected and older than the window, whoever wrote last; nothing the projector has not
committed goes. And a wake stream carries a TTL, renewed by each wake."""

from __future__ import annotations

import uuid

import trio

from chat.streams import groups
from chat.streams.log import StreamLog
from chat.streams.reader import WAKE_TTL_SECONDS, StreamRouter
from chat.streams.retention import Retention
from tests.helpers.streams import visitor_says


async def _lengths(stream_log: StreamLog, space: str, thread: str) -> tuple[int, int]:
    keys = stream_log.keys(space)
    return await stream_log.redis.xlen(keys.events), await stream_log.redis.xlen(
        keys.thread(thread)
    )


async def test_a_quiet_space_and_its_open_threads_are_trimmed_once_projected(
    stream_log: StreamLog,
) -> None:
    with trio.fail_after(20):
        space = str(uuid.uuid4())
        retention = Retention(stream_log)
        acks = await visitor_says(stream_log, space, ["a", "b", "c"])
        thread = acks[0].thread_id
        # Everything delivered to the projector and acked: its group starts past the end.
        await groups.ensure_group(stream_log, space, start="$")
        assert await retention.trim(space, 3600, every_open=True) == 0  # inside the window
        assert await _lengths(stream_log, space, thread) == (4, 4)  # opened + 3 messages
        # No thread named, no write since: the sweep still trims the open thread's stream.
        assert await retention.trim(space, 0, every_open=True) == 8
        assert await _lengths(stream_log, space, thread) == (0, 0)
        # The thread's state and the open set stay: only entries go.
        assert await stream_log.thread_state(space, thread) is not None


async def test_entries_not_projected_are_kept(stream_log: StreamLog) -> None:
    with trio.fail_after(20):
        space = str(uuid.uuid4())
        retention = Retention(stream_log)
        acks = await visitor_says(stream_log, space, ["a", "b"])
        thread = acks[0].thread_id
        # No projector group yet: nothing says what is projected, so nothing goes.
        assert await retention.trim(space, 0, every_open=True) == 0
        await groups.ensure_group(stream_log, space)  # from 0: nothing delivered yet
        assert await retention.trim(space, 0, every_open=True) == 0
        read = await groups.read_new(stream_log, "n1", [space], 10, 0)
        await groups.ack(stream_log, {space: [read[0][1]]})  # only the first is projected
        assert await retention.trim(space, 0, every_open=True) == 2
        assert await _lengths(stream_log, space, thread) == (2, 2)


async def test_a_wake_stream_expires_unless_woken_again(stream_log: StreamLog) -> None:
    with trio.fail_after(20):
        router = StreamRouter(stream_log, "n" + uuid.uuid4().hex[:6])
        space = str(uuid.uuid4())
        sub = await router.subscribe(space)
        ttl = await stream_log.redis.ttl(router.wake_key)
        assert 0 < ttl <= WAKE_TTL_SECONDS
        router.unsubscribe(sub)
