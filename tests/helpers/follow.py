"""`run_follow`: a `Follow` (chat/streams/follow.py) pushed into a channel by a task of its own,
so the follow tests read what it yields as a consumer would, with its starting cursor."""

from __future__ import annotations

import trio

from chat.events import LogEntry
from chat.streams.follow import Follow, Live
from chat.streams.reader import StreamRouter


async def run_follow(
    router: StreamRouter,
    space_id: str,
    out: trio.MemorySendChannel[LogEntry | Live],
    *,
    thread_id: str | None = None,
    after: str | None = None,
    snapshot: bool = False,
    task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Send every item of a `Follow` to `out`, reporting through task_status the cursor its
    `Live` carries (after the catch-up). Runs until cancelled or `out` is closed."""
    with Follow(router, space_id, thread_id=thread_id, after=after, snapshot=snapshot) as follow:
        started = False
        while True:
            item = await follow.next()
            if isinstance(item, Live) and not started:
                task_status.started(item.cursor)
                started = True
            await out.send(item)
