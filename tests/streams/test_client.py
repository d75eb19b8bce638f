"""The Redis client's deadlines: the command timeout leaves room for every blocking read."""

from __future__ import annotations

import pytest
import trio

from chat.actors import projector
from chat.config import Settings
from chat.streams import control, reader
from chat.streams.client import (
    LONGEST_BLOCK_SECONDS,
    MIN_COMMAND_TIMEOUT_SECONDS,
    open_redis,
)


def test_every_blocking_read_fits_under_the_command_timeout() -> None:
    blocks_ms = [reader.READ_BLOCK_MS, control.CONTROL_BLOCK_MS, projector.READ_BLOCK_MS]
    assert max(blocks_ms) / 1000 <= LONGEST_BLOCK_SECONDS < MIN_COMMAND_TIMEOUT_SECONDS
    assert Settings.model_fields["redis_command_timeout_seconds"].default >= (
        MIN_COMMAND_TIMEOUT_SECONDS
    )


async def test_a_timeout_shorter_than_the_blocking_reads_is_refused(settings: Settings) -> None:
    with trio.fail_after(10), pytest.raises(ValueError, match="at least"):
        async with open_redis(settings.redis_url, command_timeout=LONGEST_BLOCK_SECONDS):
            pass


async def test_a_blocking_read_outlasts_no_command_timeout(settings: Settings) -> None:
    """The longest BLOCK, on an empty stream, returns empty rather than timing out."""
    key = f"{settings.key_prefix}:empty"
    with trio.fail_after(10):
        async with open_redis(
            settings.redis_url, command_timeout=MIN_COMMAND_TIMEOUT_SECONDS
        ) as redis:
            await redis.xadd(key, {"f": "v"})
            reply = await redis.xread({key: "$"}, count=1, block=int(LONGEST_BLOCK_SECONDS * 1000))
            assert not reply
