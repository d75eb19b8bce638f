"""Agent-only frames and objects: private notes and tag changes (structures.md, "Private
notes", "Tags"). Never built for a visitor: chat/protocol/outbound.py's visitor frames know
neither kind."""

from __future__ import annotations

from chat.events import NoteCreated, ThreadTagChanged
from chat.ids import entry_time
from chat.json_types import Json


def note_json(entry_id: str, n: NoteCreated) -> Json:
    """A note as REST and the agent socket show it; its id is its entry id."""
    return {
        "id": entry_id,
        "thread_id": n.thread_id,
        "author_id": n.author_id,
        "author_name": n.author_name,
        "content": n.content,
        "client_id": n.client_id,
        "created_at": entry_time(entry_id),
        "to_agent_id": n.to_agent_id,
    }


def note_frame(entry_id: str, n: NoteCreated) -> Json:
    return {"type": "note", "note": note_json(entry_id, n)}


def thread_tags_frame(t: ThreadTagChanged) -> Json:
    """`change`: tagged or untagged."""
    return {
        "type": "thread.tags",
        "change": t.type.removeprefix("thread."),
        "thread_id": t.thread_id,
        "tag_id": t.tag_id,
        "by": t.by,
    }
