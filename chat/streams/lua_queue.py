"""Lua scripts of the waiting queue and of reopening that need none of chat/streams/lua.py's
common functions: the projector's conditional expiry of finished threads, and a waiting
thread's place in the queue (structures.md, "The waiting queue" and "Reopening").
"""

from __future__ import annotations

EXPIRE_FINISHED = r"""
-- KEYS[1] space events stream
-- ARGV: base, stream_ttl_seconds, state_ttl_seconds, thread ids...
-- The projector let a finished thread's keys go once it projected its close, but a thread may
-- have reopened since the close was read: only a thread still closed or expired gets the TTLs,
-- checked in the same step (a reopen PERSISTs them again; structures.md, "Reopening").
local base, stream_ttl, state_ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local expired = 0
for i = 4, #ARGV do
  local state = base .. 'th:' .. ARGV[i]
  local status = redis.call('HGET', state, 'status')
  if status == 'closed' or status == 'expired' then
    redis.call('EXPIRE', base .. 't:' .. ARGV[i], stream_ttl)
    redis.call('EXPIRE', state, state_ttl)
    expired = expired + 1
  end
end
return expired
"""

QUEUE_POSITION = r"""
-- KEYS[1] space events stream
-- ARGV: base, thread_id
-- Read only: the thread's place in the waiting queue (1 is next) and the queue's length; false
-- when it is not waiting.
local rank = redis.call('ZRANK', ARGV[1] .. 'waiting', ARGV[2])
if not rank then return false end
return {rank + 1, redis.call('ZCARD', ARGV[1] .. 'waiting')}
"""
