"""What a run produces: per scenario, steps of repeated measurements, summarized, as JSON.

The JSON layout (bench/results/<run id>.json) is what the smoke test checks and what plots
read; `SCHEMA_VERSION` changes when it does.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psutil

from bench.stats import summarize

SCHEMA_VERSION = 1
RESULTS_DIR = Path(__file__).parent / "results"


@dataclass
class Step:
    """One point of a scenario (an offered load, a socket count...) measured `repeats` times."""

    label: str
    params: dict[str, Any]
    repeats: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "params": self.params,
            "repeats": self.repeats,
            "summary": summarize(self.repeats),
        }

    def median(self, metric: str) -> float | None:
        found = summarize(self.repeats).get(metric)
        return found["median"] if found else None


@dataclass
class ScenarioResult:
    name: str
    params: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    # The few figures a reader wants first (and the targets are judged on).
    headline: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "steps": [step.as_json() for step in self.steps],
            "headline": self.headline,
            "notes": self.notes,
        }


@dataclass
class Target:
    name: str
    goal: str
    measured: Any
    met: bool | None  # None: not measured in this run


def machine() -> dict[str, Any]:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def run_id(profile: str) -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + f"-{profile}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_json(path: Path, record: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return path
