"""Concurrent widget sockets per client address, shared by every process: leases in Redis.

Each address has a sorted set of socket ids scored by the time (ms, Redis' clock) each lease
ends. A process renews the leases of the sockets it holds every SLOT_RENEW_SECONDS; a process
that dies stops renewing, and its sockets stop counting SLOT_TTL_SECONDS later, so the count
cannot leak. Expired members are dropped by the next acquire.

One renewer per process (SocketSlots.run_renewer, in the services' nursery) renews every lease
it holds in pipelined batches: a renewal task beside each socket cost a task, a nursery and a
Redis round trip per socket (issue 19).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import coredis.exceptions
import trio

from chat.clock import now_ms
from chat.errors import UnavailableError
from chat.streams.client import Redis
from chat.streams.limits import LIMIT_TIMEOUT_SECONDS

logger = logging.getLogger(__name__)

SLOT_TTL_SECONDS = 60.0
SLOT_RENEW_SECONDS = 20.0
# Leases renewed per pipelined round trip: 10,000 sockets are ten round trips every 20 s.
RENEW_BATCH = 1000

ACQUIRE_SLOT = r"""
-- KEYS[1] the address's set; ARGV: socket_id, ttl_ms, limit. Returns 1 when leased, else 0.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == false and redis.call('ZCARD', KEYS[1]) >= limit then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
"""


def slots_key(prefix: str, address: str) -> str:
    """The sorted set of one client address's widget sockets."""
    return f"{prefix}:ws:{address}"


class SocketSlots:
    """Leases of concurrent sockets per client address, and the ones this process holds.

    `limit` 0 turns the budget off. Holds the registered script; no I/O on init."""

    def __init__(self, redis: Redis, prefix: str, limit: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.limit = limit
        self._acquire = redis.register_script(ACQUIRE_SLOT)
        # socket id -> address: the leases this process holds, renewed by run_renewer.
        self._held: dict[str, str] = {}

    def _args(self, socket_id: str) -> list[str]:
        return [socket_id, str(int(SLOT_TTL_SECONDS * 1000)), str(self.limit)]

    async def acquire(self, address: str, socket_id: str) -> bool:
        """Lease (or renew) a slot for `socket_id`; False when the address holds `limit`.

        Raises UnavailableError when Redis fails or takes longer than LIMIT_TIMEOUT_SECONDS; a
        cancelled acquire may have leased the slot, which then lapses after SLOT_TTL_SECONDS.
        """
        key = slots_key(self.prefix, address)
        with trio.move_on_after(LIMIT_TIMEOUT_SECONDS):
            try:
                leased: object = await self._acquire(keys=[key], args=self._args(socket_id))
            except (coredis.exceptions.RedisError, OSError) as exc:
                raise UnavailableError("the socket budget cannot reach Redis") from exc
            return leased == 1
        raise UnavailableError("the socket budget timed out")

    async def release(self, address: str, socket_id: str) -> None:
        """Give the slot back (best effort: an unreleased one lapses with its lease)."""
        with trio.move_on_after(LIMIT_TIMEOUT_SECONDS):
            try:
                await self.redis.zrem(slots_key(self.prefix, address), [socket_id])
            except (coredis.exceptions.RedisError, OSError) as exc:
                logger.debug("could not release a socket slot; its lease lapses: %r", exc)

    async def count(self, address: str) -> int:
        """Sockets of `address` whose lease has not ended (for tests and diagnostics)."""
        key = slots_key(self.prefix, address)
        return int(await self.redis.zcount(key, f"({now_ms()}", "+inf"))

    @property
    def held(self) -> int:
        """How many leases this process holds (and renews)."""
        return len(self._held)

    @asynccontextmanager
    async def open_slot(self, address: str) -> AsyncIterator[bool]:
        """Hold a slot of `address` for the body (run_renewer renews its lease meanwhile);
        yields False (and holds nothing) when the address holds `limit` sockets already.

        When Redis is unreachable the socket is let in uncounted (as chat/http/throttle.py
        lets requests through): a limiter outage must not turn every visitor away. On every
        way out the slot is released, shielded, within LIMIT_TIMEOUT_SECONDS.
        """
        if self.limit == 0:
            yield True
            return
        socket_id = secrets.token_hex(8)
        try:
            leased = await self.acquire(address, socket_id)
        except UnavailableError as exc:
            logger.warning("socket budget unavailable, letting a socket in: %r", exc)
            yield True
            return
        if not leased:
            yield False
            return
        self._held[socket_id] = address
        try:
            yield True
        finally:
            del self._held[socket_id]
            with trio.CancelScope(shield=True):
                await self.release(address, socket_id)

    async def run_renewer(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Renew every lease this process holds, every SLOT_RENEW_SECONDS, until cancelled. A
        failed renewal is retried at the next one, well within SLOT_TTL_SECONDS."""
        task_status.started()
        while True:
            await trio.sleep(SLOT_RENEW_SECONDS)
            await self.renew_held()

    async def renew_held(self) -> int:
        """One renewal of the leases held now, RENEW_BATCH per pipelined round trip; returns
        how many were renewed. A lease that lapsed meanwhile (Redis was out for longer than the
        TTL) is taken again if the address has room; its socket stays either way, as it would
        had the lease never lapsed."""
        held = list(self._held.items())
        renewed = 0
        for start in range(0, len(held), RENEW_BATCH):
            batch = held[start : start + RENEW_BATCH]
            with trio.move_on_after(LIMIT_TIMEOUT_SECONDS) as scope:
                try:
                    renewed += await self._renew_batch(batch)
                except (coredis.exceptions.RedisError, OSError, UnavailableError) as exc:
                    logger.warning("could not renew %d socket slots: %r", len(batch), exc)
            if scope.cancelled_caught:
                logger.warning("renewing %d socket slots timed out", len(batch))
        return renewed

    async def _renew_batch(self, batch: list[tuple[str, str]]) -> int:
        async with self.redis.pipeline(transaction=False, raise_on_error=False) as pipe:
            for socket_id, address in batch:
                # evalsha, not the script on the pipe: that adds a SCRIPT EXISTS round trip.
                pipe.evalsha(
                    self._acquire.sha,
                    keys=[slots_key(self.prefix, address)],
                    args=self._args(socket_id),
                )
        renewed = 0
        for (socket_id, address), result in zip(batch, pipe.results or (), strict=True):
            if isinstance(result, coredis.exceptions.NoScriptError):  # a restarted Valkey
                renewed += await self.acquire(address, socket_id)
            elif isinstance(result, BaseException):
                raise result
            else:
                renewed += result == 1
        return renewed
