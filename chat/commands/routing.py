"""Routing decisions: who gets a space's waiting conversations, and which go back to the queue
(structures.md, "Routing"). The router actor (chat/actors/router.py) calls these; each decision
is made of atomic steps (chat/streams/routing.py), so routing one space twice at once, from two
processes, never assigns a conversation twice nor an agent past its capacity.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from chat.clock import now_ms
from chat.commands.directory import Directory, OrgDirectory
from chat.db.rows import GroupRow
from chat.errors import AlreadyClaimedError, ThreadClosedError, ThreadNotFoundError
from chat.streams.log import StreamLog
from chat.streams.routing import RoutingLog, WaitingThread, load_member

logger = logging.getLogger(__name__)

# The oldest waiting conversations one pass considers: later ones wait for the next pass, which
# an assignment's own entry triggers, so a long queue drains in passes of this size.
ROUTE_BATCH = 100
# Held conversations one requeue pass of a space reads.
REQUEUE_BATCH = 500
# What routing one waiting conversation came to: given to an agent; taken by another router or
# a claim first; or nobody had room (or every try went stale: the next pass tries again).
Routed = Literal["assigned", "skip", "full"]
# Reserve-then-assign tries per agent when the assignment finds its reservation too old (this
# process stalled between the two steps): a fresh reservation is made each time.
STALE_TRIES = 2
# The default of how old a reservation ASSIGN accepts: half the reconciler's default grace.
RESERVATION_MAX_AGE_MS = 15_000


@dataclass(frozen=True, slots=True)
class TeamRouting:
    """The routing steps of one process. Holds no state of its own; no I/O on construction."""

    stream_log: StreamLog
    routing: RoutingLog
    directory: Directory
    # Half of router_reservation_grace_seconds: a reservation the reconciler may already have
    # dropped is never assigned on (structures.md, "Routing", the stall guard).
    reservation_max_age_ms: int = RESERVATION_MAX_AGE_MS

    async def route_space(self, space_id: str, organization_id: str) -> int:
        """Assign the space's waiting conversations, oldest first, while an eligible agent
        exists for each; the number assigned. Conversations of the whole team (no group) and of
        `manual` groups wait for a claim."""
        org = await self.directory.org(organization_id)
        head = await self.routing.waiting_head(space_id, ROUTE_BATCH)
        if not head:
            return 0
        online = set(await self.stream_log.online_agents(space_id))
        assigned = 0
        # A group whose oldest waiting conversation found no agent with room is done for this
        # pass: a slot freed meanwhile must go to that one (the next pass), not to a later one
        # (FIFO). Not so for one another router took first ("skip": go on with the next), nor
        # for one an auto-transfer keeps from its agent (others may still go to that agent).
        blocked: set[str] = set()
        for waiting in head:
            group = org.groups.get(waiting.group_id)
            if group is None or group.strategy == "manual" or group.id in blocked:
                continue
            eligible = [
                a
                for a in group.agent_ids
                if a in online and org.accepting(a) and a != waiting.excluded_agent_id
            ]
            found = "full"
            if eligible:
                found = await self._route_one(space_id, org, group, eligible, waiting)
            if found == "assigned":
                assigned += 1
            elif found == "full" and not waiting.excluded_agent_id:
                blocked.add(group.id)
        return assigned

    async def _route_one(
        self,
        space_id: str,
        org: OrgDirectory,
        group: GroupRow,
        eligible: list[str],
        waiting: WaitingThread,
    ) -> Routed:
        organization_id = group.organization_id
        loads = await self.routing.loads(organization_id, eligible)
        below = [a for a in eligible if loads[a] < org.cap(a)]
        if not below:
            return "full"
        order = await self._order(organization_id, group, below, loads)
        if group.sticky:
            back = waiting.previous_agent_id or waiting.last_agent_id
            if back in below:
                order = [back, *(a for a in order if a != back)]
        member = load_member(space_id, waiting.thread_id)
        strategy = group.strategy + ("+sticky" if group.sticky else "")
        for agent_id in order:
            for _ in range(STALE_TRIES):
                reserved = await self.routing.reserve(
                    organization_id, agent_id, member, org.cap(agent_id)
                )
                if reserved is None:
                    break  # filled up since the loads were read: the next in order
                name = org.agents[agent_id].name
                done = await self.routing.assign(
                    space_id,
                    waiting.thread_id,
                    agent_id,
                    strategy,
                    name,
                    reserved,
                    self.reservation_max_age_ms,
                )
                if not isinstance(done, str):
                    return "assigned"
                if reserved.added:
                    await self.routing.release(organization_id, agent_id, member)
                if done == "skip":
                    return "skip"
                logger.warning("routing %s: reservation went stale, reserving again", member)
        return "full"

    async def _order(
        self, organization_id: str, group: GroupRow, below: list[str], loads: dict[str, int]
    ) -> list[str]:
        """The agents to try, best first, by the group's strategy."""
        if group.strategy == "least_loaded":
            last = await self.routing.last_assigned(organization_id, below)
            return sorted(below, key=lambda a: (loads[a], last[a], a))
        first = await self.routing.next_in_rotation(
            organization_id, group.id, list(group.agent_ids), set(below)
        )
        if first is None:
            return below
        members = [a for a in group.agent_ids if a in below]
        at = members.index(first)
        return members[at:] + members[:at]

    async def requeue_gone(self, space_id: str, organization_id: str, grace_seconds: float) -> int:
        """Conversations held by an agent gone (no fresh heartbeat) or not accepting for
        `grace_seconds`, who has not written in them, go back to the queue at their place; the
        number requeued. Their slots are released."""
        held = await self.routing.held_unanswered(space_id, REQUEUE_BATCH)
        if not held:
            # Nothing to requeue, and no away time to keep: the router's pass over every space
            # every few seconds costs one round trip here, not one per agent (issue 19: idle
            # CPU). An agent's away time is taken again at the first pass where it holds a
            # conversation, so it may only count from later, never from earlier.
            return 0
        online = set(await self.stream_log.online_agents(space_id))
        bots_online = await self.stream_log.bots.online_bots(space_id)
        org = await self.directory.org(organization_id)
        requeued = 0
        away_of: dict[str, int | None] = {}
        for agent_id in {h.agent_id for h in held} | online:
            if org.is_bot(agent_id):  # a bot is away without a socket; it accepts nothing
                away = agent_id not in bots_online
            else:
                away = agent_id not in online or not org.accepting(agent_id)
            away_of[agent_id] = await self.routing.away_since(space_id, agent_id, away)
        cutoff = now_ms() - grace_seconds * 1000
        for h in held:
            since = away_of.get(h.agent_id)
            if since is None or since > cutoff:
                continue
            if org.is_bot(h.agent_id):
                # A bot not connected that never answered: its conversation goes to people
                # (structures.md, "Bots"), as one handover rather than a requeue.
                requeued += await self._bot_gone(space_id, h.thread_id, h.agent_id)
                continue
            if await self.routing.requeue(space_id, h.thread_id, h.agent_id) is not None:
                await self.routing.release(
                    organization_id, h.agent_id, load_member(space_id, h.thread_id)
                )
                requeued += 1
        return requeued

    async def _bot_gone(self, space_id: str, thread_id: str, bot_id: str) -> int:
        """Hand a gone bot's conversation over; 1 if it was, 0 if a person took it first."""
        try:
            await self.stream_log.bots.do_handover(
                space_id, thread_id, reason="bot_gone", bot_id=bot_id
            )
        except (AlreadyClaimedError, ThreadClosedError, ThreadNotFoundError):
            return 0
        return 1

    async def transfer_unanswered(self, space_id: str, organization_id: str) -> int:
        """Auto-transfer: conversations the router gave an agent who has not written in them
        within their group's `auto_transfer_seconds` go back to the queue (`thread.requeued`,
        reason `no_reply`), not to be routed to that agent again, when another member is
        eligible with room now (otherwise the agent keeps it: a queue with nobody to go to
        would only make the visitor wait longer); the number requeued."""
        org = await self.directory.org(organization_id)
        if not any(g.auto_transfer_seconds for g in org.groups.values()):
            return 0
        held = await self.routing.held_unanswered(space_id, REQUEUE_BATCH)
        online = set(await self.stream_log.online_agents(space_id))
        now, moved = now_ms(), 0
        for h in held:
            group = org.groups.get(h.group_id)
            if group is None or not group.auto_transfer_seconds or h.routed_at is None:
                continue
            if now - h.routed_at < group.auto_transfer_seconds * 1000:
                continue
            others = [
                a for a in group.agent_ids if a != h.agent_id and a in online and org.accepting(a)
            ]
            loads = await self.routing.loads(organization_id, others)
            if not any(loads[a] < org.cap(a) for a in others):
                continue
            done = await self.routing.requeue(space_id, h.thread_id, h.agent_id, "no_reply")
            if done is not None:
                member = load_member(space_id, h.thread_id)
                await self.routing.release(organization_id, h.agent_id, member)
                moved += 1
        return moved

    async def reconcile_loads(self, organization_id: str, grace_seconds: float) -> int:
        """Drop reservations older than `grace_seconds` whose conversation is not active with
        that agent (a crash between reserve and assign, a release lost with a process); the
        number dropped."""
        org = await self.directory.org(organization_id)
        cutoff = now_ms() - grace_seconds * 1000
        dropped = 0
        held = await self.routing.held_by(organization_id, list(org.agents))
        for agent_id, reservations in held.items():
            for member, score in reservations:
                if score > cutoff:
                    continue
                space_id, _, thread_id = member.partition(":")
                state = await self.stream_log.thread_state(space_id, thread_id)
                if state and state.status == "active" and state.assigned_agent_id == agent_id:
                    continue
                if await self.routing.release_if_unchanged(
                    organization_id, agent_id, member, score
                ):
                    dropped += 1
        return dropped

    async def release_finished(
        self, space_id: str, organization_id: str, thread_id: str, agent_id: str | None
    ) -> None:
        """A conversation closed, expired or left the agent: its slot is free."""
        if agent_id:
            await self.routing.release(organization_id, agent_id, load_member(space_id, thread_id))
