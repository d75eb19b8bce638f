"""Routing: conversations opened at once in spaces whose default group auto-assigns them
(`least_loaded` by default, or `round_robin`) to agents online with room.

Each repeat: `conversations` new visitors connect (not timed), then all send their first
message at the same moment. Measured, per conversation, the time from that send to the
visitor's `thread` frame saying it is active (the router's `thread.assigned` as the visitor
sees it, agent name included); per repeat, conversations assigned per second (from the first
send to the last assignment seen). The loss check: an observer (the admin, in no group)
subscribed to every space counts `thread.updated` frames with change `assigned` per thread;
every conversation must be assigned exactly once, or be still waiting (GET /threads/{id}
says `unassigned`). Then the agents close the repeat's conversations, freeing their slots.

The agents' capacity (`capacity` each) covers one repeat's conversations, so the figures are
the router's pace, not a queue waiting for free slots.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from bench import clients
from bench.api import PASSWORD, Tenant, call, make_tenant
from bench.record import ScenarioResult, Step
from bench.report import spread
from bench.scenarios import Context
from bench.stats import percentiles, summarize

NAME = "routing"
CONNECTS_IN_FLIGHT = 100  # visitors' connects at once (the accept backlog is 100)
ASSIGN_TIMEOUT_SECONDS = 60.0  # from the burst: every conversation assigned by then, or counted
ACK_TIMEOUT_SECONDS = 30.0
CLOSE_TIMEOUT_SECONDS = 60.0
HEARTBEAT_SECONDS = 20.0  # under the 60 s online window
# The admin's feed is another socket than the visitor's: its frame of an assignment may come a
# little after the visitor's. The check waits this long for it before counting it missing.
OBSERVE_TIMEOUT_SECONDS = 10.0


@dataclass
class Visitor:
    key: str
    ws: WebSocketConnection | None = None
    thread_id: str = ""
    sent_at: float = 0.0
    assigned_at: float = 0.0
    agent_name: str = ""
    acked: trio.Event = field(default_factory=trio.Event)
    assigned: trio.Event = field(default_factory=trio.Event)
    errors: int = 0

    async def read(self, ws: WebSocketConnection) -> None:
        try:
            while True:
                frame = await clients.receive(ws)
                match frame.get("type"):
                    case "ack":
                        self.thread_id = frame["thread_id"]
                        self.acked.set()
                    case "thread" if (frame.get("thread") or {}).get("status") == "active":
                        if not self.assigned.is_set():
                            self.assigned_at = time.perf_counter()
                            self.agent_name = frame["thread"].get("agent_name") or ""
                            self.assigned.set()
                    case "error":
                        self.errors += 1
        except ConnectionClosed:
            return


@dataclass
class Observer:
    """The admin's socket on every space: `thread.assigned` per thread, as agents see them."""

    assigned: Counter[str] = field(default_factory=Counter)
    holder: dict[str, str] = field(default_factory=dict)  # thread -> agent
    seen: dict[str, trio.Event] = field(default_factory=dict)  # thread -> an assignment seen

    def event(self, thread_id: str) -> trio.Event:
        return self.seen.setdefault(thread_id, trio.Event())

    closes: dict[str, trio.Event] = field(default_factory=dict)  # thread -> closed seen

    async def read(self, ws: WebSocketConnection) -> None:
        try:
            while True:
                frame = await clients.receive(ws)
                if frame.get("type") != "thread.updated":
                    continue
                thread = frame["thread"]
                if frame.get("change") == "assigned":
                    self.assigned[thread["id"]] += 1
                    self.holder[thread["id"]] = thread["assigned_agent_id"]
                    self.event(thread["id"]).set()
                elif frame.get("change") == "closed" and thread["id"] in self.closes:
                    self.closes[thread["id"]].set()
        except ConnectionClosed:
            return


@dataclass
class Team:
    tenant: Tenant
    agents: dict[str, str]  # agent id -> token
    group_id: str


async def make_team(ctx: Context) -> Team:
    """An organization, its spaces all defaulting to one group of every agent, `capacity` each."""
    profile = ctx.profile.routing
    base = ctx.service.base_url
    api = f"{base}/api/v1"
    tenant = await make_tenant(base, profile.spaces, 0)
    token = tenant.admin_token
    agents: dict[str, str] = {}
    for index in range(profile.agents):
        email = f"router{index}-{uuid.uuid4().hex[:8]}@bench.example"
        body = {
            "email": email,
            "name": f"Agent {index}",
            "password": PASSWORD,
            "role": "agent",
            "max_concurrent_chats": profile.capacity,
        }
        made = await call("POST", f"{api}/agents", body, token)
        login = await call("POST", f"{api}/auth/login", {"email": email, "password": PASSWORD})
        agents[made["id"]] = login["access_token"]
    group = await call(
        "POST", f"{api}/groups", {"name": "Bench", "strategy": profile.strategy}, token
    )
    await call("PUT", f"{api}/groups/{group['id']}/members", {"agent_ids": list(agents)}, token)
    for space in tenant.spaces:
        settings = {"settings": {"default_group_id": group["id"]}}
        await call("PATCH", f"{api}/spaces/{space.id}", settings, token)
    return Team(tenant, agents, group["id"])


async def _connect_agents(
    ctx: Context, nursery: trio.Nursery, team: Team
) -> dict[str, WebSocketConnection]:
    """Every agent online in every space (subscribed, one heartbeat, then every 20 s)."""
    space_ids = tuple(s.id for s in team.tenant.spaces)
    sockets: dict[str, WebSocketConnection] = {}
    for agent_id, token in team.agents.items():
        ws = await clients.open_agent(nursery, ctx.service.ws_url, token, space_ids)
        sockets[agent_id] = ws
        nursery.start_soon(_drain, ws)
        nursery.start_soon(_heartbeat, ws)
    return sockets


async def _drain(ws: WebSocketConnection) -> None:
    """An agent's feed, read and dropped (its own socket's buffer must not fill)."""
    try:
        while True:
            await ws.get_message()
    except ConnectionClosed:
        return


async def _heartbeat(ws: WebSocketConnection) -> None:
    try:
        while True:
            await clients.send(ws, {"type": "heartbeat"})
            await trio.sleep(HEARTBEAT_SECONDS)
    except ConnectionClosed:
        return


async def _open_visitors(
    ctx: Context, nursery: trio.Nursery, team: Team, count: int
) -> list[Visitor]:
    spaces = team.tenant.spaces
    visitors = [Visitor(spaces[i % len(spaces)].widget_key) for i in range(count)]
    limiter = trio.CapacityLimiter(CONNECTS_IN_FLIGHT)

    async def one(v: Visitor) -> None:
        async with limiter:
            try:
                v.ws, _, _ = await clients.open_widget(nursery, ctx.service.ws_url, v.key)
            except clients.CONNECT_ERRORS:
                v.errors += 1
                return
        nursery.start_soon(v.read, v.ws)

    async with trio.open_nursery() as connecting:
        for v in visitors:
            connecting.start_soon(one, v)
    return [v for v in visitors if v.ws is not None]


async def _burst(visitors: list[Visitor]) -> float:
    """Every visitor's first message at once; the start (perf_counter)."""
    started = time.perf_counter()

    async def one(v: Visitor) -> None:
        assert v.ws is not None
        v.sent_at = time.perf_counter()
        frame = {"type": "message", "client_id": str(uuid.uuid4()), "content": "routing bench"}
        try:
            await clients.send(v.ws, frame)
        except ConnectionClosed:
            v.errors += 1

    async with trio.open_nursery() as nursery:
        for v in visitors:
            nursery.start_soon(one, v)
    with trio.move_on_after(ASSIGN_TIMEOUT_SECONDS):
        for v in visitors:
            await v.acked.wait()
            await v.assigned.wait()
    return started


async def _check(
    ctx: Context, team: Team, observer: Observer, visitors: list[Visitor]
) -> dict[str, int]:
    """Each conversation assigned exactly once, or still waiting; anything else is lost."""
    api = f"{ctx.service.base_url}/api/v1"
    with trio.move_on_after(OBSERVE_TIMEOUT_SECONDS):
        for v in visitors:
            if v.assigned.is_set():
                await observer.event(v.thread_id).wait()
    counts = {"assigned_once": 0, "assigned_twice": 0, "queued": 0, "lost": 0, "unacked": 0}
    for v in visitors:
        if not v.thread_id:
            counts["unacked"] += 1
            continue
        seen = observer.assigned[v.thread_id]
        if seen == 1:
            counts["assigned_once"] += 1
        elif seen > 1:
            counts["assigned_twice"] += 1
        else:
            url = f"{api}/threads/{v.thread_id}"
            thread = await call("GET", url, None, team.tenant.admin_token)
            counts["queued" if thread["status"] == "unassigned" else "lost"] += 1
    return counts


async def _close_all(
    observer: Observer, agents: dict[str, WebSocketConnection], visitors: list[Visitor]
) -> int:
    """The holders close the repeat's conversations (their slots free for the next); how many
    closes were not seen within the timeout."""
    held = [(v.thread_id, observer.holder[v.thread_id]) for v in visitors if v.assigned.is_set()]
    for thread_id, _ in held:
        observer.closes[thread_id] = trio.Event()
    for thread_id, agent_id in held:
        await clients.send(agents[agent_id], {"type": "close", "thread_id": thread_id})
    with trio.move_on_after(CLOSE_TIMEOUT_SECONDS):
        for thread_id, _ in held:
            await observer.closes[thread_id].wait()
    missed = sum(not observer.closes[t].is_set() for t, _ in held)
    for v in visitors:
        if v.ws is not None:
            await v.ws.aclose()
    return missed


async def _repeat(
    ctx: Context,
    team: Team,
    observer: Observer,
    agents: dict[str, WebSocketConnection],
    count: int,
) -> dict[str, Any]:
    async with trio.open_nursery() as nursery:
        visitors = await _open_visitors(ctx, nursery, team, count)
        started = await _burst(visitors)
        latencies = [(v.assigned_at - v.sent_at) * 1000 for v in visitors if v.assigned.is_set()]
        last = max((v.assigned_at for v in visitors if v.assigned.is_set()), default=started)
        counts = await _check(ctx, team, observer, visitors)
        unnamed = sum(v.assigned.is_set() and not v.agent_name for v in visitors)
        not_closed = await _close_all(observer, agents, visitors)
        nursery.cancel_scope.cancel()
    took = last - started
    return {
        "conversations": len(visitors),
        "assigned": len(latencies),
        "assigned_per_s": round(len(latencies) / took, 1) if took > 0 else None,
        "assign_ms": percentiles(latencies),
        **counts,
        "visitor_errors": sum(v.errors for v in visitors),
        "without_agent_name": unnamed,
        "not_closed": not_closed,
    }


async def run(ctx: Context) -> ScenarioResult:
    profile = ctx.profile.routing
    result = ScenarioResult(
        NAME,
        {
            "conversations": profile.conversations,
            "agents": profile.agents,
            "capacity": profile.capacity,
            "spaces": profile.spaces,
            "strategy": profile.strategy,
        },
        notes=[
            "assign_ms: from the visitor's first message to its `thread` frame saying active "
            "(the router's thread.assigned); assigned_per_s: assigned conversations over the "
            "time from the burst's start to the last assignment",
            "loss check: each conversation assigned exactly once (the admin's feed) or still "
            "unassigned (REST); `lost` counts the rest",
        ],
    )
    team = await make_team(ctx)
    step = Step("burst", dict(result.params))
    async with trio.open_nursery() as nursery:
        agents = await _connect_agents(ctx, nursery, team)
        observer = Observer()
        space_ids = tuple(s.id for s in team.tenant.spaces)
        admin = await clients.open_agent(
            nursery, ctx.service.ws_url, team.tenant.admin_token, space_ids
        )
        nursery.start_soon(observer.read, admin)
        with ctx.reporter.phase(f"{NAME}: warm-up"):
            # The routers learn of new spaces every few seconds (their consumer groups are made
            # then): one conversation per space first, so the repeats measure routing only.
            await _repeat(ctx, team, observer, agents, len(space_ids))
        for _ in range(ctx.repeats):
            with ctx.reporter.phase(f"{NAME}: {profile.conversations} conversations at once"):
                step.repeats.append(
                    await _repeat(ctx, team, observer, agents, profile.conversations)
                )
        nursery.cancel_scope.cancel()
    result.steps.append(step)
    summary = summarize(step.repeats)
    ctx.reporter.row(
        NAME,
        step.label,
        {
            "assigned/s": spread(summary, "assigned_per_s"),
            "p50": spread(summary, "assign_ms.p50", " ms"),
            "p99": spread(summary, "assign_ms.p99", " ms"),
            "lost": spread(summary, "lost"),
            "twice": spread(summary, "assigned_twice"),
        },
    )
    result.headline = {
        "conversations": profile.conversations,
        "assigned_per_s": step.median("assigned_per_s"),
        "assign_ms_p50": step.median("assign_ms.p50"),
        "assign_ms_p99": step.median("assign_ms.p99"),
        "lost": sum(r["lost"] + r["unacked"] for r in step.repeats),
        "assigned_twice": sum(r["assigned_twice"] for r in step.repeats),
        "queued": sum(r["queued"] for r in step.repeats),
    }
    return result
