"""Lua scripts of team routing (structures.md, "Routing").

Two kinds of step, never mixed in one script (each touches one hash tag, so they stay valid on a
Valkey Cluster): an agent's load lives under the organization's tag `{org:O}` and is reserved by
RESERVE; the thread's assignment lives under the space's tag `{S}` and is made by ASSIGN. The
router reserves first and assigns second, and releases the reservation when the assignment
fails, so the load set is always a superset of the agent's active conversations.
"""

from __future__ import annotations

from chat.streams.lua import COMMON

RESERVE = r"""
-- KEYS[1] the agent's load zset ({org:O}:load:<agent>), KEYS[2] the org's last-assignment hash
-- ARGV: member ('<space>:<thread>'), cap (-1: no cap, an admin's forced transfer), agent_id
-- Idempotent: a member already held answers 'had' (its score refreshed, so the reconciler's
-- compare-and-remove of an old score misses it). Over the cap: false, nothing changed.
-- Answers {'added' | 'had', the reservation's server time in ms}: ASSIGN refuses a reservation
-- older than half the reconciler's grace (the stall guard, structures.md "Routing").
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local member, cap = ARGV[1], tonumber(ARGV[2])
if redis.call('ZSCORE', KEYS[1], member) then
  redis.call('ZADD', KEYS[1], now, member)
  return {'had', tostring(now)}
end
if cap >= 0 and redis.call('ZCARD', KEYS[1]) >= cap then return false end
redis.call('ZADD', KEYS[1], now, member)
redis.call('HSET', KEYS[2], ARGV[3], now)
return {'added', tostring(now)}
"""

RELEASE_IF_SCORE = r"""
-- KEYS[1] an agent's load zset; ARGV: member, the score the reconciler saw
-- Removes the member only if nobody reserved it again since (a new reservation rescored it).
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
"""

ROUND_ROBIN_NEXT = r"""
-- KEYS[1] the group's rotation pointer ({org:O}:rr:<group>)
-- ARGV: the group's members in their stable order, each prefixed '1' (a candidate now) or '0'
-- The first candidate after the pointer, in the group's order, wrapping; the pointer moves to
-- it in the same step, so two routers never hand out the same turn.
local last = redis.call('GET', KEYS[1])
local n = #ARGV
local start = 0
for i = 1, n do
  if string.sub(ARGV[i], 2) == last then start = i end
end
for step = 1, n do
  local i = (start + step - 1) % n + 1
  if string.sub(ARGV[i], 1, 1) == '1' then
    local agent = string.sub(ARGV[i], 2)
    redis.call('SET', KEYS[1], agent)
    return agent
  end
end
return false
"""

WAITING_HEAD = r"""
-- KEYS[1] space events stream; ARGV: base, count
-- Read only: the oldest waiting threads (FIFO) with what the router decides on: each as
-- {thread_id, group_id, previous_agent_id, the visitor's last agent, the agent an auto-transfer
-- took it from (not to be given it back)}.
local base, count = ARGV[1], tonumber(ARGV[2])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', base .. 'waiting', 0, count - 1)) do
  local st = redis.call('HMGET', base .. 'th:' .. id, 'group_id', 'previous_agent_id',
    'visitor_id', 'skip_agent')
  local last = false
  if st[3] then last = redis.call('HGET', base .. 'v:' .. st[3], 'last_agent') end
  out[#out + 1] = {id, st[1] or '', st[2] or '', last or '', st[4] or ''}
end
return out
"""

HELD_UNANSWERED = r"""
-- KEYS[1] space events stream; ARGV: base, count
-- Read only: open threads held by an agent who has not written in them since it got them,
-- as {thread_id, agent_id, routed, group_id}: what goes back to the queue when that agent is
-- gone, or (auto-transfer) has not answered in time; `routed` is '<agent>:<ms>' of the
-- router's last assignment ('' for none).
local base, count = ARGV[1], tonumber(ARGV[2])
local out = {}
for _, id in ipairs(redis.call('ZRANGE', base .. 'open', 0, -1)) do
  local st = redis.call('HMGET', base .. 'th:' .. id, 'status', 'assigned_agent_id', 'replied_by',
    'routed', 'group_id')
  if st[1] == 'active' and st[2] and st[3] ~= st[2] then
    out[#out + 1] = {id, st[2], st[4] or '', st[5] or ''}
    if #out >= count then break end
  end
end
return out
"""

ASSIGN = (
    COMMON
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, thread_id, agent_id, action ('assign' | 'requeue'), strategy, waits_keep_ms,
--       agent_name (assign: the agent's display name, which the visitor sees),
--       reserved_at, max_age (assign: the reservation's time as RESERVE answered it, ms, and
--       how old it may be); reason (requeue: '' for a gone agent, 'no_reply' for an
--       auto-transfer, after which the router does not give it back to that agent)
-- assign: a thread still waiting becomes active and held by agent_id (the router reserved the
-- agent's slot first); anything else ({'skip'}) means another router or a claim got there first.
-- A reservation older than max_age ({'stale'}) may have been dropped by the reconciler while
-- this process stalled: assigning on it could put the agent past its cap, so nothing changes.
-- requeue: a thread still held by agent_id, who has not written in it, goes back to the queue at
-- the place it had (FIFO), its agent kept as previous_agent_id.
local base, thread_id, agent_id, action = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local strategy, keep = ARGV[5], tonumber(ARGV[6])
local state = base .. 'th:' .. thread_id
local st = redis.call('HMGET', state, 'status', 'assigned_agent_id', 'replied_by', 'visitor_id',
  'queued')
local now = now_ms()
local etype
local reason = nil
if action == 'assign' then
  if now - tonumber(ARGV[8]) > tonumber(ARGV[9]) then return {'stale'} end
  local since = redis.call('ZSCORE', base .. 'waiting', thread_id)
  if st[1] ~= 'unassigned' or not since then return {'skip'} end
  redis.call('ZREM', base .. 'waiting', thread_id)
  redis.call('HSET', state, 'status', 'active', 'assigned_agent_id', agent_id, 'queued', since,
    'agent_name', ARGV[7] or '', 'routed', agent_id .. ':' .. now)
  redis.call('HDEL', state, 'skip_agent')
  local visitor_key = base .. 'v:' .. st[4]
  if redis.call('EXISTS', visitor_key) == 1 then
    redis.call('HSET', visitor_key, 'last_agent', agent_id)
  end
  -- Recent waits (for the visitor's estimate): one member per assignment, the last hour's.
  redis.call('ZADD', base .. 'waits', now, thread_id .. ':' .. (now - tonumber(since)))
  redis.call('ZREMRANGEBYSCORE', base .. 'waits', '-inf', now - keep)
  etype = 'thread.assigned'
elseif action == 'requeue' then
  if st[1] ~= 'active' or st[2] ~= agent_id or st[3] == agent_id then return {'skip'} end
  redis.call('HDEL', state, 'assigned_agent_id', 'agent_name', 'routed', 'skip_agent')
  redis.call('HSET', state, 'status', 'unassigned', 'previous_agent_id', agent_id)
  if ARGV[10] == 'no_reply' then
    redis.call('HSET', state, 'skip_agent', agent_id)
    reason = 'no_reply'
  end
  redis.call('ZADD', base .. 'waiting', tonumber(st[5]) or now, thread_id)
  etype = 'thread.requeued'
  strategy = nil
else
  return {'err', 'invalid'}
end
touch(state, 0, 1)
local snap = snapshot(base, thread_id)
snap.previous_agent_id = nil
snap.replied_by = nil
snap.queued = nil
snap.routed = nil
snap.skip_agent = nil
local id = emit(base, thread_id, etype, cjson.encode({thread = snap, by = cjson.null,
  agent_id = agent_id, strategy = strategy, reason = reason}))
return {'ok', id, cjson.encode(snap)}
"""
)

REGROUP = (
    COMMON
    + r"""
-- KEYS[1] space events stream; ARGV: base, old group id, new group id ('' for none)
-- A deleted group's open conversations move to the space's default group (none: the whole
-- team), each with a `thread.regrouped` entry; the number moved.
local base, old, new = ARGV[1], ARGV[2], ARGV[3]
local moved = 0
for _, id in ipairs(redis.call('ZRANGE', base .. 'open', 0, -1)) do
  local state = base .. 'th:' .. id
  if redis.call('HGET', state, 'group_id') == old then
    if new == '' then redis.call('HDEL', state, 'group_id')
    else redis.call('HSET', state, 'group_id', new) end
    touch(state, 0, 1)
    local snap = snapshot(base, id)
    snap.previous_agent_id = nil
    snap.replied_by = nil
    snap.queued = nil
    snap.routed = nil
    snap.skip_agent = nil
    emit(base, id, 'thread.regrouped', cjson.encode({thread = snap, by = cjson.null}))
    moved = moved + 1
  end
end
return moved
"""
)
