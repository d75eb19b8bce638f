"""Per-socket pacing of a session's side-channel frames (structures.md, "Visitor budgets"):
`Paced` hands out the latest of a value at most once per interval, `TokenBucket` throttles.

Both run on trio's clock, in one task's memory: a socket's frames are paced where they arrive,
with no storage round trip.
"""

from __future__ import annotations

import math
from typing import Generic, TypeVar

import trio

T = TypeVar("T")


class Paced(Generic[T]):
    """The latest value `put`, handed out by `take` at most once per `interval` seconds.

    A value put while the interval runs replaces any waiting one (the latest wins) and is handed
    out when the interval ends, so the last value put is never lost.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._value: T | None = None
        self._ready = trio.Event()
        self._next_at = -math.inf

    def put(self, value: T) -> None:
        self._value = value
        self._ready.set()

    def not_before(self, deadline: float) -> None:
        """Hand nothing out before `deadline` (trio time)."""
        self._next_at = max(self._next_at, deadline)

    def take_now(self) -> T | None:
        """The waiting value, if any, at once (the interval starts again)."""
        if not self._ready.is_set():
            return None
        return self._take()

    async def take(self) -> T:
        """Wait for a value and for the interval to end; cancellation loses nothing."""
        await self._ready.wait()
        await trio.sleep_until(self._next_at)
        return self._take()

    def _take(self) -> T:
        value = self._value
        assert value is not None
        self._value = None
        self._ready = trio.Event()
        self._next_at = trio.current_time() + self.interval
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
