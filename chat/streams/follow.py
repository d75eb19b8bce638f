"""Following a thread or a space: catch up from the log, then go live, each entry once in order."""

from __future__ import annotations

from dataclasses import dataclass

import trio

from chat.errors import CursorExpiredError
from chat.events import LogEntry
from chat.ids import id_key, parse_id
from chat.streams.log import OpenSnapshot
from chat.streams.reader import StreamRouter

CATCH_UP_PAGE = 500


@dataclass(frozen=True, slots=True)
class Live:
    """Sent once catch-up is over: every later entry will follow. `cursor` is the last id sent,
    or the id `snapshot` (when one was asked for) is consistent with."""

    cursor: str
    snapshot: OpenSnapshot | None = None


async def run_follow(
    router: StreamRouter,
    space_id: str,
    out: trio.MemorySendChannel[LogEntry | Live],
    *,
    thread_id: str | None = None,
    after: str | None = None,
    snapshot: bool = False,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Send every entry of the thread (or the whole space) after `after` to `out`, then `Live`.

    With `after` None it starts from now; with `snapshot` too, `Live` carries the space's open
    threads as they are at its cursor (StreamLog.open_snapshot), taken after this subscribed to
    the reader, so every entry after that cursor follows, none twice. Reports the starting
    cursor through task_status once subscribed. A consumer too slow for the reader is
    re-subscribed and catches up from the log, so nothing is skipped or repeated. Runs until
    cancelled or `out` is closed.
    """
    stream_log = router.stream_log
    keys = stream_log.keys(space_id)
    key = keys.thread(thread_id) if thread_id else keys.events
    if after is not None and parse_id(await stream_log.trimmed_before(key)) >= parse_id(after):
        if thread_id is None:
            raise CursorExpiredError()
    last = after
    started = False
    while True:
        sub = await router.subscribe(space_id, route=thread_id)
        try:
            snap = None
            if last is None and snapshot and thread_id is None:
                snap = await stream_log.open_snapshot(space_id)
                last = snap.cursor
            elif last is None:
                last = router.positions[space_id]
            else:
                last = await _catch_up(router, key, last, out)
            if not started:
                task_status.started(last)
                await out.send(Live(last, snap))
                started = True
            last_key = id_key(last)
            async for entry in sub.receive:
                if (entry_key := id_key(entry.id)) <= last_key:
                    continue
                await out.send(entry)
                last, last_key = entry.id, entry_key
            if not sub.overflowed:
                return
        finally:
            router.unsubscribe(sub)


async def _catch_up(
    router: StreamRouter, key: str, after: str, out: trio.MemorySendChannel[LogEntry | Live]
) -> str:
    last = after
    while True:
        page = await router.stream_log.read_range(key, last, CATCH_UP_PAGE)
        for entry in page:
            await out.send(entry)
            last = entry.id
        if len(page) < CATCH_UP_PAGE:
            return last
