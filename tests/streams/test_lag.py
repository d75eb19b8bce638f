"""The projector's lag over every space, a script per chunk of spaces (chat/streams/lag.py): pending
entries, entries never delivered, a space whose stream does not exist yet, and a thousand
spaces at once."""

from __future__ import annotations

import time
import uuid

import trio

from chat.ids import parse_id
from chat.streams import groups
from chat.streams.keys import PROJECTOR_GROUP
from chat.streams.lag import total_lag
from chat.streams.log import StreamLog


async def append(stream_log: StreamLog, space_id: str) -> str:
    return str(await stream_log.redis.xadd(stream_log.keys(space_id).events, {"k": "v"}))


async def test_pending_and_undelivered_entries_count_and_the_oldest_ages(
    stream_log: StreamLog,
) -> None:
    with trio.fail_after(20):
        read, unread, caught_up, missing = (str(uuid.uuid4()) for _ in range(4))
        for space_id in (read, unread, caught_up):
            await groups.ensure_group(stream_log, space_id)
        oldest = await append(stream_log, read)
        await append(stream_log, read)
        key = stream_log.keys(read).events
        # The first of `read`'s two entries is delivered (pending), the second is not.
        await stream_log.redis.xreadgroup(PROJECTOR_GROUP, "c", count=1, streams={key: ">"})
        await append(stream_log, unread)
        assert await total_lag(stream_log, [caught_up, missing]) == groups.GroupLag(0, 0.0)
        lag = await total_lag(stream_log, [read, unread, caught_up, missing])
        assert lag.entries == 3
        age = time.time() - parse_id(oldest)[0] / 1000
        assert 0 <= lag.seconds <= age + 0.001
        await stream_log.redis.xack(key, PROJECTOR_GROUP, [oldest])
        # Only undelivered entries left: the oldest is the first after the last delivered one.
        assert (await total_lag(stream_log, [read])).entries == 1


async def test_a_thousand_spaces_in_one_sample(stream_log: StreamLog) -> None:
    with trio.fail_after(60):
        spaces = [str(uuid.uuid4()) for _ in range(1000)]
        async with stream_log.redis.pipeline(transaction=False) as pipe:
            for space_id in spaces:
                pipe.xgroup_create(
                    stream_log.keys(space_id).events, PROJECTOR_GROUP, "0", mkstream=True
                )
        for space_id in spaces[:10]:
            await append(stream_log, space_id)
        started = time.perf_counter()
        lag = await total_lag(stream_log, spaces)
        print(f"lag sample of 1000 spaces: {(time.perf_counter() - started) * 1000:.1f} ms")
        assert lag.entries == 10 and lag.seconds >= 0
