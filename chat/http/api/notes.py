"""Private notes and a conversation's tags (structures.md, "Private notes", "Tags"): the REST
face of chat/commands/notes.py, which the agent socket shares. Agents only: no visitor route
reads notes or tags."""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat.commands.notes import Author, NoteCommands
from chat.http.auth import Caller
from chat.http.note_models import CreateNote, Note, NoteList, ThreadTags
from chat.http.openapi import Routes
from chat.http.sign_in_copy import org_spaces
from chat.services import Services
from chat.streams.notes import TagChange

routes = Routes(tag="notes and tags", api_keys=True)


def _author(caller: Caller) -> Author:
    agent = caller.agent
    return Author(agent.id, agent.organization_id, agent.name, agent.role)


async def _spaces(services: Services, caller: Caller) -> list[str]:
    """The organization's live spaces (the Valkey copy while PostgreSQL is down)."""
    return [s.id for s in await org_spaces(services, caller.agent.organization_id)]


def _commands(services: Services) -> NoteCommands:
    return services.note_commands()


@routes.route(
    "POST",
    "/threads/<uuid:thread_id>/notes",
    summary="Write a private note in a conversation (agents only ever see it)",
    body=CreateNote,
    reply=Note,
    status=201,
)
async def create_note(
    services: Services, caller: Caller, thread_id: Any, body: CreateNote
) -> tuple[Response, int]:
    """Any agent of the organization, on any of its conversations, open or closed. Answered once
    the note is in the log; the same client_id again answers the first note's id."""
    note = await _commands(services).do_add_note(
        _author(caller),
        str(thread_id),
        body.content,
        body.client_id,
        await _spaces(services, caller),
    )
    return jsonify(note), 201


@routes.route(
    "POST",
    "/threads/<uuid:thread_id>/whisper",
    summary="Whisper to the agent holding a conversation (a note only they and supervisors see)",
    auth="supervisor",
    body=CreateNote,
    reply=Note,
    status=201,
    errors=(409,),
)
async def create_whisper(
    services: Services, caller: Caller, thread_id: Any, body: CreateNote
) -> tuple[Response, int]:
    """A note addressed (`to_agent_id`) to the agent holding the conversation now, which that
    agent's console shows live and prominently; its author and the organization's supervisors
    and admins read it too, other agents do not, and no visitor path can carry it (a note).
    409 not_assigned when nobody holds the conversation. The same client_id again answers the
    first whisper."""
    note = await _commands(services).do_whisper(
        _author(caller),
        str(thread_id),
        body.content,
        body.client_id,
        await _spaces(services, caller),
    )
    return jsonify(note), 201


@routes.route(
    "GET",
    "/threads/<uuid:thread_id>/notes",
    summary="A conversation's private notes, oldest first",
    reply=NoteList,
)
async def list_notes(services: Services, caller: Caller, thread_id: Any) -> Response:
    """As projected: a note acked a moment ago shows once the projector wrote it (the console
    gets it live as a `note` frame). Whispers: only those the caller reads (to or from them;
    every one for a supervisor or an admin)."""
    items = await _commands(services).list_notes(_author(caller), str(thread_id))
    return jsonify({"items": items})


@routes.route(
    "GET",
    "/threads/<uuid:thread_id>/tags",
    summary="A conversation's tags",
    reply=ThreadTags,
)
async def get_thread_tags(services: Services, caller: Caller, thread_id: Any) -> Response:
    org = caller.agent.organization_id
    tag_ids = await _commands(services).thread_tags(org, str(thread_id))
    return jsonify({"thread_id": str(thread_id), "tag_ids": tag_ids, "change": "none"})


async def _change(
    services: Services, caller: Caller, thread_id: str, tag_id: str, kind: TagChange
) -> Response:
    commands = _commands(services)
    spaces = await _spaces(services, caller)
    entry = await commands.do_change_tag(_author(caller), thread_id, tag_id, kind, spaces)
    tag_ids = await commands.thread_tags(caller.agent.organization_id, thread_id)
    # The answer shows this call's change at once, whatever the projector's lag.
    if kind == "thread.tagged" and tag_id not in tag_ids:
        tag_ids.append(tag_id)
    if kind == "thread.untagged" and tag_id in tag_ids:
        tag_ids.remove(tag_id)
    change = "none" if entry is None else kind.removeprefix("thread.")
    return jsonify({"thread_id": thread_id, "tag_ids": tag_ids, "change": change})


@routes.route(
    "PUT",
    "/threads/<uuid:thread_id>/tags/<uuid:tag_id>",
    summary="Put a tag on a conversation (a thread.tagged entry)",
    reply=ThreadTags,
)
async def tag_thread(services: Services, caller: Caller, thread_id: Any, tag_id: Any) -> Response:
    """Idempotent: a tag already on it appends nothing (`change: none`). Another
    organization's tag or conversation: 404 not_found."""
    return await _change(services, caller, str(thread_id), str(tag_id), "thread.tagged")


@routes.route(
    "DELETE",
    "/threads/<uuid:thread_id>/tags/<uuid:tag_id>",
    summary="Take a tag off a conversation (a thread.untagged entry)",
    reply=ThreadTags,
)
async def untag_thread(services: Services, caller: Caller, thread_id: Any, tag_id: Any) -> Response:
    """Idempotent, as PUT."""
    return await _change(services, caller, str(thread_id), str(tag_id), "thread.untagged")
