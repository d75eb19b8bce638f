"""Private notes and conversation tags: what agents add to a conversation for each other
(structures.md, "Private notes" and "Tags"). REST (chat/http/api/notes.py) and the agent socket
(chat/actors/agent_tools.py) both call these, so both check the same things.

Any agent of the organization may note or tag any of its conversations (notes are how
colleagues hand over context, so holding the thread is not required). A whisper is a note
addressed to the agent holding the conversation, from a supervisor or an admin only, and read
by its addressee, its author and whoever supervises (structures.md, "Roles and supervisors").
The thread is found with ThreadCommands.space_of (another organization's is not found); a tag
must be the caller's organization's (another organization's is not found either).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from chat.auth.roles import supervises
from chat.commands.threads import ThreadCommands
from chat.db import accounts, tag_queries
from chat.db.pool import Database
from chat.errors import ForbiddenError, NotAssignedError, NotFoundError
from chat.events import NoteCreated
from chat.json_types import Json
from chat.protocol.agent_tools import note_json
from chat.streams.notes import NotesLog, TagChange

TAG_NOT_FOUND = "no such tag"


@dataclass(frozen=True, slots=True)
class Author:
    agent_id: str
    organization_id: str
    name: str
    role: str = "agent"  # as the caller's row had it (a whisper reads it again)


@dataclass(frozen=True, slots=True)
class NoteCommands:
    """Holds no state; no I/O on construction."""

    threads: ThreadCommands
    notes: NotesLog
    db: Database

    async def _space_and_known(
        self, organization_id: str, thread_id: str, spaces: list[str] | None
    ) -> tuple[str, bool]:
        """The space holding the thread, and whether PostgreSQL holds it (its log state may be
        gone, and the scripts then take PostgreSQL's word for it)."""
        space_id = await self.threads.space_of(organization_id, thread_id, spaces)
        state = await self.threads.stream_log.thread_state(space_id, thread_id)
        return space_id, state is None

    async def do_add_note(
        self,
        author: Author,
        thread_id: str,
        content: str,
        client_id: str,
        spaces: list[str] | None = None,
    ) -> Json:
        """Append a note; the note as stored (a repeated client_id answers the first one's id).
        Cancellation: a cancelled call may have stored it; a resend with the same client_id
        stores it once."""
        space_id, known = await self._space_and_known(author.organization_id, thread_id, spaces)
        note = NoteCreated(
            thread_id=thread_id,
            author_id=author.agent_id,
            author_name=author.name,
            content=content,
            client_id=client_id,
        )
        return await self._append(space_id, note, known)

    async def do_whisper(
        self,
        author: Author,
        thread_id: str,
        content: str,
        client_id: str,
        spaces: list[str] | None = None,
    ) -> Json:
        """Whisper to the agent holding the conversation: a note with `to_agent_id`, checked in
        the same script as the append (NotAssignedError when nobody holds it, or it changed
        hands meanwhile). Supervisors and admins only, by their row now (ForbiddenError): a
        socket holds the row it connected with, and a demotion since must not leave it this.
        Cancellation: as do_add_note (a resend with the same client_id stores it once)."""
        org = author.organization_id
        row = await self.db.run(lambda c: accounts.agent_by_id(c, org, author.agent_id))
        if row is None or not supervises(row.role):
            raise ForbiddenError("only a supervisor or an admin may whisper")
        space_id = await self.threads.space_of(org, thread_id, spaces)
        state = await self.threads.stream_log.thread_state(space_id, thread_id)
        if state is None or state.status != "active" or not state.assigned_agent_id:
            raise NotAssignedError()
        note = NoteCreated(
            thread_id=thread_id,
            author_id=author.agent_id,
            author_name=author.name,
            content=content,
            client_id=client_id,
            to_agent_id=state.assigned_agent_id,
        )
        return await self._append(space_id, note, known=False)

    async def _append(self, space_id: str, note: NoteCreated, known: bool) -> Json:
        ack = await self.notes.do_add_note(
            space_id,
            note.thread_id,
            author_id=note.author_id,
            data=orjson.dumps(note.model_dump(exclude={"type"})).decode(),
            client_id=note.client_id,
            known=known,
            to_agent_id=note.to_agent_id or "",
        )
        return note_json(ack.id, note)

    async def list_notes(self, reader: Author, thread_id: str) -> list[Json]:
        """The thread's notes the reader reads (whispers: see `reads_note`), as projected,
        oldest first (a note appended a moment ago shows once the projector wrote it; agents'
        consoles get it live as a `note` frame)."""
        await self.threads.space_of(reader.organization_id, thread_id)
        every = supervises(reader.role)
        return await self.db.run(
            lambda c: tag_queries.list_notes(c, thread_id, reader.agent_id, all_whispers=every)
        )

    async def do_change_tag(
        self,
        author: Author,
        thread_id: str,
        tag_id: str,
        kind: TagChange,
        spaces: list[str] | None = None,
    ) -> str | None:
        """Tag or untag the conversation: the entry id, None when nothing changed."""
        org = author.organization_id
        tag = await self.db.run(lambda c: tag_queries.tag_by_id(c, org, tag_id))
        if tag is None:
            raise NotFoundError(TAG_NOT_FOUND)
        space_id, known = await self._space_and_known(org, thread_id, spaces)
        data = {"thread_id": thread_id, "tag_id": tag_id, "by": author.agent_id}
        return await self.notes.do_change_tag(
            space_id, thread_id, tag_id, kind, orjson.dumps(data).decode(), known
        )

    async def thread_tags(self, organization_id: str, thread_id: str) -> list[str]:
        """The conversation's tag ids as projected."""
        await self.threads.space_of(organization_id, thread_id)
        found = await self.db.run(lambda c: tag_queries.tags_of_threads(c, [thread_id]))
        return found[thread_id]
