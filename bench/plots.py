"""Plots of a run (PNG, matplotlib's Agg backend), read from the run's JSON layout.

Each plot needs one scenario; a plot whose scenario did not run (or measured nothing) is
skipped. Titles carry the run id, the profile and the machine's CPU count, so a PNG shown
alone still says where it came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

LATENCY_METRICS = (
    ("ack_ms.p50", "ack p50"),
    ("ack_ms.p99", "ack p99"),
    ("e2e_va_ms.p50", "visitor->agent p50"),
    ("e2e_va_ms.p99", "visitor->agent p99"),
    ("e2e_av_ms.p99", "agent->visitor p99"),
)
THROUGHPUT_METRICS = (
    ("acked_msgs_per_s", "acked"),
    ("delivered_va_msgs_per_s", "delivered to agents"),
)
LATENCY_BUDGET_MS = 100.0
DPI = 110


def write_plots(output: dict[str, Any], folder: Path) -> list[Path]:
    """Write every plot the run has data for into `folder`; returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    folder.mkdir(parents=True, exist_ok=True)
    scenarios = output.get("scenarios", {})
    suffix = _suffix(output)
    written: list[Path] = []
    conversation = scenarios.get("conversation")
    if conversation and _ladder(conversation):
        written.append(_conversation_latency(conversation, suffix, folder))
        echo = (scenarios.get("ceilings") or {}).get("headline", {}).get("echo_msgs_per_s")
        written.append(_conversation_throughput(conversation, echo, suffix, folder))
    projector = scenarios.get("projector")
    if projector and _catch_up_samples(projector):
        written.append(_projector_catch_up(projector, suffix, folder))
    if scenarios.get("idle", {}).get("headline") or scenarios.get("storm", {}).get("headline"):
        written.append(_storm_idle(scenarios.get("idle"), scenarios.get("storm"), suffix, folder))
    return written


def _suffix(output: dict[str, Any]) -> str:
    cpus = (output.get("machine") or {}).get("cpus", "?")
    return f"{output.get('run_id', '?')} ({output.get('profile', '?')}, {cpus} cpus)"


def _ladder(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation steps that have an offered load, in offered order."""
    steps = [
        s for s in conversation.get("steps", []) if "offered_msgs_per_s" in s.get("params", {})
    ]
    return sorted(steps, key=lambda s: float(s["params"]["offered_msgs_per_s"]))


def _series(steps: list[dict[str, Any]], metric: str) -> tuple[list[float], list[float], Any]:
    """x (offered), the medians, and min-max error bars of `metric` over the repeats."""
    xs, ys, low, high = [], [], [], []
    for step in steps:
        found = step.get("summary", {}).get(metric)
        if not found or found.get("median") is None:
            continue
        xs.append(float(step["params"]["offered_msgs_per_s"]))
        ys.append(found["median"])
        low.append(found["median"] - found.get("min", found["median"]))
        high.append(found.get("max", found["median"]) - found["median"])
    return xs, ys, [low, high]


def _conversation_latency(conversation: dict[str, Any], suffix: str, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    steps = _ladder(conversation)
    fig, ax = plt.subplots(figsize=(8, 5))
    highest = 0.0
    for metric, label in LATENCY_METRICS:
        xs, ys, bars = _series(steps, metric)
        if xs:
            ax.errorbar(xs, ys, yerr=bars, marker="o", capsize=3, label=label)
            highest = max(highest, *ys)
    ax.axhline(LATENCY_BUDGET_MS, linestyle="--", color="grey", label="100 ms")
    positive = [y for metric, _ in LATENCY_METRICS for y in _series(steps, metric)[1] if y > 0]
    if positive and max(highest, LATENCY_BUDGET_MS) / min(positive) > 50:
        ax.set_yscale("log")  # p50 of a few ms and p99 past 100 ms on one axis
    ax.set_xlabel("offered visitor msgs/s")
    ax.set_ylabel("latency (ms), median of repeats, min-max bars")
    ax.set_title(f"conversation latency vs offered load\n{suffix}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, folder / "conversation_latency.png")


def _conversation_throughput(
    conversation: dict[str, Any], echo: float | None, suffix: str, folder: Path
) -> Path:
    import matplotlib.pyplot as plt

    steps = _ladder(conversation)
    fig, ax = plt.subplots(figsize=(8, 5))
    offered = [float(s["params"]["offered_msgs_per_s"]) for s in steps]
    ax.plot(offered, offered, linestyle=":", color="grey", label="offered (identity)")
    for metric, label in THROUGHPUT_METRICS:
        xs, ys, bars = _series(steps, metric)
        if xs:
            ax.errorbar(xs, ys, yerr=bars, marker="o", capsize=3, label=label)
    if echo:
        ax.axhline(echo, linestyle="--", color="tab:red", label=f"echo ceiling {echo:,.0f}/s")
    held = conversation.get("headline", {}).get("held_msgs_per_s")
    if held:
        ax.axvline(held, linestyle="-.", color="tab:green", alpha=0.6, label=f"held {held}")
    ax.set_xlabel("offered visitor msgs/s")
    ax.set_ylabel("msgs/s, median of repeats, min-max bars")
    ax.set_title(f"conversation throughput vs offered load\n{suffix}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, folder / "conversation_throughput.png")


def _catch_up_samples(projector: dict[str, Any]) -> list[list[list[float]]]:
    found = []
    for step in projector.get("steps", []):
        for repeat in step.get("repeats", []):
            if repeat.get("samples"):
                found.append(repeat["samples"])
    return found


def _projector_catch_up(projector: dict[str, Any], suffix: str, folder: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for index, samples in enumerate(_catch_up_samples(projector)):
        # From the first sample showing the backlog: the repeats' restarts take varying time.
        start = next((t for t, entries in samples if entries), samples[0][0])
        ts = [t - start for t, _ in samples if t >= start]
        lags = [entries for t, entries in samples if t >= start]
        ax.plot(ts, lags, marker=".", label=f"repeat {index + 1}")
    headline = projector.get("headline", {})
    rate = headline.get("catch_up_rows_per_s")
    rate_text = f"{rate:,.0f} rows/s median" if rate else "no rate"
    ax.set_xlabel("seconds since the backlog was first seen")
    ax.set_ylabel("projector lag (stream entries)")
    ax.set_title(
        f"projector catch-up of {headline.get('backlog', '?')} msgs: {rate_text}\n{suffix}",
        fontsize=10,
    )
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, folder / "projector_catch_up.png")


def _storm_idle(
    idle: dict[str, Any] | None, storm: dict[str, Any] | None, suffix: str, folder: Path
) -> Path:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    idle_head = (idle or {}).get("headline", {})
    if idle_head:
        names = ["KiB/socket", "connect p99 ms", "idle cpu %"]
        values = [
            idle_head.get("rss_kb_per_socket") or 0,
            idle_head.get("connect_ms_p99") or 0,
            idle_head.get("idle_cpu_percent") or 0,
        ]
        axes[0].bar(names, values, color="tab:blue")
        axes[0].set_title(f"idle: {idle_head.get('sockets', '?')} sockets", fontsize=9)
    else:
        axes[0].set_axis_off()
    storm_head = (storm or {}).get("headline", {})
    if storm_head:
        kinds = [k for k in ("drop", "restart") if isinstance(storm_head.get(k), dict)]
        seconds = [storm_head[k].get("resume_seconds") or 0 for k in kinds]
        axes[1].bar(kinds, seconds, color="tab:orange")
        axes[1].axhline(10, linestyle="--", color="grey")
        axes[1].set_ylabel("seconds to resume all")
        axes[1].set_title(f"storm: {storm_head.get('visitors', '?')} visitors", fontsize=9)
    else:
        axes[1].set_axis_off()
    fig.suptitle(f"idle and storm\n{suffix}", fontsize=10)
    return _save(fig, folder / "idle_storm.png")


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
