"""chat/thread_history.py `log_messages_before`: a thread's history from its stream alone, for
when PostgreSQL is down; it says whether older messages wait in PostgreSQL."""

from __future__ import annotations

import uuid

import trio

from chat.streams.log import StreamLog
from chat.thread_history import log_messages_before
from tests.helpers.streams import visitor_says


async def test_an_untrimmed_stream_is_the_whole_history(stream_log: StreamLog) -> None:
    space_id = str(uuid.uuid4())
    with trio.fail_after(10):
        acks = await visitor_says(stream_log, space_id, ["one", "two", "three"])
        thread_id = acks[0].thread_id
        page, older = await log_messages_before(stream_log, space_id, thread_id, None, 2)
        assert [m["content"] for m in page] == ["two", "three"] and older
        page, older = await log_messages_before(stream_log, space_id, thread_id, page[0]["id"], 2)
        assert [m["content"] for m in page] == ["one"] and not older


async def test_a_trimmed_stream_says_older_messages_wait_in_postgresql(
    stream_log: StreamLog,
) -> None:
    space_id = str(uuid.uuid4())
    with trio.fail_after(10):
        acks = await visitor_says(stream_log, space_id, ["one", "two", "three"])
        key = stream_log.keys(space_id).thread(acks[0].thread_id)
        await stream_log.redis.xtrim(key, threshold=acks[1].id, trim_strategy="MINID")
        page, older = await log_messages_before(stream_log, space_id, acks[0].thread_id, None, 5)
        assert [m["content"] for m in page] == ["two", "three"] and older
