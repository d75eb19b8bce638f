"""The agent socket's frames for private notes and tags (structures.md, "Private notes",
"Tags"), on chat/commands/notes.py like REST. Kept out of chat/actors/agent.py, which
dispatches here. Errors propagate to the session, which answers them with the frame's `ref`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from chat.actors.frame_outbox import Outbox
from chat.actors.socket import SessionDeps
from chat.commands.notes import Author, NoteCommands
from chat.db.rows import AgentRow
from chat.protocol.inbound import AddNote, TagThread, Whisper, check_content


@dataclass(frozen=True, slots=True)
class ToolSession:
    """What these handlers use of an agent session (chat/actors/agent.py builds one)."""

    deps: SessionDeps
    agent: AgentRow
    spaces: Collection[str]
    outbox: Outbox


def _commands(session: ToolSession) -> NoteCommands:
    deps = session.deps
    return NoteCommands(deps.commands, deps.stream_log.notes, deps.db)


def _author(session: ToolSession) -> Author:
    agent = session.agent
    return Author(agent.id, agent.organization_id, agent.name, agent.role)


async def handle_agent_tool(session: ToolSession, frame: AddNote | Whisper | TagThread) -> None:
    """Answer `{"type":"ack","ref":"note"|"whisper",...}` once the note is in the log, or
    `{"type":"ack","ref":"tag"|"untag","thread_id","tag_id","change"}` (`none`: nothing to do).
    Every agent of the space who reads it (a whisper: its addressee, its author, supervisors and
    admins), this one included, also gets the entry as a `note` or `thread.tags` event frame."""
    spaces = list(session.spaces)
    match frame:
        case AddNote() | Whisper():
            commands = _commands(session)
            add = commands.do_whisper if isinstance(frame, Whisper) else commands.do_add_note
            note = await add(
                _author(session),
                frame.thread_id,
                check_content(frame.content),
                frame.client_id,
                spaces,
            )
            await session.outbox.send(
                {
                    "type": "ack",
                    "ref": frame.type,
                    "client_id": frame.client_id,
                    "id": note["id"],
                    "thread_id": frame.thread_id,
                    "created_at": note["created_at"],
                }
            )
        case TagThread():
            kind: Literal["thread.tagged", "thread.untagged"] = (
                "thread.tagged" if frame.type == "tag" else "thread.untagged"
            )
            entry = await _commands(session).do_change_tag(
                _author(session), frame.thread_id, frame.tag_id, kind, spaces
            )
            await session.outbox.send(
                {
                    "type": "ack",
                    "ref": frame.type,
                    "thread_id": frame.thread_id,
                    "tag_id": frame.tag_id,
                    "change": "none" if entry is None else kind.removeprefix("thread."),
                }
            )
