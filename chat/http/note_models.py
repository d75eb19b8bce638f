"""Bodies and replies of the notes and tags routes (chat/http/api/notes.py, tags.py), in the
OpenAPI document like every route's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, Field, StringConstraints

from chat.db.tag_queries import MAX_TAG_NAME_CHARS
from chat.http.bodies import _Body, _canned_content
from chat.http.replies import _Reply
from chat.protocol.inbound import ClientId

# A note is checked as a message's content: trimmed, 1..4000 characters with something visible.
NoteContent = Annotated[str, Field(max_length=16 * 1024), AfterValidator(_canned_content)]
TagName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TAG_NAME_CHARS)
]
# Lowercased, so the console compares them as written.
Colour = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^#[0-9A-Fa-f]{6}$")
]


class CreateNote(_Body):
    client_id: ClientId = Field(description="The same client_id again stores the note once")
    content: NoteContent


class CreateTag(_Body):
    name: TagName
    colour: Colour = "#6b7280"


class UpdateTag(_Body):
    name: TagName | None = None
    colour: Colour | None = None


class Note(_Reply):
    id: str = Field(pattern=r"^\d+-\d+$", description="The space stream's entry id")
    thread_id: UUID
    author_id: UUID
    author_name: str
    content: str
    client_id: str
    created_at: datetime
    to_agent_id: UUID | None = Field(
        description="A whisper's addressee: the agent who held the conversation when a"
        " supervisor whispered; null for an ordinary note"
    )


class NoteList(_Reply):
    items: list[Note] = Field(description="Oldest first, the latest 200")


class Tag(_Reply):
    id: UUID
    organization_id: UUID
    name: str
    colour: str = Field(pattern=r"^#[0-9a-f]{6}$")
    created_at: datetime


class TagList(_Reply):
    items: list[Tag] = Field(description="By name")


class ThreadTags(_Reply):
    thread_id: UUID
    tag_ids: list[UUID] = Field(description="The conversation's tags, by name")
    change: Literal["tagged", "untagged", "none"] = Field(
        description="What this call did: `none` when the tag already was (or was not) on it"
    )
