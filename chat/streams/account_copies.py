"""A recent copy in Valkey of what an agent's sign-in check needs, for PostgreSQL outages.

An agent's handshake and REST calls check the access token's agent and sign-in in PostgreSQL,
and the handshake lists the organization's spaces there. While PostgreSQL cannot answer, the
check falls back to this copy (chat/http/sign_in_copy.py decides when; never while PostgreSQL
answers). The copy is written only from what PostgreSQL answered, and every change that could
make it grant too much reaches it:

- `<prefix>:acct:<agent>` (hash): `row` (the agent as JSON, no password hash), `gen` (bumped by
  every change of the agent), `deleted` (`1`: deleted, for good), `s:<session>` (a sign-in seen
  live, valid until the ms stored: an access token of it may be that old), `x:<session>` (a
  sign-in ended: never taken as live again until the ms stored, after which no access token of
  it is valid anyway). Expired `s:` and `x:` fields are pruned by each write.
- `<prefix>:orgspaces:<org>` (hash): `rows` (the organization's live spaces as JSON), `gen`.

Writers that read PostgreSQL first take the key's `gen` (`*_generation`), read, then write only
if `gen` did not move (a change committed meanwhile may be newer than what they read): the
pattern of chat/actors/revocation.py's handshake re-check. Changes bump `gen` after their
commit. Neither key has a space tag (Redis Cluster: one key per script). See structures.md,
"Agents during a PostgreSQL outage".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chat.streams.client import Redis

# How long a copy outlives its last write: an outage that begins a day after an agent's last
# sign-in check finds no copy (and the agent is refused with `unavailable`). Active consoles
# refresh their token every ~14 minutes, which rewrites the copy.
COPY_TTL_SECONDS = 24 * 3600

_NOW = r"""
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS[1] acct:<agent>; ARGV: gen_seen, row ('' keeps it), session ('' none), valid_ms, ttl.
# Returns 1 when the row was written. A deleted agent is never written again; an ended sign-in
# is never taken as live again.
NOTE_AGENT = (
    _NOW
    + r"""
local k = KEYS[1]
if redis.call('HGET', k, 'deleted') then return 0 end
local fields = redis.call('HGETALL', k)
for i = 1, #fields, 2 do
  local kind = string.sub(fields[i], 1, 2)
  if (kind == 's:' or kind == 'x:') and tonumber(fields[i + 1]) < now then
    redis.call('HDEL', k, fields[i])
  end
end
local wrote = 0
if ARGV[2] ~= '' and (redis.call('HGET', k, 'gen') or '0') == ARGV[1] then
  redis.call('HSET', k, 'row', ARGV[2])
  wrote = 1
end
local sid = ARGV[3]
if sid ~= '' and redis.call('HEXISTS', k, 'x:' .. sid) == 0 then
  local until_ms = now + tonumber(ARGV[4])
  if until_ms > (tonumber(redis.call('HGET', k, 's:' .. sid)) or 0) then
    redis.call('HSET', k, 's:' .. sid, until_ms)
  end
end
redis.call('EXPIRE', k, tonumber(ARGV[5]))
return wrote
"""
)

# KEYS[1] acct:<agent>; ARGV: row ('' drops it), deleted ('1' or ''), ttl. After a committed
# change of the agent: bump gen, so writers that read PostgreSQL before it write nothing.
AGENT_CHANGED = r"""
local k = KEYS[1]
redis.call('HINCRBY', k, 'gen', 1)
if ARGV[2] == '1' then
  redis.call('HSET', k, 'deleted', '1')
  local fields = redis.call('HKEYS', k)
  for _, f in ipairs(fields) do
    if f == 'row' or string.sub(f, 1, 2) == 's:' then redis.call('HDEL', k, f) end
  end
elseif redis.call('HGET', k, 'deleted') then
  -- deleted is for good
elseif ARGV[1] ~= '' then
  redis.call('HSET', k, 'row', ARGV[1])
else
  redis.call('HDEL', k, 'row')
end
redis.call('EXPIRE', k, tonumber(ARGV[3]))
return 1
"""

# KEYS[1] acct:<agent>; ARGV: valid_ms, ttl, then the sign-ins ended.
SIGN_INS_ENDED = (
    _NOW
    + r"""
local k = KEYS[1]
for i = 3, #ARGV do
  redis.call('HDEL', k, 's:' .. ARGV[i])
  redis.call('HSET', k, 'x:' .. ARGV[i], now + tonumber(ARGV[1]))
end
redis.call('EXPIRE', k, tonumber(ARGV[2]))
return 1
"""
)

# KEYS[1] orgspaces:<org>; ARGV: gen_seen, rows, ttl. Returns 1 when written.
NOTE_SPACES = r"""
if (redis.call('HGET', KEYS[1], 'gen') or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'rows', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
"""

# KEYS[1] orgspaces:<org>; ARGV: ttl. A space of the organization changed: drop the list.
SPACES_CHANGED = r"""
redis.call('HINCRBY', KEYS[1], 'gen', 1)
redis.call('HDEL', KEYS[1], 'rows')
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
"""


@dataclass(frozen=True, slots=True)
class AgentCopy:
    """What the copy says about one agent and one of its sign-ins."""

    row: str | None  # the agent as JSON, None when there is no copy of it
    deleted: bool
    session_live: bool  # the sign-in was seen live and its tokens may still be valid
    session_ended: bool


def agent_key(prefix: str, agent_id: str) -> str:
    return f"{prefix}:acct:{agent_id}"


def spaces_key(prefix: str, organization_id: str) -> str:
    return f"{prefix}:orgspaces:{organization_id}"


class AccountCopies:
    """The copies' reads and writes. Holds the registered scripts; no I/O on init.

    Redis errors propagate (coredis' RedisError, OSError): the callers decide whether a failed
    write matters (an invalidation does, a refresh of the copy does not)."""

    def __init__(self, redis: Redis, prefix: str, ttl_seconds: int = COPY_TTL_SECONDS) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._note_agent = redis.register_script(NOTE_AGENT)
        self._agent_changed = redis.register_script(AGENT_CHANGED)
        self._sign_ins_ended = redis.register_script(SIGN_INS_ENDED)
        self._note_spaces = redis.register_script(NOTE_SPACES)
        self._spaces_changed = redis.register_script(SPACES_CHANGED)

    async def agent_generation(self, agent_id: str) -> str:
        """Take this before reading the agent from PostgreSQL, and hand it to note_agent."""
        return await self._generation(agent_key(self.prefix, agent_id))

    async def note_agent(
        self, agent_id: str, generation: str, row: str, session_id: str, valid_ms: int
    ) -> bool:
        """Keep `row` (read from PostgreSQL after `generation` was taken) unless the agent
        changed since, and its sign-in `session_id` as live for `valid_ms` unless it ended.
        True when the row was written."""
        args = [generation, row, session_id, str(valid_ms), str(self.ttl_seconds)]
        wrote: object = await self._note_agent(keys=[agent_key(self.prefix, agent_id)], args=args)
        return wrote == 1

    async def agent(self, agent_id: str, session_id: str) -> AgentCopy:
        """The copy of the agent and of one of its sign-ins."""
        key = agent_key(self.prefix, agent_id)
        row, deleted, live, ended = await self.redis.hmget(
            key, ["row", "deleted", f"s:{session_id}", f"x:{session_id}"]
        )
        return AgentCopy(
            row=_text(row),
            deleted=deleted is not None,
            session_live=live is not None,
            session_ended=ended is not None,
        )

    async def do_agent_changed(self, agent_id: str, row: str | None) -> None:
        """After a committed change of the agent: keep `row` (None drops the copy of it)."""
        args = [row or "", "", str(self.ttl_seconds)]
        await self._agent_changed(keys=[agent_key(self.prefix, agent_id)], args=args)

    async def do_agent_deleted(self, agent_id: str) -> None:
        """After the agent's deletion committed: the copy refuses it from now on, for good."""
        args = ["", "1", str(self.ttl_seconds)]
        await self._agent_changed(keys=[agent_key(self.prefix, agent_id)], args=args)

    async def do_sign_ins_ended(
        self, agent_id: str, session_ids: Iterable[str], valid_ms: int
    ) -> None:
        """After sign-ins ended (logout, a password change, a reused refresh token): none of
        them is taken as live for `valid_ms` (the access tokens' lifetime, with a margin)."""
        ended = list(session_ids)
        if not ended:
            return
        args = [str(valid_ms), str(self.ttl_seconds), *ended]
        await self._sign_ins_ended(keys=[agent_key(self.prefix, agent_id)], args=args)

    async def spaces_generation(self, organization_id: str) -> str:
        return await self._generation(spaces_key(self.prefix, organization_id))

    async def note_spaces(self, organization_id: str, generation: str, rows: str) -> bool:
        """Keep the organization's spaces (read after `generation` was taken) unless a space
        changed since. True when written."""
        key = spaces_key(self.prefix, organization_id)
        args = [generation, rows, str(self.ttl_seconds)]
        wrote: object = await self._note_spaces(keys=[key], args=args)
        return wrote == 1

    async def spaces(self, organization_id: str) -> str | None:
        """The organization's spaces as JSON, None when there is no copy."""
        return _text(await self.redis.hget(spaces_key(self.prefix, organization_id), "rows"))

    async def do_spaces_changed(self, organization_id: str) -> None:
        """After a committed change of one of the organization's spaces: drop the list."""
        key = spaces_key(self.prefix, organization_id)
        await self._spaces_changed(keys=[key], args=[str(self.ttl_seconds)])

    async def _generation(self, key: str) -> str:
        return _text(await self.redis.hget(key, "gen")) or "0"


def _text(value: str | bytes | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value
