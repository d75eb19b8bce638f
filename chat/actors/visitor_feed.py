"""A visitor's feed: the visitor's thread, presence and other tabs' threads delivered to the
socket, for the visitor session of chat/actors/visitor.py.

No task sits between the log and the session's outbox (issue 19: a widget socket held three
subscriptions and four tasks to forward what are a few lines of logic). The thread actor calls
`offer` with each entry of the session's thread, in its own task; the reader calls the
session's listeners (`on_presence`, `on_own_thread`) in its task. Each filters, encodes once per
entry and audience, and puts the frame in the outbox without blocking: a session whose outbox
is full has fallen behind its client and is cut off (1013), and the widget resumes with `last`.

Two moments hold entries back, in order, instead of passing them: until the welcome is queued
(nothing may precede it) and while the session switches to another thread (what the new
thread already holds goes first). `release` passes them on. A `SwitchThread` (a message that
opened a thread, another tab, an agent reopening) goes to `feed_visitor`, the session's one feed
task, which reads what the new thread holds (retried through a storage blip: `until_stored`).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

import trio

from chat.actors.frame_outbox import Outbox
from chat.actors.socket import STORAGE_ERRORS, SessionDeps
from chat.actors.thread import Attachment, CutOff
from chat.actors.visitor_context import seen_of
from chat.backoff import Backoff
from chat.db.rows import SpaceRow
from chat.events import (
    LogEntry,
    MessagePosted,
    Presence,
    ReadMarked,
    ThreadChanged,
    ThreadOpened,
    Typing,
)
from chat.ids import id_key
from chat.protocol.outbound import (
    Frame,
    agents_frame,
    encoded,
    message_frame,
    visitor_thread_frame,
    visitor_typing_frame,
)

logger = logging.getLogger(__name__)
# Entries read at a time when a switch sends what the new thread already holds.
SWITCH_PAGE = 500
# Entries held back (before the welcome, during a switch); past this the session is cut off.
HELD_LIMIT = 256
# Switches waiting for the feed task; a burst past this cuts the session off.
SWITCHES_SIZE = 16


@dataclass(frozen=True, slots=True)
class SwitchThread:
    """The visitor's open thread is now `thread_id`; the feed follows it from here."""

    thread_id: str


class FeedSession(Protocol):
    """What the feed reads and moves of a visitor session (chat/actors/visitor.py's
    VisitorSession): the thread it follows, how far it has sent, and where frames go."""

    deps: SessionDeps
    space: SpaceRow
    visitor_id: str
    outbox: Outbox
    thread_id: str | None
    watermark: str  # the id of the last thread entry sent
    own_client_ids: deque[str] | None  # made at the first message of this session's
    attachment: Attachment | None
    agents_online: bool
    available_groups: dict[str, bool] | None  # chat/actors/visitor_groups.py
    availability_due: trio.Event  # set at each presence entry: read the groups again
    # Entries held back, each with what passes it on, while `holding` (see the module's doc):
    # the thread's until the welcome and during a switch, the listeners' until the welcome.
    holding: bool
    welcomed: bool
    # Made when something is held, dropped once empty: an empty deque is 760 bytes, and most
    # widget sockets idle (issue 19).
    held: deque[tuple[Callable[[Any, LogEntry], Any], LogEntry]] | None

    @property
    def overflowed(self) -> CutOff:
        """Set when the session is cut off (1013)."""

    def feed_switches(self) -> trio.MemorySendChannel[SwitchThread] | None:
        """The channel of `feed_visitor`'s thread switches, the channel made and the task
        started at the first call; None when the session is ending (nothing left to feed)."""


async def until_stored(session: FeedSession, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a step the session's feeds cannot skip, retrying through a Redis/PostgreSQL blip.

    Frame handlers answer `unavailable` instead; these background steps have nobody to answer,
    and giving up would end the visitor's session.
    """
    backoff = Backoff(f"visitor {session.visitor_id}")
    while True:
        try:
            return await fn(*args, **kwargs)
        except STORAGE_ERRORS as exc:
            await backoff.wait(logger, exc)


def push(session: FeedSession, frame: Frame) -> bool:
    """Queue a frame for the socket without waiting; False (and the session cut off) when the
    outbox is full."""
    return _put(session, session.outbox, frame)


class _Queue(Protocol):
    """The outbox, or the channel of the feed's thread switches."""

    def send_nowait(self, item: Any, /) -> None: ...


def _put(session: FeedSession, channel: _Queue, item: object) -> bool:
    """Put `item` without waiting; when the channel is full the session has fallen behind and
    is cut off (False). A closed channel means the session is ending: nothing to do."""
    try:
        channel.send_nowait(item)
    except trio.WouldBlock:
        session.overflowed.set()
        return False
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    return True


def _hold(session: FeedSession, handle: Callable[[Any, LogEntry], Any], entry: LogEntry) -> bool:
    held = session.held
    if held is None:
        held = session.held = deque()
    if len(held) >= HELD_LIMIT:
        session.overflowed.set()
        return False
    held.append((handle, entry))
    return True


def welcomed(session: FeedSession) -> None:
    """The welcome is queued: what was held back passes on."""
    session.welcomed = True
    release(session)


def release(session: FeedSession) -> None:
    """Stop holding: pass on what was held, in order."""
    session.holding = False
    while session.held and not session.holding:
        handle, entry = session.held.popleft()
        handle(session, entry)
    if not session.held:
        session.held = None


def listener(
    session: FeedSession, handle: Callable[[Any, LogEntry], Any]
) -> Callable[[LogEntry], None]:
    """A reader listener (StreamRouter.listen) running `handle`, held back until the welcome."""

    def on_entry(entry: LogEntry) -> None:
        if not session.welcomed:
            _hold(session, handle, entry)
        else:
            handle(session, entry)

    return on_entry


async def attach(session: FeedSession, thread_id: str) -> None:
    """Make `thread_id` the session's thread: detach from the one it followed, and have the
    thread's actor (started here if none runs yet) offer the entries from now on."""
    threads = session.deps.threads
    if session.attachment is not None and session.thread_id is not None:
        threads.detach(session.space.id, session.thread_id, session.attachment)
    session.attachment = Attachment(partial(offer, session), session.overflowed)
    session.thread_id = thread_id
    await threads.attach_starting_actor(session.space.id, thread_id, session.attachment)


def offer(session: FeedSession, entry: LogEntry) -> bool:
    """The thread actor's fan-out to this session (Attachment.deliver)."""
    if session.holding:
        return _hold(session, pass_entry, entry)
    return pass_entry(session, entry)


def pass_entry(session: FeedSession, entry: LogEntry) -> bool:
    """Send one entry of the session's thread: past the watermark, not this socket's own
    message, agents' typing and read markers as they come."""
    if entry.thread_id != session.thread_id:
        return True  # from a thread this session left
    event = entry.event
    if isinstance(event, ReadMarked):
        seen = seen_of(event)
        return seen is None or push(session, seen)
    if isinstance(event, Typing):
        return event.sender_type != "agent" or push(session, visitor_typing_frame(event))
    if id_key(entry.id) <= id_key(session.watermark):
        return True
    session.watermark = entry.id
    match event:
        case MessagePosted() as m:
            own = session.own_client_ids
            if m.sender_type == "visitor" and own is not None and m.client_id in own:
                return True
            # Encoded once for all of this visitor's tabs (and sessions) in this process.
            return push(session, encoded(entry, "visitor", message_frame))
        case ThreadChanged() | ThreadOpened():
            return push(session, encoded(entry, "visitor", visitor_thread_frame))
    return True


async def feed_visitor(
    session: FeedSession, switches: trio.MemoryReceiveChannel[SwitchThread]
) -> None:
    """Move the session to each thread it is told of, until the channel closes."""
    async for switch in switches:
        if switch.thread_id == session.thread_id:
            continue
        session.holding = True
        try:
            await until_stored(session, _switch, session, switch.thread_id)
        finally:
            release(session)


async def _switch(session: FeedSession, thread_id: str) -> None:
    """Follow the thread (its live entries are held) and send what it already holds."""
    if thread_id != session.thread_id:
        await attach(session, thread_id)
    stream_log = session.deps.stream_log
    key = stream_log.keys(session.space.id).thread(thread_id)
    after: str | None = None
    while page := await stream_log.read_range(key, after, SWITCH_PAGE):
        for entry in page:
            if not pass_entry(session, entry):
                return
        after = page[-1].id


def switch_to(session: FeedSession, thread_id: str) -> None:
    """Have the feed task move the session to `thread_id`; a session with too many switches
    waiting is cut off."""
    if (switches := session.feed_switches()) is not None:
        _put(session, switches, SwitchThread(thread_id))


def on_own_thread(session: FeedSession, entry: LogEntry) -> None:
    """A thread this visitor opened (or that reopened) in another tab, on another node, or by
    an agent (the listener of the visitor's route)."""
    if isinstance(entry.event, ThreadOpened | ThreadChanged):
        switch_to(session, entry.event.thread.id)


def on_presence(session: FeedSession, entry: LogEntry) -> None:
    """An `agents` frame when whether any agent is online changes (the presence listener)."""
    event = entry.event
    assert isinstance(event, Presence)
    session.availability_due.set()
    if event.any_online != session.agents_online:
        session.agents_online = event.any_online
        push(session, agents_frame(session.agents_online, session.available_groups))
