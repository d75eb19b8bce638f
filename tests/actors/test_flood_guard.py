"""FloodGuard (chat/actors/socket.py): at most `limit` frames in a one-second window, under
trio's fake clock."""

from __future__ import annotations

import trio
import trio.testing

from chat.actors.socket import FloodGuard

LIMIT = 20


def _frames(guard: FloodGuard, count: int) -> list[bool]:
    """What `over()` says for `count` frames arriving at the same instant."""
    return [guard.over() for _ in range(count)]


async def test_exactly_limit_frames_pass_and_the_next_is_over(
    autojump_clock: trio.testing.MockClock,
) -> None:
    guard = FloodGuard(LIMIT)
    assert _frames(guard, LIMIT) == [False] * LIMIT
    assert guard.over()
    assert guard.over()  # and every later frame of the window


async def test_the_window_lasts_one_second_from_its_first_frame(
    autojump_clock: trio.testing.MockClock,
) -> None:
    guard = FloodGuard(LIMIT)
    await trio.sleep(5.5)  # the window opens at the first frame, not on a whole second
    assert _frames(guard, LIMIT - 1) == [False] * (LIMIT - 1)
    await trio.sleep(0.999)
    assert not guard.over()  # the limit-th frame, still in the first window
    assert guard.over()
    await trio.sleep(0.001)  # one second after the window opened: a new one
    assert _frames(guard, LIMIT) == [False] * LIMIT
    assert guard.over()


async def test_a_new_window_forgets_an_overrun(autojump_clock: trio.testing.MockClock) -> None:
    guard = FloodGuard(LIMIT)
    assert _frames(guard, 3 * LIMIT).count(True) == 2 * LIMIT
    await trio.sleep(1.0)
    assert _frames(guard, LIMIT + 1) == [False] * LIMIT + [True]


async def test_frames_spread_under_the_limit_never_trip_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    guard = FloodGuard(LIMIT)
    verdicts = []
    for _ in range(10 * LIMIT):
        verdicts.append(guard.over())
        # Just under the limit for ten seconds (at exactly the limit, float sums of the gaps
        # may land a frame a hair before the window's end).
        await trio.sleep(1.01 / LIMIT)
    assert not any(verdicts)


async def test_a_limit_of_one(autojump_clock: trio.testing.MockClock) -> None:
    guard = FloodGuard(1)
    assert [guard.over(), guard.over()] == [False, True]
    await trio.sleep(1.0)
    assert [guard.over(), guard.over()] == [False, True]
