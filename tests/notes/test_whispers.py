"""Whispers (structures.md, "Roles and supervisors"): a supervisor's note to the agent holding a
conversation. It reaches that agent live, its author, and the organization's supervisors and
admins; never another agent (live, on resume from a cursor, over REST) and never the visitor
(live, resume, history, the messages REST, the thread stream). Nobody holding the conversation,
or it changing hands, is 409 not_assigned; an agent may not whisper (403)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import trio

from chat.config import Settings
from tests.helpers.api import add_member
from tests.helpers.chat import Client, agent_socket, make_org, widget
from tests.helpers.db import wait_for_rows
from tests.helpers.http import Reply, call
from tests.notes.helpers import api, post_note, server_log, thread_entries

WHISPER_SOCKET = "WHISPER-1: offer the refund, I approve it"
WHISPER_REST = "WHISPER-2: and apologise for the delay"
NOTE = "plain note for the whole team"


async def whisper(base: str, token: str, thread_id: str, content: str) -> Reply:
    body = {"client_id": str(uuid.uuid4()), "content": content}
    return await call("POST", f"{base}/api/v1/threads/{thread_id}/whisper", body, token=token)


def _whispered(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if "WHISPER-" in json.dumps(f)]


async def _notes_until(client: Client, content: str) -> list[str]:
    """The contents of the note frames this client gets, up to the one with `content`."""
    seen = []
    while True:
        frame = await client.expect("note")
        seen.append(frame["note"]["content"])
        if frame["note"]["content"] == content:
            return seen


async def test_a_whisper_reaches_the_holder_and_supervisors_only(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(90):
        org = await make_org(base_url)
        space_id = org.space["id"]
        hal = await add_member(api(org), org.token, "Hal")
        bob = await add_member(api(org), org.token, "Bob")
        sue = await add_member(api(org), org.token, "Sue", role="supervisor")
        async with (
            agent_socket(base_url, hal.token, subscribe=space_id) as (holder, _),
            agent_socket(base_url, bob.token, subscribe=space_id) as (other, _),
            agent_socket(base_url, sue.token, subscribe=space_id) as (supervisor, _),
            agent_socket(base_url, org.token, subscribe=space_id) as (admin, _),
            widget(org) as (visitor, hello),
        ):
            first = await visitor.say("my order never came")
            thread_id = first["thread_id"]
            before = await other.expect("thread.new")

            # Nobody holds it yet: nothing to whisper to.
            early = await whisper(base_url, sue.token, thread_id, "WHISPER-0: too early")
            assert early.status == 409 and early.body["error"]["code"] == "not_assigned"
            await holder.send({"type": "claim", "thread_id": thread_id})
            await holder.expect("ack", ref="claim")

            # Over the socket: acked to the supervisor, then live to the holder, the author and
            # the admin, addressed to the holder.
            client_id = str(uuid.uuid4())
            frame = {"type": "whisper", "thread_id": thread_id, "client_id": client_id}
            marks = {id(c): len(c.seen) for c in (holder, supervisor, admin)}
            await supervisor.send({**frame, "content": WHISPER_SOCKET})
            ack = await supervisor.expect("ack", ref="whisper", client_id=client_id)
            for reader in (holder, supervisor, admin):
                # The author's note frame may come before its ack.
                got = await reader.expect_since(marks[id(reader)], "note")
                assert got["note"]["content"] == WHISPER_SOCKET
                assert got["note"]["to_agent_id"] == hal.agent["id"]
                assert got["note"]["author_id"] == sue.agent["id"]
                assert got["cursor"] == ack["id"]
            # The same client_id again is stored once.
            await supervisor.send({**frame, "content": WHISPER_SOCKET})
            again = await supervisor.expect("ack", ref="whisper", client_id=client_id)
            assert again["id"] == ack["id"]

            # Over REST, by the admin.
            made = await whisper(base_url, org.token, thread_id, WHISPER_REST)
            assert made.status == 201, made.body
            assert made.body["to_agent_id"] == hal.agent["id"]
            assert await _notes_until(holder, WHISPER_REST) == [WHISPER_REST]

            # An ordinary note after them: the other agent's first note frame is that one.
            assert (await post_note(org, hal.token, thread_id, NOTE)).status == 201
            assert await _notes_until(other, NOTE) == [NOTE]
            assert await _notes_until(holder, NOTE) == [NOTE]

            # The visitor: the holder's reply arrives, nothing of the whispers does.
            reply = await holder.say("Refund on its way", thread_id=thread_id)
            await visitor.expect("message", id=reply["id"])
            assert _whispered(visitor.seen) == []
            assert _whispered(other.seen) == []

            # An agent may not whisper (the role, before anything else).
            refused = {"type": "whisper", "thread_id": thread_id, "client_id": "w-bob"}
            await other.send({**refused, "content": "WHISPER-X"})
            error = await other.expect("error", client_id="w-bob")
            assert (error["code"], error["ref"]) == ("forbidden", "whisper")

        # The other agent resuming from a cursor before them: the note, no whisper.
        async with agent_socket(
            base_url, bob.token, subscribe=space_id, cursor=before["cursor"]
        ) as (back, _):
            await back.send({"type": "ping"})
            await back.expect("pong")
            assert [f["note"]["content"] for f in back.seen if f["type"] == "note"] == [NOTE]
        # The visitor's paths: resume, a new socket's history, the messages REST.
        async with widget(org, session=hello["session"], last=first["id"]) as (_tab, resumed):
            assert [m["id"] for m in resumed["history"]] == [reply["id"]]
        async with widget(org, session=hello["session"]) as (_tab, fresh):
            assert _whispered([fresh]) == []
        history = await call("GET", f"{api(org)}/threads/{thread_id}/messages", token=org.token)
        assert _whispered([history.body]) == []
        async with server_log(settings) as log:
            assert (
                _whispered(
                    [e.event.model_dump() for e in await thread_entries(log, space_id, thread_id)]
                )
                == []
            )

        # REST lists: the holder, the author and the admin read both; the other agent neither.
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM notes WHERE thread_id = %s",
            (thread_id,),
            3,
        )
        url = f"{api(org)}/threads/{thread_id}/notes"
        for token, expected in (
            (hal.token, [WHISPER_SOCKET, WHISPER_REST, NOTE]),
            (sue.token, [WHISPER_SOCKET, WHISPER_REST, NOTE]),
            (org.token, [WHISPER_SOCKET, WHISPER_REST, NOTE]),
            (bob.token, [NOTE]),
        ):
            listed = await call("GET", url, token=token)
            assert [n["content"] for n in listed.body["items"]] == expected
        to = [n["to_agent_id"] for n in listed.body["items"]]
        assert to == [None]


async def test_a_whisper_follows_the_holder(base_url: str) -> None:
    """After a take-over the holder is the supervisor; a reassignment makes the new holder the
    addressee. A whisper never names an agent who no longer holds the conversation."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        hal = await add_member(api(org), org.token, "Hal")
        tia = await add_member(api(org), org.token, "Tia")
        sue = await add_member(api(org), org.token, "Sue", role="supervisor")
        async with widget(org) as (visitor, _):
            thread_id = (await visitor.say("hello"))["thread_id"]
        claimed = await call("POST", f"{api(org)}/threads/{thread_id}/claim", token=hal.token)
        assert claimed.status == 200, claimed.body
        moved = await call(
            "POST",
            f"{api(org)}/threads/{thread_id}/transfer",
            {"agent_id": tia.agent["id"]},
            token=sue.token,
        )
        assert moved.status == 200 and moved.body["assigned_agent_id"] == tia.agent["id"]
        made = await whisper(base_url, sue.token, thread_id, "WHISPER: welcome aboard")
        assert made.status == 201 and made.body["to_agent_id"] == tia.agent["id"]
        taken = await call(
            "POST",
            f"{api(org)}/threads/{thread_id}/transfer",
            {"agent_id": sue.agent["id"]},
            token=sue.token,
        )
        assert taken.status == 200 and taken.body["assigned_agent_id"] == sue.agent["id"]
        closed = await call("POST", f"{api(org)}/threads/{thread_id}/close", token=sue.token)
        assert closed.status == 200, closed.body
        late = await whisper(base_url, sue.token, thread_id, "WHISPER: too late")
        assert late.status == 409 and late.body["error"]["code"] == "not_assigned"
