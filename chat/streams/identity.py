"""Signed visitor identity in the log (structures.md, "Signed visitor identity").

A verified visitor is the one visitor of a space for a site's user id (`sub`): the mapping is
two keys of the space, `ident:<sub>` → visitor id and `idv:<visitor>` → sub, written once (SET NX)
in the same script that stores the verified fields and appends their `visitor.updated` entry.
Neither key expires: a verified user keeps one visitor (and so their history) however long they
stay away; erasing the visitor (chat/streams/lifecycle.py) removes both.

Both appends are group-committed like every visitor update, so an answer means stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from chat.errors import VerifiedVisitorError
from chat.streams import lua
from chat.streams.client import Redis
from chat.streams.group_commit import Append, GroupCommit
from chat.streams.keys import SpaceKeys

# The visitor's fields a verified identify writes (the rest of the frame's shape: attributes).
_STORE_FIELDS = r"""
local function store_fields(base, visitor_id, ttl, first)
  local key = base .. 'v:' .. visitor_id
  local changed = {visitor_id = visitor_id}
  if redis.call('EXISTS', key) == 0 then
    changed.created = tostring(now_ms())
    redis.call('HSET', key, 'created', changed.created)
  end
  local attributes = nil
  for i = first, #ARGV, 2 do
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
end
"""

VERIFIED_IDENTIFY = (
    lua.COMMON
    + _STORE_FIELDS
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, sub, proposed visitor id, fresh visitor id, ttl_seconds, then field/value pairs
-- (external_id = sub, name, email, attributes). The sub's visitor: the one it already maps
-- to; else the proposed one (the signing-in session's own, anonymous visitor) unless another
-- sub holds it meanwhile; else the fresh id. Answers {visitor id, entry id}.
local base, sub, proposed, fresh = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ident = base .. 'ident:' .. sub
local visitor_id = redis.call('GET', ident)
if not visitor_id then
  visitor_id = proposed
  local held = redis.call('GET', base .. 'idv:' .. proposed)
  if proposed == '' or (held and held ~= sub) then visitor_id = fresh end
  redis.call('SET', ident, visitor_id)
  redis.call('SET', base .. 'idv:' .. visitor_id, sub)
end
local id = store_fields(base, visitor_id, tonumber(ARGV[5]), 6)
return {visitor_id, id}
"""
)

# An unsigned identify: the UPDATE_VISITOR of chat/streams/lua.py, refused (false) for a
# verified visitor in the same step, so a page script can never rename one, even from a tab
# whose session started before its visitor was verified.
ANONYMOUS_IDENTIFY = (
    lua.COMMON
    + _STORE_FIELDS
    + r"""
-- KEYS[1] space events stream
-- ARGV: base, visitor_id, ttl_seconds, then field/value pairs (name, email, attributes)
local base, visitor_id = ARGV[1], ARGV[2]
if redis.call('EXISTS', base .. 'idv:' .. visitor_id) == 1 then return false end
return store_fields(base, visitor_id, tonumber(ARGV[3]), 4)
"""
)


def identity_key(keys: SpaceKeys, sub: str) -> str:
    """The site user id's visitor."""
    return keys.base + "ident:" + sub


def verified_key(keys: SpaceKeys, visitor_id: str) -> str:
    """A verified visitor's site user id."""
    return keys.base + "idv:" + visitor_id


@dataclass(frozen=True, slots=True)
class Verified:
    """Where a verified identify landed: the sub's visitor and its `visitor.updated` entry."""

    visitor_id: str
    entry_id: str


class IdentityLog:
    """Holds the registered scripts; does no I/O on init."""

    def __init__(self, redis: Redis, prefix: str, group: GroupCommit) -> None:
        self.redis = redis
        self.prefix = prefix
        self._group = group
        self._verified = redis.register_script(VERIFIED_IDENTIFY)
        self._anonymous = redis.register_script(ANONYMOUS_IDENTIFY)

    def keys(self, space_id: str) -> SpaceKeys:
        return SpaceKeys(self.prefix, space_id)

    async def sub_of(self, space_id: str, visitor_id: str) -> str | None:
        """The site user id a visitor is verified as; None for an anonymous visitor."""
        found = await self.redis.get(verified_key(self.keys(space_id), visitor_id))
        return None if found is None else str(found)

    async def visitor_of(self, space_id: str, sub: str) -> str | None:
        """The visitor a site user id maps to, if it has one yet."""
        found = await self.redis.get(identity_key(self.keys(space_id), sub))
        return None if found is None else str(found)

    async def do_verified_identify(
        self,
        space_id: str,
        sub: str,
        *,
        proposed: str,
        fresh: str,
        fields: dict[str, str],
        ttl_seconds: int,
    ) -> Verified:
        """Map `sub` to its visitor (see VERIFIED_IDENTIFY for which) and store `fields` and the
        sub on it with a `visitor.updated` entry, in one step. `proposed` '' adopts no visitor.
        A retry after a cancelled call is safe: the mapping is written once, and a second entry
        carries the same fields."""
        k = self.keys(space_id)
        stored = {"external_id": sub, **fields}  # in the hash (snapshots) and the entry
        args = [k.base, sub, proposed, fresh, str(ttl_seconds), *_pairs(stored)]
        reply = await self._group.submit(Append(self._verified, [k.events], args))
        return Verified(str(reply[0]), str(reply[1]))

    async def do_anonymous_identify(
        self, space_id: str, visitor_id: str, fields: dict[str, str], ttl_seconds: int
    ) -> str:
        """The fields of an unsigned identify; the entry id. VerifiedVisitorError, nothing
        stored, when the visitor is verified."""
        k = self.keys(space_id)
        args = [k.base, visitor_id, str(ttl_seconds), *_pairs(fields)]
        reply = await self._group.submit(Append(self._anonymous, [k.events], args))
        if reply is None:
            raise VerifiedVisitorError()
        return str(reply)


def _pairs(fields: dict[str, str]) -> list[str]:
    return [part for name, value in fields.items() for part in (name, value)]
