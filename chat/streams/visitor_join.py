"""What a widget socket reads from the log on joining, in one pipelined round trip: the
visitor's state, whether it is verified, and the space's agents online.

They were three round trips per connect (issue 19: a connect burst spends most of its CPU per
round trip in the Valkey client). The keys carry the space's hash tag, so in a cluster the
pipeline goes to one master."""

from __future__ import annotations

from dataclasses import dataclass

from coredis import PureToken

from chat.events import VisitorInfo
from chat.streams.identity import verified_key
from chat.streams.log import StreamLog


@dataclass(frozen=True, slots=True)
class JoinRead:
    visitor: VisitorInfo | None  # None: a new (or expired) visitor, stored only once it acts
    verified: bool  # by a signed identity (chat/actors/visitor_identity.py)
    online_agents: list[str]  # with a heartbeat within the presence TTL


async def read_join(stream_log: StreamLog, space_id: str, visitor_id: str) -> JoinRead:
    keys = stream_log.keys(space_id)
    async with stream_log.redis.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.visitor(visitor_id))
        pipe.get(verified_key(keys, visitor_id))
        pipe.zrange(keys.online, stream_log.presence_cutoff(), "+inf", sortby=PureToken.BYSCORE)
    raw, sub, online = pipe.results or ({}, None, ())
    visitor = VisitorInfo.model_validate({"id": visitor_id, **raw}) if raw else None
    return JoinRead(visitor, sub is not None, [str(a) for a in online])
