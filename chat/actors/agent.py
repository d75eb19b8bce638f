"""An agent's WebSocket session: reader, writer, heartbeat presence and one feed per space.

Crash policy: a bad frame gets an error frame; flooding closes with 4008 as the contract says; a
Redis error inside a feed ends only that feed with an error frame (the agent subscribes
again with its cursor); the socket closing ends the session, marking the agent gone. A revoked
sign-in or a deleted agent closes it with 4001 (chat/actors/revocation.py); a deleted space ends
only that space's feed, with a `not_found` error frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import coredis.exceptions
import trio

from chat.actors.revocation import AgentWatch
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
from chat.db import accounts
from chat.db.rows import AgentRow, SpaceRow
from chat.errors import (
    CLOSE_FLOODING,
    ChatError,
    InvalidError,
    NotFoundError,
    UnavailableError,
)
from chat.events import (
    LogEntry,
    MessagePosted,
    Presence,
    ThreadChanged,
    ThreadOpened,
    Typing,
    VisitorUpdated,
)
from chat.json_types import Json
from chat.services import Services
from chat.streams.follow import Live, run_follow
from chat.streams.log import new_socket_id
from chat.wire import (
    AgentSendMessage,
    AgentTyping,
    Auth,
    ClaimOrClose,
    Frame,
    Heartbeat,
    Ping,
    Subscribe,
    Transfer,
    check_content,
    encoded,
    error_frame,
    message_json,
    parse_agent_frame,
    thread_json,
)

logger = logging.getLogger(__name__)
FEED_BUFFER = 128
CLEANUP_TIMEOUT_SECONDS = 3.0


@dataclass
class AgentSession:
    services: Services
    agent: AgentRow
    spaces: dict[str, SpaceRow]
    outbox: trio.MemorySendChannel[Frame]
    nursery: trio.Nursery
    socket_id: str = field(default_factory=new_socket_id)
    feeds: dict[str, trio.CancelScope] = field(default_factory=dict)
    thread_spaces: dict[str, str] = field(default_factory=dict)


def agent_json(agent: AgentRow, online: bool = True) -> Json:
    return {
        "id": agent.id,
        "organization_id": agent.organization_id,
        "email": agent.email,
        "name": agent.name,
        "role": agent.role,
        "is_online": online,
        "last_seen_at": agent.last_seen_at.isoformat() if agent.last_seen_at else None,
        "accepting_chats": agent.accepting_chats,
        "max_concurrent_chats": agent.max_concurrent_chats,
        "created_at": agent.created_at.isoformat(),
    }


async def run_agent_session(
    services: Services,
    socket: Socket,
    agent: AgentRow,
    spaces: list[SpaceRow],
    welcome: Json,
    watch: AgentWatch,
) -> None:
    """Serve one agent socket until it closes. The caller has accepted and authenticated it, and
    holds `watch` registered (SessionRegistry.open_agent_watch) for as long as this runs."""
    outbox_send, outbox_recv = trio.open_memory_channel[Frame](OUTBOX_SIZE)
    try:
        async with trio.open_nursery() as nursery:
            session = AgentSession(services, agent, {s.id: s for s in spaces}, outbox_send, nursery)
            await outbox_send.send(welcome)
            try:
                await _heartbeat(session)
                nursery.start_soon(end_session_after, nursery, run_writer, socket, outbox_recv)
                nursery.start_soon(end_session_after, nursery, _read_frames, session, socket)
                nursery.start_soon(_follow_revocations, session, watch)
                await trio.sleep_forever()
            finally:
                with trio.move_on_after(CLEANUP_TIMEOUT_SECONDS, shield=True):
                    await _gone(session)
    except* Closing as group:
        closing = group.exceptions[0]
        assert isinstance(closing, Closing)
        await close_quietly(socket, closing.code, closing.reason)


async def _heartbeat(session: AgentSession) -> None:
    for space_id in list(session.spaces):  # a copy: a deleted space may leave it meanwhile
        await session.services.stream_log.do_heartbeat(
            space_id, session.agent.id, session.socket_id
        )


async def _gone(session: AgentSession) -> None:
    for space_id in list(session.spaces):
        await _gone_from(session, space_id)


async def _gone_from(session: AgentSession, space_id: str) -> None:
    try:
        await session.services.stream_log.do_agent_gone(
            space_id, session.agent.id, session.socket_id
        )
    except (coredis.exceptions.RedisError, OSError):
        logger.warning("could not mark agent %s gone; the presence sweep will", session.agent.id)


async def _follow_revocations(session: AgentSession, watch: AgentWatch) -> None:
    """A revoked sign-in or a deleted agent ends the session (Closing, 4001); a deleted space
    ends that space's feed."""
    while True:
        if watch.revoked is not None:
            raise Closing(watch.revoked.code, watch.revoked.reason)
        for space_id in watch.take_gone_spaces():
            await _drop_space(session, space_id)
        await watch.wait_changed()


async def _drop_space(session: AgentSession, space_id: str) -> None:
    """The space was deleted: stop its feed, say so, and leave its presence."""
    if session.spaces.pop(space_id, None) is None:
        return  # another organization's space, or already dropped
    if (feed := session.feeds.pop(space_id, None)) is not None:
        feed.cancel()
    for thread_id in [t for t, s in session.thread_spaces.items() if s == space_id]:
        del session.thread_spaces[thread_id]
    await session.outbox.send(
        {
            "type": "error",
            "code": "not_found",
            "ref": "subscribe",
            "space_id": space_id,
            "message": "the space was deleted",
        }
    )
    await _gone_from(session, space_id)


async def _read_frames(session: AgentSession, socket: Socket) -> None:
    flood = FloodGuard(session.services.settings.flood_frames_per_second)
    idle_seconds = session.services.settings.socket_idle_timeout_seconds
    while True:
        data = await receive_within(socket, idle_seconds)
        if flood.over():
            raise Closing(CLOSE_FLOODING, "too many frames")
        frame: Any = None
        try:
            frame = parse_agent_frame(data)
            await _handle(session, frame)
        except ChatError as err:
            await session.outbox.send(_error_reply(err, frame))
        except STORAGE_ERRORS as exc:
            logger.warning("agent %s: storage unavailable: %r", session.agent.id, exc)
            await session.outbox.send(_error_reply(UnavailableError(), frame))


def _error_reply(err: ChatError, frame: Any) -> Json:
    reply = error_frame(err, getattr(frame, "client_id", None))
    if isinstance(frame, ClaimOrClose | Transfer):
        reply.update(ref=frame.type, thread_id=frame.thread_id)
    return reply


async def _handle(session: AgentSession, frame: Any) -> None:
    stream_log = session.services.stream_log
    match frame:
        case Subscribe():
            if frame.space_id not in session.spaces:
                raise NotFoundError("no such space")
            await _subscribe(session, frame.space_id, frame.cursor)
        case AgentSendMessage():
            content = check_content(frame.content)
            space_id = await _space_of(session, frame.thread_id)
            ack = await stream_log.do_post_message(
                space_id,
                sender_type="agent",
                sender_id=session.agent.id,
                sender_name=session.agent.name,
                content=content,
                client_id=frame.client_id,
                thread_id=frame.thread_id,
            )
            await session.outbox.send(
                {
                    "type": "ack",
                    "ref": "message",
                    "client_id": ack.client_id,
                    "id": ack.id,
                    "thread_id": ack.thread_id,
                    "created_at": ack.created_at,
                }
            )
        case ClaimOrClose() | Transfer():
            await _change(session, frame)
        case AgentTyping():
            space_id = await _space_of(session, frame.thread_id)
            await stream_log.do_typing(
                space_id, frame.thread_id, "agent", session.agent.id, frame.active
            )
        case Heartbeat():
            await _heartbeat(session)
        case Ping():
            await session.outbox.send({"type": "pong"})
        case Auth():
            raise InvalidError("already authenticated")


async def _change(session: AgentSession, frame: ClaimOrClose | Transfer) -> None:
    space_id = await _space_of(session, frame.thread_id)
    target = ""
    if isinstance(frame, Transfer):
        org = session.agent.organization_id
        found = await session.services.db.run(
            lambda c: accounts.agent_by_id(c, org, frame.agent_id)
        )
        if found is None:
            raise NotFoundError("no such agent")
        target = found.id
    snapshot = await session.services.stream_log.do_change_thread(
        space_id, frame.thread_id, frame.type, agent_id=session.agent.id, target_agent_id=target
    )
    assert snapshot is not None
    await session.outbox.send(
        {
            "type": "ack",
            "ref": frame.type,
            "thread_id": frame.thread_id,
            "thread": thread_json(snapshot),
        }
    )


async def _space_of(session: AgentSession, thread_id: str) -> str:
    """The agent's space holding this thread; NotFoundError for any other organization's."""
    if (known := session.thread_spaces.get(thread_id)) is not None:
        return known
    space_id = await session.services.stream_log.space_holding_thread(
        list(session.spaces), thread_id
    )
    if space_id is None:
        raise NotFoundError("no such thread")
    session.thread_spaces[thread_id] = space_id
    return space_id


async def _subscribe(session: AgentSession, space_id: str, cursor: str | None) -> None:
    if (old := session.feeds.pop(space_id, None)) is not None:
        old.cancel()
    await session.nursery.start(_run_feed, session, space_id, cursor)


async def _run_feed(
    session: AgentSession,
    space_id: str,
    cursor: str | None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    with trio.CancelScope() as scope:
        session.feeds[space_id] = scope
        task_status.started()
        if space_id not in session.spaces:
            return  # deleted after the subscribe frame was checked; the agent has heard
        send, receive = trio.open_memory_channel[LogEntry | Live](FEED_BUFFER)
        try:
            async with trio.open_nursery() as nursery, receive:
                nursery.start_soon(_follow, session, space_id, cursor, send)
                async for item in receive:
                    if isinstance(item, Live):
                        await session.outbox.send(
                            {"type": "subscribed", "space_id": space_id, "cursor": item.cursor}
                        )
                    elif (text := agent_frame(session, space_id, item)) is not None:
                        await session.outbox.send(text)
        except* ChatError as group:
            err = group.exceptions[0]
            assert isinstance(err, ChatError)
            frame = error_frame(err)
            frame.update(ref="subscribe", space_id=space_id)
            await session.outbox.send(frame)
        except* (coredis.exceptions.RedisError, OSError):
            logger.warning("feed of space %s for agent %s failed", space_id, session.agent.id)
            await session.outbox.send(
                {
                    "type": "error",
                    "code": "unavailable",
                    "ref": "subscribe",
                    "space_id": space_id,
                    "message": "the feed was interrupted; subscribe again with your cursor",
                }
            )
        finally:
            if session.feeds.get(space_id) is scope:
                del session.feeds[space_id]


async def _follow(
    session: AgentSession,
    space_id: str,
    cursor: str | None,
    send: trio.MemorySendChannel[LogEntry | Live],
) -> None:
    async with send:
        await run_follow(session.services.router, space_id, send, after=cursor)


def agent_frame(session: AgentSession, space_id: str, entry: LogEntry) -> str | None:
    """The frame an agent gets for a log entry (None for its own typing), as text: the same for
    every agent of the space, so it is encoded once per entry (chat.wire.encoded)."""
    match entry.event:
        case MessagePosted() as m:
            session.thread_spaces.setdefault(m.thread_id, space_id)
        case Typing() as t if t.sender_type == "agent" and t.sender_id == session.agent.id:
            return None
    return encoded(entry, "agent", _agent_frame_json)


def _agent_frame_json(entry: LogEntry) -> Json:
    """An agent's frame for a log entry, carrying the entry id as its cursor."""
    frame: Json
    match entry.event:
        case MessagePosted() as m:
            frame = {"type": "message", **message_json(entry.id, m)}
        case ThreadOpened() as o:
            thread = thread_json(o.thread)
            thread["visitor"] = o.visitor.model_dump(exclude={"thread", "created"})
            frame = {"type": "thread.new", "thread": thread}
        case ThreadChanged() as c:
            frame = {
                "type": "thread.updated",
                "change": c.type.removeprefix("thread."),
                "by": c.by,
                "thread": thread_json(c.thread),
            }
        case Typing() as t:
            frame = {
                "type": "typing",
                "thread_id": t.thread_id,
                "sender_type": t.sender_type,
                "sender_id": t.sender_id,
                "active": t.active,
            }
        case Presence() as p:
            frame = {"type": "presence", "agent_id": p.agent_id, "online": p.online}
        case VisitorUpdated() as v:
            frame = {
                "type": "visitor.updated",
                "visitor": v.model_dump(exclude={"type", "created"}, exclude_none=True),
            }
    frame["cursor"] = entry.id
    return frame
