"""A visitor as agents see them in the console's visitor panel: who, and their earlier threads."""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat.db import context_queries, thread_queries
from chat.db.projection import VISITOR_PAGES_KEPT
from chat.errors import NotFoundError
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.http.replies import VisitorDetail
from chat.services import Services

THREADS_SHOWN = 20

routes = Routes(tag="visitors", api_keys=True)


@routes.route(
    "GET",
    "/visitors/<uuid:visitor_id>",
    summary="A visitor and their threads, newest first",
    reply=VisitorDetail,
)
async def get_visitor(services: Services, caller: Caller, visitor_id: Any) -> Response:
    """From PostgreSQL: a visitor appears once the projector has written them (normally
    within milliseconds of their first frame). At most the 20 newest threads, and the visitor's
    context: the host page's attributes (unverified), locale, time zone, browser, OS and the 50
    newest pages."""
    org, wanted = caller.agent.organization_id, str(visitor_id)

    def read(conn: Any) -> dict[str, Any] | None:
        visitor = thread_queries.visitor_in_organization(conn, org, wanted)
        if visitor is None:
            return None
        return {
            "visitor": visitor,
            "threads": thread_queries.threads_of_visitor(conn, wanted, THREADS_SHOWN),
            # Verified only by a signed identity token (structures.md, "Signed visitor
            # identity"); attributes are the host page's word either way.
            "context": context_queries.visitor_context(conn, wanted, VISITOR_PAGES_KEPT),
        }

    found = await services.db.run(read)
    if found is None:
        raise NotFoundError("no such visitor")
    return jsonify(found)
