"""The append of a visitor's rating of their finished conversation (structures.md, "Ratings").

One Lua script, so the checks and the append are one atomic step: the thread is the visitor's,
it has finished (closed or expired), its holder is still the one the caller read, and it has no
rating yet. The first rating wins a race; the same client_id again answers the first entry's id
(a resend after a lost ack); any other second rating is refused `already_rated`. The entry goes
to the space stream only (never the thread stream the widget's history reads).
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.errors import (
    AlreadyRatedError,
    ChatError,
    InvalidError,
    ThreadNotFinishedError,
    ThreadNotFoundError,
)
from chat.space_settings import MAX_REOPEN_WINDOW_SECONDS
from chat.streams.client import Redis
from chat.streams.group_commit import Append, GroupCommit
from chat.streams.keys import SpaceKeys
from chat.streams.lua_wake import APPENDED

# A thread's rating marker outlives its state hash (kept at most MAX_REOPEN_WINDOW_SECONDS after
# the close, chat/actors/projector.py): while the state exists a visitor may rate, and the marker
# is there to refuse a second rating. Past it the state is gone and a rating is not_found.
RATING_TTL_SECONDS = MAX_REOPEN_WINDOW_SECONDS + 86400

RATE = (
    APPENDED
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, thread_id, visitor_id, agent_id ('' for none), client_id, data, ttl
local base, thread_id, visitor_id, agent_id, client_id, data =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local st = redis.call('HMGET', base .. 'th:' .. thread_id, 'visitor_id', 'status',
  'assigned_agent_id')
-- Another visitor's thread reads as no thread at all.
if st[1] ~= visitor_id then return {'err', 'not_found'} end
local marker = base .. 'rt:' .. thread_id
local first = redis.call('GET', marker)
if first then
  local sep = string.find(first, ' ', 1, true)
  if string.sub(first, 1, sep - 1) == client_id then return {'ok', string.sub(first, sep + 1)} end
  return {'err', 'already_rated'}
end
if st[2] ~= 'closed' and st[2] ~= 'expired' then return {'err', 'open'} end
if (st[3] or '') ~= agent_id then return {'err', 'changed'} end
local id = redis.call('XADD', KEYS[1], '*', 't', 'rated', 'd', data)
redis.call('SET', marker, client_id .. ' ' .. id, 'EX', tonumber(ARGV[7]))
-- The append's wake on a cluster (chat/streams/lua_wake.py), as every space-stream append.
return {'ok', appended(base, id)}
"""
)


def _refusal(reason: str) -> ChatError:
    match reason:
        case "already_rated":
            return AlreadyRatedError()
        case "open":
            return ThreadNotFinishedError()
        case "changed":
            return InvalidError("the conversation changed; rate it again")
    return ThreadNotFoundError("no such thread")


@dataclass(frozen=True, slots=True)
class RatingAck:
    client_id: str
    id: str
    thread_id: str


class RatingsLog:
    """Ratings on the log. Holds the registered script; no I/O on init."""

    def __init__(self, redis: Redis, prefix: str, group: GroupCommit) -> None:
        self.prefix = prefix
        self._group = group
        self._rate = redis.register_script(RATE)

    async def do_rate(
        self,
        space_id: str,
        thread_id: str,
        *,
        visitor_id: str,
        agent_id: str | None,
        client_id: str,
        data: str,
    ) -> RatingAck:
        """Append a `rated` entry (`data`: the ThreadRated entry's JSON); `agent_id` is the holder
        the caller read from the thread's state (the script refuses if it changed since).
        Cancellation: a cancelled append may be stored; a resend with the same client_id answers
        the stored entry's id."""
        k = SpaceKeys(self.prefix, space_id)
        args = [k.base, thread_id, visitor_id, agent_id or "", client_id, data]
        reply = await self._group.submit(
            Append(self._rate, [k.events], [*args, str(RATING_TTL_SECONDS)])
        )
        if reply[0] == "err":
            raise _refusal(str(reply[1]))
        return RatingAck(client_id=client_id, id=str(reply[1]), thread_id=thread_id)
