"""The process's `Metrics` and their Prometheus text.

One process: its own registry. Several workers on one port (`chat serve --workers N`): the
parent gives them one fresh PROMETHEUS_MULTIPROC_DIR (`MULTIPROCESS_DIR_ENV`), each worker's
values live in memory-mapped files there, and a scrape that lands on any worker merges every
worker's files (prometheus_client.multiprocess): counters and histograms add up, gauges as each
series' `multiprocess_mode` says. A scrape reads memory (and, with workers, a few small files);
it never asks Valkey or PostgreSQL.
"""

from __future__ import annotations

import os
from collections import Counter

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from chat.metrics.series import ProjectorMeter, Series, SessionMeter

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST

# A `_created` sample beside every counter and histogram doubles the text for little use (the
# process start time says when counting began).
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


class Metrics:
    """Every series of the process and the meters its hot paths hold. Does no I/O."""

    def __init__(self) -> None:
        self.series = Series()
        self.visitor = SessionMeter(self.series, "visitor")
        self.agent = SessionMeter(self.series, "agent")
        self.projector = ProjectorMeter(self.series)
        # Figures the actors count as plain numbers, as last added to their counters
        # (chat/http/metrics.py refresh), by (series attribute, label).
        self.synced: Counter[tuple[str, str]] = Counter()

    def render(self) -> bytes:
        """The text exposition format; every worker's figures under `--workers`."""
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.series.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(merged)


def multiprocess_dir() -> str | None:
    """The folder the workers share their figures in, when this process is one of them."""
    return os.environ.get(MULTIPROCESS_DIR_ENV) or None
