"""The circuit breaker: opens after consecutive connection failures, fails at once while open,
lets one probe through after the cool-down, closes on its success (trio's autojump clock)."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest
import trio
from psycopg_pool import PoolTimeout

from chat.db.breaker import (
    BREAKER_COOLDOWN_SECONDS,
    BREAKER_THRESHOLD,
    CircuitBreaker,
    DatabaseUnavailableError,
    SlotWaitTimeout,
    is_connection_failure,
)

REFUSED = psycopg.OperationalError("connection refused")


def fail(breaker: CircuitBreaker, exc: BaseException, times: int = 1) -> None:
    for _ in range(times):
        breaker.before_call()
        breaker.ended_with(exc)


def test_connection_failures_are_told_from_answers() -> None:
    assert is_connection_failure(REFUSED)
    assert is_connection_failure(PoolTimeout("no connection"))
    assert is_connection_failure(psycopg.errors.AdminShutdown("terminating connection"))
    assert not is_connection_failure(psycopg.errors.QueryCanceled("statement timeout"))
    assert not is_connection_failure(psycopg.errors.UniqueViolation("duplicate"))
    assert not is_connection_failure(SlotWaitTimeout("busy here"))
    assert not is_connection_failure(ValueError("not a database error"))


async def test_opens_after_threshold_then_probes_once(autojump_clock: trio.abc.Clock) -> None:
    breaker = CircuitBreaker()
    fail(breaker, REFUSED, BREAKER_THRESHOLD - 1)
    breaker.before_call()  # still closed
    breaker.ended_with(REFUSED)
    assert breaker.is_open
    with pytest.raises(DatabaseUnavailableError):
        breaker.before_call()
    await trio.sleep(BREAKER_COOLDOWN_SECONDS)
    breaker.before_call()  # the probe
    with pytest.raises(DatabaseUnavailableError):
        breaker.before_call()  # while the probe runs, others still fail at once
    breaker.succeeded()
    assert not breaker.is_open
    breaker.before_call()


async def test_a_failed_probe_opens_it_again(autojump_clock: trio.abc.Clock) -> None:
    breaker = CircuitBreaker()
    fail(breaker, REFUSED, BREAKER_THRESHOLD)
    await trio.sleep(BREAKER_COOLDOWN_SECONDS)
    fail(breaker, PoolTimeout("still down"))
    with pytest.raises(DatabaseUnavailableError):
        breaker.before_call()
    await trio.sleep(BREAKER_COOLDOWN_SECONDS)
    breaker.before_call()


async def test_a_cancelled_probe_lets_another_call_probe(autojump_clock: trio.abc.Clock) -> None:
    breaker = CircuitBreaker()
    fail(breaker, REFUSED, BREAKER_THRESHOLD)
    await trio.sleep(BREAKER_COOLDOWN_SECONDS)
    breaker.before_call()
    breaker.ended_with(trio.Cancelled._create())
    breaker.before_call()  # not stuck behind a probe that will never report


def test_answers_and_local_waits_do_not_open_it() -> None:
    breaker = CircuitBreaker()
    fail(breaker, REFUSED, BREAKER_THRESHOLD - 1)
    fail(breaker, psycopg.errors.UniqueViolation("duplicate"))  # an answer: resets the count
    fail(breaker, REFUSED, BREAKER_THRESHOLD - 1)
    fail(breaker, psycopg.errors.QueryCanceled("statement timeout"), 10)
    fail(breaker, SlotWaitTimeout("busy here"), 10)
    assert not breaker.is_open
