"""Reconnect storm: N visitors with open threads lose their sockets at once, and resume.

Two variants, each repeated:
- drop: every visitor socket is cut (no close handshake); while they are down the space's agent
  posts one message into every thread; then all reconnect at the same moment with their session
  and the last message id they saw. Measured: the time until every visitor has its welcome. Then
  the agent posts once more, live.
- restart (managed service only): the service is stopped (SIGTERM, it drains) and started again.
  The visitors reconnect by themselves with full-jitter backoff, like the widget; as soon as the
  service is ready the agent posts one message per thread while they are still reconnecting.
  Measured: the time from ready (and from the stop) until every visitor is back.

The proof, per visitor and repeat: the agent messages it received after its `last` (welcome
history plus live frames) are exactly the ids the agent's acks returned for its thread, in
order. Gaps (an expected id missing) and doubles (an id seen twice) are counted, never hidden.

The visitors live in the load processes; the agents (one per space) in this process.
"""

from __future__ import annotations

import random
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection
from wsproto import ConnectionType, WSConnection

from bench import clients, fleet
from bench.api import BENCH_ORIGIN, Tenant, make_tenant
from bench.fleet import Link
from bench.record import ScenarioResult, Step
from bench.report import spread
from bench.scenarios import Context
from bench.stats import percentiles, summarize

NAME = "storm"
OPENS_IN_FLIGHT = 100  # per load process, for the first connect and message of each visitor
# The widget's reconnect backoff (full jitter): a delay in [0, min(CAP, BASE * 2**attempt)].
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 2.0
HEARTBEAT_SECONDS = 25.0  # the widget's ping and the agent's heartbeat
ACK_TIMEOUT_SECONDS = 30.0
DROP_TIMEOUT_SECONDS = 10.0
# How long a repeat waits for every visitor to have every expected message; past it the missing
# ones are counted as gaps.
VERIFY_TIMEOUT_SECONDS = 30.0
# After the last expected message arrived: a late double would show within this.
DOUBLE_GRACE_SECONDS = 0.5


# -- load processes: the visitors --------------------------------------------------------------


async def open_widget(
    nursery: trio.Nursery, ws_url: str, key: str, *, session: str, last: str
) -> tuple[WebSocketConnection, dict[str, Any], float]:
    """clients.open_widget, except that a connection reset before the handshake's answer fails
    at once instead of hanging: trio-websocket 0.12 never wakes the handshake's waiter when the
    stream closes first, which is what a restarting server does to the connects its closing
    listener had queued. A browser gets `onclose` right away and backs off; so do we."""
    started = time.perf_counter()
    url = urllib.parse.urlsplit(clients.widget_url(ws_url, key, session or None, last or None))
    assert url.hostname is not None and url.port is not None
    with trio.fail_after(clients.CONNECT_TIMEOUT_SECONDS):
        stream = await trio.open_tcp_stream(url.hostname, url.port)
        ws = WebSocketConnection(
            stream,
            WSConnection(ConnectionType.CLIENT),
            host=f"{url.hostname}:{url.port}",
            path=f"{url.path}?{url.query}",
            client_extra_headers=[(b"Origin", BENCH_ORIGIN.encode())],
            message_queue_size=clients.MESSAGE_QUEUE,
        )

        async def reader() -> None:
            try:
                await ws._reader_task()  # noqa: SLF001 - see above
            finally:
                ws._open_handshake.set()  # noqa: SLF001 - wake the waiter below

        nursery.start_soon(reader)
        await ws._open_handshake.wait()  # noqa: SLF001
        if ws.closed is not None:
            raise ConnectionClosed(ws.closed)
        welcome = await clients.receive(ws)
    if welcome.get("type") != "welcome":
        raise clients.ClientError(f"expected a welcome, got {welcome}")
    return ws, welcome, time.perf_counter() - started


# -- load processes: the visitors


@dataclass(frozen=True)
class StormJob:
    ws_url: str
    visitors: tuple[tuple[int, str], ...]  # (space index, widget key)


@dataclass
class Visitor:
    space: int
    key: str
    session: str = ""
    thread_id: str = ""
    last: str = ""  # the last message id seen: the resume cursor
    ws: WebSocketConnection | None = None
    closed: trio.Event = field(default_factory=trio.Event)
    acked: trio.Event = field(default_factory=trio.Event)
    ack: dict[str, Any] = field(default_factory=dict)
    # This repeat's figures.
    received: list[str] = field(default_factory=list)  # agent message ids, in arrival order
    via_history: int = 0
    expected: int = 0
    complete: trio.Event = field(default_factory=trio.Event)
    welcomes: int = 0
    welcome_at: float = 0.0  # wall clock of the latest welcome
    closed_at: float = 0.0  # wall clock of the first close seen this repeat
    attempts: int = 0
    errors: int = 0
    wrong_thread: int = 0

    def reset(self) -> None:
        self.received = []
        self.via_history = 0
        self.expected = 0
        self.complete = trio.Event()
        self.welcomes = 0
        self.welcome_at = 0.0
        self.closed_at = 0.0
        self.attempts = 0
        self.errors = 0
        self.wrong_thread = 0

    def seen(self, message: dict[str, Any], *, history: bool) -> None:
        self.last = message["id"]
        if message.get("sender_type") == "agent":
            self.received.append(message["id"])
            self.via_history += history
            if self.expected and len(self.received) >= self.expected:
                self.complete.set()


class Crowd:
    """One load process's visitors."""

    def __init__(self, job: StormJob, nursery: trio.Nursery) -> None:
        self.job = job
        self.nursery = nursery
        self.visitors = [Visitor(space, key) for space, key in job.visitors]
        self.watching: trio.CancelScope | None = None

    @property
    def live(self) -> list[Visitor]:
        """The visitors whose thread was opened (a failed first connect leaves one out)."""
        return [v for v in self.visitors if v.thread_id]

    async def connect(self, v: Visitor) -> float:
        """Connect (resuming when it has a session), take in the welcome, start reading."""
        ws, welcome, took = await open_widget(
            self.nursery, self.job.ws_url, v.key, session=v.session, last=v.last
        )
        v.welcome_at = time.time()
        v.welcomes += 1
        v.session = welcome["session"]
        thread = welcome.get("thread") or {}
        if v.thread_id and thread.get("id") != v.thread_id:
            v.wrong_thread += 1
        for message in welcome.get("history") or []:
            v.seen(message, history=True)
        v.ws, v.closed = ws, trio.Event()
        self.nursery.start_soon(self.read, v, ws, v.closed)
        return took

    async def read(self, v: Visitor, ws: WebSocketConnection, closed: trio.Event) -> None:
        try:
            while True:
                frame = await clients.receive(ws)
                match frame.get("type"):
                    case "message":
                        v.seen(frame, history=False)
                    case "ack":
                        v.ack = frame
                        v.acked.set()
                    case "error":
                        v.errors += 1
        except ConnectionClosed:
            pass
        finally:
            v.closed_at = v.closed_at or time.time()
            closed.set()

    async def heartbeat(self) -> None:
        """The widget's ping, for sockets that outlive a ping interval (one task per process)."""
        while True:
            await trio.sleep(HEARTBEAT_SECONDS)
            for v in self.live:
                if v.ws is not None and not v.closed.is_set():
                    try:
                        await clients.send(v.ws, {"type": "ping"})
                    except ConnectionClosed:
                        pass

    # -- commands --

    async def open(self) -> list[tuple[int, str] | None]:
        """Each visitor connects and opens its thread with one message."""
        limiter = trio.CapacityLimiter(OPENS_IN_FLIGHT)

        async def one(v: Visitor) -> None:
            async with limiter:
                try:
                    await self.connect(v)
                    assert v.ws is not None
                    await clients.send(
                        v.ws,
                        {"type": "message", "client_id": str(uuid.uuid4()), "content": "hello"},
                    )
                    with trio.fail_after(ACK_TIMEOUT_SECONDS):
                        await v.acked.wait()
                except clients.CONNECT_ERRORS:
                    return
            v.thread_id, v.last = v.ack["thread_id"], v.ack["id"]

        async with trio.open_nursery() as nursery:
            for v in self.visitors:
                nursery.start_soon(one, v)
        return [(v.space, v.thread_id) if v.thread_id else None for v in self.visitors]

    async def drop(self) -> int:
        """Cut every socket at once, no close handshake; wait until each reader saw it."""
        for v in self.live:
            v.reset()
            if v.ws is not None:
                await clients.drop(v.ws)
        with trio.move_on_after(DROP_TIMEOUT_SECONDS):
            for v in self.live:
                await v.closed.wait()
        return sum(v.closed.is_set() for v in self.live)

    async def reconnect(self) -> dict[str, Any]:
        """Every dropped visitor reconnects at the same moment with its session and `last`."""
        started = time.time()
        seconds: list[float] = []
        failed = 0

        async def one(v: Visitor) -> None:
            nonlocal failed
            try:
                seconds.append(await self.connect(v))
            except clients.CONNECT_ERRORS:
                failed += 1

        async with trio.open_nursery() as nursery:
            for v in self.live:
                nursery.start_soon(one, v)
        return {
            "started": started,
            "welcome_at": [v.welcome_at for v in self.live if v.welcome_at],
            "seconds": seconds,
            "failed": failed,
        }

    async def arm(self) -> None:
        """From now, every visitor whose socket closes reconnects by itself, like the widget,
        until `verify` ends the watch."""
        for v in self.live:
            v.reset()
        await self.nursery.start(self._watch_all)

    async def _watch_all(
        self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        with trio.CancelScope() as self.watching:
            async with trio.open_nursery() as nursery:
                for v in self.live:
                    nursery.start_soon(self._keep_connected, v)
                task_status.started()

    async def _keep_connected(self, v: Visitor) -> None:
        while True:
            await v.closed.wait()
            attempt = 0
            while True:
                ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
                await trio.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not crypto
                attempt += 1
                v.attempts += 1
                try:
                    await self.connect(v)
                    break
                except clients.CONNECT_ERRORS:
                    continue

    async def verify(self, expected: dict[str, list[str]]) -> dict[str, Any]:
        """Wait for every visitor to have its thread's expected ids, then compare."""
        for v in self.live:
            v.expected = len(expected.get(v.thread_id, []))
            if len(v.received) >= v.expected:
                v.complete.set()
        with trio.move_on_after(VERIFY_TIMEOUT_SECONDS):
            for v in self.live:
                await v.complete.wait()
        await trio.sleep(DOUBLE_GRACE_SECONDS)
        if self.watching is not None:
            self.watching.cancel()
            self.watching = None
        figures = {"gaps": 0, "doubles": 0, "extra": 0, "out_of_order": 0, "incomplete": 0}
        for v in self.live:
            want = expected.get(v.thread_id, [])
            got = v.received
            figures["gaps"] += len(set(want) - set(got))
            figures["doubles"] += len(got) - len(set(got))
            figures["extra"] += len(set(got) - set(want))
            firsts = list(dict.fromkeys(i for i in got if i in set(want)))
            figures["out_of_order"] += firsts != [i for i in want if i in set(got)]
            figures["incomplete"] += not v.complete.is_set()
        return {
            **figures,
            "visitors": len(self.live),
            "via_history": sum(v.via_history for v in self.live),
            "received": sum(len(v.received) for v in self.live),
            "welcome_at": [v.welcome_at for v in self.live if v.welcome_at],
            "closed_at": [v.closed_at for v in self.live if v.closed_at],
            "unresumed": sum(not v.welcome_at for v in self.live),
            "welcomes": sum(v.welcomes for v in self.live),
            "attempts": [v.attempts for v in self.live],
            "errors": sum(v.errors for v in self.live),
            "wrong_thread": sum(v.wrong_thread for v in self.live),
        }


async def worker(job: StormJob, link: Link) -> None:
    async with trio.open_nursery() as nursery:
        crowd = Crowd(job, nursery)
        nursery.start_soon(crowd.heartbeat)
        async for name, args in link.commands():
            match name:
                case "open":
                    await link.reply(await crowd.open())
                case "drop":
                    await link.reply(await crowd.drop())
                case "reconnect":
                    await link.reply(await crowd.reconnect())
                case "arm":
                    await crowd.arm()
                    await link.reply(None)
                case "verify":
                    await link.reply(await crowd.verify(args))
                case _:
                    raise ValueError(f"unknown command {name}")
        nursery.cancel_scope.cancel()


# -- coordinator: the agents -------------------------------------------------------------------


@dataclass
class AgentLine:
    """One space's agent socket, read all along (its feed of the space included) so the acks of
    its posts can be matched by client_id."""

    token: str
    space_id: str
    ws: WebSocketConnection | None = None
    waiting: dict[str, str] = field(default_factory=dict)  # client_id -> thread_id
    acked: dict[str, str] = field(default_factory=dict)  # thread_id -> message id
    errors: int = 0
    done: trio.Event = field(default_factory=trio.Event)

    async def connect(self, nursery: trio.Nursery, ws_url: str) -> None:
        self.ws = await clients.open_agent(nursery, ws_url, self.token, (self.space_id,))
        nursery.start_soon(self.read, self.ws)

    async def read(self, ws: WebSocketConnection) -> None:
        try:
            while True:
                frame = await clients.receive(ws)
                kind, client_id = frame.get("type"), frame.get("client_id")
                if client_id not in self.waiting or kind not in ("ack", "error"):
                    continue
                thread_id = self.waiting.pop(client_id)
                if kind == "ack":
                    self.acked[thread_id] = frame["id"]
                else:
                    self.errors += 1
                if not self.waiting:
                    self.done.set()
        except ConnectionClosed:
            return

    async def post(self, thread_ids: list[str]) -> dict[str, str]:
        """One message into each thread; the acked id per thread (an error leaves it out)."""
        assert self.ws is not None
        self.acked, self.done = {}, trio.Event()
        self.waiting = {str(uuid.uuid4()): thread_id for thread_id in thread_ids}
        if not self.waiting:
            return {}
        for client_id, thread_id in list(self.waiting.items()):
            frame = {
                "type": "message",
                "thread_id": thread_id,
                "client_id": client_id,
                "content": f"agent {clients.stamp()}",
            }
            await clients.send(self.ws, frame)
        with trio.move_on_after(ACK_TIMEOUT_SECONDS):
            await self.done.wait()
        self.errors += len(self.waiting)  # unanswered in time
        return dict(self.acked)

    async def heartbeat(self) -> None:
        while True:
            await trio.sleep(HEARTBEAT_SECONDS)
            if self.ws is not None:
                try:
                    await clients.send(self.ws, {"type": "heartbeat"})
                except ConnectionClosed:
                    pass


@dataclass
class Stage:
    """What the coordinator knows: the agents and each space's threads."""

    ctx: Context
    session: fleet.FleetSession
    agents: list[AgentLine]
    threads: list[list[str]]  # per space
    nursery: trio.Nursery
    unacked: int = 0  # agent posts of the current repeat with no ack

    async def post_all(self) -> dict[str, str]:
        """Every agent posts once into each of its space's threads, all spaces at once; the
        acked id per thread (`unacked` counts the posts answered by an error or not at all)."""
        acked: dict[str, str] = {}

        async def one(agent: AgentLine, threads: list[str]) -> None:
            acked.update(await agent.post(threads))

        async with trio.open_nursery() as nursery:
            for agent, threads in zip(self.agents, self.threads, strict=True):
                nursery.start_soon(one, agent, threads)
        self.unacked += sum(len(threads) for threads in self.threads) - len(acked)
        return acked

    async def reconnect_agents(self) -> None:
        async with trio.open_nursery() as nursery:
            for agent in self.agents:
                nursery.start_soon(agent.connect, self.nursery, self.ctx.service.ws_url)

    async def verify(self, expected: dict[str, list[str]]) -> dict[str, Any]:
        replies = await self.session.ask(("verify", expected))
        merged: dict[str, Any] = {}
        for reply in replies:
            for key, value in reply.items():
                merged[key] = merged.get(key, [] if isinstance(value, list) else 0) + value
        return merged


def _proof(verified: dict[str, Any], posted: int) -> dict[str, Any]:
    keys = ("gaps", "doubles", "extra", "out_of_order", "incomplete", "errors", "wrong_thread")
    return {
        **{key: verified[key] for key in keys},
        "posted": posted,
        "received": verified["received"],
        "via_history": verified["via_history"],
    }


async def _drop_repeat(stage: Stage) -> dict[str, Any]:
    session, stage.unacked = stage.session, 0
    await session.ask(("drop", None))
    expected = {t: [i] for t, i in (await stage.post_all()).items()}
    replies = await session.ask(("reconnect", None))
    started = min(r["started"] for r in replies)
    welcomes = [w for r in replies for w in r["welcome_at"]]
    latencies = [s * 1000 for r in replies for s in r["seconds"]]
    for thread_id, message_id in (await stage.post_all()).items():
        expected.setdefault(thread_id, []).append(message_id)
    verified = await stage.verify(expected)
    return {
        "resume_seconds": round(max(welcomes) - started, 3) if welcomes else None,
        "resume_ms": percentiles(latencies),
        "failed": sum(r["failed"] for r in replies),
        "unacked_posts": stage.unacked,
        **_proof(verified, sum(len(ids) for ids in expected.values())),
    }


async def _restart_repeat(stage: Stage) -> dict[str, Any]:
    session, service, stage.unacked = stage.session, stage.ctx.service, 0
    await session.ask(("arm", None))
    stop_at = time.time()
    await service.stop()
    stopped_at = time.time()
    await service.launch()
    ready_at = time.time()
    await stage.reconnect_agents()
    expected = {t: [i] for t, i in (await stage.post_all()).items()}
    posted_at = time.time()
    verified = await stage.verify(expected)
    welcomes = verified["welcome_at"]
    attempts = verified["attempts"]
    last = max(welcomes) if welcomes else None
    return {
        "resume_seconds": round(last - ready_at, 3) if last else None,
        "resume_from_stop_seconds": round(last - stop_at, 3) if last else None,
        "stop_seconds": round(stopped_at - stop_at, 3),
        "start_seconds": round(ready_at - stopped_at, 3),
        "agent_post_seconds": round(posted_at - ready_at, 3),
        "resume_ms_from_ready": percentiles([(w - ready_at) * 1000 for w in welcomes]),
        # When the visitors saw their socket close, from the SIGTERM: the server's drain.
        "closed_ms_from_stop": percentiles([(c - stop_at) * 1000 for c in verified["closed_at"]]),
        "unresumed": verified["unresumed"],
        "welcomes_per_visitor": round(verified["welcomes"] / max(1, verified["visitors"]), 3),
        "attempts": {
            "mean": round(sum(attempts) / max(1, len(attempts)), 2),
            "max": max(attempts, default=0),
        },
        "unacked_posts": stage.unacked,
        **_proof(verified, len(expected)),
    }


def _jobs(ctx: Context, tenant: Tenant) -> list[StormJob]:
    spaces = tenant.spaces
    visitors = [
        (i % len(spaces), spaces[i % len(spaces)].widget_key)
        for i in range(ctx.profile.storm.visitors)
    ]
    jobs, start = [], 0
    for share in fleet.split(len(visitors), ctx.fleet.size):
        jobs.append(StormJob(ctx.service.ws_url, tuple(visitors[start : start + share])))
        start += share
    return jobs


async def _steps(ctx: Context, stage: Stage, result: ScenarioResult) -> None:
    visitors = ctx.profile.storm.visitors
    drop = Step("drop", {"visitors": visitors, "spaces": len(stage.agents)})
    for _ in range(ctx.repeats):
        with ctx.reporter.phase(f"{NAME}: drop and resume {visitors}"):
            drop.repeats.append(await _drop_repeat(stage))
    result.steps.append(drop)
    _row(ctx, drop, "resume_seconds", "resume_ms.p99")
    if not ctx.service.managed:
        result.notes.append("restart skipped: the service is not managed by the bench")
        return
    restart = Step("restart", {"visitors": visitors, "workers": ctx.service.workers})
    for _ in range(ctx.profile.storm.restart_repeats or ctx.repeats):
        with ctx.reporter.phase(f"{NAME}: restart and resume {visitors}"):
            restart.repeats.append(await _restart_repeat(stage))
    result.steps.append(restart)
    _row(ctx, restart, "resume_seconds", "resume_ms_from_ready.p99")


def _row(ctx: Context, step: Step, resume: str, p99: str) -> None:
    summary = summarize(step.repeats)
    ctx.reporter.row(
        NAME,
        step.label,
        {
            "all back": spread(summary, resume, " s"),
            "p99": spread(summary, p99, " ms"),
            "gaps": spread(summary, "gaps"),
            "doubles": spread(summary, "doubles"),
        },
    )


async def run(ctx: Context) -> ScenarioResult:
    profile = ctx.profile.storm
    result = ScenarioResult(
        NAME,
        {
            "visitors": profile.visitors,
            "spaces": profile.spaces,
            "backoff_base_seconds": BACKOFF_BASE_SECONDS,
            "backoff_cap_seconds": BACKOFF_CAP_SECONDS,
            "load_processes": ctx.fleet.size,
        },
        notes=[
            "restart: visitors reconnect with full-jitter backoff, a delay in "
            f"[0, min({BACKOFF_CAP_SECONDS:g}, {BACKOFF_BASE_SECONDS:g} * 2^attempt)] s; "
            "resume_seconds counts from /readyz answering, resume_from_stop from the SIGTERM",
            "proof: per visitor, the agent messages received after its last id (history + live)"
            " must be exactly the acked ids of its thread, in order",
        ],
    )
    tenant = await make_tenant(ctx.service.base_url, profile.spaces, 1)
    async with trio.open_nursery() as nursery:
        agents = [AgentLine(a.token, a.space_ids[0]) for a in tenant.agents]
        for agent in agents:
            await agent.connect(nursery, ctx.service.ws_url)
            nursery.start_soon(agent.heartbeat)
        async with ctx.fleet.session(f"{__name__}:worker", _jobs(ctx, tenant)) as session:
            with ctx.reporter.phase(f"{NAME}: opening {profile.visitors} threads"):
                opened = await session.ask(("open", None))
            threads: list[list[str]] = [[] for _ in tenant.spaces]
            for space, thread_id in (o for reply in opened for o in reply if o):
                threads[space].append(thread_id)
            failed = profile.visitors - sum(len(t) for t in threads)
            if failed:
                result.notes.append(f"{failed} visitors could not open their thread")
            stage = Stage(ctx, session, agents, threads, nursery)
            await _steps(ctx, stage, result)
        nursery.cancel_scope.cancel()
    result.headline = _headline(result, profile.visitors)
    return result


def _headline(result: ScenarioResult, visitors: int) -> dict[str, Any]:
    headline: dict[str, Any] = {"visitors": visitors}
    for step in result.steps:
        figures = {
            "resume_seconds": step.median("resume_seconds"),
            "gaps": sum(r["gaps"] for r in step.repeats),
            "doubles": sum(r["doubles"] for r in step.repeats),
        }
        if step.label == "restart":
            figures["resume_from_stop_seconds"] = step.median("resume_from_stop_seconds")
        headline[step.label] = figures
    return headline
