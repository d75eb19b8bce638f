"""The issue's targets, judged on a run's headlines.

A target is met only when measured at its own size: a smaller run (the quick or standard
profile) reports its figure with met=None, as does a scenario that did not run.
"""

from __future__ import annotations

from typing import Any

from bench.record import ScenarioResult, Target

CONVERSATION_MSGS_PER_S = 2000
IDLE_KB_PER_SOCKET = 20.0
IDLE_SOCKETS = 10_000
STORM_VISITORS = 2000
STORM_RESUME_SECONDS = 10.0
PROJECTOR_ROWS_PER_S = 20_000
PROJECTOR_MIN_BACKLOG = 10_000  # below this the catch-up lasts too short to time at 50 ms


def judge(results: dict[str, ScenarioResult]) -> list[Target]:
    """One Target per issue target, in the issue's order."""
    return [
        _conversation(results.get("conversation")),
        _idle(results.get("idle")),
        _storm(results.get("storm")),
        _projector(results.get("projector")),
    ]


def _headline(result: ScenarioResult | None) -> dict[str, Any]:
    return result.headline if result is not None else {}


def _conversation(result: ScenarioResult | None) -> Target:
    goal = (
        f">= {CONVERSATION_MSGS_PER_S} visitor msgs/s held (2 agents per space; "
        "p99 <= 100 ms, zero loss)"
    )
    headline = _headline(result)
    if not headline:
        return Target("conversation", goal, None, None)
    held = headline.get("held_msgs_per_s")
    top = headline.get("max_acked_msgs_per_s")
    measured = f"held {held if held is not None else 'none'} msgs/s (max acked {top})"
    if held is not None and held >= CONVERSATION_MSGS_PER_S:
        return Target("conversation", goal, measured, True)
    # Not held: a failure only when the run offered the target's load.
    ladder = (result.params.get("ladder") if result else None) or []
    offered_enough = bool(ladder) and max(ladder) >= CONVERSATION_MSGS_PER_S
    if not offered_enough:
        measured += f", offered at most {max(ladder) if ladder else '?'} msgs/s"
    return Target("conversation", goal, measured, False if offered_enough else None)


def _idle(result: ScenarioResult | None) -> Target:
    goal = (
        f"<= {IDLE_KB_PER_SOCKET:g} KiB RSS per idle socket at {IDLE_SOCKETS:,} sockets "
        "in one process"
    )
    headline = _headline(result)
    kb, sockets = headline.get("rss_kb_per_socket"), headline.get("sockets")
    if kb is None or sockets is None:
        return Target("idle", goal, None, None)
    measured = f"{kb} KiB per socket, measured at {sockets} sockets"
    workers = headline.get("workers")
    if workers is not None:
        measured += f" over {workers} worker(s)"
    if headline.get("failed"):
        measured += f", {headline['failed']} failed"
    if sockets < IDLE_SOCKETS or (workers is not None and workers != 1):
        return Target("idle", goal, measured, None)  # smaller, or not per one process
    return Target("idle", goal, measured, kb <= IDLE_KB_PER_SOCKET and not headline.get("failed"))


def _storm(result: ScenarioResult | None) -> Target:
    goal = (
        f"{STORM_VISITORS:,} visitors resumed in <= {STORM_RESUME_SECONDS:g} s after a drop, "
        "no gap, no double"
    )
    headline = _headline(result)
    visitors, drop = headline.get("visitors"), headline.get("drop") or {}
    seconds = drop.get("resume_seconds")
    if visitors is None or seconds is None:
        return Target("storm", goal, None, None)
    gaps, doubles = drop.get("gaps", 0) or 0, drop.get("doubles", 0) or 0
    measured = f"drop: {seconds} s, {gaps} gaps, {doubles} doubles at {visitors} visitors"
    restart = headline.get("restart") or {}
    if restart.get("resume_seconds") is not None:
        measured += (
            f"; restart: {restart['resume_seconds']} s "
            f"({restart.get('resume_from_stop_seconds')} s from the stop), "
            f"{restart.get('gaps', 0)} gaps, {restart.get('doubles', 0)} doubles"
        )
    clean = gaps == 0 and doubles == 0
    if visitors < STORM_VISITORS:
        # A smaller storm cannot show the target met, but a gap or a double fails it anyway.
        return Target("storm", goal, measured, None if clean else False)
    return Target("storm", goal, measured, clean and seconds <= STORM_RESUME_SECONDS)


def _projector(result: ScenarioResult | None) -> Target:
    goal = f"catch-up >= {PROJECTOR_ROWS_PER_S:,} rows/s"
    headline = _headline(result)
    rate, backlog = headline.get("catch_up_rows_per_s"), headline.get("backlog")
    if rate is None or backlog is None:
        return Target("projector", goal, None, None)
    measured = f"{rate:g} rows/s, measured on a {backlog}-message backlog"
    if backlog < PROJECTOR_MIN_BACKLOG:
        return Target("projector", goal, measured, None)
    return Target("projector", goal, measured, rate >= PROJECTOR_ROWS_PER_S)
