"""How a long-running loop is doing, for /readyz: when it last went round, and since when it
has been failing. Kept by the loop's owner (Services), written only by the loop. No I/O."""

from __future__ import annotations

from dataclasses import dataclass

import trio


@dataclass
class LoopHealth:
    # trio.current_time() of the first error of the current run of errors; None while healthy.
    failing_since: float | None = None
    # trio.current_time() of the last pass through the loop, successful or not.
    last_iteration: float | None = None

    def succeeded(self) -> None:
        self.failing_since = None
        self.last_iteration = trio.current_time()

    def failed(self) -> None:
        now = trio.current_time()
        if self.failing_since is None:
            self.failing_since = now
        self.last_iteration = now
