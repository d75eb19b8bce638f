"""argon2id password hashing (RFC 9106 second recommended profile: 64 MiB, 3 passes, 4 lanes)."""

from __future__ import annotations

import trio
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4, type=Type.ID)
# A real hash to verify against when the email is unknown, so both paths cost the same.
_DUMMY_HASH = _HASHER.hash("not a real password, only for timing")
# Hashing takes ~50-100 ms of CPU; keep it off the event loop and bound how many run at once.
_HASHING = trio.CapacityLimiter(2)


async def hash_password(password: str) -> str:
    return await trio.to_thread.run_sync(_HASHER.hash, password, limiter=_HASHING)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when it matches; an unknown account (None) is checked against a dummy hash."""

    def verify() -> bool:
        try:
            return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await trio.to_thread.run_sync(verify, limiter=_HASHING)
