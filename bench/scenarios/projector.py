"""Projector catch-up and lag under load.

Catch-up: with no projector running (CHAT_PROJECTOR_ENABLED=false) widget visitors append a
backlog of K messages; the service restarts with its projector, and /metrics is read every 50 ms
until the lag is back to 0. Lag under load: a steady visitor load with the projector on, /metrics
read every 0.5 s. Managed services only: the scenario restarts the service.

The lag /metrics reports counts space-stream entries, not messages: a visitor's first message
also appends `thread.opened`, so entries >= messages.

The visitors live in the load processes (projector_visitors.py); reading the lag and turning a
catch-up's samples into rates is projector_lag.py. This module is the coordinator: the
restarts, the two kinds of repeat, and what they record and report.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import trio

from bench import api, report
from bench.fleet import cut, split
from bench.record import ScenarioResult, Step
from bench.scenarios import Context, projector_visitors
from bench.scenarios.projector_lag import CATCH_UP_POLL_SECONDS, Lag, catch_up_figures, read_lag
from bench.scenarios.projector_visitors import VisitorJob
from bench.stats import percentiles
from bench.usage import UsageWindow, run_sampler

# The bench spaces' visitor limits: the highest the space settings allow (100/s, burst 1000).
SPACE_RATE, SPACE_BURST = 100.0, 1000
LOAD_POLL_SECONDS = 0.5
# Lag 0 this long with no backlog ever seen: the projector drained it before /metrics answered.
EMPTY_GRACE_SECONDS = 1.0
# A catch-up slower than this many entries/s is cut off (the scenario must stop by itself).
SLOWEST_RATE = 500.0


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
            # The lag sampled as often as the watch reads it (the service's default is 1 s).
            await ctx.service.launch(projector=True, lag_sample_seconds=CATCH_UP_POLL_SECONDS)
            marks["ready"] = time.monotonic() - t0

        nursery.start_soon(launch)
        watched = await _watch_catch_up(ctx, t0, marks, limit)
    lap("catch_up_s")
    figures = catch_up_figures(watched["samples"], marks["ready"])
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
    return [sum(share) for share in cut(split(int(total), visitors), per_process)]


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
    jobs = [VisitorJob(ctx.service.ws_url, tuple(share)) for share in cut(keys, per_process)]
    catch_up = Step("catch-up", {"backlog_msgs": cfg.backlog, "visitors": cfg.visitors})
    steady = Step("lag under load", {"offered_msgs_per_s": cfg.steady_msgs_per_s})
    async with ctx.fleet.session(f"{projector_visitors.__name__}:worker", jobs) as fleet:
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
