"""Entries a crashed consumer left pending, taken over for every space in one pipelined round
trip (chat/streams/groups.py reclaim_each): only the spaces with something idle long enough
answer, each with at most `count` entries, and a lost group is the error the consumers heal."""

from __future__ import annotations

import uuid

import pytest
import trio

from chat.streams import groups
from chat.streams.errors import ConsumerGroupMissingError
from chat.streams.keys import PROJECTOR_GROUP
from chat.streams.log import StreamLog


async def _pending(stream_log: StreamLog, space_id: str, entries: int, consumer: str) -> list[str]:
    """`entries` new entries in the space, delivered to `consumer` and never acked."""
    key = stream_log.keys(space_id).events
    ids = [str(await stream_log.redis.xadd(key, {"k": str(n)})) for n in range(entries)]
    await stream_log.redis.xreadgroup(PROJECTOR_GROUP, consumer, count=entries, streams={key: ">"})
    return ids


async def test_every_space_in_one_pass_and_each_capped_at_count(stream_log: StreamLog) -> None:
    with trio.fail_after(20):
        many, one, none = (str(uuid.uuid4()) for _ in range(3))
        for space_id in (many, one, none):
            await groups.ensure_group(stream_log, space_id)
        many_ids = await _pending(stream_log, many, 5, "crashed")
        one_ids = await _pending(stream_log, one, 1, "crashed")
        # Not idle long enough yet: nothing is taken over.
        spaces = [many, one, none]
        assert await groups.reclaim_each(stream_log, "live", spaces, 60_000, 3) == {}
        found = await groups.reclaim_each(stream_log, "live", spaces, 0, 3)
        assert sorted(found) == sorted([many, one])
        assert [entry_id for _, entry_id, _ in found[many]] == many_ids[:3]
        assert [(s, e) for s, e, _ in found[one]] == [(one, one_ids[0])]
        # The raw entries are no log entries: set aside as undecodable, never dropped.
        assert all(isinstance(entry, groups.Undecodable) for _, _, entry in found[many])
        # Taken over: they are the live consumer's now, the rest still the crashed one's.
        key = stream_log.keys(many).events
        mine = await stream_log.redis.xpending(
            key, PROJECTOR_GROUP, start="-", end="+", count=10, consumer="live"
        )
        assert [str(p.identifier) for p in mine] == many_ids[:3]  # type: ignore[union-attr]
        rest = await groups.reclaim_each(stream_log, "live", [many], 0, 10)
        assert [entry_id for _, entry_id, _ in rest[many]] == many_ids


async def test_a_space_without_its_group_fails_the_pass(stream_log: StreamLog) -> None:
    with trio.fail_after(20):
        kept, lost = str(uuid.uuid4()), str(uuid.uuid4())
        await groups.ensure_group(stream_log, kept)
        await stream_log.redis.xadd(stream_log.keys(lost).events, {"k": "v"})
        with pytest.raises(ConsumerGroupMissingError):
            await groups.reclaim_each(stream_log, "live", [kept, lost], 0, 10)
