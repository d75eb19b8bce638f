"""Rate limits shared by every process: one Redis key per bucket, one atomic script per attempt.

The algorithm is GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp).
A bucket allows `burst` attempts at once and then one every `period / count`. Why GCRA rather
than a sliding window: its state is a single number (the "theoretical arrival time") however high
the limit, so a budget of 600 a minute costs one small string, not 600 sorted-set members; the
refusal says exactly when the next attempt will pass; and there is no window edge at which twice
the limit gets through, as with fixed windows. A refused attempt leaves the bucket unchanged, so
hammering a closed bucket does not push its reopening further away.

Time comes from Redis (`TIME`), so the clocks of the processes sharing it do not matter. A key
expires when its bucket is full again, at which point a missing key means the same thing: idle
buckets vanish. See structures.md ("Throttling") for the buckets the HTTP layer uses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import coredis.exceptions
import trio
from coredis.commands.script import Script

from chat.errors import UnavailableError
from chat.streams.client import Redis

logger = logging.getLogger(__name__)

# One attempt must not hold a request up for long when Redis is slow; the caller decides what a
# failure means (chat/http/throttle.py lets the request through).
LIMIT_TIMEOUT_SECONDS = 1.0

GCRA = r"""
-- KEYS[1] the bucket; ARGV: interval_ms (period / count), burst.
-- The key holds the theoretical arrival time (TAT, ms): when the bucket would be full again.
-- Returns 0 when the attempt is allowed (and counted), else the ms until one would be.
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local wait = tat - now - (burst - 1) * interval
if wait > 0 then return math.ceil(wait) end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now))
return 0
"""

GCRA_GIVE_BACK = r"""
-- KEYS[1] the bucket; ARGV: interval_ms. Moves the TAT back one interval (not before now):
-- the attempt last counted is returned. A missing key (the bucket full) stays missing.
local interval = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat then return 0 end
local new_tat = tat - interval
if new_tat <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now))
end
return 1
"""


# GCRA's test without the count: whether an attempt would pass now. Lets a caller refuse before
# costly work that only failures are counted for (chat/http/throttle.py, failed API keys).
GCRA_PEEK = r"""
-- KEYS[1] the bucket; ARGV: interval_ms, burst. Returns 0 when an attempt would be allowed,
-- else the ms until one would be. Writes nothing.
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local wait = tat - now - (burst - 1) * interval
if wait > 0 then return math.ceil(wait) end
return 0
"""


@dataclass(frozen=True, slots=True)
class Rate:
    """`count` attempts per `period_seconds` sustained, up to `burst` of them at once."""

    count: int
    period_seconds: float
    burst: int

    def __post_init__(self) -> None:
        if self.count < 1 or self.burst < 1 or self.period_seconds <= 0:
            raise ValueError(f"a rate needs count, burst >= 1 and a period > 0: {self!r}")

    @property
    def interval_ms(self) -> float:
        """The time one attempt takes to refill."""
        return self.period_seconds * 1000 / self.count


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    # Seconds until an attempt would be allowed; 0 when this one was.
    retry_after: float


def limit_key(prefix: str, bucket: str, ident: str) -> str:
    """A bucket's key: `{prefix}:rl:{bucket}:{ident}` (one key, so Redis Cluster is fine)."""
    return f"{prefix}:rl:{bucket}:{ident}"


class RateLimiter:
    """Counts attempts against named buckets. Holds the registered script; no I/O on init."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.prefix = prefix
        self._gcra = redis.register_script(GCRA)
        self._peek = redis.register_script(GCRA_PEEK)
        self._give_back = redis.register_script(GCRA_GIVE_BACK)

    async def hit(self, bucket: str, ident: str, rate: Rate) -> Verdict:
        """Count one attempt of `ident` in `bucket` if `rate` allows it.

        Raises UnavailableError when Redis fails or takes longer than LIMIT_TIMEOUT_SECONDS;
        on cancellation the attempt may or may not have been counted.
        """
        return await self._run(self._gcra, bucket, ident, rate)

    async def peek(self, bucket: str, ident: str, rate: Rate) -> Verdict:
        """Whether an attempt of `ident` in `bucket` would be allowed now; counts nothing.
        Raises UnavailableError as `hit` does."""
        return await self._run(self._peek, bucket, ident, rate)

    async def _run(self, script: Script[str], bucket: str, ident: str, rate: Rate) -> Verdict:
        key = limit_key(self.prefix, bucket, ident)
        args = [f"{rate.interval_ms:.3f}", str(rate.burst)]
        with trio.move_on_after(LIMIT_TIMEOUT_SECONDS):
            try:
                wait_ms: object = await script(keys=[key], args=args)
            except (coredis.exceptions.RedisError, OSError) as exc:
                raise UnavailableError("the rate limiter cannot reach Redis") from exc
            if not isinstance(wait_ms, int):
                raise UnavailableError(f"the rate limiter answered {wait_ms!r}")
            return Verdict(allowed=wait_ms == 0, retry_after=wait_ms / 1000)
        raise UnavailableError("the rate limiter timed out")

    async def give_back(self, bucket: str, ident: str, rate: Rate) -> None:
        """Return one attempt counted by `hit` (an attempt that turned out to be a good one):
        the budget then counts only failures, and spending before checking keeps concurrent
        guesses from all passing one check. Raises UnavailableError as `hit` does."""
        key = limit_key(self.prefix, bucket, ident)
        with trio.move_on_after(LIMIT_TIMEOUT_SECONDS):
            try:
                await self._give_back(keys=[key], args=[f"{rate.interval_ms:.3f}"])
            except (coredis.exceptions.RedisError, OSError) as exc:
                raise UnavailableError("the rate limiter cannot reach Redis") from exc
            return
        raise UnavailableError("the rate limiter timed out")


# The same algorithm as GCRA, as Lua functions for scripts that check several budgets and count
# them only when the whole step passes (chat/streams/lua.py POST_MESSAGE): `gcra_wait` says how
# long until an attempt would pass (0: now) and the new TAT, `gcra_take` counts it.
GCRA_FUNCTIONS = r"""
local function gcra_wait(key, interval, burst, now)
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  return tat - now - (burst - 1) * interval, tat + interval
end

local function gcra_take(key, new_tat, now)
  redis.call('SET', key, string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now))
end
"""
