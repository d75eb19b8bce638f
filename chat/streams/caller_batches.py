"""Calls of concurrent callers sent together, the first caller leading: the queue under the log's
group commit (chat/streams/group_commit.py) and the widgets' joining reads
(chat/streams/visitor_join.py). It owns the queue, the lead, the deadlines and cancellation; what
a batch is on the wire is its owner's `send`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import trio

from chat.errors import UnavailableError

T = TypeVar("T")


@dataclass(eq=False, slots=True)
class Pending(Generic[T]):
    """One caller's call, waiting for its batch. `send` answers it with `finish`."""

    call: T
    turn: trio.Event = field(default_factory=trio.Event)  # done, or told to lead
    deadline: float = 0.0  # trio time by which the caller is answered, set by submit
    leads: bool = False
    sent: bool = False
    done: bool = False
    result: Any = None
    error: BaseException | None = None

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error, self.done = result, error, True
        self.turn.set()


class CallerBatches(Generic[T]):
    """The calls that arrive while a batch is in flight travel together in the next one.

    "First caller leads", with no task of its own: a caller that finds no batch in flight sends
    one (itself plus whoever queued meanwhile); when its batch returns it hands the lead to the
    first caller still queued, so the next batch goes out at once, and when idle a call costs
    what a lone call costs. `send(batch)` finishes each pending call with its own result or
    error; an exception out of `send` reaches every call it left unfinished, as the same
    exception object, like an asyncio future's awaiters. The queue holds only callers awaiting
    here, so it is bounded by the callers themselves, like a lock's waiters.
    """

    def __init__(
        self,
        send: Callable[[list[Pending[T]]], Awaitable[None]],
        *,
        max_batch: int,
        timeout_seconds: float,
    ) -> None:
        self._send = send
        self._max_batch = max_batch
        self._timeout_seconds = timeout_seconds
        self._queue: deque[Pending[T]] = deque()
        self._leading = False  # a batch is in flight or about to be; invariant: or queue empty

    async def submit(self, call: T) -> Any:
        """Send `call` in the next batch; its result, or raise its error.

        Errors: its own (set by `send`), or the batch's, or `UnavailableError` past
        `timeout_seconds` from the submit, queued time included: every batch is bounded by the
        earliest deadline of its calls, and a call still queued at its deadline is not sent.

        Cancellation: a caller cancelled while still queued leaves the queue and its call is
        never sent. Once its batch is sent, the call runs whatever happens to the caller, and a
        cancelled leader waits (shielded, at most `timeout_seconds`) for the batch, since the
        other callers' results ride on it.
        """
        item = Pending(call, deadline=trio.current_time() + self._timeout_seconds)
        self._queue.append(item)
        if self._leading:
            # No deadline of its own while queued (a cancel scope per caller was ~2% of a
            # message's CPU, issue 19): the batches ahead end by their deadlines, which are
            # earlier (FIFO), and `_lead` answers a call whose deadline passed while queued
            # without sending it.
            try:
                await item.turn.wait()
            except BaseException:
                self._leave(item)
                raise
        else:
            self._leading = True
            item.leads = True
        if item.leads and not item.done:
            await self._lead(item)
        if item.error is not None:
            raise item.error
        return item.result

    def _leave(self, item: Pending[T]) -> None:
        """A cancelled caller: out of the queue if not sent yet, and the lead passed on."""
        if not item.sent and not item.done:
            self._queue.remove(item)
            if item.leads:
                self._pass_lead()

    def _pass_lead(self) -> None:
        if self._queue:
            self._queue[0].leads = True
            self._queue[0].turn.set()
        else:
            self._leading = False

    async def _lead(self, leader: Pending[T]) -> None:
        # Let the tasks that are already runnable (woken by the same network read, or by the
        # previous batch's replies) queue first: no timer, and when idle it costs one pass of the
        # scheduler. Without it, a burst would go out as a batch of one, then one of the rest.
        await trio.lowlevel.cancel_shielded_checkpoint()
        # Calls queued past their deadline (behind batches that hung: a stopped Valkey) are
        # answered now and never sent. The queue is in submit order, so in deadline order.
        now = trio.current_time()
        while self._queue and self._queue[0].deadline <= now:
            self._queue.popleft().finish(error=UnavailableError("the log did not answer in time"))
        if leader.done:  # its own deadline passed: the next caller leads
            self._pass_lead()
            return
        batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
        for item in batch:
            item.sent = True
        try:
            # Shielded: the other callers' results ride on this batch. Bounded by the deadline.
            deadline = min(item.deadline for item in batch)
            with trio.CancelScope(shield=True, deadline=deadline) as scope:
                await self._send(batch)
            if scope.cancelled_caught:
                raise UnavailableError("the log did not answer in time")
            for item in batch:
                if not item.done:  # a bug in `send`: its caller must not wait forever
                    item.finish(error=RuntimeError("the batch did not answer this call"))
        except BaseException as exc:
            for item in batch:
                if not item.done:
                    item.finish(error=exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._pass_lead()
