"""The handshake race of revocations (chat/actors/revocation.py), set up once: a handshake whose
check read the row just before a revocation committed, and whose watch registers only after the
follower dispatched that revocation. The registry's guard must check again and refuse."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import trio

from chat.actors.revocation import Watch
from chat.config import Settings
from chat.streams.client import open_redis
from chat.streams.control import ControlLog
from tests.helpers.chat import CLOSE_WITHIN

Check = Callable[[], Awaitable[Any]]


@asynccontextmanager
async def other_process(settings: Settings) -> AsyncIterator[ControlLog]:
    """What REST on another process appends with: its own connection to the shared Redis."""
    async with open_redis(settings.redis_url) as redis:
        yield ControlLog(redis, settings.key_prefix)


@dataclass
class CountedCheck:
    """A handshake's check (the real one), counting how often the registry ran it."""

    check: Check
    runs: int = 0

    async def __call__(self) -> Any:
        self.runs += 1
        return await self.check()


async def dispatched(watch: Watch) -> None:
    """Until the follower has dispatched a revocation to this watch."""
    with trio.fail_after(CLOSE_WITHIN):
        while watch.revoked is None:
            await watch.wait_changed()


async def assert_handshake_refused_after_racing_revocation(
    open_watch: Callable[[Check], Any],
    check: CountedCheck,
    revoke: Callable[[], Awaitable[None]],
    earlier: Watch,
    refused: type[Exception],
) -> None:
    """A new handshake through `open_watch` (a registry's open_*_watch, its check bound but
    for the check itself): its first check answers as before, and right after it `revoke`
    commits and publishes the revocation, which the follower dispatches (to `earlier`, a watch
    of the same subject) before the new watch registers. The handshake must end in `refused`,
    after one more check."""
    first = check.runs + 1

    async def check_then_revoked() -> Any:
        found = await check()
        if check.runs == first:  # this read came before the commit
            await revoke()
            await dispatched(earlier)  # dispatched before the new watch exists
        return found

    with pytest.raises(refused):
        async with open_watch(check_then_revoked):
            pytest.fail("a handshake was admitted after its revocation")
    assert check.runs == first + 1  # the guard checked once more
