"""Transcripts (chat/http/api/transcripts.py): an agent's and the visitor's download of one
conversation, and the admins' streamed export of an organization's conversations."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import trio

from chat.config import Settings
from tests.helpers.api import add_member
from tests.helpers.chat import Org, agent_socket, make_org, widget
from tests.helpers.db import wait_for_messages
from tests.helpers.http import call


async def _conversation(org: Org, settings: Settings, *lines: str) -> tuple[str, str]:
    """A visitor says `lines`, the admin answers once; (thread id, visitor session token)."""
    async with widget(org) as (visitor, welcome):
        ack: dict[str, Any] = {}
        for line in lines:
            ack = await visitor.say(line)
        thread_id = ack["thread_id"]
        async with agent_socket(org.base, org.token) as (agent, _):
            await agent.send({"type": "claim", "thread_id": thread_id})
            await agent.expect("ack", ref="claim")
            reply = {"type": "message", "thread_id": thread_id, "client_id": str(uuid.uuid4())}
            await agent.send({**reply, "content": "Hi!"})
            await agent.expect("ack", client_id=reply["client_id"])
    await wait_for_messages(settings.database_url, thread_id, len(lines) + 1)
    return thread_id, str(welcome["session"])


async def test_agent_downloads_text_and_json(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        thread_id, _ = await _conversation(org, settings, "hello", "where is my order?")
        url = f"{base_url}/api/v1/threads/{thread_id}/transcript"
        text = await call("GET", f"{url}?format=txt", token=org.token)
        assert text.status == 200
        assert text.header("Content-Disposition") == (
            f'attachment; filename="transcript-{thread_id}.txt"'
        )
        assert str(text.header("Content-Type")).startswith("text/plain")
        said = [line.split("] ", 1)[1] for line in text.body.splitlines() if line.startswith("[")]
        assert said[0].endswith(": hello")
        assert said[1].endswith(": where is my order?")
        assert said[2] == "Ada: Hi!"
        as_json = await call("GET", f"{url}?format=json", token=org.token)
        assert as_json.status == 200
        assert [m["content"] for m in as_json.body["messages"]] == [
            "hello",
            "where is my order?",
            "Hi!",
        ]
        assert as_json.body["thread"]["id"] == thread_id
        # Private notes (another feature) live in their own table and log kind; a transcript
        # reads messages only, so a note can never appear here, by construction.
        assert {m["sender_type"] for m in as_json.body["messages"]} == {"visitor", "agent"}


async def test_visitor_downloads_only_their_own(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        thread_id, session = await _conversation(org, settings, "mine")
        other_thread, other_session = await _conversation(org, settings, "theirs")
        key = org.space["widget_key"]

        def url(thread: str) -> str:
            return f"{base_url}/api/v1/widget/{key}/threads/{thread}/transcript?format=json"

        auth = {"Authorization": f"Bearer {session}"}
        own = await call("GET", url(thread_id), headers=auth)
        assert own.status == 200
        assert [m["content"] for m in own.body["messages"]] == ["mine", "Hi!"]
        assert all("sender_id" not in m for m in own.body["messages"])
        # Another visitor's thread, a forged token, no token: never the conversation.
        assert (await call("GET", url(other_thread), headers=auth)).status == 404
        forged = {"Authorization": f"Bearer {other_session}x"}
        assert (await call("GET", url(other_thread), headers=forged)).status == 401
        assert (await call("GET", url(thread_id))).status == 401
        # Another organization's agent gets 404 for the agent route.
        stranger = await make_org(base_url)
        agent_url = f"{base_url}/api/v1/threads/{thread_id}/transcript"
        assert (await call("GET", agent_url, token=stranger.token)).status == 404


async def test_export_streams_every_conversation_of_the_org_only(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(120):
        org = await make_org(base_url)
        stranger = await make_org(base_url)
        ours = [await _conversation(org, settings, f"question {n}") for n in range(5)]
        theirs, _ = await _conversation(stranger, settings, "secret of another org")
        api = f"{base_url}/api/v1/organization/export"
        lines = await call("GET", f"{api}?format=jsonl", token=org.token)
        assert lines.status == 200
        assert lines.header("Content-Disposition") == 'attachment; filename="conversations.jsonl"'
        exported = [json.loads(line) for line in lines.body.splitlines()]
        assert [t["id"] for t in exported] == [t for t, _ in ours]  # oldest first, all of them
        for n, thread in enumerate(exported):
            assert [m["content"] for m in thread["messages"]] == [f"question {n}", "Hi!"]
        assert theirs not in lines.body and "another org" not in lines.body

        table = await call("GET", f"{api}?format=csv", token=org.token)
        rows = list(csv.DictReader(io.StringIO(table.body)))
        assert len(rows) == 10
        assert {r["thread_id"] for r in rows} == {t for t, _ in ours}
        assert "another org" not in table.body

        # The date range: nothing before `since`; an agent (not an admin) is refused.
        future = await call("GET", f"{api}?since=2999-01-01T00:00:00Z", token=org.token)
        assert future.status == 200 and future.body is None  # an empty body
        member = await add_member(f"{base_url}/api/v1", org.token)
        assert (await call("GET", api, token=member.token)).status == 403
