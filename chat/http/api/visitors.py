"""A visitor as agents see them in the console's visitor panel: who, and their earlier threads."""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat.db import thread_queries
from chat.errors import NotFoundError
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.http.replies import VisitorDetail
from chat.services import Services

THREADS_SHOWN = 20

routes = Routes(tag="visitors")


@routes.route(
    "GET",
    "/visitors/<uuid:visitor_id>",
    summary="A visitor and their threads, newest first",
    reply=VisitorDetail,
)
async def get_visitor(services: Services, caller: Caller, visitor_id: Any) -> Response:
    """From PostgreSQL: a visitor appears once the projector has written them (normally
    within milliseconds of their first frame). At most the 20 newest threads."""
    org, wanted = caller.agent.organization_id, str(visitor_id)

    def read(conn: Any) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        visitor = thread_queries.visitor_in_organization(conn, org, wanted)
        if visitor is None:
            return None, []
        return visitor, thread_queries.threads_of_visitor(conn, wanted, THREADS_SHOWN)

    visitor, threads = await services.db.run(read)
    if visitor is None:
        raise NotFoundError("no such visitor")
    return jsonify({"visitor": visitor, "threads": threads})
