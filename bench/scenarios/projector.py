"""Projector catch-up and lag under load.

Catch-up: with no projector running (CHAT_PROJECTOR_ENABLED=false) widget visitors append a
backlog of K messages; the service restarts with its projector, and /metrics is read every 50 ms
until the lag is back to 0. Lag under load: a steady visitor load with the projector on, /metrics
read every 0.5 s. Managed services only: the scenario restarts the service.

The lag /metrics reports counts space-stream entries, not messages: a visitor's first message
also appends `thread.opened`, so entries >= messages.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from bench import api, clients, report
from bench.fleet import Link, split
from bench.record import ScenarioResult, Step
from bench.scenarios import Context
from bench.stats import percentiles
from bench.usage import UsageWindow, run_sampler

# The bench spaces' visitor limits: the highest the space settings allow (100/s, burst 1000).
SPACE_RATE, SPACE_BURST = 100.0, 1000
# What a visitor paces itself to: a margin under the space's limit, whose bucket may persist
# across the visitor's reconnections (each repeat reconnects).
CLIENT_RATE, CLIENT_BURST = 90.0, 500
WINDOW = 16  # messages a visitor keeps in flight awaiting acks while appending the backlog
CONNECT_CONCURRENCY = 50  # widget handshakes in flight per load process
CATCH_UP_POLL_SECONDS = 0.05
LOAD_POLL_SECONDS = 0.5
# Lag 0 this long with no backlog ever seen: the projector drained it before /metrics answered.
EMPTY_GRACE_SECONDS = 1.0
# A catch-up slower than this many entries/s is cut off (the scenario must stop by itself).
SLOWEST_RATE = 500.0
COMMAND_TIMEOUT_SECONDS = 120.0
DRAIN_SECONDS = 5.0  # acks still awaited when a steady load ends
CONTENT_PAD = "x" * 80  # a message of about 100 characters, stamp included


# -- load processes: widget visitors -------------------------------------------------------------


@dataclass(frozen=True)
class VisitorJob:
    ws_url: str
    keys: tuple[str, ...]  # one widget key per visitor of this load process


@dataclass
class _Visitor:
    ws: WebSocketConnection
    tokens: float = CLIENT_BURST
    refilled: float = field(default_factory=time.monotonic)
    outstanding: dict[str, float] = field(default_factory=dict)  # client_id -> send time
    acked: int = 0
    ack_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    async def paced(self) -> None:
        """Wait for a token of the client-side bucket that keeps under the space's limit."""
        now = time.monotonic()
        self.tokens = min(CLIENT_BURST, self.tokens + (now - self.refilled) * CLIENT_RATE)
        self.refilled = now
        if self.tokens < 1:
            await trio.sleep((1 - self.tokens) / CLIENT_RATE)
            self.tokens, self.refilled = 1.0, time.monotonic()
        self.tokens -= 1

    async def send(self) -> None:
        client_id = str(uuid.uuid4())
        self.outstanding[client_id] = time.perf_counter()
        content = f"{clients.stamp()} {CONTENT_PAD}"
        await clients.send(self.ws, {"type": "message", "client_id": client_id, "content": content})


async def _read_answers(visitor: _Visitor, slots: trio.Semaphore, done: trio.CancelScope) -> None:
    """Count acks and errors until cancelled; a closed socket ends the visitor's drive."""
    try:
        while True:
            frame = await clients.receive(visitor.ws)
            kind = frame.get("type")
            if kind not in ("ack", "error"):
                continue  # agents, thread...: not what this scenario measures
            sent = visitor.outstanding.pop(str(frame.get("client_id")), None)
            if kind == "ack" and sent is not None:
                visitor.acked += 1
                visitor.ack_ms.append((time.perf_counter() - sent) * 1000)
            else:
                visitor.errors[str(frame.get("code", "unknown"))] += 1
            if sent is not None:
                slots.release()
    except ConnectionClosed:
        visitor.errors["closed"] += max(1, len(visitor.outstanding))
        done.cancel()


async def _append(visitor: _Visitor, count: int) -> None:
    """Send `count` messages as fast as acks come back (WINDOW in flight), within the limit."""
    slots = trio.Semaphore(WINDOW)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_read_answers, visitor, slots, nursery.cancel_scope)
        for _ in range(count):
            await slots.acquire()
            await visitor.paced()
            await visitor.send()
        for _ in range(WINDOW):  # every answer in
            await slots.acquire()
        nursery.cancel_scope.cancel()


async def _steady(visitor: _Visitor, interval: float, offset: float, until: float) -> None:
    """One message every `interval` s until `until` (a message whose window is full is
    skipped and counted, so the offered load stays open-loop)."""
    slots = trio.Semaphore(WINDOW)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_read_answers, visitor, slots, nursery.cancel_scope)
        due = trio.current_time() + offset
        while due < until:
            await trio.sleep_until(due)
            due += interval
            try:
                slots.acquire_nowait()
            except trio.WouldBlock:
                visitor.errors["skipped"] += 1
                continue
            await visitor.send()
        with trio.move_on_after(DRAIN_SECONDS):
            for _ in range(WINDOW):
                await slots.acquire()
        visitor.errors["unanswered"] += len(visitor.outstanding)
        nursery.cancel_scope.cancel()


async def _connect(
    nursery: trio.Nursery, job: VisitorJob, sessions: list[str | None]
) -> list[_Visitor]:
    """Every visitor of the job, resuming its session of an earlier repeat (same visitor)."""
    limiter = trio.CapacityLimiter(CONNECT_CONCURRENCY)
    found: list[_Visitor | None] = [None] * len(job.keys)

    async def one(index: int) -> None:
        async with limiter:
            ws, welcome, _ = await clients.open_widget(
                nursery, job.ws_url, job.keys[index], session=sessions[index]
            )
        sessions[index] = str(welcome["session"])
        found[index] = _Visitor(ws)

    async with trio.open_nursery() as connecting:
        for index in range(len(job.keys)):
            connecting.start_soon(one, index)
    return [v for v in found if v is not None]


def _tally(visitors: list[_Visitor], seconds: float) -> dict[str, Any]:
    errors: Counter[str] = Counter()
    for visitor in visitors:
        errors.update(visitor.errors)
        visitor.errors.clear()
    ack_ms = [ms for v in visitors for ms in v.ack_ms]
    acked = sum(v.acked for v in visitors)
    for visitor in visitors:
        visitor.acked, visitor.ack_ms = 0, []
    return {"acked": acked, "seconds": seconds, "errors": dict(errors), "ack_ms": ack_ms}


async def _close(visitors: list[_Visitor]) -> None:
    with trio.move_on_after(DRAIN_SECONDS) as scope:
        scope.shield = True
        for visitor in visitors:
            await visitor.ws.aclose()


async def worker(job: VisitorJob, link: Link) -> None:
    """Commands: connect, append <count>, steady {rate, seconds}, close."""
    sessions: list[str | None] = [None] * len(job.keys)
    visitors: list[_Visitor] = []
    async with trio.open_nursery() as nursery:  # the sockets' reader tasks live here
        async for name, args in link.commands():
            with trio.fail_after(COMMAND_TIMEOUT_SECONDS):
                started = time.perf_counter()
                async with trio.open_nursery() as drive:
                    if name == "connect":
                        visitors = await _connect(nursery, job, sessions)
                    elif name == "append" and visitors:
                        for visitor, count in zip(
                            visitors, split(args, len(visitors)), strict=True
                        ):
                            drive.start_soon(_append, visitor, count)
                    elif name == "steady" and visitors:
                        rate, until = args["rate"], trio.current_time() + args["seconds"]
                        interval = len(visitors) / rate if rate else args["seconds"]
                        for index, visitor in enumerate(visitors):
                            offset = interval * index / len(visitors)
                            drive.start_soon(_steady, visitor, interval, offset, until)
                    elif name == "close":
                        await _close(visitors)
                        visitors = []
            await link.reply(_tally(visitors, time.perf_counter() - started))
        await _close(visitors)
        nursery.cancel_scope.cancel()


# -- coordinator ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lag:
    t: float  # seconds since the restart began
    entries: int
    seconds: float
    spaces: int  # spaces the answering process's projector knows


def parse_lag(metrics: str) -> tuple[int, float, int]:
    """(entries, oldest seconds, spaces listed) from /metrics text."""
    entries, seconds = api.projector_lag(metrics)
    spaces = sum(
        1 for line in metrics.splitlines() if line.startswith("chat_projector_lag_entries{")
    )
    return entries, seconds, spaces


async def read_lag(base_url: str, t0: float) -> Lag | None:
    """One /metrics reading, or None while the service does not answer (it is starting)."""
    try:
        with trio.move_on_after(2) as scope:
            text = await api.text(f"{base_url}/metrics")
    except OSError:  # refused while the service starts (URLError is an OSError)
        return None
    if scope.cancelled_caught:
        return None
    entries, seconds, spaces = parse_lag(text)
    return Lag(round(time.monotonic() - t0, 3), entries, seconds, spaces)


def _groups(ctx: Context) -> Any:
    return lambda: {"server": ctx.service.chat_processes(), **ctx.service.store_processes()}


async def _watch_catch_up(
    ctx: Context, t0: float, marks: dict[str, float], limit: float
) -> dict[str, Any]:
    """Read the lag every 50 ms from the restart until it is back to 0 (for at most `limit`
    seconds); CPU over the span from the first sample showing the backlog.

    A polling loop: the projector's progress has no event the bench can wait on, only /metrics.
    """
    samples: list[Lag] = []
    window: UsageWindow | None = None
    async with trio.open_nursery() as sampling:
        with trio.move_on_after(limit) as watching:
            while True:
                lag = await read_lag(ctx.service.base_url, t0)
                if lag is not None and lag.spaces:
                    samples.append(lag)
                    if lag.entries and window is None:  # the backlog is visible: CPU from here
                        window = UsageWindow(_groups(ctx))
                        window.sample()
                        sampling.start_soon(run_sampler, window)
                    caught_up = lag.entries == 0 and window is not None
                    never_seen = (
                        lag.entries == 0
                        and "ready" in marks
                        and lag.t - marks["ready"] > EMPTY_GRACE_SECONDS
                    )
                    if caught_up or never_seen:
                        break
                await trio.sleep(CATCH_UP_POLL_SECONDS)
        usage = window.result() if window else {}
        sampling.cancel_scope.cancel()
    return {"samples": samples, "usage": usage, "timed_out": watching.cancelled_caught}


def _catch_up_figures(samples: list[Lag], ready: float) -> dict[str, Any]:
    """Entries drained / seconds from the peak sample to the first sample at 0."""
    if not samples:  # /metrics never answered within the watch
        return {"ready_s": round(ready, 3), "catch_up_rows_per_s": None, "samples": []}
    peak = max(samples, key=lambda s: (s.entries, -s.t))
    zero = next((s for s in samples if s.t > peak.t and s.entries == 0), None)
    figures: dict[str, Any] = {
        "ready_s": round(ready, 3),
        "backlog_entries_seen": peak.entries,
        "backlog_seen_at_s": peak.t,
        "catch_up_rows_per_s": None,
        "catch_up_seconds": None,
        "samples": [[s.t, s.entries] for s in samples],
    }
    if peak.entries and zero is not None:
        seconds = max(zero.t - peak.t, CATCH_UP_POLL_SECONDS)
        figures["catch_up_seconds"] = round(seconds, 3)
        figures["catch_up_rows_per_s"] = round(peak.entries / seconds)
        draining = [s for s in samples if peak.t <= s.t < zero.t] + [zero]
        if len(draining) >= 3:  # the slope of a least-squares line, less sensitive to the ends
            slope = statistics.linear_regression(
                [s.t for s in draining], [s.entries for s in draining]
            ).slope
            figures["fit_rows_per_s"] = round(-slope)
    return figures


async def _catch_up_once(ctx: Context, fleet: Any, counts: list[int]) -> dict[str, Any]:
    cfg = ctx.profile.projector
    phases: dict[str, float] = {}  # where a repeat's time goes (restarts dominate small runs)
    mark = time.monotonic()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = round(now - mark, 3)
        mark = now

    await ctx.service.restart(projector=False)
    lap("restart_s")
    await fleet.ask(("connect", None))
    lap("connect_s")
    appended = await fleet.ask([("append", n) for n in counts])
    lap("append_s")
    await fleet.ask(("close", None))
    lap("close_s")
    acked = sum(r["acked"] for r in appended)
    errors: Counter[str] = Counter()
    for reply in appended:
        errors.update(reply["errors"])
    await ctx.service.stop()
    lap("stop_s")
    t0, marks = time.monotonic(), {}
    # The launch has its own deadline; the watch gives up (recording a timeout) after this.
    limit = cfg.backlog * 3 / SLOWEST_RATE + 60
    async with trio.open_nursery() as nursery:

        async def launch() -> None:
            await ctx.service.launch(projector=True)
            marks["ready"] = time.monotonic() - t0

        nursery.start_soon(launch)
        watched = await _watch_catch_up(ctx, t0, marks, limit)
    lap("catch_up_s")
    figures = _catch_up_figures(watched["samples"], marks["ready"])
    figures["timed_out"] = watched["timed_out"]
    return {
        "backlog_msgs": cfg.backlog,
        "acked": acked,
        "append_msgs_per_s": round(acked / max(r["seconds"] for r in appended)),
        "append_errors": dict(errors),
        "errors_total": sum(errors.values()),
        "phases": phases,
        **figures,
        **{group: vars(usage) for group, usage in watched["usage"].items()},
    }


async def _steady_once(ctx: Context, fleet: Any, rates: list[float]) -> dict[str, Any]:
    cfg = ctx.profile.projector
    lags: list[Lag] = []
    t0 = time.monotonic()
    window = UsageWindow(_groups(ctx))

    async def sample_lag() -> None:
        # A polling loop: lag is only readable from /metrics, there is no event to wait on.
        while True:
            lag = await read_lag(ctx.service.base_url, t0)
            if lag is not None:
                lags.append(lag)
            await trio.sleep(LOAD_POLL_SECONDS)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_sampler, window)
        nursery.start_soon(sample_lag)
        replies = await fleet.ask(
            [("steady", {"rate": r, "seconds": cfg.steady_seconds}) for r in rates]
        )
        nursery.cancel_scope.cancel()
    errors: Counter[str] = Counter()
    for reply in replies:
        errors.update(reply["errors"])
    acked = sum(r["acked"] for r in replies)
    lag_s = percentiles([lag.seconds for lag in lags])
    lag_entries = percentiles([lag.entries for lag in lags])
    return {
        "offered_msgs_per_s": cfg.steady_msgs_per_s,
        "acked_msgs_per_s": round(acked / cfg.steady_seconds, 1),
        "ack_ms": percentiles([ms for r in replies for ms in r["ack_ms"]]),
        "lag_s": {"max": lag_s["max"], "p95": lag_s["p95"]},
        "lag_entries": {"max": lag_entries["max"], "p95": lag_entries["p95"]},
        "lag_samples": len(lags),
        "errors": dict(errors),
        "errors_total": sum(errors.values()),
        **{group: vars(usage) for group, usage in window.result().items()},
    }


def _shares(total: float, per_process: list[int], visitors: int) -> list[int]:
    """`total` spread over the load processes in proportion to their visitors."""
    per_visitor = split(int(total), visitors)
    shares, start = [], 0
    for count in per_process:
        shares.append(sum(per_visitor[start : start + count]))
        start += count
    return shares


async def run(ctx: Context) -> ScenarioResult:
    cfg = ctx.profile.projector
    params = {
        "backlog": cfg.backlog,
        "visitors": cfg.visitors,
        "spaces": cfg.spaces,
        "steady_msgs_per_s": cfg.steady_msgs_per_s,
        "steady_seconds": cfg.steady_seconds,
    }
    result = ScenarioResult("projector", params)
    started = time.monotonic()
    if not ctx.service.managed:
        note = "projector: skipped, it restarts the service (a managed service only)"
        ctx.reporter.note(note)
        result.notes.append(note)
        return result
    result.notes += [
        "catch-up rows are space-stream entries drained per second as /metrics reports them: "
        "messages plus each visitor's thread.opened (and any other lifecycle entry)",
        "catch-up is timed from the first /metrics sample showing the backlog (sampled every "
        f"{CATCH_UP_POLL_SECONDS * 1000:.0f} ms from the restart) to the first showing 0; "
        "fit_rows_per_s is the least-squares slope over those samples",
    ]
    tenant = await api.make_tenant(
        ctx.service.base_url, cfg.spaces, 0, messages_per_second=SPACE_RATE, burst=SPACE_BURST
    )
    keys = [tenant.spaces[i % cfg.spaces].widget_key for i in range(cfg.visitors)]
    per_process = split(cfg.visitors, ctx.fleet.size)
    jobs, start = [], 0
    for count in per_process:
        jobs.append(VisitorJob(ctx.service.ws_url, tuple(keys[start : start + count])))
        start += count
    catch_up = Step("catch-up", {"backlog_msgs": cfg.backlog, "visitors": cfg.visitors})
    steady = Step("lag under load", {"offered_msgs_per_s": cfg.steady_msgs_per_s})
    async with ctx.fleet.session(f"{__name__}:worker", jobs) as fleet:
        with ctx.reporter.phase("projector catch-up", total=ctx.repeats) as bar:
            for index in range(ctx.repeats):
                counts = _shares(cfg.backlog, per_process, cfg.visitors)
                catch_up.repeats.append(await _catch_up_once(ctx, fleet, counts))
                bar.update(index + 1)
        summary = catch_up.as_json()["summary"]
        ctx.reporter.row(
            "projector",
            f"catch-up {cfg.backlog} msgs",
            {
                "rows/s": report.spread(summary, "catch_up_rows_per_s"),
                "seconds": report.spread(summary, "catch_up_seconds", " s"),
                "server cpu": report.spread(summary, "server.cpu_percent", "%"),
                "postgres cpu": report.spread(summary, "postgres.cpu_percent", "%"),
            },
        )
        await fleet.ask(("connect", None))  # the same sockets through every repeat
        with ctx.reporter.phase("projector lag under load", total=ctx.repeats) as bar:
            for index in range(ctx.repeats):
                rates = _shares(cfg.steady_msgs_per_s, per_process, cfg.visitors)
                steady.repeats.append(await _steady_once(ctx, fleet, [float(r) for r in rates]))
                bar.update(index + 1)
        await fleet.ask(("close", None))
        summary = steady.as_json()["summary"]
        ctx.reporter.row(
            "projector",
            f"lag at {cfg.steady_msgs_per_s} msgs/s",
            {
                "lag max": report.spread(summary, "lag_s.max", " s"),
                "entries max": report.spread(summary, "lag_entries.max"),
                "acked/s": report.spread(summary, "acked_msgs_per_s"),
            },
        )
    result.steps += [catch_up, steady]
    result.headline = {
        "backlog": cfg.backlog,
        "catch_up_rows_per_s": catch_up.median("catch_up_rows_per_s"),
        "catch_up_seconds": catch_up.median("catch_up_seconds"),
        "lag_under_load_s_max": steady.median("lag_s.max"),
        "steady_msgs_per_s": steady.median("acked_msgs_per_s"),
    }
    if result.headline["catch_up_rows_per_s"] is None:
        result.notes.append("the backlog drained before /metrics first answered: no rate")
    result.notes.append(f"ran in {time.monotonic() - started:.1f} s")
    return result
