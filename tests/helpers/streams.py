"""The stream log from tests: a log under a fresh key prefix, entries built by hand for the
mechanisms that route and fan out entries, and messages appended through the real scripts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
import trio

from chat.events import (
    LogEntry,
    MessagePosted,
    Presence,
    ThreadOpened,
    ThreadSnapshot,
    Typing,
    VisitorInfo,
)
from chat.streams import groups
from chat.streams.client import open_redis
from chat.streams.log import Ack, StreamLog
from tests.helpers.db import POLL_SECONDS


@asynccontextmanager
async def open_stream_log(redis_url: str) -> AsyncIterator[StreamLog]:
    """A StreamLog on its own connection pool, under a key prefix no other test uses."""
    async with open_redis(redis_url) as redis:
        yield StreamLog(redis, "t" + uuid.uuid4().hex[:8], "written")


def message(entry_id: str, thread_id: str, content: str = "hi") -> LogEntry:
    """A visitor's message entry, as the reader hands it over."""
    event = MessagePosted(
        thread_id=thread_id,
        sender_type="visitor",
        sender_id="v",
        sender_name="V",
        content=content,
        client_id=entry_id,
    )
    return LogEntry(entry_id, event)


def typing(entry_id: str, thread_id: str) -> LogEntry:
    event = Typing(thread_id=thread_id, sender_type="visitor", sender_id="v", active=True)
    return LogEntry(entry_id, event)


def presence(entry_id: str) -> LogEntry:
    return LogEntry(entry_id, Presence(agent_id="a", online=True, any_online=True))


def opened(entry_id: str, space_id: str, thread_id: str, visitor_id: str) -> LogEntry:
    """A thread.opened entry: routed to its thread and to its visitor."""
    thread = ThreadSnapshot(
        id=thread_id,
        space_id=space_id,
        visitor_id=visitor_id,
        status="unassigned",
        created=1,
        last=1,
    )
    return LogEntry(entry_id, ThreadOpened(thread=thread, visitor=VisitorInfo(id=visitor_id)))


async def visitor_says(
    stream_log: StreamLog, space_id: str, contents: list[str], *, visitor: str | None = None
) -> list[Ack]:
    """One visitor's messages appended through the real script, in order: the first opens a
    thread (when the visitor has none open), the rest go to it. Their acks."""
    visitor = visitor or str(uuid.uuid4())
    acks = []
    for content in contents:
        acks.append(
            await stream_log.do_post_message(
                space_id,
                sender_type="visitor",
                sender_id=visitor,
                sender_name="V",
                content=content,
                client_id=str(uuid.uuid4()),
                max_open_threads=100,
            )
        )
    return acks


async def append_poison(stream_log: StreamLog, space_id: str) -> str:
    """A message entry that decodes but PostgreSQL refuses (its thread id is no uuid), added by
    hand; its id. The projector must set it aside and go on."""
    poison = {
        "thread_id": "not-a-uuid",
        "sender_type": "agent",
        "sender_id": "x",
        "sender_name": "x",
        "content": "x",
        "client_id": "poison",
    }
    fields = {"t": "message", "d": orjson.dumps(poison).decode()}
    return str(await stream_log.redis.xadd(stream_log.keys(space_id).events, fields))


async def wait_projected(stream_log: StreamLog, space_id: str, timeout: float = 30) -> None:
    """Until the projector has acked every entry of the space (the ack follows the commit)."""
    with trio.fail_after(timeout):
        while (await groups.lag(stream_log, space_id)).entries:
            await trio.sleep(POLL_SECONDS)
