"""Backoff delays grow to a ceiling and start over after a success (under trio's fake clock)."""

from __future__ import annotations

import logging

import trio
import trio.testing

from chat.backoff import Backoff

logger = logging.getLogger("test")


async def test_delays_grow_cap_and_reset(autojump_clock: trio.testing.MockClock) -> None:
    backoff = Backoff("test", (0.1, 0.5, 2.0))
    waited = []
    for _ in range(5):
        start = trio.current_time()
        await backoff.wait(logger, OSError("down"))
        waited.append(round(trio.current_time() - start, 3))
    assert waited == [0.1, 0.5, 2.0, 2.0, 2.0]
    backoff.reset()
    start = trio.current_time()
    await backoff.wait(logger, OSError("down again"))
    assert round(trio.current_time() - start, 3) == 0.1
