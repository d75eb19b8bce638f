"""Every frame and JSON view the service sends: WebSocket frames to widgets and agents, and the
views of threads, messages, visitors and agents that REST answers too.

Field names follow ../shared/CONTRACT.md and the TypeScript readers (widget/src/protocol.ts,
console/src/protocol.ts); structures.md "API: what this implementation decides" says what the
contract leaves open. Builders take events and plain values, never rows or storage objects by
type: the shapes they need are the small protocols below, so this stays a base module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Literal, Protocol

import orjson

from chat.errors import ChatError
from chat.events import (
    LogEntry,
    MessagePosted,
    NoteCreated,
    Presence,
    ReadMarked,
    ThreadChanged,
    ThreadDeleted,
    ThreadOpened,
    ThreadRated,
    ThreadSnapshot,
    ThreadTagChanged,
    Typing,
    Viewers,
    VisitorInfo,
    VisitorUpdated,
)
from chat.ids import entry_time, ms_to_rfc3339
from chat.json_types import Json
from chat.protocol.agent_tools import note_frame, rating_frame, thread_tags_frame
from chat.protocol.stamped import EntryText

# An outbound frame: a dict, or its text when it was encoded once for several sessions.
Frame = Json | str
# Who a frame built from a log entry is for: its text is cached per entry and audience.
Audience = Literal["agent", "visitor"]
# The agent frames that act on a thread, as an ack's or an error's `ref`.
ActionRef = Literal["claim", "close", "transfer", "reopen", "handover"]


class AgentFields(Protocol):
    """What agent_json reads of an agent (chat.db.rows.AgentRow)."""

    @property
    def id(self) -> str: ...
    @property
    def organization_id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def last_seen_at(self) -> datetime | None: ...
    @property
    def accepting_chats(self) -> bool: ...
    @property
    def max_concurrent_chats(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def group_ids(self) -> list[str]: ...
    @property
    def kind(self) -> str: ...


class SpaceFields(Protocol):
    """What space_json reads of a space (chat.db.rows.SpaceRow)."""

    @property
    def id(self) -> str: ...
    @property
    def organization_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def widget_key(self) -> str: ...
    @property
    def allowed_domains(self) -> list[str]: ...
    @property
    def settings(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...


class Named(Protocol):
    """A space as the agent's welcome lists it (chat.db.rows.SpaceRow)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...


class MessageAck(Protocol):
    """What a sender hears once its message is in the log (chat.streams.log.Ack)."""

    @property
    def client_id(self) -> str: ...
    @property
    def id(self) -> str: ...
    @property
    def thread_id(self) -> str: ...
    @property
    def created_at(self) -> str: ...


def dumps(frame: Json) -> str:
    return orjson.dumps(frame).decode()


# The answer to a ping, encoded once.
PONG = dumps({"type": "pong"})


def encoded(entry: LogEntry, audience: Audience, build: Callable[[LogEntry], Json]) -> str:
    """The text of the frame `build` makes of `entry` for `audience`, encoded the first time a
    session of this process asks and reused by the others: the agents subscribed to a space all
    get the same frame, and profiles showed one dumps per session."""
    text = entry.frames.get(audience)
    if text is None:
        text = entry.frames[audience] = EntryText.of(dumps(build(entry)), entry.id)
    return text


# JSON views (REST answers them too).


def thread_json(t: ThreadSnapshot) -> Json:
    """A thread; `channel` and `email` only on an email conversation (structures.md, "Email")."""
    found: Json = {
        "id": t.id,
        "space_id": t.space_id,
        "visitor_id": t.visitor_id,
        "assigned_agent_id": t.assigned_agent_id,
        "status": t.status,
        "group_id": t.group_id,
        "last_activity_at": ms_to_rfc3339(t.last),
        "created_at": ms_to_rfc3339(t.created),
        "closed_at": ms_to_rfc3339(t.closed) if t.closed else None,
    }
    if t.channel is not None:
        found["channel"] = t.channel
        found["email"] = t.email
    if t.bot_agent_id is not None:  # structures.md, "Bots": held by its bot while the ids match
        found["bot_agent_id"] = t.bot_agent_id
    return found


def visitor_thread_json(t: ThreadSnapshot) -> Json:
    """The thread as its visitor sees it: with the display name (never the email) of the agent
    holding it, once one does (structures.md, "Routing")."""
    found = thread_json(t)
    found.pop("bot_agent_id", None)  # agents' business; the visitor sees the holder's name
    if t.agent_name is not None and t.status == "active":
        found["agent_name"] = t.agent_name
    return found


def message_json(entry_id: str, m: MessagePosted) -> Json:
    return {
        "id": entry_id,
        "thread_id": m.thread_id,
        "sender_type": m.sender_type,
        "sender_id": m.sender_id,
        "sender_name": m.sender_name,
        "content": m.content,
        "client_id": m.client_id,
        "created_at": entry_time(entry_id),
        **({"attachment": m.attachment.model_dump()} if m.attachment else {}),
        **({"quick_replies": [q.model_dump() for q in m.quick_replies]} if m.quick_replies else {}),
    }


def visitor_json(space_id: str, visitor_id: str, info: VisitorInfo | None) -> Json:
    return {
        "id": visitor_id,
        "space_id": space_id,
        "name": info.name if info else None,
        "email": info.email if info else None,
        "current_url": info.current_url if info else None,
        "created_at": ms_to_rfc3339(info.created) if info and info.created else None,
    }


def agent_json(agent: AgentFields, online: bool = True) -> Json:
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
        "group_ids": list(agent.group_ids),
        # 'bot' for a bot (structures.md, "Bots"): its messages are sender_type agent, and the
        # console shows them as a bot's by this.
        "kind": agent.kind,
    }


def space_json(space: SpaceFields) -> Json:
    return {
        "id": space.id,
        "organization_id": space.organization_id,
        "name": space.name,
        "widget_key": space.widget_key,
        "allowed_domains": space.allowed_domains,
        "settings": space.settings,
        "created_at": space.created_at.isoformat(),
    }


# Frames either kind of session sends.


def error_frame(
    err: ChatError,
    client_id: str | None = None,
    *,
    ref: str | None = None,
    space_id: str | None = None,
    thread_id: str | None = None,
) -> Json:
    """`{"type":"error","code","message"}`, plus what the failed frame named: its client_id (a
    message), or `ref` with the space (a feed) or the thread (an action)."""
    frame: Json = {"type": "error", "code": err.code, "message": err.message}
    for key, value in (
        ("client_id", client_id),
        ("ref", ref),
        ("space_id", space_id),
        ("thread_id", thread_id),
    ):
        if value is not None:
            frame[key] = value
    return frame


def message_ack(ack: MessageAck, *, ref: Literal["message"] | None = None) -> Json:
    """A message is in the log. Agents' acks carry `ref: "message"`; visitors' carry no ref."""
    frame: Json = {"type": "ack"}
    if ref is not None:
        frame["ref"] = ref
    frame.update(
        client_id=ack.client_id, id=ack.id, thread_id=ack.thread_id, created_at=ack.created_at
    )
    return frame


def message_frame(entry: LogEntry) -> Json:
    """A message as a visitor gets it: the message's fields, flat."""
    assert isinstance(entry.event, MessagePosted)
    return {"type": "message", **message_json(entry.id, entry.event)}


# Frames to a visitor (/ws/widget).


def visitor_welcome(
    session: str,
    visitor: Json,
    thread: ThreadSnapshot | None,
    agents_online: bool,
    history: list[Json],
    queue_position: int | None = None,
    groups: dict[str, bool] | None = None,
) -> Json:
    """`queue_position`: the thread's place in the waiting queue while it waits, else null.
    `groups`: whether each group the visitor may be routed to has an eligible agent (null:
    unknown; structures.md "Group availability")."""
    return {
        "type": "welcome",
        "session": session,
        "visitor": visitor,
        "thread": visitor_thread_json(thread) if thread else None,
        "agents_online": agents_online,
        "history": history,
        "queue_position": queue_position,
        "groups": groups,
    }


def visitor_thread_frame(entry: LogEntry) -> Json:
    """The visitor's thread opened or changed (assigned, closed, expired, reopened)."""
    assert isinstance(entry.event, ThreadChanged | ThreadOpened)
    return {"type": "thread", "thread": visitor_thread_json(entry.event.thread)}


def queue_frame(position: int | None, estimated_wait_seconds: int | None = None) -> Json:
    """The visitor's place in the waiting queue (1 is next); null once it is not waiting. With
    the space's median wait of the last hour (null: too few assignments to tell)."""
    return {
        "type": "queue",
        "position": position,
        "estimated_wait_seconds": estimated_wait_seconds,
    }


def visitor_typing_frame(t: Typing) -> Json:
    """An agent is typing in the visitor's thread (no sender: the widget shows one indicator)."""
    return {"type": "typing", "thread_id": t.thread_id, "active": t.active}


def agents_frame(online: bool, groups: dict[str, bool] | None = None) -> Json:
    """Whether any agent of the space is online, or whether a group the visitor may be routed
    to has an eligible agent, changed (both sent whole)."""
    return {"type": "agents", "online": online, "groups": groups}


# Frames to an agent (/ws/agent).


def agent_welcome(agent: AgentFields, spaces: Iterable[Named]) -> Json:
    return {
        "type": "welcome",
        "agent": agent_json(agent),
        "spaces": [{"id": s.id, "name": s.name} for s in spaces],
    }


def subscribed_frame(
    space_id: str,
    cursor: str,
    threads: list[Json] | None = None,
    viewers: dict[str, list[str]] | None = None,
) -> Json:
    """Every event of the space after `cursor` will follow (the replay, if any, is over). A
    subscribe without a cursor also gets `threads`: the space's open threads as they are at
    `cursor` (structures.md, "The agent's snapshot"). `viewers`: who has which thread open now
    (structures.md, "Viewing presence")."""
    frame: Json = {"type": "subscribed", "space_id": space_id, "cursor": cursor}
    if threads is not None:
        frame["threads"] = threads
    if viewers is not None:
        frame["viewers"] = [
            {"thread_id": thread_id, "agent_ids": agent_ids}
            for thread_id, agent_ids in sorted(viewers.items())
        ]
    return frame


def thread_with_visitor_json(space_id: str, t: ThreadSnapshot, visitor: VisitorInfo | None) -> Json:
    """A thread of the log with its visitor, in REST's thread-with-visitor shape."""
    found = thread_json(t)
    found["visitor"] = visitor_json(space_id, t.visitor_id, visitor)
    return found


def action_ack(ref: ActionRef, thread_id: str, thread: ThreadSnapshot) -> Json:
    return {"type": "ack", "ref": ref, "thread_id": thread_id, "thread": thread_json(thread)}


def agent_event_frame(entry: LogEntry) -> Json:
    """An agent's frame for a log entry, carrying the entry id as its cursor. The same for every
    agent of the space: sessions send it through `encoded(entry, "agent", agent_event_frame)`."""
    frame: Json
    match entry.event:
        case MessagePosted() as m:
            frame = {"type": "message", **message_json(entry.id, m)}
        case ThreadOpened() as o:
            frame = thread_new_frame(o)
        case ThreadChanged() as c:
            frame = thread_updated_frame(c)
        case Typing() as t:
            frame = typing_frame(t)
        case Presence() as p:
            frame = presence_frame(p)
        case VisitorUpdated() as v:
            frame = visitor_updated_frame(v)
        case Viewers() as w:
            frame = viewers_frame(w.space_id, w.thread_id, w.agent_ids)
        case NoteCreated() as n:
            frame = note_frame(entry.id, n)
        case ThreadTagChanged() as g:
            frame = thread_tags_frame(g)
        case ReadMarked() as r:
            frame = read_frame(r)
        case ThreadRated() as rt:
            frame = rating_frame(entry.id, rt)
        case ThreadDeleted() as d:
            # Agents drop a deleted thread from their lists (an admin's Deleted view adds it).
            frame = {"type": d.type, "thread_id": d.thread_id, "by": d.by}
    frame["cursor"] = entry.id
    return frame


def thread_new_frame(o: ThreadOpened) -> Json:
    thread = thread_json(o.thread)
    thread["visitor"] = o.visitor.model_dump(exclude={"thread", "created"})
    return {"type": "thread.new", "thread": thread}


def thread_updated_frame(c: ThreadChanged) -> Json:
    """`reason` only when the change has one (an idle close)."""
    frame: Json = {
        "type": "thread.updated",
        "change": c.type.removeprefix("thread."),
        "by": c.by,
        "thread": thread_json(c.thread),
    }
    if c.reason is not None:
        frame["reason"] = c.reason
    if c.agent_id is not None:  # routing: who was assigned, or taken back from
        frame["agent_id"] = c.agent_id
    if c.strategy is not None:
        frame["strategy"] = c.strategy
    if c.note is not None:  # a bot's handover note (structures.md, "Bots")
        frame["note"] = c.note
    return frame


def typing_frame(t: Typing) -> Json:
    """`draft` only on a visitor's typing in a space with the typing preview on."""
    frame: Json = {
        "type": "typing",
        "thread_id": t.thread_id,
        "sender_type": t.sender_type,
        "sender_id": t.sender_id,
        "active": t.active,
    }
    if t.draft is not None:
        frame["draft"] = t.draft
    return frame


def viewers_frame(space_id: str, thread_id: str, agent_ids: Iterable[str]) -> Json:
    """The agents viewing a thread now, the whole list (an agent's own id included)."""
    return {
        "type": "viewers",
        "space_id": space_id,
        "thread_id": thread_id,
        "agent_ids": list(agent_ids),
    }


def presence_frame(p: Presence) -> Json:
    return {"type": "presence", "agent_id": p.agent_id, "online": p.online}


def visitor_updated_frame(v: VisitorUpdated) -> Json:
    """Only the fields that changed (console/src/protocol.ts VisitorChange)."""
    return {
        "type": "visitor.updated",
        "visitor": v.model_dump(exclude={"type", "created"}, exclude_none=True),
    }


def read_frame(r: ReadMarked) -> Json:
    """A reader's marker moved: the agent's own (from another of its sockets) or the visitor's
    (structures.md, "Read state")."""
    return {
        "type": "read",
        "thread_id": r.thread_id,
        "reader_type": r.reader_type,
        "reader_id": r.reader_id,
        "id": r.message_id,
    }


def identity_frame(session: str) -> Json:
    """To a visitor whose signed identity verified (structures.md, "Signed visitor identity"):
    the session token of the verified visitor. Another token than the socket's: reconnect with
    it (and without `last`) to continue as that visitor, with their history."""
    return {"type": "identity", "session": session, "verified": True}


def seen_frame(thread_id: str, message_id: str) -> Json:
    """To a visitor: an agent has read their thread up to `message_id` (no agent named)."""
    return {"type": "seen", "thread_id": thread_id, "id": message_id}
