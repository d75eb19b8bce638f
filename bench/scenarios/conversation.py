"""Conversation: S spaces x A agents subscribed, V visitors sending with jitter, agents replying
to a share of them; a ladder of offered loads, each step repeated.

Per repeat: offered vs acked vs delivered msgs/s both ways, ack and end-to-end latency, lost
(acked but not delivered to every agent of the space, or an agent's acked reply not delivered to
its visitor), duplicates, errors, and the CPU and RSS of the server, Valkey, PostgreSQL and the
load processes. The highest step held (p99 <= 100 ms for acks and deliveries, nothing lost, at
least 95% of the offered load acked) is the headline.

The clients live in the load processes (conversation_load.py); what their replies add up to, and
when a step holds, is conversation_figures.py. This module is the coordinator: the ladder, its
repeats, the usage and lag sampled meanwhile, and the report.
"""

from __future__ import annotations

import time
from typing import Any

import trio

from bench import api
from bench.fleet import cut, split
from bench.record import ScenarioResult, Step
from bench.report import spread
from bench.scenarios import Context, conversation_figures, conversation_load
from bench.scenarios.conversation_load import Job
from bench.usage import UsageWindow, run_sampler

START_DELAY_SECONDS = 0.5  # every process starts sending at the same wall-clock moment
WARM_UP_SECONDS = 3.0


def _jobs(ctx: Context, tenant: api.Tenant) -> list[Job]:
    params = ctx.profile.conversation
    processes = ctx.fleet.size
    visitors = [
        (tenant.spaces[i % len(tenant.spaces)].id, tenant.spaces[i % len(tenant.spaces)].widget_key)
        for i in range(params.visitors)
    ]
    jobs = []
    for process, share in enumerate(cut(visitors, split(len(visitors), processes))):
        agents = [
            (i, a.token, a.space_ids[0], i % params.agents_per_space == 0)
            for i, a in enumerate(tenant.agents)
            if i % processes == process
        ]
        jobs.append(Job(ctx.service.ws_url, share, agents, params.reply_share, process))
    return jobs


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

    async with ctx.fleet.session(f"{conversation_load.__name__}:worker", _jobs(ctx, tenant)) as s:
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
                figures = conversation_figures.figures(
                    replies, tenant, offered, params.step_seconds
                )
                figures.update({name: vars(u) for name, u in usage.items()})
                figures["projector_lag_s_max"] = lag.get("seconds", 0.0)
                figures["projector_lag_entries_max"] = lag.get("entries", 0)
                step.repeats.append(figures)
            result.steps.append(step)
            summary = step.as_json()["summary"]
            held = conversation_figures.held(step)
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
    result.headline = conversation_figures.headline(result.steps)
    return result
