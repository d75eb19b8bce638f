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

The visitors live in the load processes (storm_visitors.py); the agents (one per space) in this
process (storm_agents.py); the proof's checks in storm_proof.py. This module is the coordinator:
the repeats of both variants, and what they record and report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import trio

from bench import fleet
from bench.api import Tenant, make_tenant
from bench.record import ScenarioResult, Step
from bench.report import spread
from bench.scenarios import Context, storm_proof, storm_visitors
from bench.scenarios.storm_agents import AgentLine
from bench.scenarios.storm_visitors import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, StormJob
from bench.stats import percentiles, summarize

NAME = "storm"


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
        return storm_proof.merge(await self.session.ask(("verify", expected)))


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
        **storm_proof.figures(verified, sum(len(ids) for ids in expected.values())),
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
        **storm_proof.figures(verified, len(expected)),
    }


def _jobs(ctx: Context, tenant: Tenant) -> list[StormJob]:
    spaces = tenant.spaces
    visitors = [
        (i % len(spaces), spaces[i % len(spaces)].widget_key)
        for i in range(ctx.profile.storm.visitors)
    ]
    shares = fleet.cut(visitors, fleet.split(len(visitors), ctx.fleet.size))
    return [StormJob(ctx.service.ws_url, tuple(share)) for share in shares]


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
        async with ctx.fleet.session(
            f"{storm_visitors.__name__}:worker", _jobs(ctx, tenant)
        ) as session:
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
