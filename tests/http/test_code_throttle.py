"""The second-factor attempt budget (chat/http/code_throttle.py): the limiter's give_back, the
two buckets, and failing closed when Valkey cannot answer (unlike the other throttles)."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest
import trio

from chat.config import Settings
from chat.errors import RateLimitedError, UnavailableError
from chat.http.code_throttle import AGENT_BUCKET, spend_code_attempt
from chat.streams.client import open_redis
from chat.streams.limits import Rate, RateLimiter, limit_key


async def test_give_back_returns_one_attempt(settings: Settings) -> None:
    rate = Rate(count=2, period_seconds=10.0, burst=2)
    with trio.fail_after(30):
        async with open_redis(settings.redis_url) as redis:
            limiter = RateLimiter(redis, settings.key_prefix)
            assert (await limiter.hit("unit", "a", rate)).allowed
            assert (await limiter.hit("unit", "a", rate)).allowed
            assert not (await limiter.hit("unit", "a", rate)).allowed
            await limiter.give_back("unit", "a", rate)
            assert (await limiter.hit("unit", "a", rate)).allowed  # exactly one came back
            assert not (await limiter.hit("unit", "a", rate)).allowed
            # Giving back to a full bucket (no key) makes none.
            await limiter.give_back("unit", "b", rate)
            assert await redis.exists([limit_key(settings.key_prefix, "unit", "b")]) == 0
            # One attempt given back from a bucket holding one leaves it full: the key goes.
            assert (await limiter.hit("unit", "c", rate)).allowed
            await limiter.give_back("unit", "c", rate)
            assert await redis.exists([limit_key(settings.key_prefix, "unit", "c")]) == 0


async def test_the_agent_budget_and_what_a_right_code_gives_back(settings: Settings) -> None:
    tight = settings.model_copy(update={"two_factor_attempts_per_agent": 2})
    with trio.fail_after(30):
        async with open_redis(settings.redis_url) as redis:
            services = SimpleNamespace(settings=tight, redis=redis)
            for _ in range(3):  # right codes: each gives its attempt back
                spent = await spend_code_attempt(services, "agent-a", "198.51.100.1")  # type: ignore[arg-type]
                await spent.give_back()
            for _ in range(2):  # wrong codes: kept
                await spend_code_attempt(services, "agent-a", "198.51.100.1")  # type: ignore[arg-type]
            with pytest.raises(RateLimitedError) as refused:
                await spend_code_attempt(services, "agent-a", "198.51.100.2")  # type: ignore[arg-type]
            assert refused.value.retry_after is not None and refused.value.retry_after >= 1
            # The refused attempt returned what it had spent of its address's budget.
            key = limit_key(tight.key_prefix, "2fa:addr", "198.51.100.2")
            assert await redis.exists([key]) == 0
            assert await redis.exists([limit_key(tight.key_prefix, AGENT_BUCKET, "agent-a")]) == 1


async def test_codes_are_not_checked_without_valkey(settings: Settings) -> None:
    """Fail closed: six digits would not survive unlimited guessing during an outage."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"  # nothing listens there now
    with trio.fail_after(30):
        async with open_redis(dead) as redis:
            services = SimpleNamespace(settings=settings, redis=redis)
            with pytest.raises(UnavailableError):
                await spend_code_attempt(services, "agent-a", "198.51.100.1")  # type: ignore[arg-type]
