"""CPU and memory of process groups (the chat processes, Valkey, PostgreSQL, the load side)
over a measured window."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil
import trio

Groups = Callable[[], dict[str, list[psutil.Process]]]
SAMPLE_SECONDS = 0.5


@dataclass
class GroupUsage:
    cpu_percent: float  # 100 = one core busy for the whole window
    rss_mb_max: float
    processes: int


def _cpu_seconds(procs: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for proc in procs:
        try:
            times = proc.cpu_times()
            seconds[proc.pid] = times.user + times.system
        except psutil.Error:
            pass
    return seconds


def _rss_mb(procs: list[psutil.Process]) -> float:
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


@dataclass
class UsageWindow:
    """Open with `measure(groups)`; CPU is the delta of each process's CPU time over the
    window, RSS the highest sum seen by the sampler."""

    groups: Groups
    started: float = field(default_factory=time.monotonic)
    _cpu_start: dict[str, dict[int, float]] = field(default_factory=dict)
    _cpu_last: dict[str, dict[int, float]] = field(default_factory=dict)
    _rss_max: dict[str, float] = field(default_factory=dict)
    _count: dict[str, int] = field(default_factory=dict)

    def sample(self) -> None:
        for name, procs in self.groups().items():
            cpu = _cpu_seconds(procs)
            self._cpu_start.setdefault(name, {})
            for pid, seconds in cpu.items():
                self._cpu_start[name].setdefault(pid, seconds)
            self._cpu_last.setdefault(name, {}).update(cpu)
            self._rss_max[name] = max(self._rss_max.get(name, 0.0), _rss_mb(procs))
            self._count[name] = max(self._count.get(name, 0), len(procs))

    def result(self) -> dict[str, GroupUsage]:
        self.sample()
        elapsed = max(time.monotonic() - self.started, 1e-6)
        out = {}
        for name, last in self._cpu_last.items():
            start = self._cpu_start.get(name, {})
            used = sum(seconds - start.get(pid, seconds) for pid, seconds in last.items())
            out[name] = GroupUsage(
                cpu_percent=round(100 * used / elapsed, 1),
                rss_mb_max=round(self._rss_max.get(name, 0.0), 1),
                processes=self._count.get(name, 0),
            )
        return out


async def run_sampler(window: UsageWindow) -> None:
    """Sample until cancelled (a process that comes and goes still counts while it lived)."""
    while True:
        window.sample()
        await trio.sleep(SAMPLE_SECONDS)


def rss_bytes(procs: list[psutil.Process]) -> int:
    return int(_rss_mb(procs) * 2**20)
