"""The dedupe window (chat/streams/lua.py, DEDUPE_FUNCTIONS): a resent client_id within the window
is answered with its first ack and stored once; each record's key outlives its send by at least
the window and expires by itself within two; a record of the generation before, or of the
unsuffixed hash older versions wrote, is still found."""

from __future__ import annotations

import uuid

import trio

from chat.ids import parse_id
from chat.streams.log import Ack, StreamLog
from tests.helpers.db import POLL_SECONDS

SPACE = str(uuid.uuid4())


def _log(stream_log: StreamLog, window: int) -> StreamLog:
    return StreamLog(stream_log.redis, stream_log.prefix, "written", dedupe_window_seconds=window)


async def _say(log: StreamLog, visitor: str, client_id: str, content: str = "hi") -> Ack:
    return await log.do_post_message(
        SPACE,
        sender_type="visitor",
        sender_id=visitor,
        sender_name="V",
        content=content,
        client_id=client_id,
        max_open_threads=100,
    )


async def _dedupe_keys(log: StreamLog, visitor: str) -> list[str]:
    pattern = f"{log.keys(SPACE).base}cid:{visitor}*"
    return [str(k) async for k in log.redis.scan_iter(match=pattern)]


async def _messages(log: StreamLog) -> int:
    entries = await log.redis.xrange(log.keys(SPACE).events, "-", "+")
    return sum(1 for e in entries if e.field_values["t"] == "message")


async def test_a_resend_within_the_window_gets_the_first_ack_and_is_stored_once(
    stream_log: StreamLog,
) -> None:
    with trio.fail_after(10):
        log, visitor = _log(stream_log, 3600), str(uuid.uuid4())
        first = await _say(log, visitor, "c1", "hello")
        again = await _say(log, visitor, "c1", "hello")
        assert again == first
        assert await _messages(log) == 1


async def test_a_record_outlives_its_send_by_the_window_and_expires_within_two(
    stream_log: StreamLog,
) -> None:
    with trio.fail_after(20):
        log, visitor = _log(stream_log, 1), str(uuid.uuid4())
        acks = [await _say(log, visitor, f"c{n}") for n in range(5)]
        keys = await _dedupe_keys(log, visitor)
        assert 1 <= len(keys) <= 2  # this generation's hash, and maybe the one before
        for ack in acks:
            # The hash holding the record expires no sooner than the send plus the window (the
            # guarantee) and no later than two windows after it (the memory bound).
            holder = [k for k in keys if await log.redis.hget(k, ack.client_id)]
            assert len(holder) == 1
            expires_ms = (await log.redis.pexpiretime(holder[0])).timestamp() * 1000
            sent_ms = parse_id(ack.id)[0]
            assert sent_ms + 1000 <= expires_ms <= sent_ms + 2000
        while await _dedupe_keys(log, visitor):  # gone by themselves, within two windows
            await trio.sleep(POLL_SECONDS)
        # Past the window a resend is a new message (structures.md, "Dedupe window").
        late = await _say(log, visitor, "c0")
        assert late.id != acks[0].id
        assert await _messages(log) == 6


async def test_the_generation_before_and_the_older_versions_hash_are_read(
    stream_log: StreamLog,
) -> None:
    with trio.fail_after(10):
        log, visitor = _log(stream_log, 3600), str(uuid.uuid4())
        first = await _say(log, visitor, "c1")
        thread = first.thread_id
        # Records as a send in the previous generation, and an older version, left them.
        now_ms = parse_id(first.id)[0]
        previous = f"{log.keys(SPACE).base}cid:{visitor}:{now_ms // 3_600_000 - 1}"
        legacy = f"{log.keys(SPACE).base}cid:{visitor}"
        await log.redis.hset(previous, {"old": f"{thread} 1-1"})
        await log.redis.hset(legacy, {"older": f"{thread} 1-2"})
        assert (await _say(log, visitor, "old")).id == "1-1"
        assert (await _say(log, visitor, "older")).id == "1-2"
        assert await _messages(log) == 1
