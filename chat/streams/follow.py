"""Following a thread or a space: catch up from the log, then go live, each entry once in order.

`Follow` is pulled by the task that consumes it (a thread actor, an agent's space feed): one
task per follower, no task or channel of its own between the reader's subscription and the
consumer (issue 19: each hop was a task switch per entry and a channel per follower).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import trio

from chat.errors import CursorExpiredError
from chat.events import LogEntry
from chat.ids import id_key, parse_id
from chat.streams.log import OpenSnapshot
from chat.streams.reader import StreamRouter, Subscription

CATCH_UP_PAGE = 500


@dataclass(frozen=True, slots=True)
class Live:
    """Sent once catch-up is over: every later entry will follow. `cursor` is the last id sent,
    or the id `snapshot` (when one was asked for) is consistent with."""

    cursor: str
    snapshot: OpenSnapshot | None = None


class Follow:
    """The entries of a thread (or a whole space) after `after`, then `Live`, then each live
    entry once, in order, pulled with `next()`.

    With `after` None it starts from now; with `snapshot` too, `Live` carries the space's open
    threads as they are at its cursor (StreamLog.open_snapshot), taken after subscribing to the
    reader, so every entry after that cursor follows, none twice. A consumer too slow for the
    reader has its subscription cut off; `next()` then subscribes again and catches up from the
    log, so nothing is skipped or repeated.

    Cancellation: `next()` may be cancelled at any await (a consumer's timer); state changes
    only once an await is over, so the next call goes on where it was. `close()` (or `with`)
    releases the subscription.
    """

    def __init__(
        self,
        router: StreamRouter,
        space_id: str,
        *,
        thread_id: str | None = None,
        after: str | None = None,
        snapshot: bool = False,
    ) -> None:
        self.router = router
        self.space_id = space_id
        self.thread_id = thread_id
        keys = router.stream_log.keys(space_id)
        self.key = keys.thread(thread_id) if thread_id else keys.events
        self.last = after  # the id of the last entry returned (or the starting cursor)
        self._last_key = id_key(after) if after is not None else (0, 0)
        self._snapshot = snapshot
        self._sub: Subscription | None = None
        self._page: deque[LogEntry] = deque()
        self._catching_up = False
        self._started = False
        self._live_due = False  # `Live` is yet to be returned (after the catch-up)
        self._open_snapshot: OpenSnapshot | None = None  # what that `Live` carries

    def __enter__(self) -> Follow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._sub is not None:
            self.router.unsubscribe(self._sub)
            self._sub = None

    async def start(self) -> str:
        """Subscribe, and say where this follow starts (`after`, or now's cursor)."""
        if self._started:
            return self.last or "0-0"
        stream_log = self.router.stream_log
        if self.last is not None and self.thread_id is None:
            if parse_id(await stream_log.trimmed_before(self.key)) >= parse_id(self.last):
                raise CursorExpiredError()
        self._sub = await self.router.subscribe(self.space_id, route=self.thread_id)
        if self.last is None:
            if self._snapshot and self.thread_id is None:
                self._open_snapshot = await stream_log.open_snapshot(self.space_id)
                self._set_last(self._open_snapshot.cursor)
            else:
                self._set_last(self.router.positions[self.space_id])
        else:
            self._catching_up = True
        self._live_due = True
        self._started = True
        return self.last or "0-0"

    async def next(self) -> LogEntry | Live:
        """The next item: a caught-up entry, `Live` once, then live entries."""
        await self.start()
        while True:
            if self._page:
                entry = self._page.popleft()
                self._set_last(entry.id)
                return entry
            if self._sub is None:  # cut off for falling behind: again, from the log
                self._sub = await self.router.subscribe(self.space_id, route=self.thread_id)
                self._catching_up = True
            if self._catching_up:
                assert self.last is not None
                page = await self.router.stream_log.read_range(self.key, self.last, CATCH_UP_PAGE)
                self._page.extend(page)
                self._catching_up = len(page) == CATCH_UP_PAGE
                continue
            if self._live_due:
                assert self.last is not None
                self._live_due = False
                return Live(self.last, self._open_snapshot)
            if (live_entry := await self._next_live(self._sub)) is not None:
                return live_entry

    def _set_last(self, entry_id: str) -> None:
        self.last = entry_id
        self._last_key = id_key(entry_id)

    async def _next_live(self, sub: Subscription) -> LogEntry | None:
        """A live entry past the last one returned; None when it was an older one, or when the
        subscription was cut off (the caller then subscribes again and catches up)."""
        try:
            entry = await sub.receive.receive()
        except trio.EndOfChannel:
            if not sub.overflowed:
                raise
            self.close()
            return None
        if id_key(entry.id) <= self._last_key:
            return None
        self._set_last(entry.id)
        return entry
