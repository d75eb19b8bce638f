"""Bots on the log (structures.md, "Bots"): the handover step, and bots' presence.

The handover is one Lua script, so its check and its change are one atomic step: the thread is
open and held by the bot that got it first (`bot_agent_id` in its state); it becomes waiting
again at the place it had when it opened (`queued`), marked `handed_over` (routing never gives
it back to a bot), and one `thread.handed_over` entry says so. Against a person's claim of the
same conversation at the same moment (CHANGE_THREAD, which lets a person take a bot's
conversation), exactly one wins: the other reads a holder that is no longer the bot.

A bot's heartbeats go to the space's `bots` set, never to `online`: bots are never counted as
agents online (the widget's availability, `presence` entries, routing's candidates).
"""

from __future__ import annotations

from typing import Literal

from coredis import PureToken

from chat.clock import now_ms
from chat.errors import (
    AlreadyClaimedError,
    ChatError,
    ThreadClosedError,
    ThreadNotFoundError,
)
from chat.events import ThreadSnapshot
from chat.streams.client import Redis
from chat.streams.group_commit import Append, GroupCommit
from chat.streams.keys import SpaceKeys
from chat.streams.lua import COMMON

# Why a conversation left its bot (the entry's `reason`): the bot or a supervisor asked
# (`by` says who); the visitor asked for a person; the visitor wrote BOT_UNANSWERED_TURNS
# messages in a row the bot did not answer; the bot was not connected and had not answered
# within the router's requeue grace.
HandoverReason = Literal["requested", "visitor_asked", "unanswered", "bot_gone"]
# A bot's note to the person who takes over (the frame's or the body's `reason`).
MAX_HANDOVER_NOTE_CHARS = 500

HANDOVER = (
    COMMON
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, thread_id, bot_id ('': whichever bot holds it), by ('' for none), reason, note
local base, thread_id, bot_id, by_id, reason, note =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local state = base .. 'th:' .. thread_id
local st = redis.call('HMGET', state, 'status', 'assigned_agent_id', 'bot_agent_id', 'queued')
if not st[1] then return {'err', 'not_found'} end
if not is_open(st[1]) then return {'err', 'thread_closed'} end
-- Held by its bot (and by the one named): else a person has it already, or it waits.
if st[1] ~= 'active' or not st[3] or st[2] ~= st[3] or (bot_id ~= '' and st[2] ~= bot_id) then
  return {'err', 'already_claimed'}
end
ensure_waiting(base)
local now = now_ms()
redis.call('HDEL', state, 'assigned_agent_id', 'agent_name', 'routed', 'skip_agent',
  'bot_unanswered')
redis.call('HSET', state, 'status', 'unassigned', 'handed_over', now)
touch(state, now, 1)
redis.call('ZADD', base .. 'waiting', tonumber(st[4]) or now, thread_id)
redis.call('ZADD', base .. 'open', now, thread_id)
-- The visitor no longer waits on the bot's answer: the idle sweep leaves it alone.
redis.call('ZREM', base .. 'answered', thread_id)
local snap = snapshot(base, thread_id)
snap.previous_agent_id = nil
snap.replied_by = nil
snap.queued = nil
snap.routed = nil
snap.skip_agent = nil
local by = cjson.null
if by_id ~= '' then by = by_id end
local data = {thread = snap, by = by, agent_id = st[2], reason = reason}
if note ~= '' then data.note = note end
local id = emit(base, thread_id, 'thread.handed_over', cjson.encode(data))
return {'ok', id, cjson.encode(snap)}
"""
)


def _refusal(reason: str) -> ChatError:
    match reason:
        case "thread_closed":
            return ThreadClosedError()
        case "already_claimed":
            return AlreadyClaimedError("the conversation is not held by a bot (a person has it)")
    return ThreadNotFoundError("no such thread")


class BotsLog:
    """Bots' steps on the log. Holds the registered script; no I/O on init."""

    def __init__(self, redis: Redis, prefix: str, group: GroupCommit, presence_ttl_ms: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.presence_ttl_ms = presence_ttl_ms
        self._group = group
        self._handover = redis.register_script(HANDOVER)

    async def do_handover(
        self,
        space_id: str,
        thread_id: str,
        *,
        reason: HandoverReason,
        bot_id: str = "",
        by: str = "",
        note: str = "",
    ) -> ThreadSnapshot:
        """Take the conversation from the bot holding it (`bot_id`, or whichever bot) back to the
        waiting queue; the thread as it is now (waiting). AlreadyClaimedError when no bot holds
        it (a person claimed it first, or it was handed over already), ThreadClosedError,
        ThreadNotFoundError.

        Cancellation: a cancelled handover may be stored; a retry then answers
        AlreadyClaimedError (the bot no longer holds it), never a second entry."""
        k = SpaceKeys(self.prefix, space_id)
        args = [k.base, thread_id, bot_id, by, reason, note[:MAX_HANDOVER_NOTE_CHARS]]
        reply = await self._group.submit(Append(self._handover, [k.events], args))
        if reply[0] == "err":
            raise _refusal(str(reply[1]))
        return ThreadSnapshot.model_validate_json(reply[2])

    async def do_heartbeat(self, space_id: str, bot_id: str) -> None:
        """The bot has a live socket in the space (its `bots` set, scored by the last beat).
        Idempotent; no entry is appended."""
        await self.redis.zadd(SpaceKeys(self.prefix, space_id).base + "bots", {bot_id: now_ms()})

    async def do_gone(self, space_id: str, bot_id: str) -> None:
        """A bot's socket closed. Its other sockets, if any, put it back at their next beat."""
        await self.redis.zrem(SpaceKeys(self.prefix, space_id).base + "bots", [bot_id])

    async def online_bots(self, space_id: str) -> set[str]:
        """Bots with a socket that beat within the presence TTL in the space."""
        key = SpaceKeys(self.prefix, space_id).base + "bots"
        cutoff = now_ms() - self.presence_ttl_ms
        members = await self.redis.zrange(key, cutoff, "+inf", sortby=PureToken.BYSCORE)
        return {str(m) for m in members}
