"""A visitor's feed: what follows the visitor's thread and presence and delivers their entries to
the socket, for the visitor session of chat/actors/visitor.py.

The thread actor puts the thread's entries in the session's inbox (`Attachment`); a `SwitchThread`
in the same inbox, from a message that opened a thread or from another tab (`follow_visitor`),
moves the session to another thread. Typed against `FeedSession`, the fields of the session it
uses, so this module never imports the session's. A storage error in a feed step backs off and
retries (`until_stored`): nobody waits for an answer, and giving up would end the session.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import trio

from chat.actors.socket import STORAGE_ERRORS, SessionDeps
from chat.actors.thread import Attachment
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
    visitor_route,
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
from chat.streams.reader import Subscription

logger = logging.getLogger(__name__)
# Entries read at a time when a switch sends what the new thread already holds.
SWITCH_PAGE = 500


@dataclass(frozen=True, slots=True)
class SwitchThread:
    """In the inbox: the visitor's open thread is now `thread_id`; the feed follows it from here."""

    thread_id: str


class FeedSession(Protocol):
    """What the feed reads and moves of a visitor session (chat/actors/visitor.py's
    VisitorSession): the thread it follows, how far it has sent, and where frames go."""

    deps: SessionDeps
    space: SpaceRow
    visitor_id: str
    outbox: trio.MemorySendChannel[Frame]
    inbox: trio.MemorySendChannel[LogEntry | SwitchThread]
    overflowed: trio.Event  # set by the thread actor when it cuts this session off
    thread_id: str | None
    watermark: str  # the id of the last thread entry sent
    own_client_ids: deque[str]
    attachment: Attachment | None
    agents_online: bool
    available_groups: dict[str, bool] | None  # chat/actors/visitor_groups.py
    availability_due: trio.Event  # set at each presence entry: read the groups again


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


async def attach(session: FeedSession, thread_id: str) -> None:
    """Make `thread_id` the session's thread: detach from the one it followed, and have the
    thread's actor (started here if none runs yet) put the entries from now on in its inbox."""
    threads = session.deps.threads
    if session.attachment is not None and session.thread_id is not None:
        threads.detach(session.space.id, session.thread_id, session.attachment)
    session.attachment = Attachment(session.inbox.clone(), session.overflowed)
    session.thread_id = thread_id
    await threads.attach_starting_actor(session.space.id, thread_id, session.attachment)


async def feed_visitor(
    session: FeedSession, inbox: trio.MemoryReceiveChannel[LogEntry | SwitchThread]
) -> None:
    """Deliver the session's inbox until it closes: the current thread's entries past the
    watermark, agents' typing, and a switch to another thread (retried through a blip)."""
    async for item in inbox:
        if isinstance(item, SwitchThread):
            await until_stored(session, _switch, session, item.thread_id)
            continue
        if item.thread_id != session.thread_id:
            continue  # from a thread this session left
        if isinstance(item.event, ReadMarked):
            if (seen := seen_of(item.event)) is not None:
                await session.outbox.send(seen)
            continue
        if isinstance(item.event, Typing):
            if item.event.sender_type == "agent":
                await session.outbox.send(visitor_typing_frame(item.event))
            continue
        if id_key(item.id) <= id_key(session.watermark):
            continue
        session.watermark = item.id
        await _send_entry(session, item)


async def _send_entry(session: FeedSession, entry: LogEntry) -> None:
    match entry.event:
        case MessagePosted() as m:
            if m.sender_type == "visitor" and m.client_id in session.own_client_ids:
                return
            # Encoded once for all of this visitor's tabs (and sessions) in this process.
            await session.outbox.send(encoded(entry, "visitor", message_frame))
        case ThreadChanged() | ThreadOpened():
            await session.outbox.send(encoded(entry, "visitor", visitor_thread_frame))


async def _switch(session: FeedSession, thread_id: str) -> None:
    """Another thread became the visitor's open one: follow it and send what it already holds."""
    if thread_id == session.thread_id:
        return
    await attach(session, thread_id)
    stream_log = session.deps.stream_log
    key = stream_log.keys(session.space.id).thread(thread_id)
    after: str | None = None
    while page := await stream_log.read_range(key, after, SWITCH_PAGE):
        for entry in page:
            if id_key(entry.id) > id_key(session.watermark):
                session.watermark = entry.id
                await _send_entry(session, entry)
        after = page[-1].id


async def follow_visitor(session: FeedSession, sub: Subscription) -> None:
    """Threads this visitor opened (or that reopened) in another tab, on another node, or by
    an agent."""
    router = session.deps.router
    while True:
        try:
            async for entry in sub.receive:
                if isinstance(entry.event, ThreadOpened | ThreadChanged):  # opened, reopened
                    await session.inbox.send(SwitchThread(entry.event.thread.id))
        finally:
            router.unsubscribe(sub)
        if not sub.overflowed:
            return
        sub = await until_stored(
            session, router.subscribe, session.space.id, route=visitor_route(session.visitor_id)
        )
        state = await until_stored(
            session, session.deps.stream_log.visitor, session.space.id, session.visitor_id
        )
        if state is not None and state.thread is not None:
            await session.inbox.send(SwitchThread(state.thread))


async def follow_presence(session: FeedSession, sub: Subscription) -> None:
    """`agents` frames when whether any agent is online changes."""
    deps = session.deps
    online = session.agents_online  # as the welcome said; only changes are sent
    while True:
        try:
            async for entry in sub.receive:
                assert isinstance(entry.event, Presence)
                session.availability_due.set()
                if entry.event.any_online != online:
                    online = session.agents_online = entry.event.any_online
                    await session.outbox.send(agents_frame(online, session.available_groups))
        finally:
            deps.router.unsubscribe(sub)
        if not sub.overflowed:
            return
        sub = await until_stored(session, deps.router.subscribe, session.space.id, kind="presence")
        agents = await until_stored(session, deps.stream_log.online_agents, session.space.id)
        session.availability_due.set()
        if bool(agents) != online:
            online = session.agents_online = not online
            await session.outbox.send(agents_frame(online, session.available_groups))
