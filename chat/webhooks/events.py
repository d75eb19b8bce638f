"""The public events an endpoint may choose, and the JSON each is sent as.

An event's JSON is built once from its log entry (the agent-facing views of
chat/protocol/outbound.py, so a receiver reads the shapes the console reads) and stored as text
(webhook_events.body): every endpoint, every retry and every replay sends the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from chat.events import (
    LogEntry,
    MessagePosted,
    NoteCreated,
    ThreadChanged,
    ThreadDeleted,
    ThreadOpened,
    ThreadTagChanged,
    VisitorUpdated,
)
from chat.ids import entry_time
from chat.json_types import Json
from chat.protocol.agent_tools import note_json
from chat.protocol.outbound import message_json, thread_json, thread_updated_frame

# Every kind an endpoint may choose. Typing (and its drafts), presence, viewers and read markers
# are never sent: they are noise at a receiver's scale, and a draft is what a visitor has not
# sent. `note.created` is private to the team: only an endpoint that chose it by name gets it.
PUBLIC_KINDS: tuple[str, ...] = (
    "message.created",
    "thread.opened",
    "thread.claimed",
    "thread.assigned",
    "thread.transferred",
    "thread.requeued",
    "thread.regrouped",
    "thread.handed_over",
    "thread.closed",
    "thread.expired",
    "thread.reopened",
    "thread.tagged",
    "thread.untagged",
    "thread.deleted",
    "thread.restored",
    "visitor.updated",
    "note.created",
)
# Kinds that carry what only the team may read, listed in the docs.
PRIVATE_KINDS = frozenset({"note.created"})


@dataclass(frozen=True, slots=True)
class PublicEvent:
    """One log entry as endpoints get it: its kind, ordering lane and body text."""

    space_id: str
    entry_id: str
    organization_id: str
    kind: str
    lane: str
    body: str


def public_event(organization_id: str, space_id: str, entry: LogEntry) -> PublicEvent | None:
    """The entry as a webhook event; None for kinds no endpoint may be sent."""
    found = _kind_and_data(entry)
    if found is None:
        return None
    kind, data = found
    body: Json = {
        # The stream id: ordered within its space, stable across retries and replays; a
        # receiver dedupes by (space_id, id).
        "id": entry.id,
        "kind": kind,
        "created_at": entry_time(entry.id),
        "organization_id": organization_id,
        "space_id": space_id,
        "data": data,
    }
    return PublicEvent(
        space_id, entry.id, organization_id, kind, _lane(entry), orjson.dumps(body).decode()
    )


def _kind_and_data(entry: LogEntry) -> tuple[str, Json] | None:
    match entry.event:
        case MessagePosted() as m:
            return "message.created", message_json(entry.id, m)
        case ThreadOpened() as o:
            thread = thread_json(o.thread)
            thread["visitor"] = o.visitor.model_dump(exclude={"thread", "created"})
            return "thread.opened", {"thread": thread}
        case ThreadChanged() as c:
            data = thread_updated_frame(c)
            del data["type"]
            return c.type, data
        case ThreadTagChanged() as t:
            return t.type, {"thread_id": t.thread_id, "tag_id": t.tag_id, "by": t.by}
        case ThreadDeleted() as d:
            return d.type, {"thread_id": d.thread_id, "by": d.by}
        case VisitorUpdated() as v:
            return "visitor.updated", {
                "visitor": v.model_dump(exclude={"type", "created"}, exclude_none=True)
            }
        case NoteCreated() as n:
            return "note.created", {"note": note_json(entry.id, n)}
    return None  # typing, presence, viewers, read: never sent


def _lane(entry: LogEntry) -> str:
    """What deliveries keep in log order with: the conversation, the visitor, else the space."""
    match entry.event:
        case NoteCreated() | ThreadTagChanged() | ThreadDeleted() as e:
            return "t:" + e.thread_id
        case VisitorUpdated() as v:
            return "v:" + v.visitor_id
    thread_id = entry.thread_id
    return "t:" + thread_id if thread_id else "space"
