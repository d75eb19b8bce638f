"""The circuit breaker in front of PostgreSQL: fail at once while the server is known to be away.

Without it, every call during an outage waits for the pool (`db_pool_wait_seconds`) before it
fails: handshakes, probes and REST calls pile up behind each other, and they keep arriving. After
BREAKER_THRESHOLD consecutive connection failures the breaker opens: calls fail at once with
DatabaseUnavailableError for BREAKER_COOLDOWN_SECONDS; then one call (the probe) is let through
while the others still fail at once; its success closes the breaker, its failure opens it again.
Only connection failures count: a statement timeout or a constraint violation is an answer from
a working server. See structures.md, "Deadlines and cancellation".
"""

from __future__ import annotations

import psycopg
import psycopg.errors
import trio
from psycopg_pool import PoolTimeout

# Consecutive connection failures that open the breaker: one dropped connection (a server
# restart closes every pooled one, each failing once) must not open it on its own.
BREAKER_THRESHOLD = 3
# How long an open breaker fails calls before letting a probe through: short enough that a
# recovered server is used again within seconds, long enough that an outage costs one pool
# wait per cool-down instead of one per call.
BREAKER_COOLDOWN_SECONDS = 2.0
# SQLSTATE classes that mean "no working connection": 08 (connection exception) and 57P01-03
# (the server is shutting down, crashed, or cannot accept connections now).
_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")


class DatabaseUnavailableError(psycopg.OperationalError):
    """Refused without trying: PostgreSQL failed repeatedly just now (the breaker is open).
    An OperationalError, so every handler that answers `unavailable` for one answers it here."""


class SlotWaitTimeout(PoolTimeout):
    """No pooled connection of this process was free in time: congestion here, not an outage."""


def is_connection_failure(exc: BaseException) -> bool:
    """True for errors that say PostgreSQL could not be reached or dropped the connection."""
    if isinstance(exc, SlotWaitTimeout | DatabaseUnavailableError):
        return False
    if isinstance(exc, PoolTimeout):  # the pool could not get a connection in time
        return True
    if not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate
    return state is None or state.startswith(_CONNECTION_STATES)


def is_unavailable(exc: BaseException) -> bool:
    """True when PostgreSQL could not answer at all: the breaker is open, no connection could be
    had or it dropped, or the statement ran out of time. Not for an answer PostgreSQL gave (a
    constraint violation, a syntax error): those say nothing about whether it is up. What may
    fall back to a copy kept in Valkey (chat/http/sign_in_copy.py) is decided by this."""
    if isinstance(exc, DatabaseUnavailableError | PoolTimeout | psycopg.errors.QueryCanceled):
        return True
    return is_connection_failure(exc)


class CircuitBreaker:
    """Closed, open or probing, by trio's clock. No I/O; one per Database."""

    def __init__(
        self,
        threshold: int = BREAKER_THRESHOLD,
        cooldown_seconds: float = BREAKER_COOLDOWN_SECONDS,
    ) -> None:
        self.threshold = threshold
        self.cooldown_seconds = cooldown_seconds
        self.failures = 0  # consecutive connection failures
        self.opened_at: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def before_call(self) -> None:
        """Raise DatabaseUnavailableError unless this call may go to the server."""
        if self.opened_at is None:
            return
        if self._probing or trio.current_time() < self.opened_at + self.cooldown_seconds:
            raise DatabaseUnavailableError("the database is unavailable; retry shortly")
        self._probing = True  # this call is the probe

    def succeeded(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._probing = False

    def ended_with(self, exc: BaseException) -> None:
        """Account for a call that raised `exc` after before_call let it through."""
        if is_connection_failure(exc):
            self.failures += 1
            self._probing = False
            if self.failures >= self.threshold:
                self.opened_at = trio.current_time()
        elif isinstance(exc, psycopg.Error) and not isinstance(exc, PoolTimeout):
            self.succeeded()  # the server answered, with an error of this call's own
        else:
            # Cancelled, or waited out on this side: nothing learned; another call may probe.
            self._probing = False
