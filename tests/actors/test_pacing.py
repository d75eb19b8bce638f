"""Pacing of side-channel frames (chat/actors/pacing.py): visitor sockets' page, typing and
identify, and the coalescing of visitor updates to agents, on trio's autojump clock."""

from __future__ import annotations

import trio
import trio.testing

from chat.actors.pacing import Paced, TokenBucket, VisitorUpdates
from chat.events import LogEntry, VisitorUpdated


async def test_paced_hands_out_the_latest_at_most_once_per_interval(
    autojump_clock: trio.testing.MockClock,
) -> None:
    paced: Paced[str] = Paced(1.0)
    taken: list[tuple[float, str]] = []

    async def take_all() -> None:
        while True:
            value = await paced.take()
            taken.append((trio.current_time(), value))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(take_all)
        start = trio.current_time()
        for n in range(30):  # 15 a second for 2 s
            paced.put(f"p{n}")
            await trio.sleep(1 / 15)
        await trio.sleep(5)
        nursery.cancel_scope.cancel()
    times = [t - start for t, _ in taken]
    assert taken[0][1] == "p0" and times[0] == 0  # the first at once
    assert taken[-1][1] == "p29"  # the last is never lost
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(times, times[1:], strict=False))
    assert len(taken) <= 4


async def test_paced_waits_for_not_before_and_take_now_skips_the_wait(
    autojump_clock: trio.testing.MockClock,
) -> None:
    paced: Paced[str] = Paced(1.0)
    paced.not_before(trio.current_time() + 30)
    paced.put("a")
    with trio.move_on_after(29):
        await paced.take()
        raise AssertionError("handed out before not_before")
    assert await paced.take() == "a"
    assert paced.take_now() is None
    paced.put("b")
    assert paced.take_now() == "b"


async def test_token_bucket_allows_a_burst_then_the_rate(
    autojump_clock: trio.testing.MockClock,
) -> None:
    bucket = TokenBucket(1.0, 3)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    await trio.sleep(1)
    assert bucket.take() and not bucket.take()


def _update(entry_id: str, visitor_id: str, **fields: str) -> LogEntry:
    return LogEntry(entry_id, VisitorUpdated(visitor_id=visitor_id, **fields))  # type: ignore[arg-type]


async def test_visitor_updates_send_one_per_visitor_per_second_merged_in_cursor_order(
    autojump_clock: trio.testing.MockClock,
) -> None:
    updates = VisitorUpdates(1.0)
    assert not updates.hold(_update("1-0", "a", current_url="/1"))  # sent at once
    assert updates.hold(_update("2-0", "a", name="Ann"))
    assert updates.hold(_update("3-0", "b", current_url="/b"))  # others wait behind it
    assert updates.hold(_update("4-0", "a", current_url="/2"))
    assert updates.due_at() == trio.current_time() + 1.0
    await trio.sleep_until(updates.due_at())
    held = updates.take()
    assert [e.id for e in held] == ["3-0", "4-0"]
    merged = held[1].event
    assert isinstance(merged, VisitorUpdated)
    assert (merged.name, merged.current_url) == ("Ann", "/2")  # later fields win, none lost
    assert updates.hold(_update("5-0", "a", current_url="/3"))  # a was just sent
    await trio.sleep(1.0)
    assert [e.id for e in updates.take()] == ["5-0"]
    await trio.sleep(1.0)
    assert not updates.hold(_update("6-0", "c", current_url="/c"))
