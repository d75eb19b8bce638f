"""Opening the Redis connection pool, with a deadline on every command."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import coredis
import coredis.exceptions
import trio
from coredis.retry import RetryPolicy

R = TypeVar("R")

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


# A command whose connection was lost is retried on a fresh one, as coredis does by default (a
# restarted server leaves stale connections behind), at most RETRIES times. Only if it failed
# fast: a lost connection shows at once, while an attempt slower than this met a slow or hung
# server (its handshake timed out, say), and retrying would multiply the command timeout.
RETRIES = 2
RETRY_DELAY_SECONDS = 0.01
FAST_FAILURE_SECONDS = 0.5


class RetryLostConnections(RetryPolicy):
    """coredis' retry policy for this client: see RETRIES. A timeout is never retried."""

    def __init__(self) -> None:
        super().__init__((coredis.exceptions.ConnectionError,), RETRIES)

    def delay(self, attempt_number: int) -> float:
        return RETRY_DELAY_SECONDS

    async def call_with_retries(
        self,
        func: Callable[..., Awaitable[R]],
        before_hook: Callable[..., Awaitable[Any] | None] | None = None,
        failure_hook: Any = None,  # coredis' telemetry hook; not used here
    ) -> R:
        for attempt in range(RETRIES + 1):
            started = trio.current_time()
            try:
                if before_hook is not None and (pending := before_hook()) is not None:
                    await pending
                return await func()
            except coredis.exceptions.ConnectionError:
                slow = trio.current_time() - started > FAST_FAILURE_SECONDS
                if slow or attempt == RETRIES:
                    raise
            await trio.sleep(self.delay(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")


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
        retry_policy=RetryLostConnections(),
    )
    async with client:
        yield client
