"""Wall-clock time as the log keeps it: epoch milliseconds (stream ids and Lua scripts use it)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    """Milliseconds since the epoch, from this process's clock."""
    return time.time_ns() // 1_000_000


def utc_now() -> datetime:
    """Now as an aware UTC datetime, from the same clock as now_ms."""
    return datetime.fromtimestamp(now_ms() / 1000, UTC)
