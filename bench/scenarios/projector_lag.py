"""The projector's lag as /metrics shows it (space-stream entries, not messages), and what a
catch-up's samples of it say (see projector.py for the scenario)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import trio

from bench import api

# /metrics read this often from the restart while a backlog drains; also the shortest span a
# catch-up rate is computed over (the peak and the zero fell between two readings).
CATCH_UP_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Lag:
    t: float  # seconds since the restart began
    entries: int
    seconds: float
    spaces: int  # spaces the answering process's projector knows


def parse_lag(metrics: str) -> tuple[int, float, int]:
    """(entries, oldest seconds, spaces listed) from /metrics text."""
    entries, seconds = api.projector_lag(metrics)
    spaces = next(
        (
            int(float(line.rsplit(" ", 1)[1]))
            for line in metrics.splitlines()
            if line.startswith("chat_projector_spaces ")
        ),
        # A version before issue 18: one lag line per space.
        sum(1 for line in metrics.splitlines() if line.startswith("chat_projector_lag_entries{")),
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


def catch_up_figures(samples: list[Lag], ready: float) -> dict[str, Any]:
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
