"""Private notes (chat/commands/notes.py, chat/http/api/notes.py, the agent socket's `note`
frame): agents write and see them; no visitor path ever delivers one (live socket, resume from
a cursor, the welcome's history, the messages REST, the thread stream, the messages table);
another organization's agents get 404."""

from __future__ import annotations

import json
import uuid
from typing import Any

import trio

from chat.config import Settings
from chat.events import NoteCreated
from tests.helpers.chat import Client, agent_socket, make_org, widget
from tests.helpers.db import query, wait_for_rows
from tests.helpers.http import call
from tests.notes.helpers import api, post_note, server_log, space_entries, thread_entries

SECRET_SOCKET = "SOCKET-NOTE: visitor seems angry, offer a refund"
SECRET_REST = "REST-NOTE: same person as ticket 4711"


def _mentions_notes(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Frames that carry a note's text or kind anywhere."""
    return [
        f
        for f in frames
        if f.get("type") == "note" or "NOTE:" in json.dumps(f) or "note.created" in json.dumps(f)
    ]


async def _conversation(org: Any, agent: Client, visitor: Client) -> str:
    first = await visitor.say("hello, I need help")
    await agent.expect("thread.new")
    await agent.send({"type": "claim", "thread_id": first["thread_id"]})
    await agent.expect("ack", ref="claim")
    return str(first["thread_id"])


async def test_a_note_reaches_agents_and_no_visitor_path(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        space_id = org.space["id"]
        async with (
            agent_socket(base_url, org.token, subscribe=space_id) as (agent, _),
            widget(org) as (visitor, hello),
        ):
            thread_id = await _conversation(org, agent, visitor)
            first_id = visitor.seen and [f for f in visitor.seen if f["type"] == "ack"][0]["id"]

            # A note over the socket: acked, then every agent of the space gets it.
            client_id = str(uuid.uuid4())
            frame = {"type": "note", "thread_id": thread_id, "client_id": client_id}
            mark = len(agent.seen)
            await agent.send({**frame, "content": SECRET_SOCKET})
            ack = await agent.expect("ack", ref="note", client_id=client_id)
            live = await agent.expect_since(mark, "note")  # it may come before its ack
            assert live["note"]["content"] == SECRET_SOCKET and live["cursor"] == ack["id"]
            assert live["note"]["author_id"] == org.agent["id"]
            # The same client_id again is stored once.
            await agent.send({**frame, "content": SECRET_SOCKET})
            again = await agent.expect("ack", ref="note", client_id=client_id)
            assert again["id"] == ack["id"]

            # A note over REST.
            created = await post_note(org, org.token, thread_id, SECRET_REST)
            assert created.status == 201, created.body
            await agent.expect("note")

            # Live: a reply sent after the notes reaches the visitor, and nothing of them did.
            marker = await agent.say("Here is your answer", thread_id=thread_id)
            got = await visitor.expect("message", id=marker["id"])
            assert got["content"] == "Here is your answer"
            assert _mentions_notes(visitor.seen) == []

        # Resume from a cursor, and a new socket's history: the messages, never a note.
        async with widget(org, session=hello["session"], last=first_id) as (tab, resumed):
            assert [m["id"] for m in resumed["history"]] == [marker["id"]]
            assert _mentions_notes([resumed, *resumed["history"]]) == []
        async with widget(org, session=hello["session"]) as (tab, fresh):
            assert [m["content"] for m in fresh["history"]] == [
                "hello, I need help",
                "Here is your answer",
            ]
            assert _mentions_notes([fresh]) == []

        # The projection: both notes in `notes` (once each), none in `messages`.
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM notes WHERE thread_id = %s",
            (thread_id,),
            2,
        )
        leaked = query(
            settings.database_url,
            "SELECT count(*) FROM messages WHERE content LIKE %s",
            ("%NOTE:%",),
        )
        assert leaked[0][0] == 0
        # The history REST the widget and console page through.
        history = await call("GET", f"{api(org)}/threads/{thread_id}/messages", token=org.token)
        assert [m["content"] for m in history.body["items"]] == [
            "hello, I need help",
            "Here is your answer",
        ]
        notes = await call("GET", f"{api(org)}/threads/{thread_id}/notes", token=org.token)
        assert notes.status == 200, notes.body
        assert [n["content"] for n in notes.body["items"]] == [SECRET_SOCKET, SECRET_REST]

        # The log: note.created entries in the space stream only, never in the thread's.
        async with server_log(settings) as log:
            kinds = [type(e.event) for e in await space_entries(log, space_id)]
            assert kinds.count(NoteCreated) == 2
            in_thread = await thread_entries(log, space_id, thread_id)
            assert in_thread and not any(isinstance(e.event, NoteCreated) for e in in_thread)


async def test_an_agent_resuming_from_a_cursor_gets_the_notes_once(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        space_id = org.space["id"]
        async with agent_socket(base_url, org.token, subscribe=space_id) as (agent, _):
            async with widget(org) as (visitor, _hello):
                thread_id = await _conversation(org, agent, visitor)
                opened = [f for f in agent.seen if f["type"] == "thread.new"][-1]
        created = await post_note(org, org.token, thread_id, "left while you were away")
        assert created.status == 201, created.body
        async with agent_socket(
            base_url, org.token, subscribe=space_id, cursor=opened["cursor"]
        ) as (back, _):
            # The replay comes before `subscribed` (the helper read up to it).
            await back.send({"type": "ping"})
            await back.expect("pong")
            notes = [f["note"]["id"] for f in back.seen if f["type"] == "note"]
            assert notes == [created.body["id"]]


async def test_another_organizations_agent_gets_404(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        other = await make_org(base_url)
        async with (
            agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _),
            widget(org) as (visitor, _hello),
        ):
            thread_id = await _conversation(org, agent, visitor)
        written = await post_note(org, other.token, thread_id, "sneaky")
        assert written.status == 404 and written.body["error"]["code"] == "not_found"
        read = await call("GET", f"{api(org)}/threads/{thread_id}/notes", token=other.token)
        assert read.status == 404 and read.body["error"]["code"] == "not_found"
        async with agent_socket(base_url, other.token) as (stranger, _):
            client_id = str(uuid.uuid4())
            await stranger.send(
                {"type": "note", "thread_id": thread_id, "client_id": client_id, "content": "x"}
            )
            error = await stranger.expect("error", client_id=client_id)
            assert error["code"] == "not_found" and error["ref"] == "note"
        own = await post_note(org, org.token, thread_id, "  ")
        assert own.status == 422


async def test_notes_routes_are_in_the_openapi_document(base_url: str) -> None:
    doc = await call("GET", f"{base_url}/api/v1/openapi.json")
    paths = {k.removeprefix("/api/v1"): v for k, v in doc.body["paths"].items()}
    assert set(paths["/threads/{thread_id}/notes"]) == {"get", "post"}
    assert set(paths["/threads/{thread_id}/tags/{tag_id}"]) == {"put", "delete"}
    assert set(paths["/tags"]) == {"get", "post"}
    assert set(paths["/tags/{tag_id}"]) == {"patch", "delete"}
