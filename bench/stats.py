"""Percentiles of one measurement, and median and spread over repeats."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any


def percentiles(samples: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99/max (nearest rank) in the samples' unit; None when there are none."""
    if not samples:
        return {"p50": None, "p95": None, "p99": None, "max": None, "count": 0}
    ordered = sorted(samples)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))], 3)

    return {
        "p50": rank(0.50),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": round(ordered[-1], 3),
        "count": len(ordered),
    }


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested record as dotted names: {"ack_ms.p99": 12.0, ...}."""
    flat: dict[str, float] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "."))
        elif isinstance(value, bool):
            flat[name] = float(value)
        elif isinstance(value, int | float):
            flat[name] = float(value)
    return flat


def summarize(repeats: Iterable[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per numeric metric over the repeats: median, min, max, and spread = (max-min)/median."""
    columns: dict[str, list[float]] = {}
    for record in repeats:
        for name, value in flatten(record).items():
            columns.setdefault(name, []).append(value)
    summary = {}
    for name, values in columns.items():
        median = statistics.median(values)
        summary[name] = {
            "median": round(median, 3),
            "min": round(min(values), 3),
            "max": round(max(values), 3),
            "spread": round((max(values) - min(values)) / median, 3) if median else 0.0,
            "n": len(values),
        }
    return summary
