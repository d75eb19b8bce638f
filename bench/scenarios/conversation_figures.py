"""The conversation scenario's figures: what a repeat's collected frames add up to (rates,
latencies, lost, duplicates, errors), when a step counts as held, and the headline."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench import api
from bench.record import Step
from bench.scenarios.conversation_load import Collected
from bench.stats import percentiles

HELD_P99_MS = 100.0
HELD_SHARE = 0.95  # of the offered load that must be acked for a step to count as held


def figures(
    collected: list[Collected], tenant: api.Tenant, offered: float, seconds: float
) -> dict[str, Any]:
    """One repeat's record from every load process's `Collected`."""
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


def held(step: Step) -> bool:
    """Median p99s within HELD_P99_MS, nothing lost or doubled in any repeat, and at least
    HELD_SHARE of the offered load acked."""

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


def headline(steps: list[Step]) -> dict[str, Any]:
    """The run's headline: the highest step held, its figures, and what was lost or doubled in
    any repeat of any step."""
    held_steps = [s for s in steps if held(s)]
    best = held_steps[-1] if held_steps else None
    return {
        "held_msgs_per_s": best.params["offered_msgs_per_s"] if best else None,
        "max_acked_msgs_per_s": max(
            (s.median("acked_msgs_per_s") or 0.0 for s in steps), default=0.0
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
        "lost": sum(int(r["lost_va"]) + int(r["lost_av"]) for s in steps for r in s.repeats),
        "duplicates": sum(int(r["duplicates"]) for s in steps for r in s.repeats),
    }
