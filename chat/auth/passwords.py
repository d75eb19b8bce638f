"""argon2id password hashing (RFC 9106 second recommended profile: 64 MiB, 3 passes, 4 lanes).

Hashing takes ~50-100 ms of CPU and 64 MiB: it runs on worker threads, bounded three ways so
that no tenant's burst delays another's sign-in (issue 15, finding 13):
- verifying (logins, password checks) and hashing new passwords (registration, adding an agent,
  setting a password) have separate limiters: sign-ins never queue behind admin operations;
- new passwords are hashed one at a time per budget (an organization, or a registering client
  address), so one tenant's burst waits behind itself, not in front of others;
- callers check an email's uniqueness before hashing (chat/db/accounts.py email_in_use), so a
  burst of taken emails costs a SELECT each, not a hash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4, type=Type.ID)
# A real hash to verify against when the email is unknown, so both paths cost the same.
_DUMMY_HASH = _HASHER.hash("not a real password, only for timing")
# Sign-ins: two verifications at once (about 130 MiB), whatever hashing is going on.
_VERIFYING = trio.CapacityLimiter(2)
# New passwords, all budgets together: one hash at a time (admin operations are rare; a burst
# waits, it does not take the CPU from sign-ins).
_HASHING = trio.CapacityLimiter(1)
# New passwords per budget (an organization or an address) at once.
HASHES_PER_BUDGET = 1


class _Budgets:
    """A limiter per budget key, made on first use and dropped when nobody holds or awaits it,
    so the map holds only budgets with work in flight."""

    def __init__(self) -> None:
        self._limiters: dict[str, trio.CapacityLimiter] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        limiter = self._limiters.setdefault(key, trio.CapacityLimiter(HASHES_PER_BUDGET))
        try:
            async with limiter:
                yield
        finally:
            # Releasing hands the token straight to a waiter, so an idle limiter has none.
            stats = limiter.statistics()
            idle = stats.borrowed_tokens == 0 and stats.tasks_waiting == 0
            if idle and self._limiters.get(key) is limiter:
                del self._limiters[key]

    def waiting(self) -> int:
        return sum(limiter.statistics().tasks_waiting for limiter in self._limiters.values())


_BUDGETS = _Budgets()


def hashes_waiting() -> int:
    """New passwords waiting to be hashed in this process: for their budget or overall."""
    return _BUDGETS.waiting() + _HASHING.statistics().tasks_waiting


async def hash_password(password: str, *, budget: str) -> str:
    """The argon2id hash of a new password. `budget` names who pays: `org:<id>` for an
    organization's admin operations, `addr:<address>` for a registration. One hash per budget
    runs at a time and one overall; cancellation while waiting hashes nothing."""
    async with _BUDGETS.hold(budget):
        return await trio.to_thread.run_sync(_HASHER.hash, password, limiter=_HASHING)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when it matches; an unknown account (None) is checked against a dummy hash."""

    def verify() -> bool:
        try:
            return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await trio.to_thread.run_sync(verify, limiter=_VERIFYING)
