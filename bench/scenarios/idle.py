"""Idle widget sockets: N widgets connected to ONE server process, each pinging every 25 s like
the real widget. Measures the server's RSS per socket, its CPU while they idle, the connect time,
and whether the memory comes back once they close.

Each repeat connects its own N sockets (new visitors) from the load processes, idles, closes them.
The server runs with one worker for this scenario (the target is per process): a managed service
with more workers is restarted with one and restored afterwards.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import trio

from bench import fleet
from bench.api import make_tenant
from bench.fleet import Link
from bench.lean_widget import LEAN_CONNECT_ERRORS, LeanWidget
from bench.record import ScenarioResult, Step
from bench.report import spread
from bench.scenarios import Context
from bench.stats import percentiles, summarize
from bench.usage import UsageWindow, rss_bytes, run_sampler

NAME = "idle"
SPACES = 4
# Connects in flight per load process: enough to go fast, few enough that the server's accept
# backlog (hypercorn's default is 100 with one worker) does not overflow into SYN retries.
CONNECTS_IN_FLIGHT = 100
# The real widget's heartbeat.
PING_SECONDS = 25.0
# A first batch, connected and closed before the baseline, so lazily loaded code, pools and
# caches in the server are warm and do not count as per-socket memory.
WARMUP_SOCKETS = 50
# After closing, the server gets this long to finish its sessions before RSS is read again.
SETTLE_SECONDS = 1.0
CLOSE_TIMEOUT_SECONDS = 60.0
# The server answers a close frame at once; longer counts the socket as unclosed.
CLOSE_HANDSHAKE_SECONDS = 5.0
CONNECT_LIMIT_BASE_SECONDS = 60.0
CONNECT_LIMIT_PER_SOCKET_SECONDS = 0.05  # 10,000 sockets: 560 s at most
ASK_MARGIN_SECONDS = 60.0
CLOSES_IN_FLIGHT = 200


# -- load processes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IdleJob:
    ws_url: str
    keys: tuple[str, ...]


@dataclass
class Pool:
    """One load process's idle sockets (bench/lean_widget.py), with the frames they received."""

    job: IdleJob
    nursery: trio.Nursery
    sockets: list[LeanWidget] = field(default_factory=list)
    frames: Counter[str] = field(default_factory=Counter)

    async def hold(self, key: str, task_status: trio.TaskStatus[float]) -> None:
        """One socket, served by this one task: started once the welcome is in, with the
        connect seconds; returns when it closed."""
        widget, _, took = await LeanWidget.open(self.job.ws_url, key)
        self.sockets.append(widget)
        task_status.started(took)
        # A random first beat: the steady state of many widgets, each on its own 25 s rhythm,
        # which a window shorter than 25 s would otherwise miss entirely.
        first_ping = trio.current_time() + random.uniform(0, PING_SECONDS)  # noqa: S311
        await widget.run(self.frames, first_ping, PING_SECONDS)

    async def connect(self, count: int, limit_seconds: float) -> dict[str, Any]:
        """Connect `count` sockets, CONNECTS_IN_FLIGHT at a time; those not connected within
        `limit_seconds` are given up (counted as errors)."""
        seconds: list[float] = []
        done_at: list[float] = []
        errors: Counter[str] = Counter()
        limiter = trio.CapacityLimiter(CONNECTS_IN_FLIGHT)

        async def one(index: int) -> None:
            async with limiter:
                key = self.job.keys[index % len(self.job.keys)]
                try:
                    seconds.append(await self.nursery.start(self.hold, key))
                    done_at.append(time.time())
                except* LEAN_CONNECT_ERRORS as group:
                    errors[type(group.exceptions[0]).__name__] += 1

        started = time.time()
        with trio.move_on_after(limit_seconds):
            async with trio.open_nursery() as connecting:
                for index in range(count):
                    connecting.start_soon(one, index)
        given_up = count - len(seconds) - sum(errors.values())
        if given_up:
            errors["connect_phase_timeout"] += given_up
        return {
            "started": started,
            "finished": time.time(),
            "seconds": seconds,
            "done_at": done_at,
            "errors": dict(errors),
        }

    async def close(self) -> dict[str, Any]:
        """Close every socket with a close handshake; the frames counted since the last close."""
        limiter = trio.CapacityLimiter(CLOSES_IN_FLIGHT)
        unclosed = 0

        async def one(widget: LeanWidget) -> None:
            nonlocal unclosed
            async with limiter:
                widget.close()
                with trio.move_on_after(CLOSE_HANDSHAKE_SECONDS):
                    await widget.done.wait()
                if not widget.done.is_set():
                    unclosed += 1

        with trio.move_on_after(CLOSE_TIMEOUT_SECONDS):
            async with trio.open_nursery() as closing:
                for widget in self.sockets:
                    closing.start_soon(one, widget)
        report = {
            "frames": dict(self.frames),
            "pings": sum(widget.pings for widget in self.sockets),
            # Ended before we asked: the server closed or dropped them.
            "closed_by_server": sum(widget.closed_by_server for widget in self.sockets),
            "unclosed": unclosed,
        }
        self.sockets = []
        self.frames = Counter()
        return report


async def worker(job: IdleJob, link: Link) -> None:
    async with trio.open_nursery() as nursery:
        pool = Pool(job, nursery)
        async for name, args in link.commands():
            match name:
                case "connect":
                    count, limit_seconds = args
                    await link.reply(await pool.connect(count, limit_seconds))
                case "close":
                    await link.reply(await pool.close())
                case _:
                    raise ValueError(f"unknown command {name}")
        # The coordinator stopped the session: drop whatever is left (readers, heartbeats).
        nursery.cancel_scope.cancel()


# -- coordinator -------------------------------------------------------------------------------


def _server_rss(ctx: Context) -> int | None:
    procs = ctx.service.chat_processes()
    return rss_bytes(procs) if procs else None


def _mb(value: int | None) -> float | None:
    return round(value / 2**20, 1) if value is not None else None


def _connect_limit(sockets: int) -> float:
    """How long a connect phase may take: generous (a slow server is a finding, reported with
    the sockets given up), but bounded."""
    return CONNECT_LIMIT_BASE_SECONDS + sockets * CONNECT_LIMIT_PER_SOCKET_SECONDS


def _rates(done_at: list[float], started: float) -> dict[str, float | None]:
    """Sockets/s over the first and the last tenth of the connects: a server that slows down
    as it holds more sockets shows here."""
    done_at = sorted(done_at)
    tenth = len(done_at) // 10
    if tenth < 2:
        return {"first_tenth": None, "last_tenth": None}
    first = done_at[tenth - 1] - started
    last = done_at[-1] - done_at[-tenth - 1]
    return {
        "first_tenth": round(tenth / first, 1) if first > 0 else None,
        "last_tenth": round(tenth / last, 1) if last > 0 else None,
    }


def _per_socket(rss: int | None, baseline: int | None, sockets: int) -> float | None:
    if rss is None or baseline is None or not sockets:
        return None
    return round((rss - baseline) / sockets / 1024, 2)


async def _repeat(ctx: Context, session: fleet.FleetSession, sockets: int) -> dict[str, Any]:
    shares = fleet.split(sockets, ctx.fleet.size)
    groups = lambda: {  # noqa: E731 - read at each sample: processes come and go
        "server": ctx.service.chat_processes(),
        **ctx.service.store_processes(),
        "load": ctx.fleet.processes(),
    }
    baseline = _server_rss(ctx)
    connecting = UsageWindow(groups)
    with ctx.reporter.phase(f"{NAME}: connecting {sockets}", total=sockets) as bar:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_sampler, connecting)
            limit = _connect_limit(sockets)
            replies = await session.ask(
                [("connect", (n, limit)) for n in shares], limit_seconds=limit + ASK_MARGIN_SECONDS
            )
            nursery.cancel_scope.cancel()
        bar.update(sockets)
    connect_usage = connecting.result()
    seconds = [s * 1000 for reply in replies for s in reply["seconds"]]
    errors: Counter[str] = Counter()
    for reply in replies:
        errors.update(reply["errors"])
    connected = len(seconds)
    after_connect = _server_rss(ctx)

    idle = UsageWindow(groups)
    idle_seconds = ctx.profile.idle.idle_seconds
    async with ctx.reporter.timed(f"{NAME}: {connected} sockets idle", idle_seconds):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run_sampler, idle)
            await trio.sleep(idle_seconds)
            nursery.cancel_scope.cancel()
    idle_usage = idle.result()
    after_idle = _server_rss(ctx)

    closed = await session.ask(("close", None))
    await trio.sleep(SETTLE_SECONDS)  # the server ends its sessions after the close handshakes
    after_close = _server_rss(ctx)

    frames: Counter[str] = Counter()
    for reply in closed:
        frames.update(reply["frames"])
    return {
        "connected": connected,
        "failed": sockets - connected,
        "connect_ms": percentiles(seconds),
        "connects_per_second": _rates(
            [t for reply in replies for t in reply["done_at"]],
            min(r["started"] for r in replies),
        ),
        "connect_all_seconds": round(
            max(r["finished"] for r in replies) - min(r["started"] for r in replies), 3
        ),
        "rss_mb": {
            "baseline": _mb(baseline),
            "connected": _mb(after_connect),
            "after_idle": _mb(after_idle),
            "after_close": _mb(after_close),
        },
        "rss_kb_per_socket": _per_socket(after_connect, baseline, connected),
        "retained_kb_per_socket": _per_socket(after_close, baseline, connected),
        "idle": {name: vars(usage) for name, usage in idle_usage.items()},
        "connecting": {name: vars(usage) for name, usage in connect_usage.items()},
        "pings": sum(r["pings"] for r in closed),
        "pongs": frames.get("pong", 0),
        "frames": dict(frames),
        "closed_by_server": sum(r["closed_by_server"] for r in closed),
        "unclosed": sum(r["unclosed"] for r in closed),
        "errors": dict(errors),
    }


async def _measure(ctx: Context, sockets: int) -> Step:
    tenant = await make_tenant(ctx.service.base_url, SPACES, 0)
    job = IdleJob(ctx.service.ws_url, tuple(space.widget_key for space in tenant.spaces))
    step = Step(f"{sockets} sockets", {"sockets": sockets, "workers": ctx.service.workers})
    async with ctx.fleet.session(f"{__name__}:worker", [job] * ctx.fleet.size) as session:
        for _ in range(ctx.repeats):
            if ctx.service.managed:
                # A fresh process per repeat: the allocator keeps the memory of closed sockets
                # and hands it to the next ones, so a second repeat in the same process measured
                # almost nothing per socket.
                await ctx.service.restart()
            warm = fleet.split(min(WARMUP_SOCKETS, sockets), ctx.fleet.size)
            limit = _connect_limit(sum(warm))
            await session.ask([("connect", (n, limit)) for n in warm])
            await session.ask(("close", None))
            await trio.sleep(SETTLE_SECONDS)
            step.repeats.append(await _repeat(ctx, session, sockets))
    summary = summarize(step.repeats)
    ctx.reporter.row(
        NAME,
        step.label,
        {
            "KB/socket": spread(summary, "rss_kb_per_socket"),
            "connect p99": spread(summary, "connect_ms.p99", " ms"),
            "all in": spread(summary, "connect_all_seconds", " s"),
            "idle cpu": spread(summary, "idle.server.cpu_percent", "%"),
            "failed": spread(summary, "failed"),
        },
    )
    return step


async def run(ctx: Context) -> ScenarioResult:
    sockets = ctx.profile.idle.sockets
    result = ScenarioResult(
        NAME,
        {
            "sockets": sockets,
            "idle_seconds": ctx.profile.idle.idle_seconds,
            "ping_seconds": PING_SECONDS,
            "connects_in_flight_per_process": CONNECTS_IN_FLIGHT,
            "load_processes": ctx.fleet.size,
        },
    )
    previous = ctx.service.workers
    one_worker = ctx.service.managed and previous != 1
    if one_worker:
        ctx.service.workers = 1
        await ctx.service.restart()
        result.notes.append(f"service restarted with 1 worker (was {previous}), then restored")
    elif not ctx.service.managed:
        result.notes.append(
            "unmanaged service: its worker count is not known and its RSS is not sampled"
        )
    result.notes.append(
        f"each socket pings every {PING_SECONDS:g} s from a random phase; rss_kb_per_socket ="
        " (server RSS with all connected - RSS before) / connected; retained = the same after"
        f" closing them all and {SETTLE_SECONDS:g} s"
    )
    try:
        step = await _measure(ctx, sockets)
    finally:
        if one_worker:
            with trio.CancelScope(shield=True):
                ctx.service.workers = previous
                await ctx.service.restart()
    result.steps.append(step)
    failed = sum(r["failed"] for r in step.repeats)
    result.headline = {
        "sockets": sockets,
        "workers": 1 if ctx.service.managed else None,
        "rss_kb_per_socket": step.median("rss_kb_per_socket"),
        "retained_kb_per_socket": step.median("retained_kb_per_socket"),
        "connect_ms_p99": step.median("connect_ms.p99"),
        "connect_all_seconds": step.median("connect_all_seconds"),
        "idle_cpu_percent": step.median("idle.server.cpu_percent"),
        "failed": failed,
    }
    return result
