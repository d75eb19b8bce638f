"""The floor view's starting point in one space (structures.md, "The floor view"): its open
conversations and present agents exactly as they are at one id of its events stream, read in one
step, so that following the stream after that id carries every later change, none twice.

Read only. One script per space, on the space's slot (a Valkey Cluster runs it like any other
space script).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from chat.streams.client import Redis
from chat.streams.keys import SpaceKeys
from chat.streams.lua import COMMON

FLOOR_SNAPSHOT = (
    COMMON
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, presence ttl (ms)
-- The events stream's last id; the open threads, each with what the floor needs of its state
-- hash (`replied_by`, `queued`, `group_id`, ...) and its score in `waiting` (when it started
-- waiting, or null); the agents whose heartbeat is fresh. Every change of these appends to the
-- events stream in the script that makes it, so the whole is the state at that id.
local base, ttl = ARGV[1], tonumber(ARGV[2])
local newest = redis.call('XREVRANGE', base .. 'events', '+', '-', 'COUNT', 1)
local cursor = '0-0'
if #newest > 0 then cursor = newest[1][1] end
local threads = {}
for _, thread_id in ipairs(redis.call('ZRANGE', base .. 'open', 0, -1)) do
  local s = snapshot(base, thread_id)
  if is_open(s.status) then
    local waiting = redis.call('ZSCORE', base .. 'waiting', thread_id)
    if waiting then s.waiting_since = tonumber(waiting) end
    threads[#threads + 1] = s
  end
end
local present = redis.call('ZRANGEBYSCORE', base .. 'online', '(' .. (now_ms() - ttl), '+inf')
local reply = {cursor = cursor}
if #threads > 0 then reply.threads = threads end
if #present > 0 then reply.present = present end
return {cursor, cjson.encode(reply)}
"""
)


@dataclass(frozen=True, slots=True)
class FloorThread:
    """What the floor keeps of an open thread (times in epoch ms)."""

    id: str
    status: str
    group_id: str | None
    assigned_agent_id: str | None
    created: int
    # When it started waiting for an agent (its score in `waiting`); None while held.
    waiting_since: int | None
    # The `waiting` score it had when an agent got it (the router's `queued`): where a requeue
    # puts it back. None for a claim, or while it waits.
    queued: int | None
    # Whether an agent has written in it since it last opened (the state's `replied_by`).
    replied: bool


@dataclass(frozen=True, slots=True)
class SpaceFloorSnapshot:
    cursor: str
    threads: list[FloorThread]
    present: frozenset[str]  # agents with a fresh heartbeat in the space


class FloorReads:
    """The floor's reads of Valkey. No I/O on init."""

    def __init__(self, redis: Redis, prefix: str, presence_ttl_ms: int) -> None:
        self._prefix = prefix
        self._ttl = presence_ttl_ms
        self._snapshot = redis.register_script(FLOOR_SNAPSHOT)

    async def snapshot(self, space_id: str) -> SpaceFloorSnapshot:
        """The space's open threads and present agents at the returned cursor (one script)."""
        keys = SpaceKeys(self._prefix, space_id)
        reply: list[str] = await self._snapshot(
            keys=[keys.events], args=[keys.base, str(self._ttl)]
        )
        data = orjson.loads(reply[1])
        threads = [_thread(raw) for raw in data.get("threads", [])]
        return SpaceFloorSnapshot(str(reply[0]), threads, frozenset(data.get("present", [])))


def _thread(raw: dict[str, object]) -> FloorThread:
    def number(name: str) -> int | None:
        value = raw.get(name)
        return int(float(str(value))) if value not in (None, "") else None

    def text(name: str) -> str | None:
        value = raw.get(name)
        return str(value) if value not in (None, "") else None

    return FloorThread(
        id=str(raw["id"]),
        status=str(raw["status"]),
        group_id=text("group_id"),
        assigned_agent_id=text("assigned_agent_id"),
        created=number("created") or 0,
        waiting_since=number("waiting_since"),
        queued=number("queued"),
        replied=text("replied_by") is not None,
    )
