"""The connection pool and the one way to use it from trio."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import psycopg
import trio
from psycopg_pool import ConnectionPool

T = TypeVar("T")

POOL_OPEN_TIMEOUT_SECONDS = 30.0
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema.sql"


class Database:
    """Runs blocking psycopg work on worker threads, at most one per pooled connection."""

    def __init__(self, pool: ConnectionPool, size: int) -> None:
        self._pool = pool
        self._limiter = trio.CapacityLimiter(size)

    async def run(self, work: Callable[[psycopg.Connection], T]) -> T:
        """Run `work(conn)` in one transaction. Not abandoned on cancel: a write completes."""
        return await trio.to_thread.run_sync(self._in_transaction, work, limiter=self._limiter)

    def _in_transaction(self, work: Callable[[psycopg.Connection], T]) -> T:
        with self._pool.connection() as conn, conn.transaction():
            return work(conn)


@asynccontextmanager
async def open_database(url: str, size: int) -> AsyncIterator[Database]:
    pool = ConnectionPool(url, min_size=1, max_size=size, open=False, kwargs={"autocommit": True})
    await trio.to_thread.run_sync(lambda: pool.open(wait=True, timeout=POOL_OPEN_TIMEOUT_SECONDS))
    try:
        yield Database(pool, size)
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(pool.close)


def apply_schema(url: str) -> None:
    """Create what is missing; safe to run at every start and from several processes."""
    with psycopg.connect(url, autocommit=True) as conn:
        # Concurrent `CREATE ... IF NOT EXISTS` can still collide; an advisory lock serialises.
        conn.execute("SELECT pg_advisory_lock(715517)")
        try:
            conn.execute(SCHEMA_PATH.read_text())
        finally:
            conn.execute("SELECT pg_advisory_unlock(715517)")
