"""Opening the Redis connection pool, with a deadline on every command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import coredis
import coredis.exceptions
from coredis.retry import ConstantRetryPolicy

Redis = coredis.Redis[str]

# Each XREAD that blocks holds one connection; requests share the rest.
MAX_CONNECTIONS = 64
CONNECT_TIMEOUT_SECONDS = 5.0
DEFAULT_COMMAND_TIMEOUT_SECONDS = 5.0
# The longest BLOCK of any XREAD/XREADGROUP (chat/streams/reader.py and control.py: 2 s; the
# projector's: 1 s). coredis has one reply timeout per connection, blocking commands included,
# so the command timeout must exceed the longest block by a margin for the reply to travel;
# tests/streams/test_client.py holds the readers to it.
LONGEST_BLOCK_SECONDS = 2.0
BLOCK_MARGIN_SECONDS = 0.5
MIN_COMMAND_TIMEOUT_SECONDS = LONGEST_BLOCK_SECONDS + BLOCK_MARGIN_SECONDS
# A connection lost mid-command is retried at once on a fresh one (coredis' default). A command
# that timed out is not: the server is slow or hung, and a retry would double the wait.
RETRY_POLICY = ConstantRetryPolicy((coredis.exceptions.ConnectionError,), retries=2, delay=0.01)


@asynccontextmanager
async def open_redis(
    url: str, *, command_timeout: float = DEFAULT_COMMAND_TIMEOUT_SECONDS
) -> AsyncIterator[Redis]:
    """A connection pool to `url`, closed on exit.

    Every command's reply is awaited at most `command_timeout` seconds (coredis' per-connection
    `stream_timeout`, which also bounds the HELLO of a new connection), and so is the wait for a
    free pooled connection. Past it the command raises the builtin `TimeoutError`: the command
    may or may not have run on the server (see each `do_*` of chat/streams/log.py for what that
    means). Raises ValueError when `command_timeout` leaves no room for the blocking reads.
    """
    if command_timeout < MIN_COMMAND_TIMEOUT_SECONDS:
        raise ValueError(
            f"the Redis command timeout must be at least {MIN_COMMAND_TIMEOUT_SECONDS} s"
            f" (the blocking reads wait {LONGEST_BLOCK_SECONDS} s), not {command_timeout}"
        )
    client: Redis = coredis.Redis.from_url(
        url,
        decode_responses=True,
        max_connections=MAX_CONNECTIONS,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        stream_timeout=command_timeout,
        pool_timeout=command_timeout,
        retry_policy=RETRY_POLICY,
    )
    async with client:
        yield client
