"""Which conversation each agent socket has open: ephemeral presence among a space's agents
(structures.md, "Viewing presence").

One hash per space, `viewing`: a field per agent socket that has a conversation open, valued
`<refreshed ms> <agent id> <thread id>`. A socket holds at most one field in the whole
deployment (its session clears the old space before it writes a new one), so the hash is
bounded by the space's live agent sockets. A field not refreshed within the presence TTL is
stale: readers ignore it and the presence sweep removes it, so a crashed process's viewers
vanish as its agents' presence does.

Every change of a thread's viewers appends a `viewers` entry to the space stream only (never a
thread stream: visitors never follow it), carrying the thread's whole list of viewing agents, so
applying entries in order always ends at the current state. The projector keeps none of them.
"""

from __future__ import annotations

import coredis.exceptions

from chat.clock import now_ms
from chat.streams.client import Redis
from chat.streams.keys import SpaceKeys
from chat.streams.lua import COMMON

_VIEWERS_FUNCTIONS = r"""
-- The hash's fields as {socket = {ms, agent, thread}}.
local function read_viewing(key)
  local raw = redis.call('HGETALL', key)
  local entries = {}
  for i = 1, #raw, 2 do
    local ms, agent, thread = string.match(raw[i + 1], '^(%d+) (%S+) (%S+)$')
    if ms then entries[raw[i]] = {tonumber(ms), agent, thread} end
  end
  return entries
end

-- The agents viewing `thread` (entries refreshed after `cutoff`), sorted, without repeats.
local function viewers_of(entries, thread, cutoff)
  local seen, agents = {}, {}
  for _, e in pairs(entries) do
    if e[3] == thread and e[1] > cutoff and not seen[e[2]] then
      seen[e[2]] = true
      agents[#agents + 1] = e[2]
    end
  end
  table.sort(agents)
  return agents
end

-- Built by hand: cjson encodes an empty table as an object, and agent_ids is a list.
local function emit_viewers(base, space_id, thread, agents)
  local quoted = {}
  for i, a in ipairs(agents) do quoted[i] = cjson.encode(a) end
  local data = '{"space_id":' .. cjson.encode(space_id) .. ',"thread_id":' ..
    cjson.encode(thread) .. ',"agent_ids":[' .. table.concat(quoted, ',') .. ']}'
  return emit(base, nil, 'viewers', data)
end
"""

VIEW = (
    COMMON
    + _VIEWERS_FUNCTIONS
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, space_id, socket_id, agent_id, thread_id ('' = none), ttl_ms
-- The socket views thread_id now (or nothing). Viewing the same thread again refreshes it.
-- A `viewers` entry for each thread whose list of agents changed (the one left, the one opened).
local base, space_id, socket_id, agent_id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local thread_id, ttl = ARGV[5], tonumber(ARGV[6])
local key = base .. 'viewing'
local now = now_ms()
local cutoff = now - ttl
local entries = read_viewing(key)
local old = entries[socket_id]
local old_thread = nil
if old then
  old_thread = old[3]
  -- As the agents last heard it: a stale field the sweep has not removed yet was never
  -- announced gone, so leaving its thread must still say so.
  old[1] = now
end
local touched = {}
if old_thread and old_thread ~= thread_id then touched[#touched + 1] = old_thread end
if thread_id ~= '' then touched[#touched + 1] = thread_id end
local before = {}
for _, t in ipairs(touched) do before[t] = table.concat(viewers_of(entries, t, cutoff), ' ') end
if thread_id == '' then
  redis.call('HDEL', key, socket_id)
  entries[socket_id] = nil
else
  redis.call('HSET', key, socket_id, now .. ' ' .. agent_id .. ' ' .. thread_id)
  -- A space nobody views any more forgets the hash (every write pushes this further).
  redis.call('PEXPIRE', key, ttl * 2)
  entries[socket_id] = {now, agent_id, thread_id}
end
local emitted = 0
for _, t in ipairs(touched) do
  local after = viewers_of(entries, t, cutoff)
  if table.concat(after, ' ') ~= before[t] then
    emit_viewers(base, space_id, t, after)
    emitted = emitted + 1
  end
end
return emitted
"""
)

SWEEP = (
    COMMON
    + _VIEWERS_FUNCTIONS
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, space_id, ttl_ms
-- Remove the fields not refreshed within ttl_ms (a crashed process's sockets) and tell the
-- space's agents who still views each thread they were on. Returns how many were removed.
local base, space_id, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local key = base .. 'viewing'
local cutoff = now_ms() - ttl
local entries = read_viewing(key)
local threads, removed = {}, 0
for socket, e in pairs(entries) do
  if e[1] <= cutoff then
    redis.call('HDEL', key, socket)
    entries[socket] = nil
    threads[e[3]] = true
    removed = removed + 1
  end
end
for thread in pairs(threads) do
  emit_viewers(base, space_id, thread, viewers_of(entries, thread, cutoff))
end
return removed
"""
)


class Viewing:
    """Viewing presence of one deployment's spaces. Holds the scripts; does no I/O on init.

    Neither call is group-committed nor waits for an fsync: presence is of the moment, and a
    lost or repeated change is harmless (the next one, or the sweep, carries the whole state).
    """

    def __init__(self, redis: Redis, prefix: str, ttl_ms: int) -> None:
        self.redis = redis
        self.prefix = prefix
        # A socket views a thread while it refreshed its field within this time (the presence
        # TTL: agents refresh with every heartbeat).
        self.ttl_ms = ttl_ms
        self._view = redis.register_script(VIEW)
        self._sweep = redis.register_script(SWEEP)

    async def do_view(
        self, space_id: str, agent_id: str, socket_id: str, thread_id: str | None
    ) -> None:
        """The socket views `thread_id` of this space now (None: nothing here). Viewing the
        same thread again refreshes it. Idempotent: a cancelled or failed call may or may not
        have run, and running it again changes nothing more."""
        k = SpaceKeys(self.prefix, space_id)
        args = [k.base, space_id, socket_id, agent_id, thread_id or "", str(self.ttl_ms)]
        await self._view(keys=[k.events], args=args)

    async def do_sweep(self, space_id: str) -> int:
        """Remove the stale sockets' fields (telling the agents); how many were removed."""
        k = SpaceKeys(self.prefix, space_id)
        removed: int = await self._sweep(keys=[k.events], args=[k.base, space_id, str(self.ttl_ms)])
        return removed

    async def do_sweep_all(self, space_ids: list[str]) -> int:
        """`do_sweep` for every space in one pipelined round trip (split by node in a cluster):
        the presence sweeper runs it every few seconds over every space, where a round trip per
        space made idle CPU grow with the number of spaces (issue 19). A space whose script
        Valkey no longer holds (a restart flushed the cache) is swept on its own."""
        if not space_ids:
            return 0
        async with self.redis.pipeline(transaction=False, raise_on_error=False) as pipe:
            for space_id in space_ids:
                k = SpaceKeys(self.prefix, space_id)
                # evalsha, not the script on the pipe: that adds a SCRIPT EXISTS round trip.
                pipe.evalsha(
                    self._sweep.sha, keys=[k.events], args=[k.base, space_id, str(self.ttl_ms)]
                )
        removed = 0
        for space_id, result in zip(space_ids, pipe.results or (), strict=True):
            if isinstance(result, coredis.exceptions.NoScriptError):
                removed += await self.do_sweep(space_id)
            elif isinstance(result, BaseException):
                raise result
            else:
                removed += int(result)
        return removed

    async def viewers(self, space_id: str) -> dict[str, list[str]]:
        """thread id -> the agents viewing it now (sorted, once each); stale fields ignored."""
        raw = await self.redis.hgetall(SpaceKeys(self.prefix, space_id).viewing)
        cutoff = now_ms() - self.ttl_ms
        found: dict[str, set[str]] = {}
        for value in raw.values():
            parts = str(value).split(" ")
            if len(parts) == 3 and parts[0].isdigit() and int(parts[0]) > cutoff:
                found.setdefault(parts[2], set()).add(parts[1])
        return {thread: sorted(agents) for thread, agents in found.items()}
