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


class ReadState:
    """The read markers of one deployment's spaces. Holds the script; does no I/O on init.

    Not group-committed and not fsync-gated: a marker lost in a crash shows a conversation
    unread again, which the next read fixes; a repeated call moves nothing."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._mark = redis.register_script(MARK_READ)

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
