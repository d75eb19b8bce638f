"""Strategies end to end on one server: round_robin spreads evenly, least_loaded keeps loads
level, sticky brings a returning visitor back to their agent, and capacity refuses a claim."""

from __future__ import annotations

from collections import Counter
from contextlib import AsyncExitStack
from typing import Any

import pytest
import trio

from chat.config import Settings
from tests.helpers.api import assert_error
from tests.helpers.chat import Client, agent_socket, widget
from tests.helpers.http import call
from tests.routing.helpers import Team, make_team, online


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"router_pass_seconds": 0.5})


async def _watch(team: Team, stack: AsyncExitStack) -> Client:
    """The admin's socket on the space: sees every assignment."""
    client, _ = await stack.enter_async_context(
        agent_socket(team.org.base, team.org.token, subscribe=team.org.space["id"])
    )
    return client


async def _online(team: Team, stack: AsyncExitStack, watch: Client) -> list[Client]:
    clients = await stack.enter_async_context(online(team))
    want = {m.agent["id"] for m in team.members}
    while want:
        frame = await watch.expect("presence")
        if frame.get("online"):
            want.discard(frame["agent_id"])
    return clients


async def _assigned(watch: Client, count: int) -> list[dict[str, Any]]:
    """The next `count` assignments the router made, in order."""
    found: list[dict[str, Any]] = []
    while len(found) < count:
        frame = await watch.expect("thread.updated", change="assigned")
        found.append(frame)
    return found


async def test_round_robin_spreads_100_conversations_over_4_agents(base_url: str) -> None:
    with trio.fail_after(120):
        team = await make_team(base_url, 4, "round_robin", cap=30)
        async with AsyncExitStack() as stack:
            watch = await _watch(team, stack)
            await _online(team, stack, watch)
            for n in range(100):
                async with widget(team.org) as (visitor, _):
                    await visitor.say(f"hello {n}")
            frames = await _assigned(watch, 100)
    counts = Counter(f["agent_id"] for f in frames)
    assert set(counts) == {m.agent["id"] for m in team.members}
    assert max(counts.values()) - min(counts.values()) <= 1, counts
    assert {f["strategy"] for f in frames} == {"round_robin"}
    assert len({f["thread"]["id"] for f in frames}) == 100  # each assigned once


async def test_least_loaded_keeps_the_spread_of_active_counts_at_most_one(base_url: str) -> None:
    with trio.fail_after(120):
        team = await make_team(base_url, 3, "least_loaded", cap=20)
        api = team.api
        async with AsyncExitStack() as stack:
            watch = await _watch(team, stack)
            await _online(team, stack, watch)
            active: Counter[str] = Counter({m.agent["id"]: 0 for m in team.members})
            tokens = {m.agent["id"]: m.token for m in team.members}
            for n in range(30):
                async with widget(team.org) as (visitor, _):
                    await visitor.say(f"hello {n}")
                frame = (await _assigned(watch, 1))[0]
                active[frame["agent_id"]] += 1
                assert max(active.values()) - min(active.values()) <= 1, active
                if n % 4 == 3:  # the busiest agent closes one: the next goes to the others
                    busiest = max(active, key=lambda a: active[a])
                    threads = await call(
                        "GET",
                        f"{api}/spaces/{team.org.space['id']}/threads?status=active",
                        token=tokens[busiest],
                    )
                    mine = [t for t in threads.body["items"] if t["assigned_agent_id"] == busiest]
                    closed = await call(
                        "POST", f"{api}/threads/{mine[0]['id']}/close", token=tokens[busiest]
                    )
                    assert closed.status == 200, closed.body
                    active[busiest] -= 1


async def test_sticky_returns_a_returning_visitor_to_the_previous_agent(base_url: str) -> None:
    with trio.fail_after(60):
        team = await make_team(base_url, 3, "round_robin", cap=10, sticky=True)
        async with AsyncExitStack() as stack:
            watch = await _watch(team, stack)
            await _online(team, stack, watch)
            async with widget(team.org) as (visitor, welcome):
                first = await visitor.say("hello")
                frame = (await _assigned(watch, 1))[0]
                agent = frame["agent_id"]
                token = next(m.token for m in team.members if m.agent["id"] == agent)
                closed = await call(
                    "POST", f"{team.api}/threads/{first['thread_id']}/close", token=token
                )
                assert closed.status == 200
            # Others get conversations meanwhile, so a rotation alone would move on.
            for n in range(2):
                async with widget(team.org) as (other, _):
                    await other.say(f"other {n}")
                await _assigned(watch, 1)
            async with widget(team.org, session=welcome["session"]) as (back, _):
                again = await back.say("me again", reopen=False)  # a new conversation
                assert again["thread_id"] != first["thread_id"]
                frame = (await _assigned(watch, 1))[0]
    assert frame["agent_id"] == agent
    assert frame["strategy"] == "round_robin+sticky"


async def test_manual_claim_over_capacity_is_refused(base_url: str) -> None:
    with trio.fail_after(60):
        team = await make_team(base_url, 1, "manual", cap=2)
        member = team.members[0]
        ids = []
        for n in range(3):
            async with widget(team.org) as (visitor, _):
                ids.append((await visitor.say(f"hello {n}"))["thread_id"])
        for thread_id in ids[:2]:
            claimed = await call(
                "POST", f"{team.api}/threads/{thread_id}/claim", token=member.token
            )
            assert claimed.status == 200, claimed.body
        refused = await call("POST", f"{team.api}/threads/{ids[2]}/claim", token=member.token)
        assert_error(refused, 409, "agent_at_capacity")
        # Closing one frees the slot.
        closed = await call("POST", f"{team.api}/threads/{ids[0]}/close", token=member.token)
        assert closed.status == 200
        claimed = await call("POST", f"{team.api}/threads/{ids[2]}/claim", token=member.token)
        assert claimed.status == 200, claimed.body


async def test_the_accepting_switch_is_honoured_at_once(base_url: str) -> None:
    """An agent not accepting gets nothing; turning it on routes the waiting conversation to
    them without waiting for another event."""
    with trio.fail_after(60):
        team = await make_team(base_url, 1, "least_loaded", cap=5)
        member = team.members[0]
        off = await call(
            "PATCH", f"{team.api}/auth/me", {"accepting_chats": False}, token=member.token
        )
        assert off.status == 200 and off.body["accepting_chats"] is False
        async with AsyncExitStack() as stack:
            watch = await _watch(team, stack)
            await _online(team, stack, watch)
            async with widget(team.org) as (visitor, _):
                ack = await visitor.say("hello")
                assert (await visitor.expect("queue"))["position"] == 1  # waits: nobody takes it
                on = await call(
                    "PATCH", f"{team.api}/auth/me", {"accepting_chats": True}, token=member.token
                )
                assert on.status == 200
                frame = (await _assigned(watch, 1))[0]
                assert (frame["thread"]["id"], frame["agent_id"]) == (
                    ack["thread_id"],
                    member.agent["id"],
                )
                held = await visitor.expect("thread")  # its opening first, then the assignment
                while held["thread"]["status"] != "active":
                    held = await visitor.expect("thread")
                assert held["thread"]["agent_name"] == member.agent["name"]
