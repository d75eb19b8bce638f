"""The webhooks group holds the space stream's trim: entries the ingest has not acked stay in
the log (for at most a day), so an ingest that is down loses nothing; once acked, they go."""

from __future__ import annotations

import uuid

import trio

from chat.streams import groups
from chat.streams.keys import WEBHOOKS_GROUP
from chat.streams.log import StreamLog
from chat.streams.retention import Retention
from tests.helpers.streams import visitor_says

SPACE = str(uuid.uuid4())


async def _ids(stream_log: StreamLog) -> list[str]:
    raw = await stream_log.redis.xrange(stream_log.keys(SPACE).events, "-", "+")
    return [str(e.identifier) for e in raw]


async def test_unread_webhook_entries_are_not_trimmed(stream_log: StreamLog) -> None:
    with trio.fail_after(20):
        await groups.ensure_group(stream_log, SPACE, WEBHOOKS_GROUP, "0")
        await visitor_says(stream_log, SPACE, ["a", "b", "c"])
        before = await _ids(stream_log)
        # The projector has everything (its group at the end); the resume window is 0 s.
        await groups.ensure_group(stream_log, SPACE, start="$")
        await Retention(stream_log).trim(SPACE, 0)
        assert await _ids(stream_log) == before  # held: the webhooks group read none of them

        read = await groups.read_new(stream_log, "n1", [SPACE], 10, 0, WEBHOOKS_GROUP)
        assert [entry_id for _, entry_id, _ in read] == before
        await Retention(stream_log).trim(SPACE, 0)
        assert await _ids(stream_log) == before  # read but pending (not acked): still held
        await groups.ack(stream_log, {SPACE: before}, WEBHOOKS_GROUP)
        await Retention(stream_log).trim(SPACE, 0)
        assert await _ids(stream_log) == []
