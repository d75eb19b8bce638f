"""The stall guard of reserve-then-assign (structures.md, "Routing"): a process that stalls
between RESERVE and ASSIGN longer than the reconciler's grace must not assign on a reservation
the reconciler has dropped, which would put the agent past its capacity. The two steps are
called directly, with the reconciler run at a grace of 0, so the stall is forced, not waited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from chat.commands.directory import Directory
from chat.commands.routing import TeamRouting
from chat.config import Settings
from chat.db.pool import open_database
from chat.streams.client import Redis, open_redis
from chat.streams.log import StreamLog
from chat.streams.routing import RoutingLog, load_member
from tests.helpers.chat import widget
from tests.routing.helpers import Team, make_team, online

# A guard so wide it never refuses: what the router did before the guard existed.
NO_GUARD_MS = 10**9


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No router of the server's own: the test is the only one reserving and assigning.
    return settings.model_copy(update={"router_enabled": False})


@asynccontextmanager
async def _routing(settings: Settings, max_age_ms: int) -> AsyncIterator[TeamRouting]:
    async with (
        open_redis(settings.redis_url) as redis,
        open_database(settings.database_url, 2) as db,
    ):
        log = StreamLog(redis, settings.key_prefix, "written")
        yield TeamRouting(log, RoutingLog(redis, settings.key_prefix), Directory(db), max_age_ms)


async def _after(redis: Redis, at_ms: int) -> None:
    """Until Valkey's clock is past `at_ms` (a millisecond at most)."""
    while (await redis.time()).timestamp() * 1000 < at_ms + 1:
        await trio.sleep(0)


async def _waiting(team: Team, count: int) -> list[str]:
    """`count` conversations opened, left waiting (no router runs)."""
    ids = []
    for n in range(count):
        async with widget(team.org) as (visitor, _):
            ids.append((await visitor.say(f"hello {n}"))["thread_id"])
    return ids


async def test_an_assignment_on_a_reservation_the_reconciler_dropped_is_refused(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        team = await make_team(base_url, 1, "round_robin", cap=1)
        org, space = team.org.agent["organization_id"], team.org.space["id"]
        agent = team.members[0].agent["id"]
        stalled, other = await _waiting(team, 2)
        async with _routing(settings, 0) as routing:
            log = routing.routing
            # The stalled router reserved the agent's only slot for the first conversation...
            held = await log.reserve(org, agent, load_member(space, stalled), 1)
            assert held is not None and held.added
            # ... and stalled past the grace: the reconciler dropped the slot it saw unused.
            await _after(log.redis, held.at_ms)
            assert await routing.reconcile_loads(org, 0) == 1
            # Another router filled the slot with the second conversation.
            fresh = await log.reserve(org, agent, load_member(space, other), 1)
            assert fresh is not None
            done = await log.assign(space, other, agent, "round_robin", "A", fresh, NO_GUARD_MS)
            assert not isinstance(done, str) and done.assigned_agent_id == agent

            # The stalled router wakes: its reservation is too old, nothing is assigned.
            assert await log.assign(space, stalled, agent, "round_robin", "A", held, 0) == "stale"
            state = await routing.stream_log.thread_state(space, stalled)
            assert state is not None and state.status == "unassigned"
            assert await log.loads(org, [agent]) == {agent: 1}

            # Without the guard, the same step would have given the agent a second chat.
            past = await log.assign(space, stalled, agent, "round_robin", "A", held, NO_GUARD_MS)
            assert not isinstance(past, str) and past.assigned_agent_id == agent


async def test_the_router_gives_back_a_stale_reservation_and_leaves_the_thread_waiting(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        team = await make_team(base_url, 1, "least_loaded", cap=2)
        org, space = team.org.agent["organization_id"], team.org.space["id"]
        agent = team.members[0].agent["id"]
        async with online(team), _routing(settings, -1) as routing:
            # max age -1: every reservation is stale by the time it is assigned on.
            while agent not in await routing.stream_log.online_agents(space):
                await trio.sleep(0.05)  # the heartbeat's presence is a Valkey write away
            (thread,) = await _waiting(team, 1)
            assert await routing.route_space(space, org) == 0
            assert await routing.routing.loads(org, [agent]) == {agent: 0}
            state = await routing.stream_log.thread_state(space, thread)
            assert state is not None and state.status == "unassigned"
            # With a sane guard the same pass assigns it.
            sane = TeamRouting(routing.stream_log, routing.routing, routing.directory, 15_000)
            assert await sane.route_space(space, org) == 1
            assert await routing.routing.loads(org, [agent]) == {agent: 1}
