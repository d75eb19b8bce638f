"""What a widget socket reads from the log on joining: the visitor's state, whether it is
verified, and its space's agents online. The joins of one process that arrive while a read is in
flight go together in the next script call (chat/streams/caller_batches.py).

Why batched: in a connect burst most of a join's CPU was the Valkey client's per-command work
(its pool, retry and timeout wrappers: about a fifth of a connect's CPU, issue 19), and with
hundreds of sockets connecting, dozens of joins are in flight at any moment, so they batch well;
alone, a join costs one call as before. A script, not a pipeline: coredis lends a pipeline a
pooled connection of its own until its replies are read, so a burst of connects queued for the
pool (connect p99 rose by about 100 ms in the idle bench), while a script call shares the
multiplexed connections like any command. Read only; in a cluster one call per space, since
each space's keys carry its hash tag and so live on one master.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import trio

from chat.events import VisitorInfo
from chat.streams.caller_batches import CallerBatches, Pending
from chat.streams.client import Redis, is_cluster
from chat.streams.identity import verified_key
from chat.streams.keys import SpaceKeys

# KEYS: three per visitor: its hash, its verified mapping, its space's online agents; ARGV[1]
# the presence cutoff (epoch ms). One reply per visitor, in order: the hash as a flat list of
# fields and values, 0 or 1, the agents online. Each space's set is read once per call.
READ_JOINS = r"""
local replies, online = {}, {}
for i = 1, #KEYS, 3 do
  local space = KEYS[i + 2]
  if online[space] == nil then
    online[space] = redis.call('ZRANGE', space, ARGV[1], '+inf', 'BYSCORE')
  end
  replies[#replies + 1] = {
    redis.call('HGETALL', KEYS[i]), redis.call('EXISTS', KEYS[i + 1]), online[space],
  }
end
return replies
"""

# Joins per call: Valkey runs about 100 of them in well under a millisecond.
MAX_JOINS = 100
# A join is answered within this long, queued time included (as an append is).
JOIN_TIMEOUT_SECONDS = 5.0

_Reply = list[list[str] | int]


@dataclass(frozen=True, slots=True)
class JoinRead:
    visitor: VisitorInfo | None  # None: a new (or expired) visitor, stored only once it acts
    verified: bool  # by a signed identity (chat/actors/visitor_identity.py)
    online_agents: list[str]  # with a heartbeat within the presence TTL


@dataclass(frozen=True, slots=True)
class _Join:
    space_id: str
    keys: tuple[str, str, str]


class VisitorJoins:
    """The joining read of widget sockets. Holds the script; does no I/O on init."""

    def __init__(self, redis: Redis, prefix: str, presence_cutoff: Callable[[], int]) -> None:
        self.prefix = prefix
        self.presence_cutoff = presence_cutoff  # StreamLog.presence_cutoff
        self._read_joins = redis.register_script(READ_JOINS)
        self._by_space = is_cluster(redis)
        self.calls = 0  # script calls sent, one per batch (per space of it in a cluster)
        self._batches = CallerBatches(
            self._send, max_batch=MAX_JOINS, timeout_seconds=JOIN_TIMEOUT_SECONDS
        )

    async def read(self, space_id: str, visitor_id: str) -> JoinRead:
        """Errors: the Valkey client's (a lost connection, its timeout), or `UnavailableError`
        past JOIN_TIMEOUT_SECONDS."""
        keys = SpaceKeys(self.prefix, space_id)
        join = _Join(
            space_id, (keys.visitor(visitor_id), verified_key(keys, visitor_id), keys.online)
        )
        reply = cast(_Reply, await self._batches.submit(join))
        flat, verified, online = reply
        assert isinstance(flat, list) and isinstance(online, list)
        fields = dict(zip(flat[::2], flat[1::2], strict=True))
        visitor = VisitorInfo.model_validate({"id": visitor_id, **fields}) if fields else None
        return JoinRead(visitor, bool(verified), [str(a) for a in online])

    async def _send(self, batch: list[Pending[_Join]]) -> None:
        groups = [batch]
        if self._by_space:
            spaces: dict[str, list[Pending[_Join]]] = {}
            for item in batch:
                spaces.setdefault(item.call.space_id, []).append(item)
            groups = list(spaces.values())
        if len(groups) == 1:  # one call: no task for it (its error reaches the whole batch)
            await self._read(groups[0])
            return
        async with trio.open_nursery() as nursery:
            for group in groups:
                nursery.start_soon(self._read_space, group)

    async def _read_space(self, group: list[Pending[_Join]]) -> None:
        try:
            await self._read(group)
        except Exception as exc:  # noqa: BLE001 - this space's callers' error, handed to them
            for item in group:
                item.finish(error=exc)

    async def _read(self, group: list[Pending[_Join]]) -> None:
        keys = [key for item in group for key in item.call.keys]
        cutoff = str(self.presence_cutoff())
        self.calls += 1
        replies: list[_Reply] = await self._read_joins(keys=keys, args=[cutoff])
        for item, reply in zip(group, replies, strict=True):
            item.finish(reply)
