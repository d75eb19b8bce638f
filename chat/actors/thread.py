"""Thread actors: one task group per thread with sessions in this process, fanning its entries out.

A visitor with two tabs, or many visitors' sessions of one thread on this node, share one follow
of the thread. Crash policy: Redis errors back off and follow again from the last entry sent;
a session that cannot take an entry (its outbox is full) is cut off (its `overflowed` event set)
and reconnects, resuming from its last id; anything else propagates to the supervisor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import trio

from chat.backoff import Backoff
from chat.events import LogEntry
from chat.streams.errors import StreamLogError
from chat.streams.follow import Follow
from chat.streams.reader import StreamRouter

logger = logging.getLogger(__name__)


class CutOff(Protocol):
    """What cuts a session off (1013) once set: a `trio.Event` a task of the session waits on,
    or a session's own (chat/actors/visitor.py's FellBehind, which needs no task)."""

    def set(self) -> None: ...

    def is_set(self) -> bool: ...


@dataclass(eq=False)
class Attachment:
    """A session's place on a thread: `deliver` takes each entry in the actor's task, without
    blocking (False: it could not, the session fell behind), and `overflowed` is set when the
    session is cut off."""

    deliver: Callable[[LogEntry], bool]
    overflowed: CutOff


@dataclass(eq=False)
class ThreadHandle:
    space_id: str
    thread_id: str
    cancel_scope: trio.CancelScope
    attachments: set[Attachment] = field(default_factory=set)

    def fan_out(self, entry: LogEntry) -> None:
        for att in list(self.attachments):
            if not att.deliver(entry):
                self.attachments.discard(att)
                att.overflowed.set()


async def run_thread_actor(
    router: StreamRouter,
    space_id: str,
    thread_id: str,
    *,
    task_status: trio.TaskStatus[ThreadHandle] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Follow one thread live until cancelled (by its registry, when no session is left). The
    actor pulls its `Follow` itself: no task or channel between the reader and the fan-out."""
    with trio.CancelScope() as scope:
        handle = ThreadHandle(space_id, thread_id, scope)
        last: str | None = None
        started = False
        backoff = Backoff(f"thread {thread_id}")
        while True:
            try:
                with Follow(router, space_id, thread_id=thread_id, after=last) as follow:
                    last = await follow.start()
                    backoff.reset()
                    if not started:
                        task_status.started(handle)
                        started = True
                    while True:
                        item = await follow.next()
                        if isinstance(item, LogEntry):
                            last = item.id
                            handle.fan_out(item)
            except (StreamLogError, OSError) as exc:
                await backoff.wait(logger, exc)


@dataclass
class ThreadActors:
    """The registry of this process's thread actors. Owned and passed by the supervisor."""

    router: StreamRouter
    nursery: trio.Nursery
    _handles: dict[tuple[str, str], ThreadHandle] = field(default_factory=dict)
    _starting: trio.Lock = field(default_factory=trio.Lock)

    async def attach_starting_actor(self, space_id: str, thread_id: str, att: Attachment) -> None:
        """Deliver the thread's entries appended from now on to `att`, starting the thread's actor
        in the registry's nursery when none runs in this process yet."""
        async with self._starting:
            handle = self._handles.get((space_id, thread_id))
            if handle is None:
                handle = await self.nursery.start(self._run_supervised, space_id, thread_id)
                self._handles[(space_id, thread_id)] = handle
            handle.attachments.add(att)

    def detach(self, space_id: str, thread_id: str, att: Attachment) -> None:
        handle = self._handles.get((space_id, thread_id))
        if handle is None:
            return
        handle.attachments.discard(att)
        if not handle.attachments:
            handle.cancel_scope.cancel()
            del self._handles[(space_id, thread_id)]

    def __len__(self) -> int:
        return len(self._handles)

    async def _run_supervised(
        self,
        space_id: str,
        thread_id: str,
        *,
        task_status: trio.TaskStatus[ThreadHandle] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """One thread's failure must not end the others: log it and cut its sessions off."""
        handle: ThreadHandle | None = None

        async def run(*, task_status: trio.TaskStatus[ThreadHandle]) -> None:
            await run_thread_actor(self.router, space_id, thread_id, task_status=task_status)

        try:
            async with trio.open_nursery() as nursery:
                handle = await nursery.start(run)
                task_status.started(handle)
        except* Exception:
            logger.exception("thread actor %s of space %s failed", thread_id, space_id)
        finally:
            if handle is not None:
                if self._handles.get((space_id, thread_id)) is handle:
                    del self._handles[(space_id, thread_id)]
                for att in handle.attachments:
                    att.overflowed.set()
                handle.attachments.clear()
