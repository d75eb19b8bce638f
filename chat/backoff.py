"""Backing off after a failure of Redis or PostgreSQL, so a blip is retried and an outage is not
hammered. Actors keep one Backoff each and reset it after a success."""

from __future__ import annotations

import logging

import trio

DEFAULT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)


class Backoff:
    def __init__(self, what: str, delays: tuple[float, ...] = DEFAULT_DELAYS) -> None:
        self.what = what
        self._delays = delays
        self._failures = 0

    def reset(self) -> None:
        self._failures = 0

    async def wait(self, logger: logging.Logger, exc: BaseException) -> None:
        """Log the failure and sleep for the next delay (the last delay repeats)."""
        delay = self._delays[min(self._failures, len(self._delays) - 1)]
        self._failures += 1
        logger.warning("%s: %r; retrying in %.1fs", self.what, exc, delay)
        await trio.sleep(delay)
