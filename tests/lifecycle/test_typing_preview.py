"""The typing preview (chat/actors/preview.py): off by default, no draft reaches agents; on,
agents get the draft, and nothing of it is stored (no thread stream, no PostgreSQL row, and no
draft left in the space stream once the visitor stops)."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from chat.actors import visitor as visitor_actor
from chat.config import Settings
from chat.events import Typing
from chat.protocol.outbound import typing_frame, visitor_typing_frame
from chat.streams.client import open_redis
from chat.streams.keys import SpaceKeys
from tests.helpers.chat import Client, Org, agent_socket, make_org, widget
from tests.helpers.db import query, wait_for_messages

DRAFT = "my card number is 4111 1111"


async def _typing_frames(agent: Client, count: int) -> list[dict[str, Any]]:
    return [await agent.expect("typing") for _ in range(count)]


async def _stream_text(settings: Settings, org: Org, thread_id: str) -> str:
    keys = SpaceKeys(settings.key_prefix, org.space["id"])
    async with open_redis(settings.redis_url) as redis:
        space = await redis.xrange(keys.events)
        thread = await redis.xrange(keys.thread(thread_id))
    return repr([e.field_values for e in (*space, *thread)])


async def test_off_by_default_no_draft_reaches_agents(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        assert org.space["settings"].get("typing_preview", False) is False
        async with widget(org) as (visitor, _):
            ack = await visitor.say("hello")
            async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
                await visitor.send({"type": "typing", "active": True, "draft": DRAFT})
                frame = await agent.expect("typing", active=True)
                assert "draft" not in frame
                await visitor.send({"type": "typing", "active": False})
                await agent.expect("typing", active=False)
        assert DRAFT not in await _stream_text(settings, org, ack["thread_id"])


async def test_on_agents_see_the_draft_and_nothing_is_stored(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url, settings={"typing_preview": True})
        async with widget(org) as (visitor, _):
            ack = await visitor.say("hello")
            thread_id = ack["thread_id"]
            async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
                await visitor.send({"type": "typing", "active": True, "draft": "my card"})
                await visitor.send({"type": "typing", "active": True, "draft": DRAFT})
                seen = await agent.expect("typing", draft=DRAFT)
                assert (seen["thread_id"], seen["sender_type"]) == (thread_id, "visitor")
                # At most one draft of the thread is in the space stream at a time.
                stream = await _stream_text(settings, org, thread_id)
                assert stream.count("draft") == 1
                # The visitor sends: the message is stored, the draft is gone.
                sent = await visitor.say("my card number is 4111 1111 2222")
                await agent.expect("message", id=sent["id"])
        await wait_for_messages(settings.database_url, thread_id, 2)
        stream = await _stream_text(settings, org, thread_id)
        assert "draft" not in stream and DRAFT + '"' not in stream
        rows = await trio.to_thread.run_sync(
            query,
            settings.database_url,
            "SELECT content FROM messages WHERE thread_id = %s",
            (thread_id,),
        )
        assert sorted(r[0] for r in rows) == ["hello", "my card number is 4111 1111 2222"]


def test_the_visitor_frame_never_carries_a_draft() -> None:
    """Visitors get typing entries only through visitor_typing_frame (chat/actors/visitor_feed.py),
    which has no draft field: a draft cannot reach a widget, whoever typed it."""
    entry = Typing(thread_id="t", sender_type="visitor", sender_id="v", active=True, draft=DRAFT)
    assert "draft" not in visitor_typing_frame(entry)
    assert typing_frame(entry)["draft"] == DRAFT  # the agents' frame


async def test_a_visitor_still_typing_is_said_again(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Consoles forget a typing indicator a few seconds after its last entry, so a visitor who
    keeps typing is said again (every TYPING_REFRESH_SECONDS; here at the 1 s pace of typing
    entries)."""
    monkeypatch.setattr(visitor_actor, "TYPING_REFRESH_SECONDS", 0.0)
    with trio.fail_after(60):
        org = await make_org(base_url)
        async with widget(org) as (visitor, _):
            ack = await visitor.say("hello")
            async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
                await visitor.send({"type": "typing", "active": True})
                await agent.expect("typing", active=True, thread_id=ack["thread_id"])
                await visitor.send({"type": "typing", "active": True})
                await agent.expect("typing", active=True, thread_id=ack["thread_id"])
                await visitor.send({"type": "typing", "active": False})
                await agent.expect("typing", active=False, thread_id=ack["thread_id"])
