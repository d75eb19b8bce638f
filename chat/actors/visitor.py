"""A visitor's WebSocket session: a task group of reader, writer, thread feed and presence.

Crash policy: a bad frame is answered with an error frame and the session goes on; a storage
error in a handler answers `unavailable`, one in a background feed step backs off and retries;
flooding
closes with 4008; a feed that fell behind closes with 1013 so the widget resumes from its last
id; a rotated key or a deleted space closes with 4004 (chat/actors/revocation.py); the socket
closing ends the session; anything else propagates (the handler logs it).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import trio

from chat import thread_history
from chat.actors.revocation import WidgetWatch, end_when_revoked
from chat.actors.socket import (
    OUTBOX_SIZE,
    STORAGE_ERRORS,
    Closing,
    FloodGuard,
    Socket,
    close_quietly,
    end_session_after,
    receive_within,
    run_writer,
)
from chat.actors.thread import Attachment
from chat.backoff import Backoff
from chat.clock import now_ms
from chat.db.rows import SpaceRow
from chat.errors import CLOSE_FLOODING, CLOSE_TRY_AGAIN, ChatError, UnavailableError
from chat.events import (
    OPEN_THREAD_STATUSES,
    LogEntry,
    MessagePosted,
    Presence,
    ThreadChanged,
    ThreadOpened,
    Typing,
    VisitorInfo,
    visitor_route,
)
from chat.ids import id_key
from chat.json_types import Json
from chat.services import Services
from chat.space_settings import SpaceSettings
from chat.streams.log import RateLimit
from chat.streams.reader import Subscription
from chat.wire import (
    Frame,
    Identify,
    Page,
    Ping,
    SendMessage,
    VisitorTyping,
    check_content,
    encoded,
    error_frame,
    message_frame,
    parse_visitor_frame,
    thread_json,
    visitor_json,
)

logger = logging.getLogger(__name__)
HISTORY_LIMIT = 50
# A resume (`last`) gets every message after it, so nothing falls between the welcome and the
# live feed; past this many the welcome holds the newest ones instead (a gap, but bounded).
RESUME_LIMIT = 1000
SWITCH_PAGE = 500
# The thread entries waiting for this session; a session this far behind is cut off (1013).
INBOX_SIZE = 256
# Recent client_ids sent on this socket: their echo from the log is not sent back to it.
OWN_CLIENT_IDS = 256


@dataclass(frozen=True, slots=True)
class SwitchThread:
    thread_id: str


@dataclass
class VisitorSession:
    services: Services
    space: SpaceRow
    settings: SpaceSettings
    visitor_id: str
    name: str | None
    outbox: trio.MemorySendChannel[Frame]
    inbox: trio.MemorySendChannel[LogEntry | SwitchThread]
    overflowed: trio.Event = field(default_factory=trio.Event)
    thread_id: str | None = None
    watermark: str = "0-0"
    own_client_ids: deque[str] = field(default_factory=lambda: deque(maxlen=OWN_CLIENT_IDS))
    attachment: Attachment | None = None
    agents_online: bool = False


async def run_visitor_session(
    services: Services,
    socket: Socket,
    space: SpaceRow,
    visitor_id: str,
    session_token: str,
    last: str | None,
    watch: WidgetWatch,
) -> None:
    """Serve one widget socket until it closes. The caller has accepted it, and holds `watch`
    registered (SessionRegistry.open_widget_watch) for as long as this runs."""
    outbox_send, outbox_recv = trio.open_memory_channel[Frame](OUTBOX_SIZE)
    inbox_send, inbox_recv = trio.open_memory_channel[LogEntry | SwitchThread](INBOX_SIZE)
    stream_log, router = services.stream_log, services.router
    # Subscribed before the visitor's state is read, so no change falls between the two.
    presence = await router.subscribe(space.id, kind="presence")
    own_threads = await router.subscribe(space.id, route=visitor_route(visitor_id))
    session: VisitorSession | None = None
    try:
        info = await stream_log.visitor(space.id, visitor_id)
        if info is None:
            created = now_ms()
            await stream_log.do_update_visitor(space.id, visitor_id, {"created": str(created)})
            info = VisitorInfo(id=visitor_id, created=created)
        session = VisitorSession(
            services,
            space,
            SpaceSettings.of(space.settings),
            visitor_id,
            info.name,
            outbox_send,
            inbox_send,
        )
        async with trio.open_nursery() as nursery:
            await _welcome(session, session_token, info, last)
            nursery.start_soon(end_session_after, nursery, run_writer, socket, outbox_recv)
            nursery.start_soon(end_session_after, nursery, _read_frames, session, socket)
            nursery.start_soon(_feed, session, inbox_recv)
            nursery.start_soon(_follow_visitor, session, own_threads)
            nursery.start_soon(_follow_presence, session, presence)
            nursery.start_soon(end_when_revoked, watch)
            await session.overflowed.wait()
            raise Closing(CLOSE_TRY_AGAIN, "fell behind; resume with last")
    except* Closing as group:
        closing = group.exceptions[0]
        assert isinstance(closing, Closing)
        await close_quietly(socket, closing.code, closing.reason)
    finally:
        router.unsubscribe(presence)
        router.unsubscribe(own_threads)
        if session and session.attachment is not None and session.thread_id is not None:
            services.threads.detach(space.id, session.thread_id, session.attachment)


async def _welcome(
    session: VisitorSession, token: str, visitor: VisitorInfo, last: str | None
) -> None:
    services, space = session.services, session.space
    thread_id = visitor.thread
    snapshot = await services.stream_log.thread_state(space.id, thread_id) if thread_id else None
    if snapshot is not None and snapshot.status not in OPEN_THREAD_STATUSES:
        snapshot = None
    messages: list[Json] = []
    if snapshot is not None:
        await _attach(session, snapshot.id)
        messages = await _history(session, snapshot.id, last)
        session.watermark = messages[-1]["id"] if messages else (last or "0-0")
    online = await services.stream_log.online_agents(space.id)
    session.agents_online = bool(online)
    await session.outbox.send(
        {
            "type": "welcome",
            "session": token,
            "visitor": visitor_json(space.id, session.visitor_id, visitor),
            "thread": thread_json(snapshot) if snapshot else None,
            "agents_online": bool(online),
            "history": messages,
        }
    )


async def _history(session: VisitorSession, thread_id: str, last: str | None) -> list[Json]:
    """The welcome's history: every message after `last` (up to RESUME_LIMIT), or the latest
    HISTORY_LIMIT without it. Read after attaching, so the live feed takes over where it ends."""
    stream_log, db, space_id = session.services.stream_log, session.services.db, session.space.id
    if last is None:
        return await thread_history.messages_after(
            stream_log, db, space_id, thread_id, None, HISTORY_LIMIT
        )
    missed = await thread_history.messages_after(
        stream_log, db, space_id, thread_id, last, RESUME_LIMIT + 1
    )
    if len(missed) <= RESUME_LIMIT:
        return missed
    return await thread_history.messages_after(
        stream_log, db, space_id, thread_id, None, RESUME_LIMIT
    )


async def _attach(session: VisitorSession, thread_id: str) -> None:
    services = session.services
    if session.attachment is not None and session.thread_id is not None:
        services.threads.detach(session.space.id, session.thread_id, session.attachment)
    session.attachment = Attachment(session.inbox.clone(), session.overflowed)
    session.thread_id = thread_id
    await services.threads.attach_starting_actor(session.space.id, thread_id, session.attachment)


async def _read_frames(session: VisitorSession, socket: Socket) -> None:
    flood = FloodGuard(session.services.settings.flood_frames_per_second)
    idle_seconds = session.services.settings.socket_idle_timeout_seconds
    while True:
        data = await receive_within(socket, idle_seconds)
        if flood.over():
            raise Closing(CLOSE_FLOODING, "too many frames")
        client_id = None
        try:
            frame = parse_visitor_frame(data)
            client_id = getattr(frame, "client_id", None)
            await _handle(session, frame)
        except ChatError as err:
            await session.outbox.send(error_frame(err, client_id))
        except STORAGE_ERRORS as exc:
            logger.warning("visitor %s: storage unavailable: %r", session.visitor_id, exc)
            await session.outbox.send(error_frame(UnavailableError(), client_id))


async def _handle(session: VisitorSession, frame: Any) -> None:
    stream_log, space = session.services.stream_log, session.space
    match frame:
        case SendMessage():
            content = check_content(frame.content)
            session.own_client_ids.append(frame.client_id)
            ack = await stream_log.do_post_message(
                space.id,
                sender_type="visitor",
                sender_id=session.visitor_id,
                sender_name=session.name or "Visitor",
                content=content,
                client_id=frame.client_id,
                rate=RateLimit(
                    session.settings.visitor_messages_per_second, session.settings.visitor_burst
                ),
                max_open_threads=session.settings.max_open_threads,
            )
            await session.outbox.send(
                {
                    "type": "ack",
                    "client_id": ack.client_id,
                    "id": ack.id,
                    "thread_id": ack.thread_id,
                    "created_at": ack.created_at,
                }
            )
            if ack.thread_id != session.thread_id:
                await session.inbox.send(SwitchThread(ack.thread_id))
        case VisitorTyping():
            if session.thread_id is not None:
                await stream_log.do_typing(
                    space.id, session.thread_id, "visitor", session.visitor_id, frame.active
                )
        case Identify():
            fields = {k: v.strip() for k, v in (("name", frame.name), ("email", frame.email)) if v}
            if fields:
                session.name = fields.get("name", session.name)
                await stream_log.do_update_visitor(space.id, session.visitor_id, fields)
        case Page():
            await stream_log.do_update_visitor(
                space.id, session.visitor_id, {"current_url": frame.url}
            )
        case Ping():
            await session.outbox.send({"type": "pong"})


async def _until_stored(session: VisitorSession, fn: Any, *args: Any, **kwargs: Any) -> Any:
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


async def _feed(
    session: VisitorSession, inbox: trio.MemoryReceiveChannel[LogEntry | SwitchThread]
) -> None:
    async for item in inbox:
        if isinstance(item, SwitchThread):
            await _until_stored(session, _switch, session, item.thread_id)
            continue
        if item.thread_id != session.thread_id:
            continue  # from a thread this session left
        if isinstance(item.event, Typing):
            if item.event.sender_type == "agent":
                await session.outbox.send(
                    {
                        "type": "typing",
                        "thread_id": item.event.thread_id,
                        "active": item.event.active,
                    }
                )
            continue
        if id_key(item.id) <= id_key(session.watermark):
            continue
        session.watermark = item.id
        await _send_entry(session, item)


async def _send_entry(session: VisitorSession, entry: LogEntry) -> None:
    match entry.event:
        case MessagePosted() as m:
            if m.sender_type == "visitor" and m.client_id in session.own_client_ids:
                return
            # Encoded once for all of this visitor's tabs (and sessions) in this process.
            await session.outbox.send(encoded(entry, "visitor", message_frame))
        case ThreadChanged() | ThreadOpened():
            await session.outbox.send(encoded(entry, "visitor", _thread_frame))


def _thread_frame(entry: LogEntry) -> Json:
    assert isinstance(entry.event, ThreadChanged | ThreadOpened)
    return {"type": "thread", "thread": thread_json(entry.event.thread)}


async def _switch(session: VisitorSession, thread_id: str) -> None:
    """Another thread became the visitor's open one: follow it and send what it already holds."""
    if thread_id == session.thread_id:
        return
    await _attach(session, thread_id)
    stream_log = session.services.stream_log
    key = stream_log.keys(session.space.id).thread(thread_id)
    after: str | None = None
    while page := await stream_log.read_range(key, after, SWITCH_PAGE):
        for entry in page:
            if id_key(entry.id) > id_key(session.watermark):
                session.watermark = entry.id
                await _send_entry(session, entry)
        after = page[-1].id


async def _follow_visitor(session: VisitorSession, sub: Subscription) -> None:
    """Threads this visitor opened in another tab or on another node."""
    router = session.services.router
    while True:
        try:
            async for entry in sub.receive:
                if isinstance(entry.event, ThreadOpened):
                    await session.inbox.send(SwitchThread(entry.event.thread.id))
        finally:
            router.unsubscribe(sub)
        if not sub.overflowed:
            return
        sub = await _until_stored(
            session, router.subscribe, session.space.id, route=visitor_route(session.visitor_id)
        )
        state = await _until_stored(
            session, session.services.stream_log.visitor, session.space.id, session.visitor_id
        )
        if state is not None and state.thread is not None:
            await session.inbox.send(SwitchThread(state.thread))


async def _follow_presence(session: VisitorSession, sub: Subscription) -> None:
    """`agents` frames when whether any agent is online changes."""
    services = session.services
    online = session.agents_online  # as the welcome said; only changes are sent
    while True:
        try:
            async for entry in sub.receive:
                assert isinstance(entry.event, Presence)
                if entry.event.any_online != online:
                    online = entry.event.any_online
                    await session.outbox.send({"type": "agents", "online": online})
        finally:
            services.router.unsubscribe(sub)
        if not sub.overflowed:
            return
        sub = await _until_stored(
            session, services.router.subscribe, session.space.id, kind="presence"
        )
        agents = await _until_stored(session, services.stream_log.online_agents, session.space.id)
        if bool(agents) != online:
            online = not online
            await session.outbox.send({"type": "agents", "online": online})
