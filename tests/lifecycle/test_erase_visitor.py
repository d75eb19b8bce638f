"""Erasing a visitor (DELETE /visitors/{id}, chat/http/api/lifecycle.py): nothing of theirs is
left in PostgreSQL or Valkey afterwards, and other visitors' data is intact."""

from __future__ import annotations

import uuid
from typing import Any

import trio

from chat.config import Settings
from chat.streams.client import Redis, open_redis
from tests.helpers.api import assert_error
from tests.helpers.chat import Org, agent_socket, make_org, widget
from tests.helpers.db import query, wait_for_messages, wait_for_rows
from tests.helpers.http import call
from tests.identity.helpers import identity_secret, sign


async def _visitor_with_a_conversation(
    org: Org, settings: Settings, text: str, identity: str | None = None
) -> tuple[str, str]:
    """A visitor writes `text`, an agent claims and answers, the thread closes; (visitor id,
    thread id), once projected. With `identity` (a signed token), the visitor is verified."""
    async with widget(org) as (visitor, welcome):
        if identity is not None:
            await visitor.send({"type": "identify", "token": identity})
            assert (await visitor.expect("identity"))["session"] == welcome["session"]
        ack = await visitor.say(text)
        await visitor.send({"type": "typing", "active": True})
        thread_id = ack["thread_id"]
        async with agent_socket(org.base, org.token) as (agent, _):
            await agent.send({"type": "claim", "thread_id": thread_id})
            await agent.expect("ack", ref="claim")
            client_id = str(uuid.uuid4())
            await agent.send(
                {
                    "type": "message",
                    "thread_id": thread_id,
                    "client_id": client_id,
                    "content": f"answer to {text}",
                }
            )
            await agent.expect("ack", client_id=client_id)
            # What other features keep about the thread: a private note, a read marker.
            note_id = str(uuid.uuid4())
            note = {"type": "note", "thread_id": thread_id, "client_id": note_id}
            await agent.send({**note, "content": f"note on {text}"})
            await agent.expect("ack", ref="note")
            await agent.send({"type": "read", "thread_id": thread_id})
            await agent.expect("ack", ref="read")
    await wait_for_messages(settings.database_url, thread_id, 2)
    for table in ("notes", "read_markers"):
        sql = f"SELECT count(*) FROM {table} WHERE thread_id = %s"  # noqa: S608
        await wait_for_rows(settings.database_url, sql, (thread_id,), 1)
    return str(welcome["visitor"]["id"]), thread_id


async def _valkey_text(redis: Redis, prefix: str) -> str:
    """Every key name and value under the deployment's prefix, as one text to search."""
    found: list[str] = []
    async for key in redis.scan_iter(match=f"{prefix}:*"):
        found.append(str(key))
        kind = str(await redis.type(key))
        value: Any
        match kind:
            case "stream":
                value = [(e.identifier, e.field_values) for e in await redis.xrange(key)]
            case "hash":
                value = await redis.hgetall(key)
            case "zset":
                value = await redis.zrange(key, 0, -1)
            case "set":
                value = await redis.smembers(key)
            case _:
                value = await redis.get(key)
        found.append(repr(value))
    return "\n".join(found)


def _pg_text(url: str) -> str:
    tables = (
        "visitors",
        "threads",
        "messages",
        "email_outbox",
        "notes",
        "thread_tags",
        "read_markers",
        "conversation_stats",
        "visitor_pages",
        "attachments",
    )
    return "\n".join(repr(query(url, f"SELECT * FROM {t}")) for t in tables)  # noqa: S608


async def test_nothing_of_the_visitor_remains(base_url: str, settings: Settings) -> None:
    with trio.fail_after(90):
        org = await make_org(base_url)
        # A verified visitor: their identity mapping (structures.md, "Signed visitor identity")
        # goes with them, so the site's user would start over as a new visitor.
        token = sign(await identity_secret(org), "site-user-7431")
        gone, gone_thread = await _visitor_with_a_conversation(
            org, settings, "erase me 7431", identity=token
        )
        kept, kept_thread = await _visitor_with_a_conversation(org, settings, "keep me 2958")
        async with open_redis(settings.redis_url) as redis:
            before = await _valkey_text(redis, settings.key_prefix)
            assert gone in before and gone_thread in before and "erase me 7431" in before
            assert "site-user-7431" in before
            projected = await trio.to_thread.run_sync(_pg_text, settings.database_url)
            assert "site-user-7431" in projected  # visitors.external_id

            reply = await call("DELETE", f"{base_url}/api/v1/visitors/{gone}", token=org.token)
            assert reply.status == 204, reply.body

            after = await _valkey_text(redis, settings.key_prefix)
        for trace in (gone, gone_thread, "erase me 7431", "answer to erase me 7431"):
            assert trace not in after, trace
        assert "site-user-7431" not in after
        stored = await trio.to_thread.run_sync(_pg_text, settings.database_url)
        for trace in (gone, gone_thread, "erase me 7431", "note on erase me 7431"):
            assert trace not in stored, trace
        assert "site-user-7431" not in stored
        # The other visitor is untouched, in both stores.
        for trace in (kept, kept_thread, "keep me 2958", "answer to keep me 2958"):
            assert trace in after and trace in stored, trace
        assert "note on keep me 2958" in stored
        panel = await call("GET", f"{base_url}/api/v1/visitors/{kept}", token=org.token)
        assert [t["id"] for t in panel.body["threads"]] == [kept_thread]
        assert (
            await call("GET", f"{base_url}/api/v1/visitors/{gone}", token=org.token)
        ).status == 404


async def test_only_admins_of_the_visitors_org(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        visitor_id, _ = await _visitor_with_a_conversation(org, settings, "hello")
        stranger = await make_org(base_url)
        url = f"{base_url}/api/v1/visitors/{visitor_id}"
        assert_error(await call("DELETE", url, token=stranger.token), 404, "not_found")
        assert (await call("GET", url, token=org.token)).status == 200
