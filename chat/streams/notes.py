"""Appends of the agents' own entries about a conversation: private notes and tag changes
(structures.md, "Private notes" and "Tags").

Both go to the space's `events` stream only. Never to the thread's stream, which the widget's
history and resume read: that is what keeps a note away from every visitor path by construction.
Each append is one Lua script (atomic), group-committed like messages, so an ack means stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chat.errors import NotAssignedError, ThreadNotFoundError
from chat.streams.client import Redis
from chat.streams.group_commit import Append, GroupCommit
from chat.streams.keys import SpaceKeys
from chat.streams.lua_wake import APPENDED

# An author's note client_ids are remembered for the dedupe window, as messages' are
# (chat/streams/log.py), each in a key of its own that expires with it; PostgreSQL's unique
# (thread_id, author_id, client_id) catches an older replay.
# A conversation's tag set in Valkey (what makes a repeated tag or untag append nothing) lives
# this long after its last change; past it a repeat appends one more entry, which the
# projector's upsert keyed by entry id absorbs.
TAG_SET_TTL_SECONDS = 30 * 86400

_THREAD_KNOWN = (
    APPENDED
    + r"""
-- A conversation of this space: its state hash, or (once the log let it go) the caller's word
-- that PostgreSQL holds it (ARGV known = '1').
local function thread_known(base, thread_id, known)
  return known == '1' or redis.call('EXISTS', base .. 'th:' .. thread_id) == 1
end
"""
)

ADD_NOTE = (
    _THREAD_KNOWN
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, thread_id, author_id, data (the note's JSON), client_id, client_id ttl, known,
-- addressee (a whisper's: the agent who must hold the conversation now; '' for a note)
local base, thread_id, author_id, data, client_id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if not thread_known(base, thread_id, ARGV[7]) then return {'err', 'not_found'} end
local seen = base .. 'nc:' .. author_id .. ':' .. client_id
local first = redis.call('GET', seen)
if first then return {'ok', first} end
if ARGV[8] ~= '' then
  -- In the same step as the append: a whisper never reaches an agent who just lost the thread.
  local state = base .. 'th:' .. thread_id
  if redis.call('HGET', state, 'status') ~= 'active'
      or redis.call('HGET', state, 'assigned_agent_id') ~= ARGV[8] then
    return {'err', 'not_assigned'}
  end
end
local id = redis.call('XADD', KEYS[1], '*', 't', 'note.created', 'd', data)
redis.call('SET', seen, id, 'EX', tonumber(ARGV[6]))
return {'ok', appended(base, id)}
"""
)

CHANGE_TAG = (
    _THREAD_KNOWN
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, thread_id, tag_id, kind (thread.tagged or thread.untagged), data, ttl, known
local base, thread_id, tag_id, kind, data = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if not thread_known(base, thread_id, ARGV[7]) then return {'err', 'not_found'} end
local set = base .. 'tags:' .. thread_id
local changed
if kind == 'thread.tagged' then
  changed = redis.call('SADD', set, tag_id)
else
  changed = redis.call('SREM', set, tag_id)
end
if changed == 0 then return {'same', ''} end
redis.call('EXPIRE', set, tonumber(ARGV[6]))
return {'ok', appended(base, redis.call('XADD', KEYS[1], '*', 't', kind, 'd', data))}
"""
)

TagChange = Literal["thread.tagged", "thread.untagged"]


@dataclass(frozen=True, slots=True)
class NoteAck:
    client_id: str
    id: str
    thread_id: str


class NotesLog:
    """Notes and tag changes on the log. Holds the registered scripts; no I/O on init."""

    def __init__(
        self, redis: Redis, prefix: str, group: GroupCommit, dedupe_window_seconds: int
    ) -> None:
        self.prefix = prefix
        self._group = group
        self.dedupe_window_seconds = dedupe_window_seconds
        self._add_note = redis.register_script(ADD_NOTE)
        self._change_tag = redis.register_script(CHANGE_TAG)

    async def do_add_note(
        self,
        space_id: str,
        thread_id: str,
        *,
        author_id: str,
        data: str,
        client_id: str,
        known: bool,
        to_agent_id: str = "",
    ) -> NoteAck:
        """Append a note (`data`: the NoteCreated entry's JSON). The same author and client_id
        is stored once; a repeat answers the first entry's id. `known`: PostgreSQL holds the
        thread (its log state may be gone). `to_agent_id`: a whisper's addressee, who must hold
        the (active) conversation at the append, else NotAssignedError. Cancellation: as for
        messages, a cancelled append may be stored; a resend with the same client_id dedupes."""
        k = SpaceKeys(self.prefix, space_id)
        args = [k.base, thread_id, author_id, data, client_id, str(self.dedupe_window_seconds)]
        reply = await self._group.submit(
            Append(self._add_note, [k.events], [*args, "1" if known else "0", to_agent_id])
        )
        if reply[0] == "err" and reply[1] == "not_assigned":
            raise NotAssignedError("the conversation changed hands; whisper again")
        if reply[0] == "err":
            raise ThreadNotFoundError("no such thread")
        return NoteAck(client_id=client_id, id=str(reply[1]), thread_id=thread_id)

    async def do_change_tag(
        self, space_id: str, thread_id: str, tag_id: str, kind: TagChange, data: str, known: bool
    ) -> str | None:
        """Tag or untag a conversation; the entry id, or None when it already was (nothing
        appended). A cancelled change may be stored; repeating it appends nothing."""
        k = SpaceKeys(self.prefix, space_id)
        args = [k.base, thread_id, tag_id, kind, data, str(TAG_SET_TTL_SECONDS)]
        reply = await self._group.submit(
            Append(self._change_tag, [k.events], [*args, "1" if known else "0"])
        )
        if reply[0] == "err":
            raise ThreadNotFoundError("no such thread")
        return None if reply[0] == "same" else str(reply[1])
