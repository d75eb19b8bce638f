"""Opening the Redis connection pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import coredis

Redis = coredis.Redis[str]

# Each XREAD that blocks holds one connection; requests share the rest.
MAX_CONNECTIONS = 64
CONNECT_TIMEOUT_SECONDS = 5.0


@asynccontextmanager
async def open_redis(url: str) -> AsyncIterator[Redis]:
    """A connection pool to `url`, closed on exit."""
    client: Redis = coredis.Redis.from_url(
        url,
        decode_responses=True,
        max_connections=MAX_CONNECTIONS,
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
    )
    async with client:
        yield client
