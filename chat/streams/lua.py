"""Lua scripts: each append and lifecycle change is one atomic step on the Redis side.

Every entry goes to the space's `events` stream first (XADD `*`); an entry about a thread is then
added to the thread's stream under the same id. Because a thread's entries are a subset of its
space's entries, the explicit id always orders after the thread stream's last id.
"""

from __future__ import annotations

from chat.streams.limits import GCRA_FUNCTIONS
from chat.streams.lua_wake import APPENDED

COMMON = (
    APPENDED
    + r"""
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function emit(base, thread_id, etype, data)
  local id = redis.call('XADD', base .. 'events', '*', 't', etype, 'd', data)
  if thread_id then
    redis.call('XADD', base .. 't:' .. thread_id, id, 't', etype, 'd', data)
  end
  return appended(base, id)
end

local function snapshot(base, thread_id)
  local h = redis.call('HGETALL', base .. 'th:' .. thread_id)
  local s = {id = thread_id}
  for i = 1, #h, 2 do s[h[i]] = h[i + 1] end
  return s
end

-- A thread's `last` (its last_activity_at) orders its copies: of two copies of a thread the
-- later time is the later state (the console keeps that one). So it never moves back, and a
-- change of the thread's state (step 1) moves it at least a millisecond: a step back in status
-- (a bot's handover, a requeue, a reopen) in the same millisecond as the change before it would
-- otherwise tie with it and lose. A message (step 0) changes no status: it moves it to now.
-- Activity passes now; a change that is not activity (the router's) passes 0: one millisecond.
local function touch(state, now, step)
  local at = math.max(now, (tonumber(redis.call('HGET', state, 'last')) or 0) + step)
  redis.call('HSET', state, 'last', at)
end

local function is_open(status)
  return status == 'unassigned' or status == 'active'
end

-- The waiting queue (`waiting`: unassigned open threads, score = when each started waiting)
-- came after threads were opened without it: the first script to need it in a space builds it
-- once from `open` (structures.md, "The waiting queue").
local function ensure_waiting(base)
  if redis.call('EXISTS', base .. 'waiting:built') == 1 then return end
  for _, id in ipairs(redis.call('ZRANGE', base .. 'open', 0, -1)) do
    local st = redis.call('HMGET', base .. 'th:' .. id, 'status', 'created')
    if st[1] == 'unassigned' then
      redis.call('ZADD', base .. 'waiting', tonumber(st[2]) or 0, id)
    end
  end
  redis.call('SET', base .. 'waiting:built', '1')
end

-- Close or expire: out of every set of open threads; the visitor remembers it for a reopen.
local function finish(base, thread_id, final, now)
  local state = base .. 'th:' .. thread_id
  redis.call('HSET', state, 'status', final, 'closed', now)
  redis.call('ZREM', base .. 'open', thread_id)
  redis.call('ZREM', base .. 'waiting', thread_id)
  redis.call('ZREM', base .. 'answered', thread_id)
  local visitor_key = base .. 'v:' .. redis.call('HGET', state, 'visitor_id')
  if redis.call('HGET', visitor_key, 'thread') == thread_id then
    redis.call('HDEL', visitor_key, 'thread')
    redis.call('HSET', visitor_key, 'closed_thread', thread_id)
  end
end

-- A closed or expired thread is open again: waiting (agent_id '') or held by agent_id. The
-- agent it had is kept as `previous_agent_id`; the TTLs the projector set once it projected the
-- close are lifted (structures.md, "Reopening").
local function reopen(base, thread_id, now, agent_id)
  local state = base .. 'th:' .. thread_id
  local previous = redis.call('HGET', state, 'assigned_agent_id')
  if previous then redis.call('HSET', state, 'previous_agent_id', previous) end
  redis.call('HDEL', state, 'closed', 'replied_by')
  touch(state, now, 1)
  if agent_id ~= '' then
    redis.call('HSET', state, 'status', 'active', 'assigned_agent_id', agent_id)
  else
    redis.call('HDEL', state, 'assigned_agent_id')
    redis.call('HSET', state, 'status', 'unassigned')
    redis.call('ZADD', base .. 'waiting', now, thread_id)
  end
  redis.call('ZADD', base .. 'open', now, thread_id)
  redis.call('PERSIST', state)
  redis.call('PERSIST', base .. 't:' .. thread_id)
  local visitor_key = base .. 'v:' .. redis.call('HGET', state, 'visitor_id')
  if redis.call('EXISTS', visitor_key) == 1 then
    redis.call('HSET', visitor_key, 'thread', thread_id)
    redis.call('HDEL', visitor_key, 'closed_thread')
  end
end

-- The visitor's last agent, for sticky routing of their next conversation.
local function remember_agent(base, state, agent_id)
  local visitor_key = base .. 'v:' .. redis.call('HGET', state, 'visitor_id')
  if redis.call('EXISTS', visitor_key) == 1 then
    redis.call('HSET', visitor_key, 'last_agent', agent_id)
  end
end

-- quick_replies: '' or the JSON of a non-empty list (cjson would turn an empty one into {}).
local function message_data(thread_id, sender_type, sender_id, sender_name, content, client_id,
    channel, attachment, quick_replies)
  return cjson.encode({thread_id = thread_id, sender_type = sender_type,
    sender_id = sender_id, sender_name = sender_name, content = content, client_id = client_id,
    channel = (channel ~= '' and channel) or nil,
    attachment = (attachment and attachment ~= '' and cjson.decode(attachment)) or nil,
    quick_replies = (quick_replies and quick_replies ~= '' and cjson.decode(quick_replies))
      or nil})
end
"""
)

# A sender's client_ids, remembered for the dedupe window (structures.md, "Dedupe window"): one
# hash per sender and generation of `window` ms, `cid:<sender>:<generation>`, expiring at the end
# of the next generation. A client_id stored at t is in generation g = floor(t / window) and is
# kept until (g + 2) * window > t + window; a resend at t' <= t + window is in generation g or
# g + 1, so looking in the current generation and the one before finds it. Each record lives
# between one and two windows, and a sender's dedupe state is at most two hashes. The unsuffixed
# `cid:<sender>` hash of versions before (7-day TTL) is still read, so a resend across a rolling
# upgrade is recognised; it expires by itself.
DEDUPE_FUNCTIONS = r"""
local function dedupe_lookup(base, sender_id, client_id, now, window_s)
  local window = window_s * 1000
  local generation = math.floor(now / window)
  local prefix = base .. 'cid:' .. sender_id
  local current = prefix .. ':' .. generation
  local found = redis.call('HGET', current, client_id)
    or redis.call('HGET', prefix .. ':' .. (generation - 1), client_id)
    or redis.call('HGET', prefix, client_id)
  return current, found
end

local function dedupe_record(key, client_id, stored, now, window_s)
  local window = window_s * 1000
  redis.call('HSET', key, client_id, stored)
  redis.call('PEXPIREAT', key, (math.floor(now / window) + 2) * window)
end
"""

POST_MESSAGE = (
    COMMON
    + GCRA_FUNCTIONS
    + DEDUPE_FUNCTIONS
    + r"""
-- KEYS[1] space events stream (declared for cluster routing; the rest share its hash tag)
-- ARGV: base, sender_type, sender_id, sender_name, content, client_id, thread_id,
--       new_thread_id, rate_per_second, burst, max_open, space_id, dedupe_window_seconds,
--       then for visitors: address ('' for none), open_per_address (0: off),
--       threads_interval_ms, threads_burst (0: off), messages_interval_ms, messages_burst
--       (0: off), visitor_ttl_seconds, channel ('' or 'email': the message came by email or
--       was left offline; the thread is flagged), email (the visitor's address, with channel),
--       reopen_window_seconds (0: never; a visitor's thread closed within it reopens),
--       group_id ('' for none: the whole team; a new thread's group, structures.md "Routing"),
--       attachment ('' for none; else the JSON of the file the message carries),
--       bot_id, bot_name ('' for none: a new live-chat thread is assigned to this bot at once,
--       in this step, structures.md "Bots"),
--       quick_replies ('' for none; else the JSON list of the buttons under the message)
-- `max_open` caps the waiting queue (`waiting`), not every open thread.
local base, sender_type, sender_id, sender_name = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local content, client_id, thread_id, new_thread_id = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local rate, burst, max_open = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local space_id, dedupe_window = ARGV[12], tonumber(ARGV[13])
local address, open_per_address = ARGV[14] or '', tonumber(ARGV[15]) or 0
local threads_interval, threads_burst = tonumber(ARGV[16]) or 0, tonumber(ARGV[17]) or 0
local messages_interval, messages_burst = tonumber(ARGV[18]) or 0, tonumber(ARGV[19]) or 0
local visitor_ttl = tonumber(ARGV[20]) or 0
local channel, email = ARGV[21] or '', ARGV[22] or ''
local reopen_window = tonumber(ARGV[23]) or 0
local group_id = ARGV[24] or ''
local attachment = ARGV[25] or ''
local bot_id, bot_name = ARGV[26] or '', ARGV[27] or ''
local quick_replies = ARGV[28] or ''

local now = now_ms()
local cids, prev = dedupe_lookup(base, sender_id, client_id, now, dedupe_window)
if prev then return {'dup', prev} end

if rate > 0 then
  local bucket = base .. 'rl:' .. sender_id
  local b = redis.call('HMGET', bucket, 'tokens', 'ts')
  local tokens = tonumber(b[1]) or burst
  local ts = tonumber(b[2]) or now
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
  if tokens < 1 then
    redis.call('HSET', bucket, 'tokens', tostring(tokens), 'ts', now)
    return {'err', 'rate_limited'}
  end
  redis.call('HSET', bucket, 'tokens', tostring(tokens - 1), 'ts', now)
  redis.call('PEXPIRE', bucket, math.ceil(burst / rate * 1000) + 1000)
end

local visitor_key = nil
if sender_type == 'visitor' then
  -- Budgets of the sender's address, across its visitor ids: checked first, counted only once
  -- the message passes every check (structures.md, "Visitor budgets").
  local messages_key = base .. 'am:' .. address
  local messages_tat = nil
  if address ~= '' and messages_burst > 0 then
    local wait
    wait, messages_tat = gcra_wait(messages_key, messages_interval, messages_burst, now)
    if wait > 0 then return {'err', 'rate_limited', 'too many messages from this address'} end
  end
  visitor_key = base .. 'v:' .. sender_id
  thread_id = redis.call('HGET', visitor_key, 'thread')
  if thread_id then
    local status = redis.call('HGET', base .. 'th:' .. thread_id, 'status')
    if not is_open(status) then thread_id = false end
  end
  local reopening = false
  if not thread_id and reopen_window > 0 then
    -- The visitor's last conversation, closed within the window, continues.
    local closed = redis.call('HGET', visitor_key, 'closed_thread')
    if closed then
      local st = redis.call('HMGET', base .. 'th:' .. closed, 'status', 'closed')
      if (st[1] == 'closed' or st[1] == 'expired')
          and (tonumber(st[2]) or 0) >= now - reopen_window * 1000 then
        thread_id, reopening = closed, true
      end
    end
  end
  if not thread_id or reopening then
    local held_key = base .. 'ao:' .. address
    if address ~= '' and open_per_address > 0 then
      -- The address's open threads; those closed or expired since are dropped here.
      for _, held in ipairs(redis.call('SMEMBERS', held_key)) do
        if not is_open(redis.call('HGET', base .. 'th:' .. held, 'status')) then
          redis.call('SREM', held_key, held)
        end
      end
      if redis.call('SCARD', held_key) >= open_per_address then
        return {'err', 'rate_limited', 'too many open conversations from this address'}
      end
    end
    local threads_key = base .. 'at:' .. address
    local threads_tat = nil
    if address ~= '' and threads_burst > 0 and not reopening then
      local wait
      wait, threads_tat = gcra_wait(threads_key, threads_interval, threads_burst, now)
      if wait > 0 then
        return {'err', 'rate_limited', 'too many new conversations from this address'}
      end
    end
    ensure_waiting(base)
    if redis.call('ZCARD', base .. 'waiting') >= max_open then return {'err', 'queue_full'} end
    if threads_tat then gcra_take(threads_key, threads_tat, now) end
    if not reopening then thread_id = new_thread_id end
    if address ~= '' and open_per_address > 0 then
      redis.call('SADD', held_key, thread_id)
      redis.call('EXPIRE', held_key, math.max(visitor_ttl, 86400))
    end
    if reopening then
      reopen(base, thread_id, now, '')
      emit(base, thread_id, 'thread.reopened',
        cjson.encode({thread = snapshot(base, thread_id), by = cjson.null}))
    else
      if redis.call('EXISTS', visitor_key) == 0 then
        redis.call('HSET', visitor_key, 'created', now)
      end
      redis.call('HSET', base .. 'th:' .. thread_id, 'status', 'unassigned', 'space_id', space_id,
        'visitor_id', sender_id, 'created', now, 'last', now)
      if channel == 'email' then
        redis.call('HSET', base .. 'th:' .. thread_id, 'channel', 'email', 'email', email)
      end
      if group_id ~= '' then
        redis.call('HSET', base .. 'th:' .. thread_id, 'group_id', group_id)
      end
      redis.call('HSET', visitor_key, 'thread', thread_id)
      redis.call('ZADD', base .. 'open', now, thread_id)
      -- A lead (left offline, or past the cap) waits for an email, not in the live queue.
      if channel ~= 'email' then redis.call('ZADD', base .. 'waiting', now, thread_id) end
      local v = redis.call('HGETALL', visitor_key)
      local visitor = {id = sender_id}
      for i = 1, #v, 2 do visitor[v[i]] = v[i + 1] end
      emit(base, thread_id, 'thread.opened',
        cjson.encode({thread = snapshot(base, thread_id), visitor = visitor}))
      if bot_id ~= '' and channel ~= 'email' then
        -- Bot first: the bot holds it from its first entry on, out of the queue; `queued` keeps
        -- when it started waiting, the place a handover gives it back.
        local th = base .. 'th:' .. thread_id
        redis.call('ZREM', base .. 'waiting', thread_id)
        redis.call('HSET', th, 'status', 'active', 'assigned_agent_id', bot_id,
          'agent_name', bot_name, 'bot_agent_id', bot_id, 'queued', now)
        local snap = snapshot(base, thread_id)
        snap.queued = nil
        emit(base, thread_id, 'thread.assigned', cjson.encode({thread = snap, by = cjson.null,
          agent_id = bot_id, strategy = 'bot'}))
      end
    end
  end
  if channel == 'email' then
    -- An open thread the visitor wrote in before leaving an email is flagged from now on.
    redis.call('HSET', base .. 'th:' .. thread_id, 'channel', 'email', 'email', email)
  end
  if messages_tat then gcra_take(messages_key, messages_tat, now) end
  if visitor_ttl > 0 and redis.call('TTL', visitor_key) < visitor_ttl then
    redis.call('EXPIRE', visitor_key, visitor_ttl)
  end
else
  local status = redis.call('HGET', base .. 'th:' .. thread_id, 'status')
  if not status then return {'err', 'not_found'} end
  if not is_open(status) then return {'err', 'thread_closed'} end
end

touch(base .. 'th:' .. thread_id, now, 0)
redis.call('ZADD', base .. 'open', now, thread_id)
-- A bot holding the thread: the visitor's messages in a row it has not answered (its give-up
-- count, structures.md "Bots"); its own message starts the count again.
local bot_turns = nil
local held = redis.call('HMGET', base .. 'th:' .. thread_id, 'assigned_agent_id', 'bot_agent_id')
if held[2] and held[1] == held[2] then
  if sender_type == 'visitor' then
    bot_turns = redis.call('HINCRBY', base .. 'th:' .. thread_id, 'bot_unanswered', 1)
  elseif sender_id == held[2] then
    redis.call('HSET', base .. 'th:' .. thread_id, 'bot_unanswered', 0)
  end
end
if sender_type == 'agent' then
  -- An agent's answer in an email conversation is also mailed to the visitor.
  channel = redis.call('HGET', base .. 'th:' .. thread_id, 'channel') or ''
  -- Awaiting the visitor from now on: the idle sweep closes it if no reply comes.
  redis.call('ZADD', base .. 'answered', now, thread_id)
  -- Its holder answered: the router no longer takes it back if that agent goes away.
  redis.call('HSET', base .. 'th:' .. thread_id, 'replied_by', sender_id)
elseif sender_type == 'visitor' then
  redis.call('ZREM', base .. 'answered', thread_id)
else
  channel = ''
end
local data = message_data(thread_id, sender_type, sender_id, sender_name, content, client_id,
  channel, attachment, quick_replies)
local id = emit(base, thread_id, 'message', data)
local stored = thread_id .. ' ' .. id
dedupe_record(cids, client_id, stored, now, dedupe_window)
if bot_turns then return {'ok', stored, held[2], bot_turns} end
return {'ok', stored}
"""
)

CHANGE_THREAD = (
    COMMON
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, thread_id, action (claim|close|transfer|expire|idle|reopen), agent_id,
--       target_agent_id, before_ms (expire: last activity before it; idle: the agent's answer
--       before it), holder_only ('1': the caller must hold an assigned thread to close or
--       transfer it, and only an assigned thread is transferred; '0': an admin, or the sweeper),
--       text (idle: the system message that says why it closed), agent_name (claim,
--       transfer, reopen: the display name of the agent who holds it from now on)
-- The holder is checked here, in the same step as the change, so no claim or transfer can slip
-- between the check and the change (structures.md, "Thread commands by role"). An expiry or an
-- idle close re-checks its condition here too, so a reply that lands first keeps the thread open.
local base, thread_id, action, agent_id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local target, before, holder_only = ARGV[5], tonumber(ARGV[6]), ARGV[7] == '1'
local text = ARGV[8] or ''
local agent_name = ARGV[9] or ''
local state = base .. 'th:' .. thread_id
local status = redis.call('HGET', state, 'status')
if not status then return {'err', 'not_found'} end
ensure_waiting(base)
local now = now_ms()
local by = cjson.null
if agent_id ~= '' then by = agent_id end
if action == 'reopen' then
  -- A soft-deleted conversation is restored first (chat/streams/lua_lifecycle.py).
  if redis.call('HEXISTS', base .. 'th:' .. thread_id, 'deleted') == 1 then
    return {'err', 'not_found'}
  end
  -- An agent reopens a conversation and holds it: it is theirs to continue.
  if is_open(status) then return {'same', cjson.encode(snapshot(base, thread_id))} end
  local visitor_id = redis.call('HGET', state, 'visitor_id')
  local current = redis.call('HGET', base .. 'v:' .. visitor_id, 'thread')
  if current and current ~= thread_id
      and is_open(redis.call('HGET', base .. 'th:' .. current, 'status')) then
    return {'err', 'visitor_busy'}
  end
  reopen(base, thread_id, now, agent_id)
  if agent_name ~= '' then redis.call('HSET', state, 'agent_name', agent_name) end
  local snap = snapshot(base, thread_id)
  local id = emit(base, thread_id, 'thread.reopened', cjson.encode({thread = snap, by = by}))
  return {'ok', id, cjson.encode(snap)}
end
if not is_open(status) then
  if action == 'expire' or action == 'idle' then return {'skip'} end
  return {'err', 'thread_closed'}
end
local holder = redis.call('HGET', state, 'assigned_agent_id')
if holder_only then
  -- Anyone may close a waiting (unassigned) conversation: triage of spam in the queue.
  if action == 'close' and status == 'active' and holder ~= agent_id then
    return {'err', 'forbidden'}
  end
  if action == 'transfer' and (status ~= 'active' or holder ~= agent_id) then
    return {'err', 'forbidden'}
  end
end
local etype
local reason = nil
if action == 'claim' then
  local bot = redis.call('HGET', state, 'bot_agent_id')
  if status == 'active' then
    if holder == agent_id then return {'same', cjson.encode(snapshot(base, thread_id))} end
    -- A person may take a conversation from the bot holding it (structures.md, "Bots"); the
    -- holder is read in this step, so against a handover at the same moment one wins.
    if not bot or holder ~= bot then return {'err', 'already_claimed'} end
  end
  if status == 'active' then redis.call('HSET', state, 'handed_over', now) end
  redis.call('HSET', state, 'status', 'active', 'assigned_agent_id', agent_id)
  if agent_name ~= '' then redis.call('HSET', state, 'agent_name', agent_name) end
  redis.call('ZREM', base .. 'waiting', thread_id)
  remember_agent(base, state, agent_id)
  etype = 'thread.claimed'
elseif action == 'transfer' then
  -- A conversation leaving its bot never goes back to it by routing (structures.md, "Bots").
  local bot = redis.call('HGET', state, 'bot_agent_id')
  if bot and holder == bot and target ~= bot then redis.call('HSET', state, 'handed_over', now) end
  redis.call('HSET', state, 'status', 'active', 'assigned_agent_id', target)
  if agent_name ~= '' then redis.call('HSET', state, 'agent_name', agent_name) end
  redis.call('ZREM', base .. 'waiting', thread_id)
  remember_agent(base, state, target)
  etype = 'thread.transferred'
elseif action == 'close' or action == 'expire' or action == 'idle' then
  if action == 'expire' and tonumber(redis.call('HGET', state, 'last')) > before then
    return {'skip'}
  end
  if action == 'idle' then
    -- Still awaiting the visitor since an answer before the cutoff: a reply since removed it.
    local answered = tonumber(redis.call('ZSCORE', base .. 'answered', thread_id))
    if not answered or answered > before then return {'skip'} end
    emit(base, thread_id, 'message', message_data(thread_id, 'system', '', 'System', text,
      'idle-' .. now, ''))
    reason = 'idle'
  end
  local final = (action == 'expire') and 'expired' or 'closed'
  finish(base, thread_id, final, now)
  etype = 'thread.' .. final
else
  return {'err', 'invalid'}
end
touch(state, now, 1)
local snap = snapshot(base, thread_id)
local id = emit(base, thread_id, etype, cjson.encode({thread = snap, by = by, reason = reason}))
return {'ok', id, cjson.encode(snap)}
"""
)

UPDATE_VISITOR = (
    COMMON
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, visitor_id, ttl_seconds, then field/value pairs (name, email, current_url,
-- page_title, locale, timezone, browser, os, attributes)
-- The first call stores the visitor (`created`); every call keeps the hash at least
-- ttl_seconds longer (a longer TTL stays).
local base, visitor_id, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local key = base .. 'v:' .. visitor_id
local changed = {visitor_id = visitor_id}
if redis.call('EXISTS', key) == 0 then
  changed.created = tostring(now_ms())
  redis.call('HSET', key, 'created', changed.created)
end
-- `attributes` (JSON the caller checked and encoded) rides in the entry as it is, not in the
-- hash: PostgreSQL keeps it (structures.md, "Visitor context"), and cjson would round numbers.
local attributes = nil
for i = 4, #ARGV, 2 do
  if ARGV[i] == 'attributes' then
    attributes = ARGV[i + 1]
  else
    redis.call('HSET', key, ARGV[i], ARGV[i + 1])
    changed[ARGV[i]] = ARGV[i + 1]
  end
end
if redis.call('TTL', key) < ttl then redis.call('EXPIRE', key, ttl) end
local data = cjson.encode(changed)
if attributes then data = string.sub(data, 1, -2) .. ',"attributes":' .. attributes .. '}' end
return emit(base, nil, 'visitor.updated', data)
"""
)

HEARTBEAT = (
    COMMON
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, agent_id, socket_id, ttl_ms
local base, agent_id, socket_id, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local now = now_ms()
redis.call('ZADD', base .. 'sock:' .. agent_id, now, socket_id)
redis.call('PEXPIRE', base .. 'sock:' .. agent_id, ttl * 2)
local last = tonumber(redis.call('ZSCORE', base .. 'online', agent_id))
redis.call('ZADD', base .. 'online', now, agent_id)
if last and last > now - ttl then return false end
return emit(base, nil, 'presence',
  cjson.encode({agent_id = agent_id, online = true, any_online = true}))
"""
)

AGENT_GONE = (
    COMMON
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, agent_id, socket_id ('' when sweeping stale sockets), ttl_ms
local base, agent_id, socket_id, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local now = now_ms()
local sockets = base .. 'sock:' .. agent_id
if socket_id ~= '' then redis.call('ZREM', sockets, socket_id) end
redis.call('ZREMRANGEBYSCORE', sockets, '-inf', now - ttl)
local newest = redis.call('ZREVRANGE', sockets, 0, 0, 'WITHSCORES')
if #newest > 0 then
  redis.call('ZADD', base .. 'online', newest[2], agent_id)
  return false
end
if redis.call('ZREM', base .. 'online', agent_id) == 0 then return false end
local any = redis.call('ZCOUNT', base .. 'online', now - ttl, '+inf') > 0
return emit(base, nil, 'presence',
  cjson.encode({agent_id = agent_id, online = false, any_online = any}))
"""
)

OPEN_SNAPSHOT = (
    COMMON
    + r"""
-- KEYS[1] space events stream
-- ARGV: base
-- Read only. The space's open threads (each with its visitor's hash, when there is one) and the
-- events stream's last id, in one atomic step: every change to an open thread appends to the
-- events stream in the same script as it changes the state, so the snapshot is exactly the state
-- at that id, and a replay after it neither misses nor repeats a change (structures.md,
-- "The agent's snapshot").
local base = ARGV[1]
local newest = redis.call('XREVRANGE', base .. 'events', '+', '-', 'COUNT', 1)
local cursor = '0-0'
if #newest > 0 then cursor = newest[1][1] end
local threads = {}
for _, thread_id in ipairs(redis.call('ZRANGE', base .. 'open', 0, -1)) do
  local s = snapshot(base, thread_id)
  if is_open(s.status) then
    local item = {thread = s}
    if s.visitor_id then
      local v = redis.call('HGETALL', base .. 'v:' .. s.visitor_id)
      if #v > 0 then
        local visitor = {id = s.visitor_id}
        for i = 1, #v, 2 do visitor[v[i]] = v[i + 1] end
        item.visitor = visitor
      end
    end
    threads[#threads + 1] = item
  end
end
if #threads == 0 then return {cursor, '[]'} end
return {cursor, cjson.encode(threads)}
"""
)
