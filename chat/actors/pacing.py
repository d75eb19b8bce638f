"""Pacing of side-channel frames (structures.md, "Visitor budgets"): per visitor socket,
`Paced` hands out the latest of a value at most once per interval and `TokenBucket` throttles;
per agent feed, `VisitorUpdates` coalesces visitor updates.

Both run on trio's clock, in one task's memory: a socket's frames are paced where they arrive,
with no storage round trip.
"""

from __future__ import annotations

import math
from typing import Generic, TypeVar

import trio

from chat.events import LogEntry, VisitorUpdated
from chat.ids import id_key

T = TypeVar("T")
# An agent gets at most one visitor.updated per visitor per this long (VisitorUpdates).
VISITOR_UPDATE_INTERVAL_SECONDS = 1.0


class Paced(Generic[T]):
    """The latest value `put`, handed out by `take` at most once per `interval` seconds.

    A value put while the interval runs replaces any waiting one (the latest wins) and is handed
    out when the interval ends, so the last value put is never lost.
    """

    # Most widget sockets never type nor name a page: their pacers make no event until a value
    # is put or a take waits (two events were about 0.5 KB of each idle socket; issue 19).
    __slots__ = ("interval", "_value", "_ready", "_next_at", "_moved")

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._value: T | None = None
        self._ready: trio.Event | None = None  # set while a value waits; None: none yet
        self._next_at = -math.inf
        self._moved: trio.Event | None = None  # set when the end of the interval moved

    def put(self, value: T) -> None:
        self._value = value
        self._ready_event().set()

    def not_before(self, deadline: float) -> None:
        """Hand nothing out before `deadline` (trio time)."""
        self._next_at = max(self._next_at, deadline)

    def release(self) -> None:
        """End a hold set by `not_before`: a waiting value goes out now, later ones at the pace."""
        self._next_at = min(self._next_at, trio.current_time())
        if self._moved is not None:
            self._moved.set()

    def take_now(self) -> T | None:
        """The waiting value, if any, at once (the interval starts again)."""
        if self._ready is None or not self._ready.is_set():
            return None
        return self._take()

    async def take(self) -> T:
        """Wait for a value and for the interval to end; cancellation loses nothing. A
        `take_now` meanwhile moves the end (e.g. a linger hold lifted once the visitor wrote),
        and the wait follows it."""
        while True:
            await self._ready_event().wait()
            if trio.current_time() >= self._next_at:
                return self._take()
            self._moved = moved = trio.Event()
            with trio.move_on_at(self._next_at):
                await moved.wait()

    def _ready_event(self) -> trio.Event:
        if self._ready is None:
            self._ready = trio.Event()
        return self._ready

    def _take(self) -> T:
        value = self._value
        assert value is not None
        self._value = None
        self._ready = None
        self._next_at = trio.current_time() + self.interval
        if self._moved is not None:
            self._moved.set()
        return value


class TokenBucket:
    """`rate` attempts a second sustained, `burst` at once; `take` says whether one passes."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._at = -math.inf

    def take(self) -> bool:
        now = trio.current_time()
        if self._at != -math.inf:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class VisitorUpdates:
    """A feed's `visitor.updated` entries, coalesced: at most one frame per visitor per
    `interval` (structures.md, "Visitor budgets").

    An update of a visitor sent less than `interval` ago, or any update while others are held,
    is held, merged with that visitor's held one (later fields win, the newest id is its cursor).
    The held ones go out, in cursor order, once every held visitor is due, or before any other
    frame of the feed (a later cursor must not pass them). So the last update always arrives,
    within `interval`; only a feed that also carries other events sends them sooner.
    """

    def __init__(self, interval: float = VISITOR_UPDATE_INTERVAL_SECONDS) -> None:
        self.interval = interval
        self._held: dict[str, LogEntry] = {}
        self._sent_at: dict[str, float] = {}

    def hold(self, entry: LogEntry) -> bool:
        """True when `entry` (a visitor.updated) is held; False: send it now."""
        event = entry.event
        assert isinstance(event, VisitorUpdated)
        now = trio.current_time()
        self._forget(now)
        visitor_id = event.visitor_id
        if not self._held and visitor_id not in self._sent_at:
            self._sent_at[visitor_id] = now
            return False
        if (earlier := self._held.get(visitor_id)) is not None:
            fields = earlier.event.model_dump(exclude_none=True) | event.model_dump(
                exclude_none=True
            )
            entry = LogEntry(entry.id, VisitorUpdated.model_validate(fields))
        self._held[visitor_id] = entry
        return True

    def due_at(self) -> float:
        """When the held updates may go (trio time; inf when none is held)."""
        return max(
            (self._sent_at.get(v, -math.inf) + self.interval for v in self._held),
            default=math.inf,
        )

    def take(self) -> list[LogEntry]:
        """The held updates, oldest cursor first; they count as sent now."""
        now = trio.current_time()
        held = sorted(self._held.values(), key=lambda e: id_key(e.id))
        for entry in held:
            assert isinstance(entry.event, VisitorUpdated)
            self._sent_at[entry.event.visitor_id] = now
        self._held.clear()
        return held

    def _forget(self, now: float) -> None:
        """Drop the send times that no longer hold anything back (keeps the map small)."""
        if len(self._sent_at) > len(self._held):
            self._sent_at = {
                v: t for v, t in self._sent_at.items() if t + self.interval > now or v in self._held
            }
