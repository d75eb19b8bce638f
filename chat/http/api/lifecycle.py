"""Admins delete: a conversation softly (restorable, kept out of lists and exports), a visitor
for good with everything of theirs (a privacy request). structures.md, "Deleting conversations
and visitors"."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from quart import Response, jsonify

from chat.db import lifecycle_queries
from chat.errors import InvalidError, NotFoundError
from chat.http.api.spaces import _own_space
from chat.http.api.threads import thread_with_visitor
from chat.http.api.views import no_content
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.http.replies import ThreadPage
from chat.services import Services

logger = logging.getLogger(__name__)

routes = Routes(tag="lifecycle", api_keys=True)


class DeletedListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200, description="next_cursor")


@routes.route(
    "DELETE",
    "/threads/<uuid:thread_id>",
    summary="Soft-delete a closed conversation",
    auth="admin",
    status=204,
    errors=(409,),
)
async def delete_thread(services: Services, caller: Caller, thread_id: Any) -> Response:
    """Appends `thread.deleted`: the thread leaves thread lists, the visitor panel and the
    export, agents' consoles drop it (a `thread.deleted` frame), and the visitor's next message
    opens a new conversation. Its messages are kept: POST .../restore brings it back. An open
    thread is 409 thread_open (close it first). Deleting a deleted thread changes nothing."""
    await _mark(services, caller, str(thread_id), "thread.deleted")
    return no_content()


@routes.route(
    "POST",
    "/threads/<uuid:thread_id>/restore",
    summary="Restore a soft-deleted conversation",
    auth="admin",
    status=204,
    errors=(409,),  # thread_open: the conversation is open (it was never deleted)
)
async def restore_thread(services: Services, caller: Caller, thread_id: Any) -> Response:
    """Appends `thread.restored`: the thread is listed again, closed as it was."""
    await _mark(services, caller, str(thread_id), "thread.restored")
    return no_content()


async def _mark(services: Services, caller: Caller, thread_id: str, kind: Any) -> None:
    thread = await thread_with_visitor(services, caller, thread_id)  # 404 unless the org's
    await services.stream_log.lifecycle.do_mark_deleted(
        str(thread["space_id"]), thread_id, kind, caller.agent.id
    )


@routes.route(
    "GET",
    "/spaces/<uuid:space_id>/deleted-threads",
    summary="A space's soft-deleted threads, most recently deleted first",
    auth="admin",
    query=DeletedListQuery,
    reply=ThreadPage,
    errors=(400,),
)
async def list_deleted(
    services: Services, caller: Caller, space_id: Any, query: DeletedListQuery
) -> Response:
    """From PostgreSQL (a deletion shows here once projected, within milliseconds)."""
    space = await _own_space(services, caller, space_id)
    cursor = _cursor(query.cursor)
    rows = await services.db.run(
        lambda c: lifecycle_queries.deleted_threads(c, space.id, query.limit + 1, cursor)
    )
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_cursor = f"{rows[-1]['deleted_at']}|{rows[-1]['id']}"
    return jsonify({"items": rows, "next_cursor": next_cursor})


def _cursor(raw: str | None) -> tuple[datetime, str] | None:
    if raw is None:
        return None
    stamp, _, thread_id = raw.partition("|")
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")), str(uuid.UUID(thread_id))
    except ValueError as exc:
        raise InvalidError("bad cursor") from exc


@routes.route(
    "DELETE",
    "/visitors/<uuid:visitor_id>",
    summary="Erase a visitor and all their data (privacy request)",
    auth="admin",
    status=204,
)
async def erase_visitor(services: Services, caller: Caller, visitor_id: Any) -> Response:
    """Not undoable. Deletes the visitor's row, their threads and every message in them from
    PostgreSQL, and from Valkey their hashes, their threads' streams and state, and every entry
    of the space stream that names them. 404 for a visitor PostgreSQL does not know yet (the
    projector writes one within milliseconds of their first message) or another
    organization's."""
    org, wanted = caller.agent.organization_id, str(visitor_id)
    found = await services.db.run(lambda c: lifecycle_queries.visitor_rows(c, org, wanted))
    if found is None:
        raise NotFoundError("no such visitor")
    threads = found.thread_ids

    def erase_rows(conn: Any) -> int:
        return lifecycle_queries.erase_visitor_rows(conn, wanted, threads)

    # The files first: once their rows are gone nothing would name them.
    for attachment_id in await services.db.run(
        lambda c: lifecycle_queries.attachment_ids(c, wanted)
    ):
        await services.files.delete(attachment_id)
    rows = await services.db.run(erase_rows)
    erased = await services.stream_log.lifecycle.erase_visitor(org, found.space_id, wanted, threads)
    # Once more: a projector batch that read the visitor's entries before they were deleted
    # from the stream may have committed since the first pass.
    rows += await services.db.run(erase_rows)
    logger.info(
        "visitor %s erased by %s: %d rows, %d keys, %d entries",
        wanted,
        caller.agent.id,
        rows,
        erased.keys,
        erased.entries,
    )
    return no_content()
