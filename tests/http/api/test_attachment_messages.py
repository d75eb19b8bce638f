"""A message that carries an attachment goes through the log: live to both sides, in the REST
history once projected, and only with a file the sender may show there."""

from __future__ import annotations

import uuid

import trio

from chat.config import Settings
from chat.streams.client import open_redis
from chat.streams.log import StreamLog
from tests.files.images import png
from tests.helpers.chat import agent_socket, make_org, widget
from tests.helpers.http import call
from tests.helpers.streams import wait_projected
from tests.http.api.test_attachments import visitor_link, visitor_upload


async def test_attachment_messages_reach_both_sides_and_the_history(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        async with widget(org) as (visitor, welcome):
            session = welcome["session"]
            ack = await visitor.say("hello")
            thread_id = ack["thread_id"]
            up = await visitor_upload(org, session, png(), name="screenshot.png")
            file_id = up.body["attachment"]["id"]
            sent = await visitor.say("", attachment_id=file_id)
            # An agent's file, uploaded to the thread, sent with words.
            agent_up = await call(
                "POST",
                f"{base_url}/api/v1/threads/{thread_id}/attachments?name=answer.png",
                png(12),
                token=org.token,
                headers={"Content-Type": "image/png"},
            )
            assert agent_up.status == 201, agent_up.body
            agent_file = agent_up.body["attachment"]["id"]
            async with agent_socket(base_url, org.token) as (agent, _):
                await agent.send(
                    {
                        "type": "message",
                        "thread_id": thread_id,
                        "client_id": str(uuid.uuid4()),
                        "content": "here you go",
                        "attachment_id": agent_file,
                    }
                )
                await agent.expect("ack")
                # A file of another thread (the visitor's own upload has none) is not found.
                await agent.send(
                    {
                        "type": "message",
                        "thread_id": thread_id,
                        "client_id": str(uuid.uuid4()),
                        "content": "",
                        "attachment_id": file_id,
                    }
                )
                refused = await agent.expect("error")
                assert refused["code"] == "not_found"
            live = await visitor.expect("message", sender_type="agent")
            assert live["attachment"]["id"] == agent_file
            assert live["content"] == "here you go"
            assert (await visitor_link(org, session, agent_file)).status == 200

        # Read from PostgreSQL: once projected, the history is the projected rows.
        async with open_redis(settings.redis_url) as redis:
            log = StreamLog(redis, settings.key_prefix, "written")
            await wait_projected(log, org.space["id"])
        url = f"{base_url}/api/v1/threads/{thread_id}/messages"
        items = (await call("GET", url, token=org.token)).body["items"]
        assert len(items) == 3
    mine = next(m for m in items if m["id"] == sent["id"])
    assert mine["content"] == "screenshot.png"  # no words: the file's name stands for them
    assert mine["attachment"] == {
        "id": file_id,
        "name": "screenshot.png",
        "content_type": "image/png",
        "size": len(png()),
    }
    assert sum(1 for m in items if "attachment" in m) == 2


async def test_a_visitor_cannot_send_another_visitors_file(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with widget(org) as (first, welcome):
            await first.say("hi")
            up = await visitor_upload(org, welcome["session"], png())
        async with widget(org) as (second, _):
            await second.say("hi")
            await second.send(
                {
                    "type": "message",
                    "client_id": str(uuid.uuid4()),
                    "content": "",
                    "attachment_id": up.body["attachment"]["id"],
                }
            )
            error = await second.expect("error")
    assert error["code"] == "not_found"
