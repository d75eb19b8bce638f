"""Thread actors: one task group per thread with sessions in this process, fanning its entries out.

A visitor with two tabs, or many visitors' sessions of one thread on this node, share one follow
of the thread. Crash policy: Redis errors back off and follow again from the last entry sent;
a session whose inbox is full is cut off (its `overflowed` event set) and reconnects, resuming
from its last id; anything else propagates to the supervisor.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import trio

from chat.backoff import Backoff
from chat.events import LogEntry
from chat.streams.errors import StreamLogError
from chat.streams.follow import Live, run_follow
from chat.streams.reader import StreamRouter

logger = logging.getLogger(__name__)

# Entries waiting to be fanned out; the fan-out never blocks, so this only absorbs bursts.
THREAD_BUFFER = 256


@dataclass(eq=False)
class Attachment:
    """A session's place on a thread: where entries go, and how it hears it fell behind."""

    send: trio.MemorySendChannel[LogEntry]
    overflowed: trio.Event


@dataclass(eq=False)
class ThreadHandle:
    space_id: str
    thread_id: str
    cancel_scope: trio.CancelScope
    attachments: set[Attachment] = field(default_factory=set)

    def fan_out(self, entry: LogEntry) -> None:
        for att in list(self.attachments):
            try:
                att.send.send_nowait(entry)
            except trio.WouldBlock:
                self.attachments.discard(att)
                att.overflowed.set()
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self.attachments.discard(att)


async def run_thread_actor(
    router: StreamRouter,
    space_id: str,
    thread_id: str,
    *,
    task_status: trio.TaskStatus[ThreadHandle] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Follow one thread live until cancelled (by its registry, when no session is left)."""
    with trio.CancelScope() as scope:
        handle = ThreadHandle(space_id, thread_id, scope)
        last: str | None = None
        started = False
        backoff = Backoff(f"thread {thread_id}")
        while True:
            send, receive = trio.open_memory_channel[LogEntry | Live](THREAD_BUFFER)
            try:
                async with trio.open_nursery() as nursery, send, receive:
                    last = await nursery.start(_follow, router, space_id, thread_id, last, send)
                    backoff.reset()
                    if not started:
                        task_status.started(handle)
                        started = True
                    async for item in receive:
                        if isinstance(item, LogEntry):
                            last = item.id
                            handle.fan_out(item)
            except (StreamLogError, OSError) as exc:
                await backoff.wait(logger, exc)


async def _follow(
    router: StreamRouter,
    space_id: str,
    thread_id: str,
    after: str | None,
    send: trio.MemorySendChannel[LogEntry | Live],
    *,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    async with send:
        await run_follow(
            router, space_id, send, thread_id=thread_id, after=after, task_status=task_status
        )


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
