"""Lua scripts of a conversation's lifecycle beyond its messages: soft delete and restore, and the
typing preview's replace-the-last-draft append (structures.md, "Deleting conversations and
visitors", "Typing preview")."""

from __future__ import annotations

from chat.streams.lua_wake import APPENDED

MARK_DELETED = (
    APPENDED
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, thread_id, kind ('thread.deleted' or 'thread.restored'), by (agent id)
-- Space stream only: the thread's stream and state may have expired (7 days after a close),
-- and an XADD would recreate its stream without a TTL. An open thread is refused: the visitor
-- still writes in it. A delete forgets the visitor's `closed_thread`, so their next message
-- opens a new conversation instead of reopening a deleted one.
local base, thread_id, kind, by = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local state = base .. 'th:' .. thread_id
local status = redis.call('HGET', state, 'status')
if status == 'unassigned' or status == 'active' then return {'err', 'thread_open'} end
if status then
  if kind == 'thread.deleted' then
    redis.call('HSET', state, 'deleted', '1')
    local visitor_key = base .. 'v:' .. redis.call('HGET', state, 'visitor_id')
    if redis.call('HGET', visitor_key, 'closed_thread') == thread_id then
      redis.call('HDEL', visitor_key, 'closed_thread')
    end
  else
    redis.call('HDEL', state, 'deleted')
  end
end
local data = cjson.encode({thread_id = thread_id, by = by})
return {'ok', appended(base, redis.call('XADD', base .. 'events', '*', 't', kind, 'd', data))}
"""
)

PREVIEW = (
    APPENDED
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, thread_id, data (the typing entry's JSON, '' to only remove), ttl_ms
-- The typing preview carries a visitor's draft: only the newest draft of a thread is kept in
-- the space stream. The entry the last call added (`pk:<thread>`) is deleted, then the new one
-- is added; '' (the visitor stopped typing, sent, or left) deletes without adding. Readers
-- blocked on the stream are served the new entry when this script ends.
local base, thread_id, data, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local marker = base .. 'pk:' .. thread_id
local previous = redis.call('GET', marker)
if previous then redis.call('XDEL', base .. 'events', previous) end
if data == '' then
  redis.call('DEL', marker)
  return false
end
local id = redis.call('XADD', base .. 'events', '*', 't', 'typing', 'd', data)
redis.call('SET', marker, id, 'PX', ttl)
return appended(base, id)
"""
)
