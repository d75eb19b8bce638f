"""The router: follows the space streams through its own consumer group and routes a space's
waiting conversations when something that may let one go to an agent happens there; a periodic
pass over every space is the safety net, and also requeues what gone agents held and frees
leaked reservations (structures.md, "Routing").

Crash policy: Redis or PostgreSQL errors back off and retry. Entries are acked after their
space was routed; this process's own unacked entries are read again after an error. Entries a
crashed process left pending are not reclaimed: routing works from the state, not the entry, so
the periodic pass (`router_pass_seconds`) routes those spaces anyway, and each step is idempotent
(a thread assigned already is skipped). Anything else propagates to the supervisor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import psycopg
import trio

from chat.backoff import Backoff
from chat.commands.routing import TeamRouting
from chat.config import Settings
from chat.db import space_queries
from chat.db.pool import Database
from chat.events import Presence, ThreadChanged, ThreadOpened
from chat.streams import groups
from chat.streams.errors import ConsumerGroupMissingError, StreamLogError
from chat.streams.keys import ROUTER_GROUP

logger = logging.getLogger(__name__)

READ_BLOCK_MS = 1000
READ_COUNT = 500
# After a small read that routed nothing, the router waits this long before reading again, so
# at a steady message rate it reads (and acks) a batch per interval rather than one round trip
# pair per message or two (issue 19: at 250 msgs/s the router made a fifth of the service's
# Valkey round trips). A conversation opened meanwhile waits at most this long more to be
# offered; one read right after a routing entry goes without the wait.
LINGER_SECONDS = 0.05
SPACES_REFRESH_SECONDS = 5.0
# Reservations are checked against the threads this often (a leak holds a slot at most the
# reservation grace plus this).
RECONCILE_SECONDS = 10.0
# Kinds after which a conversation may go to an agent, or a slot was freed.
_ROUTING_KINDS = frozenset(
    {
        "thread.opened",
        "thread.reopened",
        "thread.closed",
        "thread.expired",
        "thread.transferred",
        "thread.requeued",
        "thread.regrouped",
        "thread.handed_over",
    }
)


@dataclass
class RouterState:
    """What the router did, for tests and /metrics; and the organizations to route again."""

    assigned: int = 0
    requeued: int = 0
    auto_transferred: int = 0
    reservations_dropped: int = 0
    passes: int = 0
    failing_since: float | None = None
    # Organizations whose agents or groups changed (the control stream): routed at next turn.
    changed: set[str] = field(default_factory=set)

    def routing_changed(self, organization_id: str) -> None:
        self.changed.add(organization_id)


async def run_router(
    routing: TeamRouting,
    db: Database,
    settings: Settings,
    state: RouterState,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Route until cancelled; never returns otherwise.

    Resource handling: one consumer `node-<node_id>` in the group `router` on each live space
    stream, created at the stream's end (routing needs no history: the first pass routes what
    waits). Cancellation leaves read entries pending; they are routed again by the next pass.
    """
    consumer = f"node-{settings.node_id}"
    spaces: dict[str, str] = {}
    known: set[str] = set()
    next_refresh = next_pass = next_reconcile = 0.0
    backoff = Backoff("router")
    recovering = True
    task_status.started()
    while True:
        now = trio.current_time()
        try:
            if now >= next_refresh:
                spaces = await db.run(space_queries.all_space_organizations)
                for space_id in spaces.keys() - known:
                    await groups.ensure_group(routing.stream_log, space_id, ROUTER_GROUP, "$")
                    known.add(space_id)
                next_refresh = now + SPACES_REFRESH_SECONDS
            if now >= next_pass:
                await _full_pass(routing, settings, state, spaces)
                next_pass = now + settings.router_pass_seconds
            if now >= next_reconcile:
                for org in set(spaces.values()):
                    state.reservations_dropped += await routing.reconcile_loads(
                        org, settings.router_reservation_grace_seconds
                    )
                next_reconcile = now + RECONCILE_SECONDS
            if state.changed:
                orgs, state.changed = state.changed, set()
                await _route_spaces(routing, state, spaces, orgs)
            recovering, linger = await _follow(routing, state, consumer, spaces, recovering)
            backoff.reset()
            state.failing_since = None
            if linger:
                await trio.sleep(LINGER_SECONDS)
        except* ConsumerGroupMissingError:
            known.clear()  # a stream lost its group: recreate the groups at the next turn
            next_refresh = 0.0
            recovering = True
        except* (StreamLogError, OSError, psycopg.OperationalError) as group:
            recovering = True
            if state.failing_since is None:
                state.failing_since = trio.current_time()
            await backoff.wait(logger, group.exceptions[0])


async def _follow(
    routing: TeamRouting,
    state: RouterState,
    consumer: str,
    spaces: dict[str, str],
    recovering: bool,
) -> tuple[bool, bool]:
    """Read the next entries (this consumer's own pending ones first after an error), route
    the spaces they concern, ack them. Says whether it is still recovering (False once caught
    up with its own pending entries), and whether to linger: it read a small batch, which
    routed nothing."""
    ids = list(spaces)
    log = routing.stream_log
    if recovering:
        read = await groups.read_own_pending(log, consumer, ids, READ_COUNT, ROUTER_GROUP)
    else:
        # Blocks at most READ_BLOCK_MS: a change of an organization's agents waits that long.
        read = await groups.read_new(log, consumer, ids, READ_COUNT, READ_BLOCK_MS, ROUTER_GROUP)
    dirty: set[str] = set()
    acks: dict[str, list[str]] = {}
    for space_id, entry_id, entry in read:
        acks.setdefault(space_id, []).append(entry_id)
        if isinstance(entry, groups.Undecodable) or space_id not in spaces:
            continue
        event = entry.event
        if isinstance(event, ThreadChanged) and event.type in ("thread.closed", "thread.expired"):
            await routing.release_finished(
                space_id, spaces[space_id], event.thread.id, event.thread.assigned_agent_id
            )
        if (isinstance(event, ThreadOpened | ThreadChanged) and event.type in _ROUTING_KINDS) or (
            isinstance(event, Presence) and event.online
        ):
            dirty.add(space_id)
    for space_id in sorted(dirty):
        state.assigned += await routing.route_space(space_id, spaces[space_id])
    await groups.ack(log, acks, ROUTER_GROUP)
    linger = bool(read) and len(read) < READ_COUNT and not dirty
    return recovering and bool(read), linger


async def _route_spaces(
    routing: TeamRouting, state: RouterState, spaces: dict[str, str], orgs: set[str]
) -> None:
    for space_id, org in spaces.items():
        if org in orgs:
            state.assigned += await routing.route_space(space_id, org)


async def _full_pass(
    routing: TeamRouting, settings: Settings, state: RouterState, spaces: dict[str, str]
) -> None:
    """Every space: requeue what gone agents held past the grace and what their agents left
    unanswered past their group's auto-transfer, then route what waits."""
    online_since = routing.stream_log.presence_cutoff()
    counts = await routing.routing.space_counts(list(spaces), online_since)
    for space_id, org in spaces.items():
        waiting, open_threads, online = counts.get(space_id, (1, 1, 1))
        if open_threads > waiting:  # something is held: by a gone agent, or unanswered
            state.requeued += await routing.requeue_gone(
                space_id, org, settings.router_requeue_grace_seconds
            )
            state.auto_transferred += await routing.transfer_unanswered(space_id, org)
        # Something waits and someone is online to take it (a requeue above counts too).
        if (waiting or open_threads > waiting) and online:
            state.assigned += await routing.route_space(space_id, org)
    state.passes += 1
