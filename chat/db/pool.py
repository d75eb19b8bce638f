"""The connection pool and the one way to use it from trio, with a deadline on every call.

See structures.md, "Deadlines and cancellation".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar, cast

import psycopg
import psycopg.errors
import trio
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from chat.db.breaker import CircuitBreaker, SlotWaitTimeout

T = TypeVar("T")

logger = logging.getLogger(__name__)

POOL_OPEN_TIMEOUT_SECONDS = 30.0
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 5.0
DEFAULT_POOL_WAIT_SECONDS = 5.0
# A cancelled `run` asks PostgreSQL to cancel its query: a short extra connection to the server
# (a few ms when healthy). A server that does not take it within this long is not waited on.
CANCEL_REQUEST_TIMEOUT_SECONDS = 1.0


class _Slots:
    """The CapacityLimiter protocol of trio.to_thread, with a deadline on the wait for a slot.

    One slot per pooled connection, so a worker thread never waits inside psycopg_pool; the
    waiting happens here, in trio, where it can be cancelled and bounded.
    """

    def __init__(self, total: int, wait_seconds: float) -> None:
        self._limiter = trio.CapacityLimiter(total)
        self._wait_seconds = wait_seconds

    async def acquire_on_behalf_of(self, borrower: object) -> None:
        with trio.move_on_after(self._wait_seconds):
            await self._limiter.acquire_on_behalf_of(borrower)
            return
        raise SlotWaitTimeout(f"no database connection was free within {self._wait_seconds} s")

    def release_on_behalf_of(self, borrower: object) -> None:
        self._limiter.release_on_behalf_of(borrower)

    def statistics(self) -> trio.CapacityLimiterStatistics:
        return self._limiter.statistics()


class _Running:
    """The connection one `run` is using, so that the trio side can cancel its query.

    The lock orders a cancel against the worker: while a cancel request is on its way, the
    worker cannot hand the connection back to the pool, so the request can never reach a query
    another `run` started on the same connection.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: psycopg.Connection | None = None
        self._cancelled = False

    def start(self, conn: psycopg.Connection) -> None:
        """In the worker, before `work` runs: raises QueryCanceled if the caller is gone."""
        with self._lock:
            if self._cancelled:
                raise psycopg.errors.QueryCanceled("cancelled before it started")
            self._conn = conn

    def finish(self) -> None:
        """In the worker, before the connection goes back to the pool."""
        with self._lock:
            self._conn = None

    def mark_cancelled(self) -> bool:
        """The caller is gone: `work` must not start. True if it may be running already."""
        with self._lock:
            self._cancelled = True
            return self._conn is not None

    def cancel(self) -> None:
        """From another thread: cancel the statement running now, if any, server-side."""
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.cancel_safe(timeout=CANCEL_REQUEST_TIMEOUT_SECONDS)
            except psycopg.Error as exc:
                # The statement timeout still ends the query; nothing else to do here.
                logger.warning("could not cancel a database query: %r", exc)


class Database:
    """Runs blocking psycopg work on worker threads, at most one per pooled connection."""

    def __init__(self, pool: ConnectionPool, size: int, *, pool_wait_seconds: float) -> None:
        self._pool = pool
        self._slots = _Slots(size, pool_wait_seconds)
        self.breaker = CircuitBreaker()

    def use(self) -> trio.CapacityLimiterStatistics:
        """Connections in use (`borrowed_tokens`) of `total_tokens`, and the calls waiting for
        one (`tasks_waiting`): the pool's slots, for /metrics."""
        return self._slots.statistics()

    async def run(self, work: Callable[[psycopg.Connection], T]) -> T:
        """Run `work(conn)` on a worker thread, in one transaction, and return its result.

        Deadlines: the wait for a pooled connection is bounded (`db_pool_wait_seconds`, then
        `psycopg_pool.PoolTimeout`), and so is each statement (`db_statement_timeout_seconds`,
        then `psycopg.errors.QueryCanceled`); both are `psycopg.OperationalError`, which
        handlers answer `unavailable`. The transaction is then rolled back. After a few
        consecutive connection failures the circuit breaker fails calls at once, with
        `DatabaseUnavailableError` (an OperationalError too), until a probe call gets through
        (chat/db/breaker.py).

        Cancellation: if the calling task is cancelled while waiting for a connection, nothing
        ran. If it is cancelled while `work` runs, the running statement is cancelled
        server-side, the transaction rolls back unless it had already committed, and
        `trio.Cancelled` is raised without waiting for the worker to get there (it does within
        milliseconds; its connection stays out of the pool until then). So a cancelled write may
        or may not be stored: as after a timeout, the caller cannot tell, and a write that must
        not be lost is retried idempotently (everything the projector writes is keyed by entry
        id).
        """
        self.breaker.before_call()
        running = _Running()
        try:
            result = await trio.to_thread.run_sync(
                self._in_transaction,
                work,
                running,
                # trio documents "a CapacityLimiter-like object"; its annotation is the class.
                limiter=cast(trio.CapacityLimiter, self._slots),
                abandon_on_cancel=True,
            )
        except BaseException as exc:
            self.breaker.ended_with(exc)
            if isinstance(exc, trio.Cancelled):
                await self._cancel_running(running)
            raise
        self.breaker.succeeded()
        return result

    @staticmethod
    async def _cancel_running(running: _Running) -> None:
        if running.mark_cancelled():
            # Shielded, or the request would never go out; bounded (the request's own
            # timeout, plus a moment for the worker to let go of the lock).
            with trio.move_on_after(2 * CANCEL_REQUEST_TIMEOUT_SECONDS) as scope:
                scope.shield = True
                await trio.to_thread.run_sync(running.cancel, abandon_on_cancel=True)

    def _in_transaction(self, work: Callable[[psycopg.Connection], T], running: _Running) -> T:
        with self._pool.connection() as conn:
            running.start(conn)
            try:
                with conn.transaction():
                    return work(conn)
            finally:
                running.finish()


@asynccontextmanager
async def open_database(
    url: str,
    size: int,
    *,
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT_SECONDS,
    pool_wait: float = DEFAULT_POOL_WAIT_SECONDS,
) -> AsyncIterator[Database]:
    """A pool of up to `size` connections to `url`, closed on exit.

    Every pooled connection runs with `statement_timeout` (seconds; lock waits count), so a
    hung or locked-up server answers an error instead of holding a worker thread; `pool_wait`
    bounds the wait for a free connection (see `Database.run`).
    """
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=size,
        open=False,
        timeout=pool_wait,
        kwargs={"autocommit": True, "options": _with_statement_timeout(url, statement_timeout)},
    )
    await trio.to_thread.run_sync(lambda: pool.open(wait=True, timeout=POOL_OPEN_TIMEOUT_SECONDS))
    try:
        yield Database(pool, size, pool_wait_seconds=pool_wait)
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(pool.close)


def _with_statement_timeout(url: str, seconds: float) -> str:
    """The url's own server `options`, if any, plus the statement timeout."""
    given = conninfo_to_dict(url).get("options")
    milliseconds = max(1, round(seconds * 1000))  # 0 would mean no timeout at all
    return " ".join(filter(None, [str(given or ""), f"-c statement_timeout={milliseconds}"]))
