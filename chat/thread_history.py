"""A thread's messages as PostgreSQL (older, projected) joined with the stream (newest).

An entry leaves a stream only after the projector committed it, so the union of the two is always
complete; merging by id removes the overlap.
"""

from __future__ import annotations

from chat.db import thread_queries
from chat.db.pool import Database
from chat.events import MessagePosted
from chat.ids import parse_id
from chat.json_types import Json
from chat.protocol.outbound import message_json
from chat.streams.log import StreamLog

STREAM_PAGE = 500


async def messages_after(
    stream_log: StreamLog,
    db: Database,
    space_id: str,
    thread_id: str,
    after: str | None,
    limit: int,
) -> list[Json]:
    """Messages after `after` (oldest first, at most `limit`); with None, the latest `limit`."""
    key = stream_log.keys(space_id).thread(thread_id)
    if after is None:
        return await _latest(stream_log, db, key, thread_id, limit)
    merged: dict[str, Json] = {}
    if parse_id(await stream_log.trimmed_before(key)) >= parse_id(after):
        rows = await db.run(
            lambda c: thread_queries.messages_after(c, thread_id, parse_id(after), limit)
        )
        merged.update((r["id"], r) for r in rows)
    cursor = after
    while len(merged) < limit:
        page = await stream_log.read_range(key, cursor, STREAM_PAGE)
        for entry in page:
            if isinstance(entry.event, MessagePosted):
                merged[entry.id] = message_json(entry.id, entry.event)
        if len(page) < STREAM_PAGE:
            break
        cursor = page[-1].id
    return sorted(merged.values(), key=lambda m: parse_id(m["id"]))[:limit]


async def _latest(
    stream_log: StreamLog, db: Database, key: str, thread_id: str, limit: int
) -> list[Json]:
    entries = await stream_log.read_latest(key, limit * 2)
    merged = {
        e.id: message_json(e.id, e.event) for e in entries if isinstance(e.event, MessagePosted)
    }
    if len(merged) < limit and await stream_log.trimmed_before(key) != "0-0":
        rows = await db.run(lambda c: thread_queries.messages_before(c, thread_id, None, limit))
        merged.update((r["id"], r) for r in rows)
    return sorted(merged.values(), key=lambda m: parse_id(m["id"]))[-limit:]


async def messages_before(
    stream_log: StreamLog,
    db: Database,
    space_id: str,
    thread_id: str,
    before: str | None,
    limit: int,
) -> list[Json]:
    """A page of history older than `before` (newest page when None), oldest first."""
    key = stream_log.keys(space_id).thread(thread_id)
    merged: dict[str, Json] = {}
    for entry in await stream_log.read_before(key, before, limit * 2):
        if isinstance(entry.event, MessagePosted):
            merged[entry.id] = message_json(entry.id, entry.event)
    bound = parse_id(before) if before else None
    rows = await db.run(lambda c: thread_queries.messages_before(c, thread_id, bound, limit))
    merged.update((r["id"], r) for r in rows)
    return sorted(merged.values(), key=lambda m: parse_id(m["id"]))[-limit:]


async def log_messages_before(
    stream_log: StreamLog, space_id: str, thread_id: str, before: str | None, limit: int
) -> tuple[list[Json], bool]:
    """A page of history older than `before` from the thread's stream alone (for when
    PostgreSQL is down), oldest first, and whether older messages exist that only PostgreSQL
    holds (the stream was trimmed before them)."""
    key = stream_log.keys(space_id).thread(thread_id)
    found: list[Json] = []
    cursor = before
    while len(found) < limit:
        page = await stream_log.read_before(key, cursor, STREAM_PAGE)
        older = [message_json(e.id, e.event) for e in page if isinstance(e.event, MessagePosted)]
        found[:0] = older
        if len(page) < STREAM_PAGE:
            trimmed = await stream_log.trimmed_before(key) != "0-0"
            return found[-limit:], trimmed or len(found) > limit
        cursor = page[0].id
    return found[-limit:], True
