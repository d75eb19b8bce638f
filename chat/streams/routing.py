"""Routing's keys and steps in Valkey: agents' loads (organization-tagged), the space steps that
assign and requeue a thread, the rotation pointer, recent waits (structures.md, "Routing").

Reserve-then-assign: `reserve` adds `<space>:<thread>` to the agent's load zset only below its
cap, in one step under `{org:O}`; `assign` then moves the thread out of the queue in one step
under `{S}`, and answers None when the thread no longer waits, in which case the caller releases
what it reserved. An assignment therefore always has its reservation, and the load zset never
holds more than the cap: no agent is ever past its capacity, across spaces and processes.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Literal

from coredis import PureToken

from chat.clock import now_ms
from chat.events import ThreadSnapshot
from chat.streams import lua_routing
from chat.streams.client import Redis
from chat.streams.keys import SpaceKeys

# The waits an estimate is made from: assignments of the last hour.
WAITS_KEEP_MS = 3600 * 1000
# An estimate from fewer assignments than this is noise: none is given.
MIN_WAITS_FOR_ESTIMATE = 3
# What an assignment that did not happen met: the thread waits no more (another router or a
# claim got it), or the reservation was too old to rely on (the stall guard).
NotAssigned = Literal["skip", "stale"]


@dataclass(frozen=True, slots=True)
class Reservation:
    """A slot held: `added` (False: the member was held already) at Valkey's `at_ms`."""

    added: bool
    at_ms: int


@dataclass(frozen=True, slots=True)
class WaitingThread:
    """A thread at the head of the queue, with what the router decides on."""

    thread_id: str
    group_id: str
    previous_agent_id: str
    last_agent_id: str
    excluded_agent_id: str = ""  # an auto-transfer took it from this agent: not back to it


@dataclass(frozen=True, slots=True)
class HeldThread:
    """An open thread whose holder has not written in it since getting it."""

    thread_id: str
    agent_id: str
    group_id: str
    # When the router assigned it to this holder (ms); None when the holder got it otherwise
    # (a claim, a transfer), which auto-transfer leaves alone.
    routed_at: int | None


def load_member(space_id: str, thread_id: str) -> str:
    return f"{space_id}:{thread_id}"


class RoutingLog:
    """Routing's Valkey operations. Registers its scripts; does no I/O on init."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self._reserve = redis.register_script(lua_routing.RESERVE)
        self._release_if_score = redis.register_script(lua_routing.RELEASE_IF_SCORE)
        self._rr_next = redis.register_script(lua_routing.ROUND_ROBIN_NEXT)
        self._waiting_head = redis.register_script(lua_routing.WAITING_HEAD)
        self._held_unanswered = redis.register_script(lua_routing.HELD_UNANSWERED)
        self._assign = redis.register_script(lua_routing.ASSIGN)
        self._regroup = redis.register_script(lua_routing.REGROUP)

    def _org(self, organization_id: str) -> str:
        return f"{self.prefix}:{{org:{organization_id}}}:"

    def load_key(self, organization_id: str, agent_id: str) -> str:
        """The agent's reserved conversations (`<space>:<thread>`), scored by reservation ms."""
        return self._org(organization_id) + "load:" + agent_id

    def _space(self, space_id: str) -> SpaceKeys:
        return SpaceKeys(self.prefix, space_id)

    async def reserve(
        self, organization_id: str, agent_id: str, member: str, cap: int
    ) -> Reservation | None:
        """Hold a slot of the agent for `member`; None when it holds `cap` already (cap -1:
        no cap). Idempotent: `added` is False when the member was held already (its time is
        renewed either way)."""
        keys = [self.load_key(organization_id, agent_id), self._org(organization_id) + "last"]
        reply: list[str] | None = await self._reserve(keys=keys, args=[member, str(cap), agent_id])
        if not reply:
            return None
        return Reservation(added=str(reply[0]) == "added", at_ms=int(reply[1]))

    async def release(self, organization_id: str, agent_id: str, member: str) -> None:
        """Free the slot (idempotent)."""
        await self.redis.zrem(self.load_key(organization_id, agent_id), [member])

    async def release_if_unchanged(
        self, organization_id: str, agent_id: str, member: str, score: float
    ) -> bool:
        """Free the slot only if it still has the reservation time `score` (the reconciler)."""
        key = self.load_key(organization_id, agent_id)
        done: int = await self._release_if_score(keys=[key], args=[member, _score_text(score)])
        return bool(done)

    async def loads(self, organization_id: str, agent_ids: list[str]) -> dict[str, int]:
        """Each agent's reserved conversations."""
        # A group's online members are few: one ZCARD each.
        return {a: await self.redis.zcard(self.load_key(organization_id, a)) for a in agent_ids}

    async def held_by(
        self, organization_id: str, agent_ids: list[str]
    ) -> dict[str, list[tuple[str, float]]]:
        """Each agent's reservations with their times (ms), in one pipelined round trip (the
        reconcile pass made one per agent of every organization)."""
        if not agent_ids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for agent_id in agent_ids:
                pipe.zrange(self.load_key(organization_id, agent_id), 0, -1, withscores=True)
        found = zip(agent_ids, pipe.results or (), strict=True)
        return {a: [(str(m), float(s)) for m, s in pairs] for a, pairs in found}

    async def last_assigned(self, organization_id: str, agent_ids: list[str]) -> dict[str, int]:
        """When each agent last got a conversation (ms; 0 never): ties of least_loaded."""
        if not agent_ids:
            return {}
        values = await self.redis.hmget(self._org(organization_id) + "last", agent_ids)
        return {a: int(v or 0) for a, v in zip(agent_ids, values, strict=True)}

    async def next_in_rotation(
        self, organization_id: str, group_id: str, members: list[str], candidates: set[str]
    ) -> str | None:
        """The first candidate after the group's pointer, which moves to it (one step)."""
        key = self._org(organization_id) + "rr:" + group_id
        args = [("1" if m in candidates else "0") + m for m in members]
        reply: str | None = await self._rr_next(keys=[key], args=args)
        return str(reply) if reply else None

    async def space_counts(
        self, space_ids: list[str], online_since: int
    ) -> dict[str, tuple[int, int, int]]:
        """Each space's (waiting, open, online) counts: its waiting and open threads, and its
        agents with a heartbeat since `online_since` (epoch ms), in one pipelined round trip
        (split by node in a cluster). The router's pass skips the scripts of a space with
        nothing to do, so an idle process costs per pass one round trip, not a few per space."""
        if not space_ids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for space_id in space_ids:
                k = self._space(space_id)
                pipe.zcard(k.waiting)
                pipe.zcard(k.open_threads)
                pipe.zcount(k.online, online_since, "+inf")
        counts = [int(n) for n in pipe.results or ()]
        return {
            s: (counts[3 * i], counts[3 * i + 1], counts[3 * i + 2])
            for i, s in enumerate(space_ids)
        }

    async def waiting_head(self, space_id: str, count: int) -> list[WaitingThread]:
        k = self._space(space_id)
        rows: list[list[str]] = await self._waiting_head(keys=[k.events], args=[k.base, str(count)])
        return [WaitingThread(*(str(v) for v in row)) for row in rows or []]

    async def held_unanswered(self, space_id: str, count: int) -> list[HeldThread]:
        """Open threads whose holder has not written since it got them."""
        k = self._space(space_id)
        args = [k.base, str(count)]
        rows: list[list[str]] = await self._held_unanswered(keys=[k.events], args=args)
        return [_held(*(str(v) for v in row)) for row in rows or []]

    async def assign(
        self,
        space_id: str,
        thread_id: str,
        agent_id: str,
        strategy: str,
        agent_name: str,
        reservation: Reservation,
        max_age_ms: int,
    ) -> ThreadSnapshot | NotAssigned:
        """Give a waiting thread to the agent (`thread.assigned`) on the slot `reservation`
        holds; "skip" when the thread waits no more, "stale" (nothing changed) when the
        reservation is older than `max_age_ms` by Valkey's clock."""
        extra = [str(reservation.at_ms), str(max_age_ms)]
        reply = await self._step(
            space_id, thread_id, agent_id, "assign", strategy, agent_name, extra
        )
        return "stale" if reply == "stale" else reply

    async def requeue(
        self, space_id: str, thread_id: str, agent_id: str, reason: str = ""
    ) -> ThreadSnapshot | None:
        """Put a thread the agent holds and has not answered back in the queue
        (`thread.requeued`); None when that no longer holds. `reason` "no_reply" (an
        auto-transfer) also keeps the router from giving it back to that agent."""
        extra = ["", "", reason]  # ARGV 8-9 are the assign's
        reply = await self._step(space_id, thread_id, agent_id, "requeue", "", "", extra)
        return None if isinstance(reply, str) else reply

    async def _step(
        self,
        space_id: str,
        thread_id: str,
        agent_id: str,
        action: str,
        strategy: str,
        agent_name: str,
        extra: list[str],
    ) -> ThreadSnapshot | NotAssigned:
        k = self._space(space_id)
        args = [k.base, thread_id, agent_id, action, strategy, str(WAITS_KEEP_MS), agent_name]
        reply: list[str] = await self._assign(keys=[k.events], args=[*args, *extra])
        if reply[0] == "stale":
            return "stale"
        if reply[0] != "ok":
            return "skip"
        return ThreadSnapshot.model_validate_json(reply[2])

    async def regroup(self, space_id: str, old_group_id: str, new_group_id: str) -> int:
        """Move the space's open conversations of a deleted group to `new_group_id` ('' for
        none), one `thread.regrouped` entry each; how many moved. Idempotent."""
        k = self._space(space_id)
        args = [k.base, old_group_id, new_group_id]
        moved: int = await self._regroup(keys=[k.events], args=args)
        return moved

    async def away_since(self, space_id: str, agent_id: str, away: bool) -> int | None:
        """Since when (ms) the agent is gone or not accepting, as first noticed; None and
        forgotten when it is back (a hash `{S}:away`, shared by every router)."""
        key = self._space(space_id).base + "away"
        if not away:
            await self.redis.hdel(key, [agent_id])
            return None
        await self.redis.hsetnx(key, agent_id, str(now_ms()))
        value = await self.redis.hget(key, agent_id)
        return int(value) if value else now_ms()

    async def estimated_wait_seconds(self, space_id: str) -> int | None:
        """The median wait of the last hour's assignments in the space; None with too few."""
        key = self._space(space_id).base + "waits"
        low = now_ms() - WAITS_KEEP_MS
        members = await self.redis.zrange(key, low, "+inf", sortby=PureToken.BYSCORE)
        waits = [int(str(m).rsplit(":", 1)[1]) for m in members]
        if len(waits) < MIN_WAITS_FOR_ESTIMATE:
            return None
        return round(statistics.median(waits) / 1000)


def _held(thread_id: str, agent_id: str, routed: str, group_id: str) -> HeldThread:
    routed_agent, _, at = routed.partition(":")
    routed_at = int(at) if routed_agent == agent_id and at else None
    return HeldThread(thread_id, agent_id, group_id, routed_at)


def _score_text(score: float) -> str:
    """A zset score as ZSCORE answers it (integral ms have no fraction)."""
    return str(int(score)) if score == int(score) else repr(score)
