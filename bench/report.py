"""What the engineer watches while a run goes: a rich table of finished steps under progress
bars for the step in flight."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType

import trio
from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

TICK_SECONDS = 0.25


class Reporter:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()
        self.table = Table(title="bench", expand=False, show_lines=False)
        for column in ("scenario", "step", escape("figures: median of repeats [min-max]")):
            self.table.add_column(column, overflow="fold")
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f}"),
            TimeElapsedColumn(),
            console=self.console,
        )
        self._live = Live(
            Group(self.table, self.progress),
            console=self.console,
            refresh_per_second=4,
            transient=False,
        )

    def __enter__(self) -> Reporter:
        self._live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._live.__exit__(kind, value, tb)

    def row(self, scenario: str, step: str, figures: dict[str, str]) -> None:
        self.table.add_row(
            escape(scenario),
            escape(step),
            escape("  ".join(f"{k} {v}" for k, v in figures.items())),
        )

    def note(self, text: str) -> None:
        self.console.log(text)

    @contextmanager
    def phase(self, description: str, total: float = 1) -> Iterator[PhaseBar]:
        """A bar the caller advances (sockets connected, entries projected...)."""
        task = self.progress.add_task(description, total=total)
        try:
            yield PhaseBar(self.progress, task)
        finally:
            self.progress.remove_task(task)

    @asynccontextmanager
    async def timed(self, description: str, seconds: float) -> AsyncIterator[None]:
        """A bar that fills over `seconds` of wall time while the body runs."""
        task = self.progress.add_task(description, total=seconds)
        started = time.monotonic()

        async def tick() -> None:
            while True:
                self.progress.update(task, completed=min(seconds, time.monotonic() - started))
                await trio.sleep(TICK_SECONDS)

        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(tick)
                yield
                nursery.cancel_scope.cancel()
        finally:
            self.progress.remove_task(task)


class PhaseBar:
    def __init__(self, progress: Progress, task: object) -> None:
        self._progress = progress
        self._task = task

    def update(self, completed: float, total: float | None = None) -> None:
        self._progress.update(self._task, completed=completed, total=total)  # type: ignore[arg-type]


def spread(summary: dict[str, dict[str, float]], metric: str, unit: str = "") -> str:
    """'12.3 ms [11.0-14.2]' for a summarized metric, '-' when absent."""
    found = summary.get(metric)
    if not found:
        return "-"
    return f"{found['median']:g}{unit} [{found['min']:g}-{found['max']:g}]"
