"""What Valkey keeps of a space, and for how long: the trim of its streams to the resume window,
and the removal of a deleted space's keys (structures.md, "Retention").

Trim: entries leave a space's `events` stream, and its open threads' `t:` streams, once they are
both projected and older than the resume window (Valkey has no `XTRIM ... ACKED`, so the oldest
entry the projector has not committed is the bound; the webhook ingest's group holds it too, for
at most WEBHOOKS_HOLD_SECONDS). One script per space reads the groups and trims in one step.
The projector trims the spaces it just read; the retention sweep (chat/actors/retention.py)
trims every space, quiet ones included.

Removal: a deleted space's keys go once its stream is projected. The script checks that and
deletes the stream, leaving a short-lived marker (`removed`) so that a projector still holding
the space in its list does not recreate the stream and its group when it finds them gone
(`ensure_group_unless_removed`); the rest of the space's keys (every key under its hash tag) are
then found with SCAN and deleted. Each step is idempotent: a removal cut off is finished by the
next sweep.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.streams.client import Redis
from chat.streams.groups import WEBHOOKS_HOLD_SECONDS
from chat.streams.keys import PROJECTOR_GROUP, WEBHOOKS_GROUP, SpaceKeys
from chat.streams.log import StreamLog
from chat.streams.routing import load_member

# A removed space's marker outlives any projector's stale list of spaces (refreshed every 5 s,
# and again on a NOGROUP) by far, and then goes too.
REMOVED_MARKER_SECONDS = 60
# Keys deleted per DEL while removing a space (all of one slot: one hash tag).
REMOVE_BATCH = 500

_OLDEST_UNREAD = (
    f"local PROJECTOR, WEBHOOKS = '{PROJECTOR_GROUP}', '{WEBHOOKS_GROUP}'\n"
    + r"""
-- The smallest id `group` of the stream `key` has not acked (pending, else the first entry after
-- its last delivered one): false when it is caught up, nil when there is no such group.
local function oldest_unread(key, group)
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', key)) do
    local info = {}
    for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
    if info['name'] == group then
      if (tonumber(info['pending']) or 0) > 0 then
        return redis.call('XPENDING', key, group)[2]
      end
      local after = redis.call('XRANGE', key, '(' .. info['last-delivered-id'], '+', 'COUNT', 1)
      if after[1] then return after[1][1] end
      return false
    end
  end
  return nil
end

local function id_parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end

local function before(a_ms, a_seq, b_ms, b_seq)
  return a_ms < b_ms or (a_ms == b_ms and a_seq < b_seq)
end
"""
)

TRIM_SPACE = (
    _OLDEST_UNREAD
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, keep_ms (the resume window), webhooks_hold_ms, every_open ('1': trim every open
--       thread's stream too), then thread ids whose streams to trim
-- Answers the number of entries trimmed. A stream without the projector's group (not created
-- yet, or lost) is not trimmed: nothing says what is projected.
local base, keep, hold, every_open = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local events = KEYS[1]
if redis.call('EXISTS', events) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cut_ms, cut_seq = now - keep, 0
local unprojected = oldest_unread(events, PROJECTOR)
if unprojected == nil then return 0 end
if unprojected then
  local ms, seq = id_parts(unprojected)
  if before(ms, seq, cut_ms, cut_seq) then cut_ms, cut_seq = ms, seq end
end
local unread = oldest_unread(events, WEBHOOKS)
if unread then
  -- Held for the webhook ingest, but no longer than `hold`: a deployment that turned webhooks
  -- off (the group never advances) keeps only that much more.
  local ms, seq = id_parts(unread)
  if before(ms, seq, now - hold, 0) then ms, seq = now - hold, 0 end
  if before(ms, seq, cut_ms, cut_seq) then cut_ms, cut_seq = ms, seq end
end
local minid = string.format('%d-%d', cut_ms, cut_seq)
local trimmed = redis.call('XTRIM', events, 'MINID', minid)
local threads = {}
for i = 5, #ARGV do threads[ARGV[i]] = true end
if every_open == '1' then
  for _, id in ipairs(redis.call('ZRANGE', base .. 'open', 0, -1)) do threads[id] = true end
end
for id in pairs(threads) do
  trimmed = trimmed + redis.call('XTRIM', base .. 't:' .. id, 'MINID', minid)
end
return trimmed
"""
)

ENSURE_GROUP = r"""
-- KEYS[1] space events stream
-- ARGV: base, group, start id
-- The group (and the stream) unless the space was removed meanwhile: 'removed', else 'ok'.
if redis.call('EXISTS', ARGV[1] .. 'removed') == 1 then return 'removed' end
local reply = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[2], ARGV[3], 'MKSTREAM')
if type(reply) == 'table' and reply.err and not string.find(reply.err, 'BUSYGROUP') then
  return reply
end
return 'ok'
"""

REMOVE_STREAM = (
    _OLDEST_UNREAD
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, marker_ttl_seconds
-- A deleted space's stream goes once the projector has committed all of it ('busy' until then;
-- a stream that lost its group waits for the projector to heal it and catch up). The marker
-- is set in the same step, so a projector that meets the missing stream does not recreate it.
local base = ARGV[1]
local events = KEYS[1]
if redis.call('EXISTS', events) == 1 then
  if oldest_unread(events, PROJECTOR) ~= false then return 'busy' end
end
redis.call('SET', base .. 'removed', '1', 'EX', tonumber(ARGV[2]))
redis.call('DEL', events)
return 'ok'
"""
)


@dataclass(frozen=True, slots=True)
class Removal:
    """What removing a deleted space's keys did: `done` False while its stream is not projected
    yet (nothing was removed; the next sweep tries again)."""

    done: bool
    keys: int = 0


class Retention:
    """The trim and removal scripts, registered once; does no I/O on init."""

    def __init__(self, stream_log: StreamLog) -> None:
        self.stream_log = stream_log
        redis: Redis = stream_log.redis
        self.redis = redis
        self._trim = redis.register_script(TRIM_SPACE)
        self._ensure_group = redis.register_script(ENSURE_GROUP)
        self._remove_stream = redis.register_script(REMOVE_STREAM)

    def keys(self, space_id: str) -> SpaceKeys:
        return self.stream_log.keys(space_id)

    async def trim(
        self,
        space_id: str,
        keep_seconds: int,
        thread_ids: set[str] | frozenset[str] = frozenset(),
        *,
        every_open: bool = False,
    ) -> int:
        """Drop entries both projected and older than `keep_seconds` from the space's stream and
        from these threads' streams (and every open thread's, with `every_open`); how many."""
        k = self.keys(space_id)
        args = [
            k.base,
            str(keep_seconds * 1000),
            str(WEBHOOKS_HOLD_SECONDS * 1000),
            "1" if every_open else "0",
            *sorted(thread_ids),
        ]
        trimmed: int = await self._trim(keys=[k.events], args=args)
        return int(trimmed)

    async def ensure_group_unless_removed(
        self, space_id: str, group: str = PROJECTOR_GROUP, start: str = "0"
    ) -> bool:
        """Create the group (and the stream) from `start`; False, creating nothing, when the
        space's keys were just removed. An existing group is fine."""
        k = self.keys(space_id)
        reply: str = await self._ensure_group(keys=[k.events], args=[k.base, group, start])
        return str(reply) == "ok"

    async def remove_space(self, space_id: str, organization_id: str) -> Removal:
        """Remove a deleted space's keys once its stream is projected (Removal.done False, and
        nothing removed, until then). Idempotent; cancelled, part may be done, and a second call
        does the rest."""
        k = self.keys(space_id)
        reply: str = await self._remove_stream(
            keys=[k.events], args=[k.base, str(REMOVED_MARKER_SECONDS)]
        )
        if str(reply) != "ok":
            return Removal(done=False)
        marker = k.base + "removed"
        doomed = [key async for key in self.redis.scan_iter(match=k.base + "*", count=1000)]
        doomed = [str(key) for key in doomed if str(key) != marker]
        removed = 0
        for i in range(0, len(doomed), REMOVE_BATCH):
            removed += await self.redis.delete(doomed[i : i + REMOVE_BATCH])
        await self._release_loads(space_id, organization_id)
        return Removal(done=True, keys=removed + 1)

    async def _release_loads(self, space_id: str, organization_id: str) -> None:
        """Agents' routing reservations of the space's conversations (`<space>:<thread>` in the
        organization's `load:` sets, chat/streams/routing.py): the conversations are gone, so
        the agents' capacity is free again."""
        prefix = load_member(space_id, "")
        pattern = f"{self.stream_log.prefix}:{{org:{organization_id}}}:load:*"
        async for key in self.redis.scan_iter(match=pattern):
            members = [str(m) for m in await self.redis.zrange(key, 0, -1)]
            stale = [m for m in members if m.startswith(prefix)]
            if stale:
                await self.redis.zrem(key, stale)
