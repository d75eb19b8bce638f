"""Read markers: how far each agent, and the visitor, has read a conversation (structures.md,
"Read state").

One hash per thread, `rd:<thread>`: a field `a:<agent id>` per agent who has read it and a field
`v` for its visitor, each valued with the id of the last message read. A marker only moves
forward, and never past the thread's last entry, so a stale tab or a forged id cannot move it
back or ahead. Each move appends one `read` entry to the space stream only (never the thread
stream: a thread's stream holds its messages and lifecycle): the agent's other sockets, and the
visitor's widget when an agent read, follow it live like any entry, and the projector keeps the
marker in PostgreSQL (read_markers) for the thread lists' unread counts.

Why a log entry and not only the hash: the agent's other tabs and devices already follow the
space feed with gapless resume, so the entry reaches them without a second channel; the hash
answers "where is the marker now" in one read, for the welcome and the REST answer.
"""

from __future__ import annotations

from typing import Literal

from chat.streams.client import Redis
from chat.streams.keys import SpaceKeys
from chat.streams.lua import COMMON

# A thread's markers outlive its conversation by this long after their last move; PostgreSQL
# keeps them for good (the thread lists read them there).
READ_MARKERS_TTL_SECONDS = 30 * 86400

MARK_READ = (
    COMMON
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, thread_id, field ('a:<agent>' or 'v'), reader_type, reader_id, message_id
--       ('' = the thread's last entry), ttl_seconds
-- Returns {entry id or '', marker}: '' when the marker did not move (already there or past).
local base, thread_id, field = ARGV[1], ARGV[2], ARGV[3]
local reader_type, reader_id, wanted, ttl = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local function key_of(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function before(a, b)  -- a < b as stream ids
  local ams, aseq = key_of(a)
  local bms, bseq = key_of(b)
  return ams < bms or (ams == bms and aseq < bseq)
end
if redis.call('EXISTS', base .. 'th:' .. thread_id) == 0 then return {'', 'not_found'} end
local last = redis.call('XREVRANGE', base .. 't:' .. thread_id, '+', '-', 'COUNT', 1)
if #last == 0 then return {'', ''} end
local target = last[1][1]
if wanted ~= '' and before(wanted, target) then target = wanted end
local key = base .. 'rd:' .. thread_id
local current = redis.call('HGET', key, field)
if current and not before(current, target) then return {'', current} end
redis.call('HSET', key, field, target)
redis.call('EXPIRE', key, ttl)
local data = cjson.encode({thread_id = thread_id, reader_type = reader_type,
  reader_id = reader_id, message_id = target})
return {emit(base, nil, 'read', data), target}
"""
)


# Entries of a thread's stream an unread count reads past the marker, at most: past it the count
# says "at least this many", which a badge shows as it is.
UNREAD_SCAN = 500

UNREAD = r"""
-- KEYS[1] space events stream (the hash tag)
-- ARGV: base, field ('a:<agent>'), scan, then thread ids
-- Returns, per thread, {marker or '', count}: the visitor's messages after the marker in the
-- thread's stream; count -1 when the stream is gone (a thread finished long ago).
local base, field, scan = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV do
  local thread = ARGV[i]
  local marker = redis.call('HGET', base .. 'rd:' .. thread, field) or ''
  local key = base .. 't:' .. thread
  local count = -1
  if redis.call('EXISTS', key) == 1 then
    count = 0
    local start = '-'
    if marker ~= '' then start = '(' .. marker end
    for _, e in ipairs(redis.call('XRANGE', key, start, '+', 'COUNT', scan)) do
      local f = e[2]
      if f[2] == 'message' and cjson.decode(f[4]).sender_type == 'visitor' then
        count = count + 1
      end
    end
  end
  out[#out + 1] = marker
  out[#out + 1] = count
end
return out
"""


class ReadState:
    """The read markers of one deployment's spaces. Holds the script; does no I/O on init.

    Not group-committed and not fsync-gated: a marker lost in a crash shows a conversation
    unread again, which the next read fixes; a repeated call moves nothing."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._mark = redis.register_script(MARK_READ)
        self._unread = redis.register_script(UNREAD)

    async def unread(
        self, space_id: str, agent_id: str, thread_ids: list[str]
    ) -> dict[str, tuple[int, str | None]]:
        """thread id -> (the visitor's messages after the agent's marker, the marker), read
        from the threads' streams: exact whatever the projector's lag. A thread whose stream
        is gone is left out (PostgreSQL counts it)."""
        if not thread_ids:
            return {}
        k = SpaceKeys(self.prefix, space_id)
        args = [k.base, "a:" + agent_id, str(UNREAD_SCAN), *thread_ids]
        reply: list[object] = await self._unread(keys=[k.events], args=args)
        found: dict[str, tuple[int, str | None]] = {}
        for thread_id, marker, count in zip(thread_ids, reply[::2], reply[1::2], strict=True):
            if int(str(count)) >= 0:
                found[thread_id] = (int(str(count)), str(marker) or None)
        return found

    async def do_mark_read(
        self,
        space_id: str,
        thread_id: str,
        reader_type: Literal["agent", "visitor"],
        reader_id: str,
        message_id: str | None = None,
    ) -> tuple[str | None, str | None]:
        """Move the reader's marker to `message_id` (None: the thread's last entry), never back
        nor past the last entry. Returns (the `read` entry's id, or None when it did not move;
        the marker now, None when nothing is there to read). LookupError: no such thread."""
        k = SpaceKeys(self.prefix, space_id)
        field = "v" if reader_type == "visitor" else "a:" + reader_id
        args = [
            k.base,
            thread_id,
            field,
            reader_type,
            reader_id,
            message_id or "",
            str(READ_MARKERS_TTL_SECONDS),
        ]
        reply: list[object] = await self._mark(keys=[k.events], args=args)
        entry_id, marker = (str(part) for part in reply)
        if marker == "not_found":
            raise LookupError(thread_id)
        return entry_id or None, marker or None

    async def markers(self, space_id: str, thread_id: str) -> dict[str, str]:
        """The thread's markers: `v` (the visitor) and `a:<agent id>` -> message id."""
        raw = await self.redis.hgetall(SpaceKeys(self.prefix, space_id).base + "rd:" + thread_id)
        return {str(k): str(v) for k, v in raw.items()}
