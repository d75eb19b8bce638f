"""Agent-only frames and objects: private notes, tag changes and ratings (structures.md,
"Private notes", "Tags", "Ratings"). Never built for a visitor: chat/protocol/outbound.py's
visitor frames know none of these kinds."""

from __future__ import annotations

from chat.events import NoteCreated, ThreadRated, ThreadTagChanged
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


def rating_json(entry_id: str, r: ThreadRated) -> Json:
    """A rating as the agent socket and REST show it; its id is its entry id."""
    return {
        "id": entry_id,
        "thread_id": r.thread_id,
        "visitor_id": r.visitor_id,
        "agent_id": r.agent_id,
        "score": r.score,
        "comment": r.comment,
        "created_at": entry_time(entry_id),
    }


def rating_frame(entry_id: str, r: ThreadRated) -> Json:
    return {"type": "rating", "rating": rating_json(entry_id, r)}
