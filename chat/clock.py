"""Wall-clock time as the log keeps it: epoch milliseconds (stream ids and Lua scripts use it)."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Milliseconds since the epoch, from this process's clock."""
    return time.time_ns() // 1_000_000
