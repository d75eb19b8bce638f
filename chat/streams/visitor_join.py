"""What a widget socket reads from the log on joining, in one script call: the visitor's state,
whether it is verified, and the space's agents online.

They were three round trips per connect (issue 19: a connect burst spends most of its CPU per
round trip in the Valkey client). A script, not a pipeline: coredis lends a pipeline a pooled
connection of its own until its replies are read, so a burst of connects queued for the pool
(connect p99 rose by about 100 ms in the idle bench), while a script call shares the
multiplexed connections like any command. Read only; every key carries the space's hash tag,
so in a cluster it runs on one master."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chat.events import VisitorInfo
from chat.streams.client import Redis
from chat.streams.identity import verified_key
from chat.streams.keys import SpaceKeys

# KEYS[1] the visitor's hash, KEYS[2] its verified mapping, KEYS[3] the space's online agents;
# ARGV[1] the presence cutoff (epoch ms). The hash comes as a flat list of fields and values.
READ_JOIN = r"""
return {
  redis.call('HGETALL', KEYS[1]),
  redis.call('EXISTS', KEYS[2]),
  redis.call('ZRANGE', KEYS[3], ARGV[1], '+inf', 'BYSCORE'),
}
"""


@dataclass(frozen=True, slots=True)
class JoinRead:
    visitor: VisitorInfo | None  # None: a new (or expired) visitor, stored only once it acts
    verified: bool  # by a signed identity (chat/actors/visitor_identity.py)
    online_agents: list[str]  # with a heartbeat within the presence TTL


class VisitorJoins:
    """The joining read of widget sockets. Holds the script; does no I/O on init."""

    def __init__(self, redis: Redis, prefix: str, presence_cutoff: Callable[[], int]) -> None:
        self.prefix = prefix
        self.presence_cutoff = presence_cutoff  # StreamLog.presence_cutoff
        self._read_join = redis.register_script(READ_JOIN)

    async def read(self, space_id: str, visitor_id: str) -> JoinRead:
        keys = SpaceKeys(self.prefix, space_id)
        key_list = [keys.visitor(visitor_id), verified_key(keys, visitor_id), keys.online]
        cutoff = str(self.presence_cutoff())
        reply: list[list[str] | int] = await self._read_join(keys=key_list, args=[cutoff])
        flat, verified, online = reply
        assert isinstance(flat, list) and isinstance(online, list)
        fields = dict(zip(flat[::2], flat[1::2], strict=True))
        visitor = VisitorInfo.model_validate({"id": visitor_id, **fields}) if fields else None
        return JoinRead(visitor, bool(verified), [str(a) for a in online])
