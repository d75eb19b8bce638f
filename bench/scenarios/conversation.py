"""Conversation: S spaces x A agents subscribed, V visitors sending with jitter, agents replying
to a share of them; a ladder of offered loads, each step repeated.

Per repeat: offered vs acked vs delivered msgs/s both ways, ack and end-to-end latency, lost
(acked but not delivered to every agent of the space, or an agent's acked reply not delivered to
its visitor), duplicates, errors, and the CPU and RSS of the server, Valkey, PostgreSQL and the
load processes. The highest step held (p99 <= 100 ms for acks and deliveries, nothing lost, at
least 95% of the offered load acked) is the headline.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from bench import api, clients
from bench.fleet import split
from bench.record import ScenarioResult, Step
from bench.report import spread
from bench.scenarios import Context
from bench.stats import percentiles
from bench.usage import UsageWindow, run_sampler

HELD_P99_MS = 100.0
HELD_SHARE = 0.95  # of the offered load that must be acked for a step to count as held
CONNECTS_IN_FLIGHT = 50  # per load process
# After the last send: how long without any frame counts as "everything arrived", and the most
# a repeat waits for that (a lost message would otherwise be waited for forever).
QUIET_SECONDS = 1.0
DRAIN_LIMIT_SECONDS = 15.0
REPLY_QUEUE = 256  # per replying agent; replies beyond it are skipped and counted
START_DELAY_SECONDS = 0.5  # every process starts sending at the same wall-clock moment
WARM_UP_SECONDS = 3.0
KEEP_ALIVE_SECONDS = 20.0  # the console heartbeats every 20 s, the widget pings every 25 s
PADDING = "x" * 40  # a message about the size of a real one


@dataclass
class Job:
    ws_url: str
    visitors: list[tuple[str, str]]  # (space id, widget key)
    agents: list[tuple[int, str, str, bool]]  # (global index, token, space id, replies)
    reply_share: float
    seed: int


@dataclass
class Collected:
    """What one load process saw during one repeat."""

    sent: int = 0
    replies_sent: int = 0
    replies_skipped: int = 0
    ack_ms: list[float] = field(default_factory=list)
    reply_ack_ms: list[float] = field(default_factory=list)
    e2e_va_ms: list[float] = field(default_factory=list)
    e2e_av_ms: list[float] = field(default_factory=list)
    acked_va: list[tuple[str, str]] = field(default_factory=list)  # (space, message id)
    received_va: dict[int, list[str]] = field(default_factory=dict)  # agent index -> ids
    acked_av: list[tuple[str, str]] = field(default_factory=list)  # (thread, message id)
    received_av: dict[str, list[str]] = field(default_factory=dict)  # thread -> ids
    errors: Counter[str] = field(default_factory=Counter)


class Load:
    """One load process's clients. Readers run for the whole session; senders per repeat."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.rng = random.Random(job.seed)  # noqa: S311 - jitter, not secrets
        self.now = Collected()
        self.pending: dict[str, float] = {}  # client_id -> perf_counter at send
        self.last_frame = time.monotonic()
        self.visitors: list[tuple[str, WebSocketConnection]] = []
        self.repliers: list[tuple[WebSocketConnection, trio.MemorySendChannel[str]]] = []
        self.repeat = 0

    def seen(self) -> None:
        self.last_frame = time.monotonic()

    async def connect(self, nursery: trio.Nursery) -> dict[str, Any]:
        limiter = trio.CapacityLimiter(CONNECTS_IN_FLIGHT)
        connect_ms: list[float] = []
        agents = []
        for index, token, space_id, replies in self.job.agents:
            ws = await clients.open_agent(nursery, self.job.ws_url, token, (space_id,))
            agents.append(ws)
            send: trio.MemorySendChannel[str] | None = None
            if replies:
                send, receive = trio.open_memory_channel[str](REPLY_QUEUE)
                nursery.start_soon(self._reply, ws, receive)
            nursery.start_soon(self._read_agent, index, ws, send)

        async def one(space_id: str, key: str) -> None:
            async with limiter:
                ws, _welcome, seconds = await clients.open_widget(nursery, self.job.ws_url, key)
            connect_ms.append(seconds * 1000)
            self.visitors.append((space_id, ws))
            nursery.start_soon(self._read_visitor, space_id, ws)

        async with trio.open_nursery() as connecting:
            for space_id, key in self.job.visitors:
                connecting.start_soon(one, space_id, key)
        nursery.start_soon(self._keep_alive, agents)
        return {"visitors": len(self.visitors), "connect_ms": percentiles(connect_ms)}

    async def _keep_alive(self, agents: list[WebSocketConnection]) -> None:
        """Heartbeats and pings as the console and the widget send them: the service closes a
        socket that stays silent (CHAT_SOCKET_IDLE_TIMEOUT_SECONDS), and agents that do not
        heartbeat go offline."""
        while True:
            await trio.sleep(KEEP_ALIVE_SECONDS)
            for ws in agents:
                await clients.send(ws, {"type": "heartbeat"})
            for _space, ws in self.visitors:
                await clients.send(ws, {"type": "ping"})

    async def _read_visitor(self, space_id: str, ws: WebSocketConnection) -> None:
        while True:
            frame = await clients.receive(ws)
            self.seen()
            now = self.now
            match frame.get("type"):
                case "ack":
                    started = self.pending.pop(frame["client_id"], None)
                    if started is not None:
                        now.ack_ms.append((time.perf_counter() - started) * 1000)
                    now.acked_va.append((space_id, frame["id"]))
                case "message" if frame.get("sender_type") == "agent":
                    if (ms := clients.latency_ms(frame["content"])) is not None:
                        now.e2e_av_ms.append(ms)
                    now.received_av.setdefault(frame["thread_id"], []).append(frame["id"])
                case "error":
                    self.pending.pop(frame.get("client_id", ""), None)
                    now.errors[frame.get("code", "?")] += 1

    async def _read_agent(
        self, index: int, ws: WebSocketConnection, replies: trio.MemorySendChannel[str] | None
    ) -> None:
        while True:
            frame = await clients.receive(ws)
            self.seen()
            now = self.now
            match frame.get("type"):
                case "message" if frame.get("sender_type") == "visitor":
                    if (ms := clients.latency_ms(frame["content"])) is not None:
                        now.e2e_va_ms.append(ms)
                    now.received_va.setdefault(index, []).append(frame["id"])
                    if replies is not None and self.rng.random() < self.job.reply_share:
                        try:
                            replies.send_nowait(frame["thread_id"])
                        except trio.WouldBlock:
                            now.replies_skipped += 1
                case "ack" if frame.get("ref") == "message":
                    started = self.pending.pop(frame["client_id"], None)
                    if started is not None:
                        now.reply_ack_ms.append((time.perf_counter() - started) * 1000)
                    now.acked_av.append((frame["thread_id"], frame["id"]))
                case "error":
                    self.pending.pop(frame.get("client_id", ""), None)
                    now.errors["agent:" + str(frame.get("code", "?"))] += 1

    async def _reply(
        self, ws: WebSocketConnection, threads: trio.MemoryReceiveChannel[str]
    ) -> None:
        sequence = 0
        async for thread_id in threads:
            sequence += 1
            client_id = f"a{id(ws)}-{sequence}"
            self.pending[client_id] = time.perf_counter()
            self.now.replies_sent += 1
            await clients.send(
                ws,
                {
                    "type": "message",
                    "thread_id": thread_id,
                    "client_id": client_id,
                    "content": f"{clients.stamp()} a {PADDING}",
                },
            )

    async def run_repeat(self, rate: float, seconds: float, start_at: float) -> Collected:
        self.repeat += 1
        self.now = Collected()
        begin = trio.current_time() + (start_at - time.time())
        async with trio.open_nursery() as senders:
            for index, (_space, ws) in enumerate(self.visitors):
                senders.start_soon(self._send, index, ws, rate, begin, seconds)
        with trio.move_on_after(DRAIN_LIMIT_SECONDS):
            while True:
                if not self.pending and time.monotonic() - self.last_frame >= QUIET_SECONDS:
                    break
                # Waiting for frames that may never come (a lost one): only time tells.
                await trio.sleep(0.05)
        self.pending.clear()
        return self.now

    async def _send(
        self, index: int, ws: WebSocketConnection, rate: float, begin: float, seconds: float
    ) -> None:
        interval = 1.0 / rate
        phase = self.rng.uniform(0, interval)
        k = 0
        while (due := begin + phase + k * interval) < begin + seconds:
            await trio.sleep_until(due + self.rng.uniform(-0.3, 0.3) * interval)
            client_id = f"v{index}-{self.repeat}-{k}"
            self.pending[client_id] = time.perf_counter()
            self.now.sent += 1
            await clients.send(
                ws,
                {
                    "type": "message",
                    "client_id": client_id,
                    "content": f"{clients.stamp()} v {PADDING}",
                },
            )
            k += 1


async def worker(job: Job, link: Any) -> None:
    load = Load(job)
    try:
        async with trio.open_nursery() as nursery:
            async for name, args in link.commands():
                if name == "connect":
                    await link.reply(await load.connect(nursery))
                elif name == "repeat":
                    await link.reply(await load.run_repeat(**args))
            nursery.cancel_scope.cancel()
    except* ConnectionClosed:
        raise RuntimeError("a bench socket was closed by the server") from None


def _jobs(ctx: Context, tenant: api.Tenant) -> list[Job]:
    params = ctx.profile.conversation
    processes = ctx.fleet.size
    visitors = [
        (tenant.spaces[i % len(tenant.spaces)].id, tenant.spaces[i % len(tenant.spaces)].widget_key)
        for i in range(params.visitors)
    ]
    shares = split(len(visitors), processes)
    jobs, start = [], 0
    for process, share in enumerate(shares):
        agents = [
            (i, a.token, a.space_ids[0], i % params.agents_per_space == 0)
            for i, a in enumerate(tenant.agents)
            if i % processes == process
        ]
        jobs.append(
            Job(
                ctx.service.ws_url,
                visitors[start : start + share],
                agents,
                params.reply_share,
                process,
            )
        )
        start += share
    return jobs


def _figures(
    collected: list[Collected], tenant: api.Tenant, offered: float, seconds: float
) -> dict[str, Any]:
    agents_of: dict[str, list[int]] = {}
    for index, agent in enumerate(tenant.agents):
        agents_of.setdefault(agent.space_ids[0], []).append(index)
    received_va: dict[int, list[str]] = {}
    received_av: dict[str, list[str]] = {}
    errors: Counter[str] = Counter()
    for part in collected:
        for index, ids in part.received_va.items():
            received_va.setdefault(index, []).extend(ids)
        for thread, ids in part.received_av.items():
            received_av.setdefault(thread, []).extend(ids)
        errors.update(part.errors)
    seen_va = {index: set(ids) for index, ids in received_va.items()}
    seen_av = {thread: set(ids) for thread, ids in received_av.items()}
    acked_va = [pair for part in collected for pair in part.acked_va]
    acked_av = [pair for part in collected for pair in part.acked_av]
    lost_va = sum(
        1
        for space, message in acked_va
        if any(message not in seen_va.get(i, ()) for i in agents_of[space])
    )
    lost_av = sum(1 for thread, message in acked_av if message not in seen_av.get(thread, ()))
    duplicates = sum(len(ids) - len(seen_va[i]) for i, ids in received_va.items()) + sum(
        len(ids) - len(seen_av[t]) for t, ids in received_av.items()
    )

    def joined(name: str) -> list[float]:
        return [x for part in collected for x in getattr(part, name)]

    return {
        "offered_msgs_per_s": offered,
        "sent_msgs_per_s": round(sum(p.sent for p in collected) / seconds, 1),
        "acked_msgs_per_s": round(len(acked_va) / seconds, 1),
        "delivered_va_msgs_per_s": round((len(acked_va) - lost_va) / seconds, 1),
        "delivered_av_msgs_per_s": round((len(acked_av) - lost_av) / seconds, 1),
        "replies_sent": sum(p.replies_sent for p in collected),
        "replies_skipped": sum(p.replies_skipped for p in collected),
        "ack_ms": percentiles(joined("ack_ms")),
        "reply_ack_ms": percentiles(joined("reply_ack_ms")),
        "e2e_va_ms": percentiles(joined("e2e_va_ms")),
        "e2e_av_ms": percentiles(joined("e2e_av_ms")),
        "lost_va": lost_va,
        "lost_av": lost_av,
        "duplicates": duplicates,
        "errors_total": sum(errors.values()),
        "errors": dict(errors),
    }


async def _measure(groups: Any, seconds: float, into: dict[str, Any]) -> None:
    """CPU and RSS over the sending window only (not the connect or the drain)."""
    await trio.sleep(START_DELAY_SECONDS)
    window = UsageWindow(groups)
    window.sample()
    with trio.move_on_after(seconds):
        await run_sampler(window)
    into.update(window.result())


async def _poll_lag(base_url: str, into: dict[str, float]) -> None:
    """The projector's lag while the load runs, from /metrics (a gauge: there is nothing to
    wait on, so it is sampled)."""
    while True:
        try:
            entries, seconds = api.projector_lag(await api.text(f"{base_url}/metrics"))
        except OSError:
            entries, seconds = 0, 0.0
        into["entries"] = max(into.get("entries", 0), entries)
        into["seconds"] = max(into.get("seconds", 0.0), seconds)
        await trio.sleep(1.0)


def _held(step: Step) -> bool:
    def every(metric: str, ok: Any) -> bool:
        return all(ok(value) for value in _values(step, metric))

    p99_ok = all(
        (step.median(metric) or 0.0) <= HELD_P99_MS
        for metric in ("ack_ms.p99", "e2e_va_ms.p99", "e2e_av_ms.p99")
    )
    acked = step.median("acked_msgs_per_s") or 0.0
    offered = float(step.params["offered_msgs_per_s"])
    return (
        p99_ok
        and every("lost_va", lambda v: v == 0)
        and every("lost_av", lambda v: v == 0)
        and every("duplicates", lambda v: v == 0)
        and acked >= HELD_SHARE * offered
    )


def _values(step: Step, metric: str) -> list[float]:
    return [float(r[metric]) for r in step.repeats if metric in r]


async def run(ctx: Context) -> ScenarioResult:
    params = ctx.profile.conversation
    service = ctx.service
    top_rate = max(params.ladder) / params.visitors
    tenant = await api.make_tenant(
        service.base_url,
        params.spaces,
        params.agents_per_space,
        # Visitors stay within their allowed rate at every step, with room for the jitter.
        messages_per_second=min(100.0, max(1.0, 2 * top_rate)),
        burst=100,
    )
    result = ScenarioResult(
        "conversation",
        {
            "spaces": params.spaces,
            "agents_per_space": params.agents_per_space,
            "visitors": params.visitors,
            "ladder": list(params.ladder),
            "step_seconds": params.step_seconds,
            "reply_share": params.reply_share,
            "workers": service.workers if service.managed else None,
            "load_processes": ctx.fleet.size,
        },
    )

    def groups() -> dict[str, Any]:
        return {
            "server": service.chat_processes(),
            **service.store_processes(),
            "load": ctx.fleet.processes(),
        }

    async with ctx.fleet.session("bench.scenarios.conversation:worker", _jobs(ctx, tenant)) as s:
        with ctx.reporter.phase(f"conversation: {params.visitors} visitors connecting"):
            connected = await s.ask(("connect", None))
        result.notes.append("connect: " + ", ".join(str(c["connect_ms"]) for c in connected))
        # Not recorded: the first seconds of traffic warm the server (lazily built code paths,
        # pools, caches) and made the first repeat's p99 an outlier.
        warm_up = min(WARM_UP_SECONDS, params.step_seconds)
        async with ctx.reporter.timed("conversation: warming up", warm_up):
            await s.ask(
                (
                    "repeat",
                    {
                        "rate": params.ladder[0] / params.visitors,
                        "seconds": warm_up,
                        "start_at": time.time() + START_DELAY_SECONDS,
                    },
                )
            )
        result.notes.append(f"a {warm_up:g} s warm-up at the first step's load, not recorded")
        for offered in params.ladder:
            step = Step(f"{offered} msgs/s", {"offered_msgs_per_s": offered})
            for repeat in range(ctx.repeats):
                start_at = time.time() + START_DELAY_SECONDS
                rate = offered / params.visitors
                lag: dict[str, float] = {}
                usage: dict[str, Any] = {}
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_measure, groups, params.step_seconds, usage)
                    nursery.start_soon(_poll_lag, service.base_url, lag)
                    async with ctx.reporter.timed(
                        f"conversation {offered} msgs/s, repeat {repeat + 1}/{ctx.repeats}",
                        params.step_seconds,
                    ):
                        replies = await s.ask(
                            (
                                "repeat",
                                {
                                    "rate": rate,
                                    "seconds": params.step_seconds,
                                    "start_at": start_at,
                                },
                            )
                        )
                    nursery.cancel_scope.cancel()
                figures = _figures(replies, tenant, offered, params.step_seconds)
                figures.update({name: vars(u) for name, u in usage.items()})
                figures["projector_lag_s_max"] = lag.get("seconds", 0.0)
                figures["projector_lag_entries_max"] = lag.get("entries", 0)
                step.repeats.append(figures)
            result.steps.append(step)
            summary = step.as_json()["summary"]
            held = _held(step)
            ctx.reporter.row(
                "conversation",
                step.label + ("" if held else " (not held)"),
                {
                    "acked/s": spread(summary, "acked_msgs_per_s"),
                    "ack p99": spread(summary, "ack_ms.p99", " ms"),
                    "e2e v→a p99": spread(summary, "e2e_va_ms.p99", " ms"),
                    "e2e a→v p99": spread(summary, "e2e_av_ms.p99", " ms"),
                    "lost": spread(summary, "lost_va"),
                    "server cpu": spread(summary, "server.cpu_percent", "%"),
                },
            )
            if not held:
                break  # the next step up would not hold either; save the time
    held_steps = [s for s in result.steps if _held(s)]
    best = held_steps[-1] if held_steps else None
    result.headline = {
        "held_msgs_per_s": best.params["offered_msgs_per_s"] if best else None,
        "max_acked_msgs_per_s": max(
            (s.median("acked_msgs_per_s") or 0.0 for s in result.steps), default=0.0
        ),
        "at_held": {
            metric: best.median(metric)
            for metric in (
                "acked_msgs_per_s",
                "ack_ms.p50",
                "ack_ms.p99",
                "e2e_va_ms.p50",
                "e2e_va_ms.p99",
                "e2e_av_ms.p99",
                "server.cpu_percent",
                "server.rss_mb_max",
                "valkey.cpu_percent",
                "postgres.cpu_percent",
                "load.cpu_percent",
            )
        }
        if best
        else {},
        "lost": sum(int(r["lost_va"]) + int(r["lost_av"]) for s in result.steps for r in s.repeats),
        "duplicates": sum(int(r["duplicates"]) for s in result.steps for r in s.repeats),
    }
    return result
