"""An agent's WebSocket session: heartbeat presence, one feed per subscribed space, and one small
handler per frame kind, on the skeleton of chat/actors/socket.py.

Crash policy: a bad frame gets an error frame; flooding closes with 4008 as the contract says; a
Redis error inside a feed ends only that feed with an error frame (the agent subscribes
again with its cursor); the socket closing ends the session, marking the agent gone. A revoked
sign-in or a deleted agent closes it with 4001 (chat/actors/revocation.py); a deleted space ends
only that space's feed, with a `not_found` error frame.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import NoReturn, assert_never

import trio

from chat.actors.agent_tools import ToolSession, handle_agent_tool
from chat.actors.floor import run_floor_view
from chat.actors.frame_outbox import Outbox
from chat.actors.pacing import VisitorUpdates
from chat.actors.revocation import AgentWatch
from chat.actors.socket import (
    OUTBOX_SIZE,
    SessionDeps,
    Socket,
    run_session,
)
from chat.actors.viewing import NOTHING, Viewed, ViewingPresence
from chat.auth.roles import reads_note, supervises
from chat.commands.attachments import check_agent_attachment, content_with
from chat.commands.bots import do_handover_as
from chat.commands.reads import do_mark_read
from chat.commands.threads import Actor
from chat.db.rows import AgentRow, SpaceRow
from chat.errors import (
    ChatError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    UnavailableError,
)
from chat.events import (
    LogEntry,
    MessagePosted,
    NoteCreated,
    QuickReply,
    ReadMarked,
    Typing,
    VisitorUpdated,
)
from chat.json_types import Json
from chat.protocol.inbound import (
    AddNote,
    AgentFrame,
    AgentSendMessage,
    AgentTyping,
    Auth,
    Claim,
    Close,
    FloorSubscribe,
    FloorUnsubscribe,
    Handover,
    Heartbeat,
    MarkRead,
    Ping,
    Reopen,
    Subscribe,
    TagThread,
    Transfer,
    Viewing,
    Whisper,
    check_content,
    parse_agent_frame,
)
from chat.protocol.outbound import (
    PONG,
    action_ack,
    agent_event_frame,
    agent_welcome,
    encoded,
    error_frame,
    message_ack,
    subscribed_frame,
    thread_with_visitor_json,
)
from chat.streams.errors import StreamLogError
from chat.streams.follow import Follow, Live
from chat.streams.log import new_socket_id

logger = logging.getLogger(__name__)
# Threads whose space this session remembers. Its feeds carry every thread of its spaces, so
# over a long shift an unbounded map would grow with each of them; a miss costs one EXISTS per
# space, so the most recently used few thousand keep every thread an agent is working on.
KNOWN_THREADS = 4096


class ThreadSpaces:
    """thread id -> space id, least recently used dropped past `size`."""

    def __init__(self, size: int = KNOWN_THREADS) -> None:
        self.size = size
        self._spaces: OrderedDict[str, str] = OrderedDict()

    def get(self, thread_id: str) -> str | None:
        space_id = self._spaces.get(thread_id)
        if space_id is not None:
            self._spaces.move_to_end(thread_id)
        return space_id

    def put(self, thread_id: str, space_id: str) -> None:
        self._spaces[thread_id] = space_id
        self._spaces.move_to_end(thread_id)
        if len(self._spaces) > self.size:
            self._spaces.popitem(last=False)

    def forget_space(self, space_id: str) -> None:
        for thread_id in [t for t, s in self._spaces.items() if s == space_id]:
            del self._spaces[thread_id]

    def __len__(self) -> int:
        return len(self._spaces)


@dataclass(eq=False)
class AgentSession:
    """One agent socket's state; the `Session` of chat/actors/socket.py for agent frames."""

    deps: SessionDeps
    agent: AgentRow
    spaces: dict[str, SpaceRow]
    outbox: Outbox
    watch: AgentWatch  # a revoked sign-in or a deleted agent ends the session (4001)
    socket_id: str = field(default_factory=new_socket_id)
    feeds: dict[str, trio.CancelScope] = field(default_factory=dict)
    thread_spaces: ThreadSpaces = field(default_factory=ThreadSpaces)
    nursery: trio.Nursery = field(init=False)  # the session's, from join(): feeds run in it
    floor_view: trio.CancelScope | None = None  # the floor's frames to this socket, if watched
    viewing: ViewingPresence = field(init=False)  # which thread this socket has open

    def __post_init__(self) -> None:
        viewing = self.deps.stream_log.viewing
        self.viewing = ViewingPresence(viewing, self.agent.id, self.socket_id)

    @property
    def who(self) -> str:
        return f"agent {self.agent.id}"

    def parse(self, data: str | bytes) -> AgentFrame:
        return parse_agent_frame(data)

    async def join(self, nursery: trio.Nursery) -> None:
        self.nursery = nursery
        await self.outbox.send(agent_welcome(self.agent, self.spaces.values()))
        await _heartbeat(self)
        nursery.start_soon(self.viewing.run_writer)
        nursery.start_soon(_follow_gone_spaces, self)

    async def handle(self, frame: AgentFrame) -> None:
        match frame:
            case Subscribe():
                await _handle_subscribe(self, frame)
            case AgentSendMessage():
                await _handle_message(self, frame)
            case Claim():
                await _handle_claim(self, frame)
            case Close():
                await _handle_close(self, frame)
            case Transfer():
                await _handle_transfer(self, frame)
            case Handover():
                await _handle_handover(self, frame)
            case Reopen():
                await _handle_reopen(self, frame)
            case AgentTyping():
                await _handle_typing(self, frame)
            case Viewing():
                await _handle_viewing(self, frame)
            case MarkRead():
                await _handle_read(self, frame)
            case Heartbeat():
                await _heartbeat(self)
            case Ping():
                await self.outbox.put(PONG)
            case FloorSubscribe():
                await _handle_floor_subscribe(self)
            case FloorUnsubscribe():
                if self.floor_view is not None:
                    self.floor_view.cancel()
                    self.floor_view = None
            case AddNote() | Whisper() | TagThread():
                tools = ToolSession(self.deps, self.agent, list(self.spaces), self.outbox)
                await handle_agent_tool(tools, frame)
            case Auth():
                raise InvalidError("already authenticated")
            case _:
                assert_never(frame)

    def error_reply(self, err: ChatError, frame: AgentFrame | None) -> Json:
        match frame:
            case AgentSendMessage():
                return error_frame(err, frame.client_id)
            case AddNote() | Whisper():
                return error_frame(err, frame.client_id, ref=frame.type, thread_id=frame.thread_id)
            case TagThread():
                return error_frame(err, ref=frame.type, thread_id=frame.thread_id)
            case Claim() | Close() | Transfer() | Handover() | Viewing() | Reopen() | MarkRead():
                return error_frame(err, ref=frame.type, thread_id=frame.thread_id)
            case FloorSubscribe():
                return error_frame(err, ref=frame.type)
        return error_frame(err)

    async def leave(self) -> None:
        await self.viewing.leave()
        for space_id in list(self.spaces):
            await _gone_from(self, space_id)


async def run_agent_session(
    deps: SessionDeps,
    socket: Socket,
    agent: AgentRow,
    spaces: list[SpaceRow],
    watch: AgentWatch,
) -> None:
    """Serve one agent socket until it closes: the welcome lists `spaces`, then frames. The
    caller has accepted and authenticated it, and holds `watch` registered
    (SessionRegistry.open_agent_watch) for as long as this runs."""
    session = AgentSession(deps, agent, {s.id: s for s in spaces}, Outbox(OUTBOX_SIZE), watch)
    await run_session(socket, session, deps.settings, deps.stats.agent)


async def _handle_subscribe(session: AgentSession, frame: Subscribe) -> None:
    if frame.space_id not in session.spaces:
        raise NotFoundError("no such space")
    if (old := session.feeds.pop(frame.space_id, None)) is not None:
        old.cancel()
    await session.nursery.start(_run_feed, session, frame.space_id, frame.cursor)


async def _handle_floor_subscribe(session: AgentSession) -> None:
    """Supervisors and admins only (`forbidden` for an agent); subscribing again while watching
    changes nothing (chat/actors/floor.py, `run_floor_view`)."""
    if not supervises(session.agent.role):
        raise ForbiddenError("the floor view is for supervisors and admins")
    if session.deps.floors is None:
        raise UnavailableError("the floor view is not served here")
    if session.floor_view is None or session.floor_view.cancel_called:
        session.floor_view = await session.nursery.start(
            run_floor_view,
            session.deps.floors,
            session.agent.organization_id,
            list(session.spaces.values()),
            session.outbox,
        )


async def _handle_message(session: AgentSession, frame: AgentSendMessage) -> None:
    space_id = await _space_of(session, frame.thread_id)
    attachment = None
    if frame.attachment_id is not None:
        attachment = await check_agent_attachment(
            session.deps.db, session.agent.organization_id, frame.thread_id, frame.attachment_id
        )
    content = check_content(content_with(frame.content, attachment))
    ack = await session.deps.stream_log.do_post_message(
        space_id,
        sender_type="agent",
        sender_id=session.agent.id,
        sender_name=session.agent.name,
        content=content,
        client_id=frame.client_id,
        thread_id=frame.thread_id,
        attachment=attachment,
        quick_replies=[QuickReply(label=q.label) for q in frame.quick_replies or ()],
    )
    await session.outbox.put(message_ack(ack, ref="message"))


async def _handle_claim(session: AgentSession, frame: Claim) -> None:
    space_id = await _space_of(session, frame.thread_id)
    thread = await session.deps.commands.do_claim(
        space_id, frame.thread_id, actor=Actor.of(session.agent)
    )
    await session.outbox.send(action_ack("claim", frame.thread_id, thread))


async def _handle_close(session: AgentSession, frame: Close) -> None:
    space_id = await _space_of(session, frame.thread_id)
    thread = await session.deps.commands.do_close(
        space_id, frame.thread_id, actor=Actor.of(session.agent)
    )
    await session.outbox.send(action_ack("close", frame.thread_id, thread))


async def _handle_transfer(session: AgentSession, frame: Transfer) -> None:
    space_id = await _space_of(session, frame.thread_id)
    thread = await session.deps.commands.do_transfer(
        space_id,
        frame.thread_id,
        actor=Actor.of(session.agent),
        target_agent_id=frame.agent_id,
        force=frame.force,
    )
    await session.outbox.send(action_ack("transfer", frame.thread_id, thread))


async def _handle_handover(session: AgentSession, frame: Handover) -> None:
    """A bot hands over what it holds; a supervisor any bot's (structures.md, "Bots")."""
    space_id = await _space_of(session, frame.thread_id)
    thread = await do_handover_as(
        session.deps.stream_log, session.agent, space_id, frame.thread_id, frame.reason
    )
    await session.outbox.send(action_ack("handover", frame.thread_id, thread))


async def _handle_reopen(session: AgentSession, frame: Reopen) -> None:
    space_id = await _space_of(session, frame.thread_id)
    thread = await session.deps.commands.do_reopen(
        space_id, frame.thread_id, actor=Actor.of(session.agent)
    )
    await session.outbox.send(action_ack("reopen", frame.thread_id, thread))


async def _handle_typing(session: AgentSession, frame: AgentTyping) -> None:
    space_id = await _space_of(session, frame.thread_id)
    await session.deps.stream_log.do_typing(
        space_id, frame.thread_id, "agent", session.agent.id, frame.active
    )


async def _handle_viewing(session: AgentSession, frame: Viewing) -> None:
    """Paced and written by session.viewing (chat/actors/viewing.py); no ack."""
    if frame.thread_id is None:
        session.viewing.want(NOTHING)
        return
    space_id = await _space_of(session, frame.thread_id)
    session.viewing.want(Viewed(space_id, frame.thread_id))


async def _handle_read(session: AgentSession, frame: MarkRead) -> None:
    """Answered `{"type":"ack","ref":"read","thread_id","id"}` with the marker now."""
    space_id = await _space_of(session, frame.thread_id)
    marker = await do_mark_read(
        session.deps.stream_log, space_id, frame.thread_id, session.agent.id, frame.id
    )
    await session.outbox.send(
        {"type": "ack", "ref": "read", "thread_id": frame.thread_id, "id": marker}
    )


async def _space_of(session: AgentSession, thread_id: str) -> str:
    """The agent's space holding this thread (chat/commands/threads.py finds it; remembered);
    NotFoundError for any other organization's."""
    if (known := session.thread_spaces.get(thread_id)) is not None:
        return known
    space_id = await session.deps.commands.space_of(
        session.agent.organization_id, thread_id, list(session.spaces)
    )
    session.thread_spaces.put(thread_id, space_id)
    return space_id


async def _heartbeat(session: AgentSession) -> None:
    stream_log = session.deps.stream_log
    for space_id in list(session.spaces):  # a copy: a deleted space may leave it meanwhile
        if session.agent.is_bot:  # never counted online (structures.md, "Bots")
            await stream_log.bots.do_heartbeat(space_id, session.agent.id)
        else:
            await stream_log.do_heartbeat(space_id, session.agent.id, session.socket_id)
    await session.viewing.refresh()


async def _gone_from(session: AgentSession, space_id: str) -> None:
    stream_log = session.deps.stream_log
    try:
        if session.agent.is_bot:
            await stream_log.bots.do_gone(space_id, session.agent.id)
            return
        await stream_log.do_agent_gone(space_id, session.agent.id, session.socket_id)
    except (StreamLogError, OSError):
        logger.warning("could not mark agent %s gone; the presence sweep will", session.agent.id)


async def _follow_gone_spaces(session: AgentSession) -> NoReturn:
    """A deleted space ends that space's feed (the session goes on)."""
    watch = session.watch
    while True:
        for space_id in watch.take_gone_spaces():
            await _drop_space(session, space_id)
        await watch.wait_changed()


async def _drop_space(session: AgentSession, space_id: str) -> None:
    """The space was deleted: stop its feed, say so, and leave its presence."""
    if session.spaces.pop(space_id, None) is None:
        return  # another organization's space, or already dropped
    if (feed := session.feeds.pop(space_id, None)) is not None:
        feed.cancel()
    session.thread_spaces.forget_space(space_id)
    gone = NotFoundError("the space was deleted")
    await session.outbox.send(error_frame(gone, ref="subscribe", space_id=space_id))
    await _gone_from(session, space_id)


async def _run_feed(
    session: AgentSession,
    space_id: str,
    cursor: str | None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """One space's events to the agent: the replay after `cursor`, `subscribed`, then live. A
    ChatError (cursor_expired) or a Redis failure ends only this feed, with an error frame."""
    with trio.CancelScope() as scope:
        session.feeds[space_id] = scope
        task_status.started()
        if space_id not in session.spaces:
            return  # deleted after the subscribe frame was checked; the agent has heard
        updates = VisitorUpdates()
        try:
            # Pulled here: no task or channel between the reader's subscription and the feed.
            with Follow(
                session.deps.router, space_id, after=cursor, snapshot=cursor is None
            ) as follow:
                await follow.start()
                while True:
                    item: LogEntry | Live | None = None
                    due = updates.due_at()
                    try:
                        if due == math.inf:
                            # Nothing held (the common case): no cancel scope per entry, about
                            # 3% of a message's CPU with two agents a space (issue 19).
                            item = await follow.next()
                        else:
                            with trio.move_on_at(due):
                                item = await follow.next()
                    except trio.EndOfChannel:
                        break
                    await _forward(session, space_id, item, updates)
        except* ChatError as group:
            err = group.exceptions[0]
            assert isinstance(err, ChatError)
            await session.outbox.send(error_frame(err, ref="subscribe", space_id=space_id))
        except* (StreamLogError, OSError):
            logger.warning("feed of space %s for agent %s failed", space_id, session.agent.id)
            interrupted = UnavailableError(
                "the feed was interrupted; subscribe again with your cursor"
            )
            await session.outbox.send(error_frame(interrupted, ref="subscribe", space_id=space_id))
        finally:
            if session.feeds.get(space_id) is scope:
                del session.feeds[space_id]


async def _forward(
    session: AgentSession, space_id: str, item: LogEntry | Live | None, updates: VisitorUpdates
) -> None:
    """Send one item of a feed (None: the held visitor updates are due), the held visitor
    updates first: they are older, and cursors must only grow."""
    if isinstance(item, LogEntry) and isinstance(item.event, VisitorUpdated):
        if updates.hold(item):
            return
    else:
        for held in updates.take():
            await session.outbox.put(encoded(held, "agent", agent_event_frame))
    if isinstance(item, Live):
        threads = None
        if item.snapshot is not None:
            threads = [
                thread_with_visitor_json(space_id, t.thread, t.visitor)
                for t in item.snapshot.threads
            ]
            for t in item.snapshot.threads:
                session.thread_spaces.put(t.thread.id, space_id)
            # This agent's unread counts (structures.md, "Read state"): they survive a reload.
            unread = await session.deps.stream_log.read_state.unread(
                space_id, session.agent.id, [row["id"] for row in threads]
            )
            for row in threads:
                row["unread"], row["last_read_id"] = unread.get(row["id"], (0, None))
        # Read after the cursor: a viewers entry between the two is forwarded after this, and
        # each carries its thread's whole list, so the agent ends at the current state.
        viewers = await session.deps.stream_log.viewing.viewers(space_id)
        await session.outbox.send(subscribed_frame(space_id, item.cursor, threads, viewers))
    elif item is not None and (text := agent_frame(session, space_id, item)) is not None:
        await session.outbox.put(text)


def agent_frame(session: AgentSession, space_id: str, entry: LogEntry) -> str | None:
    """The frame an agent gets for a log entry (None for its own typing), as text: the same for
    every agent of the space, so it is encoded once per entry (chat.protocol.outbound.encoded)."""
    match entry.event:
        case MessagePosted() as m:
            session.thread_spaces.put(m.thread_id, space_id)
        case Typing() as t if t.sender_type == "agent" and t.sender_id == session.agent.id:
            return None
        case ReadMarked() as r if r.reader_type == "agent" and r.reader_id != session.agent.id:
            return None  # another agent's marker is theirs (structures.md, "Read state")
        case NoteCreated() as n if not reads_note(
            session.agent.id, session.agent.role, author_id=n.author_id, to_agent_id=n.to_agent_id
        ):
            return None  # a whisper to another agent (structures.md, "Roles and supervisors")
    return encoded(entry, "agent", agent_event_frame)
