"""Helpers of the notes and tags tests: a conversation with a visitor and an agent, the log's
entries of a space, and REST calls that read like the routes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from chat.config import Settings
from chat.events import LogEntry
from chat.streams.client import open_redis
from chat.streams.log import StreamLog
from tests.helpers.chat import Org
from tests.helpers.http import Reply, call


def api(org: Org) -> str:
    return f"{org.base}/api/v1"


async def post_note(org: Org, token: str, thread_id: str, content: str, **extra: Any) -> Reply:
    body = {"client_id": str(uuid.uuid4()), "content": content, **extra}
    return await call("POST", f"{api(org)}/threads/{thread_id}/notes", body, token=token)


async def create_tag(org: Org, name: str, colour: str = "#ffcc00") -> dict[str, Any]:
    reply = await call(
        "POST", f"{api(org)}/tags", {"name": name, "colour": colour}, token=org.token
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def tag(org: Org, token: str, thread_id: str, tag_id: str, *, on: bool = True) -> Reply:
    method = "PUT" if on else "DELETE"
    return await call(method, f"{api(org)}/threads/{thread_id}/tags/{tag_id}", token=token)


async def listed(org: Org, query: str = "") -> Reply:
    return await call("GET", f"{api(org)}/spaces/{org.space['id']}/threads{query}", token=org.token)


@asynccontextmanager
async def server_log(settings: Settings) -> AsyncIterator[StreamLog]:
    """The log the test's server writes (its key prefix), read from the test."""
    async with open_redis(settings.redis_url) as redis:
        yield StreamLog(redis, settings.key_prefix, "written")


async def space_entries(log: StreamLog, space_id: str) -> list[LogEntry]:
    return await log.read_range(log.keys(space_id).events, None, 10_000)


async def thread_entries(log: StreamLog, space_id: str, thread_id: str) -> list[LogEntry]:
    return await log.read_range(log.keys(space_id).thread(thread_id), None, 10_000)
