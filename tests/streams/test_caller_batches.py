"""CallerBatches (chat/streams/caller_batches.py), the queue under the group commit and the
joining reads: concurrent calls go together, each caller gets its own result or error, and a
cancelled caller neither loses nor blocks the others. The batch's `send` here is a plain
function that records its batches; the real ones are tested against Valkey
(tests/streams/test_group_commit.py, test_visitor_join.py, tests/test_storage_deadlines.py)."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from chat.errors import UnavailableError
from chat.streams.caller_batches import CallerBatches, Pending


class Doubler:
    """Answers each call with twice its number, or raises for a negative one; a batch waits
    for `release` when `hold` is set."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.hold = False
        self.release = trio.Event()

    async def send(self, batch: list[Pending[int]]) -> None:
        self.batches.append([item.call for item in batch])
        if self.hold:
            await self.release.wait()
        for item in batch:
            if item.call < 0:
                item.finish(error=ValueError(item.call))
            else:
                item.finish(item.call * 2)


async def test_concurrent_calls_go_together_and_each_gets_its_own() -> None:
    doubler = Doubler()
    batches = CallerBatches(doubler.send, max_batch=4, timeout_seconds=5)
    results: dict[int, object] = {}

    async def call(number: int) -> None:
        try:
            results[number] = await batches.submit(number)
        except ValueError as exc:
            results[number] = exc

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            for number in [*range(9), -1]:
                nursery.start_soon(call, number)

    assert {n: r for n, r in results.items() if n >= 0} == {n: n * 2 for n in range(9)}
    assert isinstance(results[-1], ValueError)  # its own error, to itself only
    # The leader lets the runnable callers queue first, then batches of at most 4, in order.
    assert [len(batch) for batch in doubler.batches] == [4, 4, 2]
    assert sorted(n for batch in doubler.batches for n in batch) == [-1, *range(9)]


async def test_a_queued_caller_cancelled_is_never_sent_and_a_cancelled_leader_still_answers() -> (
    None
):
    doubler = Doubler()
    doubler.hold = True
    batches = CallerBatches(doubler.send, max_batch=10, timeout_seconds=5)
    results: dict[int, int] = {}

    async def call(number: int, task_status: trio.TaskStatus[trio.CancelScope]) -> None:
        with trio.CancelScope() as scope:
            task_status.started(scope)
            results[number] = await batches.submit(number)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            leader = await nursery.start(call, 1)
            await trio.testing.wait_all_tasks_blocked()  # batch [1] is in flight, held
            queued = await nursery.start(call, 2)
            await nursery.start(call, 3)
            await trio.testing.wait_all_tasks_blocked()
            queued.cancel()  # still queued: leaves, never sent
            leader.cancel()  # its batch is sent: it waits for it, shielded
            await trio.testing.wait_all_tasks_blocked()
            doubler.release.set()

    assert doubler.batches == [[1], [3]]
    assert results == {1: 2, 3: 6}


async def test_an_error_of_the_whole_batch_reaches_each_caller_and_the_next_batch_goes() -> None:
    calls: list[list[int]] = []

    async def failing_once(batch: list[Pending[int]]) -> None:
        calls.append([item.call for item in batch])
        if len(calls) == 1:
            raise ConnectionError("lost")
        for item in batch:
            item.finish(item.call)

    batches = CallerBatches(failing_once, max_batch=10, timeout_seconds=5)
    errors: list[BaseException] = []

    async def call(number: int) -> None:
        try:
            await batches.submit(number)
        except ConnectionError as exc:
            errors.append(exc)

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            for number in range(3):
                nursery.start_soon(call, number)
    assert len(errors) == 3 and errors[0] is errors[1] is errors[2]
    assert await batches.submit(7) == 7  # the lead was handed back: the next call goes


async def test_callers_queued_behind_a_hung_batch_are_answered_within_their_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A stopped server: each caller is answered by its own deadline (1 s after its submit),
    and those whose deadline passed while queued are never sent."""
    doubler = Doubler()
    doubler.hold = True  # never released
    batches = CallerBatches(doubler.send, max_batch=1, timeout_seconds=1)
    answered: dict[int, float] = {}  # seconds from its submit to its UnavailableError

    async def call(number: int) -> None:
        submitted = trio.current_time()
        with pytest.raises(UnavailableError):
            await batches.submit(number)
        answered[number] = trio.current_time() - submitted

    with trio.fail_after(60):  # virtual seconds: the clock jumps while all tasks wait
        async with trio.open_nursery() as nursery:
            for number in (1, 2, 3):  # one batch each (max_batch=1)
                nursery.start_soon(call, number)
            await trio.testing.wait_all_tasks_blocked()
            await trio.sleep(0.5)  # virtual: the fourth caller arrives half-way through
            nursery.start_soon(call, 4)
    assert answered == {n: pytest.approx(1.0) for n in (1, 2, 3, 4)}
    # The first to lead (any of 1-3) hung until its deadline; the other two expired queued
    # behind it; 4 went and hung in turn.
    assert [len(batch) for batch in doubler.batches] == [1, 1]
    assert doubler.batches[0][0] in (1, 2, 3) and doubler.batches[1] == [4]


async def test_a_send_that_forgets_a_call_fails_that_call() -> None:
    async def forgetful(batch: list[Pending[int]]) -> None:
        del batch

    batches = CallerBatches(forgetful, max_batch=10, timeout_seconds=5)
    with pytest.raises(RuntimeError, match="did not answer"):
        await batches.submit(1)
