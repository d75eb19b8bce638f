"""A waiting visitor's place in the queue, for the visitor session of chat/actors/visitor.py.

Every entry that may move a space's waiting queue (a thread opened, reopened, claimed,
transferred, closed or expired) is routed to QUEUE_ROUTE (chat/events.py); each visitor session
listens to it (`moves`, in the reader's task) and, when its own thread waits (or just changed),
has `send_changes` read its place again and send a `queue` frame if it moved. That task starts
with the first entry that moves the visitor's place: most widget sockets never wait. Reads are
paced: at most one a second per session, so a burst of
claims in a space with a thousand waiting visitors costs each of them one read, not one per claim
(structures.md, "The waiting queue"). A storage error backs off and retries (`until_stored`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import NoReturn, Protocol

import trio

from chat.actors.socket import STORAGE_ERRORS
from chat.actors.visitor_feed import FeedSession, until_stored
from chat.events import LogEntry, ThreadChanged, ThreadOpened, ThreadSnapshot
from chat.protocol.outbound import queue_frame

logger = logging.getLogger(__name__)

# At most one read of the session's place a second: changes within it are coalesced.
QUEUE_INTERVAL_SECONDS = 1.0


class QueueSession(FeedSession, Protocol):
    """What the queue follower reads of a visitor session: its place as last sent."""

    queue_position: int | None


@dataclass
class QueueWatch:
    """What the listener tracks: the visitor's thread as the queue's entries name it (the feed
    may switch `thread_id` a moment later), and whether a read is due."""

    thread_id: str | None
    due: trio.Event = field(default_factory=trio.Event)


async def welcome_position(session: FeedSession, thread: ThreadSnapshot | None) -> int | None:
    """The place of the visitor's thread in the queue for the welcome, if it waits."""
    if thread is None or thread.status != "unassigned":
        return None
    found = await session.deps.stream_log.queue_position(session.space.id, thread.id)
    return found[0] if found else None


def moves(session: QueueSession, entry: LogEntry, watch: QueueWatch) -> bool:
    """Whether this entry may change the visitor's place: its own thread opened or changed,
    or, while it waits, a thread ahead left the queue (a reopened thread joins behind it; a
    held thread that closed was not in the queue)."""
    event = entry.event
    if not isinstance(event, ThreadOpened | ThreadChanged):
        return False
    if event.thread.visitor_id == session.visitor_id:
        watch.thread_id = event.thread.id
        return True
    if session.queue_position is None or isinstance(event, ThreadOpened):
        return False
    if event.type == "thread.reopened":
        return False
    held = event.thread.assigned_agent_id is not None
    return not (event.type in ("thread.closed", "thread.expired") and held)


async def send_changes(session: QueueSession, watch: QueueWatch) -> NoReturn:
    """Send `queue` frames as the visitor's place changes, until cancelled (the session ends)."""
    stream_log, space_id = session.deps.stream_log, session.space.id
    while True:
        await watch.due.wait()
        watch.due = trio.Event()
        position = None
        if watch.thread_id is not None:
            thread_id = watch.thread_id
            found = await until_stored(session, stream_log.queue_position, space_id, thread_id)
            position = found[0] if found else None
        if position != session.queue_position:
            session.queue_position = position
            wait = None
            if position is not None:  # the median wait of the last hour's assignments
                wait = await _estimated_wait(session)
            await session.outbox.send(queue_frame(position, wait))
        await trio.sleep(QUEUE_INTERVAL_SECONDS)


async def _estimated_wait(session: QueueSession) -> int | None:
    """The expected wait, or None (the frame says nothing of it) while storage cannot tell: a
    storage error here once ended the visitor's whole session during a Valkey restart."""
    try:
        return await session.deps.commands.routing.estimated_wait_seconds(session.space.id)
    except STORAGE_ERRORS as exc:
        logger.debug("visitor %s: no estimated wait: %r", session.visitor_id, exc)
        return None
