"""The budget of second-factor code attempts (TOTP and recovery codes), per agent and per client
address, counted in Valkey (chat/streams/limits.py) so every process spends one budget.

Each attempt is counted before the code is checked, so concurrent guesses cannot all pass one
check; a right code then gives its attempt back, so the budget counts wrong codes only. The
address bucket is spent first: a guesser from one address is stopped there without spending
the agent's budget, which keeps its owner able to sign in from elsewhere.

Unlike the other throttles (chat/http/throttle.py), this one fails closed: when Valkey cannot
answer, no code is checked (503 unavailable). A six-digit code has a million values, three of
which are valid at a time; unlimited guessing during an outage would find one in minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from chat.errors import RateLimitedError
from chat.http.throttle import address_id
from chat.services import Services
from chat.streams.limits import Rate, RateLimiter

WINDOW_SECONDS = 300.0
AGENT_BUCKET = "2fa:agent"  # id: the agent id
ADDRESS_BUCKET = "2fa:addr"  # id: the client address (IPv4, or an IPv6 /64)
MESSAGE = "too many second-factor codes tried; retry later"


@dataclass(frozen=True, slots=True)
class Spent:
    """The attempts one code check counted, to give back if the code was right."""

    limiter: RateLimiter
    counted: tuple[tuple[str, str, Rate], ...]

    async def give_back(self) -> None:
        for bucket, ident, rate in self.counted:
            await self.limiter.give_back(bucket, ident, rate)


async def spend_code_attempt(services: Services, agent_id: str, address: str | None) -> Spent:
    """Count one code attempt of `agent_id` from `address`; RateLimitedError (429, with
    retry_after) when either budget is spent, UnavailableError (503) when Valkey cannot say."""
    settings = services.settings
    limiter = RateLimiter(services.redis, settings.key_prefix)  # cheap: no I/O
    wanted = (
        (ADDRESS_BUCKET, address_id(address), _rate(settings.two_factor_attempts_per_address)),
        (AGENT_BUCKET, agent_id, _rate(settings.two_factor_attempts_per_agent)),
    )
    counted: list[tuple[str, str, Rate]] = []
    for bucket, ident, rate in wanted:
        verdict = await limiter.hit(bucket, ident, rate)
        if not verdict.allowed:
            # What this attempt counted in the buckets before is returned: it was refused.
            await Spent(limiter, tuple(counted)).give_back()
            retry_after = max(1, math.ceil(verdict.retry_after))
            raise RateLimitedError(
                MESSAGE, retry_after=retry_after, retry_after_seconds=retry_after
            )
        counted.append((bucket, ident, rate))
    return Spent(limiter, tuple(counted))


def _rate(count: int) -> Rate:
    return Rate(count=count, period_seconds=WINDOW_SECONDS, burst=count)
