"""Read state over REST (structures.md, "Read state"): an agent's read marker per thread, and the
unread counts the thread lists carry. The agent socket's `read` frame moves the same marker."""

from __future__ import annotations

from typing import Any

import psycopg
from pydantic import BaseModel, ConfigDict, Field
from quart import Response, jsonify

from chat.commands.reads import do_mark_read
from chat.db import context_queries
from chat.db.breaker import is_unavailable
from chat.http.api.threads import space_of_thread
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.services import Services

routes = Routes(tag="threads", api_keys=True)


class MarkReadBody(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str | None = Field(
        default=None,
        pattern=r"^\d{1,20}-\d{1,20}$",
        description="The last message read; absent: the whole thread",
    )


class ReadState(BaseModel):
    model_config = ConfigDict(frozen=True)
    thread_id: str
    id: str | None = Field(description="The caller's read marker; null: nothing read")
    visitor_read_id: str | None = Field(
        description="How far the visitor has seen the thread (their widget open, the message in"
        " view); null: not yet"
    )


@routes.route(
    "GET",
    "/threads/<uuid:thread_id>/read",
    summary="The caller's read marker and the visitor's, in a thread",
    reply=ReadState,
)
async def get_read(services: Services, caller: Caller, thread_id: Any) -> Response:
    """From Valkey, where the markers move: current even while PostgreSQL lags."""
    space_id = await space_of_thread(services, caller, thread_id)
    markers = await services.stream_log.read_state.markers(space_id, str(thread_id))
    return jsonify(
        {
            "thread_id": str(thread_id),
            "id": markers.get("a:" + caller.agent.id),
            "visitor_read_id": markers.get("v"),
        }
    )


@routes.route(
    "POST",
    "/threads/<uuid:thread_id>/read",
    summary="Move the caller's read marker forward (never back)",
    body=MarkReadBody,
    reply=ReadState,
)
async def mark_read(
    services: Services, caller: Caller, thread_id: Any, body: MarkReadBody
) -> Response:
    """The caller's other sockets get a `read` frame; an older id than the marker changes
    nothing, one past the thread's end stops at its end."""
    space_id = await space_of_thread(services, caller, thread_id)
    marker = await do_mark_read(
        services.stream_log, space_id, str(thread_id), caller.agent.id, body.id
    )
    markers = await services.stream_log.read_state.markers(space_id, str(thread_id))
    return jsonify({"thread_id": str(thread_id), "id": marker, "visitor_read_id": markers.get("v")})


async def with_unread(
    services: Services, space_id: str, agent_id: str, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """`rows` (threads of the space) with the agent's `unread` count and `last_read_id`: from
    the threads' streams in Valkey (exact at once, whatever the projector's lag), and from
    PostgreSQL for threads whose stream is gone. While PostgreSQL is down those count 0."""
    ids = [str(r["id"]) for r in rows]
    counts = await services.stream_log.read_state.unread(space_id, agent_id, ids)
    rest = [i for i in ids if i not in counts]
    if rest:
        try:
            counts.update(
                await services.db.run(lambda c: context_queries.unread_counts(c, agent_id, rest))
            )
        except psycopg.OperationalError as exc:
            if not is_unavailable(exc):
                raise
    return [{**r, **_unread_fields(counts.get(str(r["id"])))} for r in rows]


def _unread_fields(found: tuple[int, str | None] | None) -> dict[str, Any]:
    unread, marker = found or (0, None)
    return {"unread": unread, "last_read_id": marker}
