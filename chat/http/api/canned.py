"""Canned responses: the organization's (admins manage them) and each agent's personal ones.

Every agent lists what they may use; the console loads it once per session and expands the
placeholders when it inserts one (nothing is expanded here). structures.md, "Canned responses".
"""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat.db import canned_queries
from chat.errors import ForbiddenError, NotFoundError
from chat.http.api.views import canned_json, no_content
from chat.http.auth import Caller
from chat.http.bodies import CannedListQuery, CreateCannedResponse, UpdateCannedResponse
from chat.http.openapi import Routes
from chat.http.replies import CannedResponse, CannedResponseList
from chat.services import Services

routes = Routes(tag="canned responses", api_keys=True)

_NOT_FOUND = "no such canned response"


@routes.route(
    "GET",
    "/canned-responses",
    summary="The canned responses the caller may use",
    query=CannedListQuery,
    reply=CannedResponseList,
)
async def list_canned(services: Services, caller: Caller, query: CannedListQuery) -> Response:
    """The organization's responses and the caller's personal ones, never another agent's.
    Caps on both kinds keep the whole list within one answer (no cursor)."""
    agent = caller.agent
    prefix = (query.q or "").strip().removeprefix("/")
    rows = await services.db.run(
        lambda c: canned_queries.list_responses(
            c, agent.organization_id, agent.id, prefix or None, query.limit
        )
    )
    return jsonify({"items": [canned_json(r) for r in rows]})


@routes.route(
    "POST",
    "/canned-responses",
    summary="Create a canned response",
    body=CreateCannedResponse,
    reply=CannedResponse,
    status=201,
    errors=(403, 409),
)
async def create_canned(
    services: Services, caller: Caller, body: CreateCannedResponse
) -> tuple[Response, int]:
    """`scope: organization` is for admins (403 forbidden for others). 409 shortcut_taken when a
    live response of the same scope has the shortcut (a deleted one's is free);
    409 too_many_canned_responses past 1000 org-wide or 200 personal ones."""
    agent = caller.agent
    if body.scope == "organization" and agent.role != "admin":
        raise ForbiddenError("only admins create the organization's canned responses")
    owner = None if body.scope == "organization" else agent.id
    row = await services.db.run(
        lambda c: canned_queries.create_response(
            c, agent.organization_id, owner, body.shortcut, body.title, body.content
        )
    )
    return jsonify(canned_json(row)), 201


@routes.route(
    "GET",
    "/canned-responses/<uuid:response_id>",
    summary="One canned response",
    reply=CannedResponse,
)
async def get_canned(services: Services, caller: Caller, response_id: Any) -> Response:
    agent = caller.agent
    row = await services.db.run(
        lambda c: canned_queries.response_by_id(
            c, agent.organization_id, agent.id, str(response_id)
        )
    )
    if row is None:
        raise NotFoundError(_NOT_FOUND)
    return jsonify(canned_json(row))


@routes.route(
    "PATCH",
    "/canned-responses/<uuid:response_id>",
    summary="Change a canned response's shortcut, title or content",
    body=UpdateCannedResponse,
    reply=CannedResponse,
    errors=(403, 409),
)
async def update_canned(
    services: Services, caller: Caller, response_id: Any, body: UpdateCannedResponse
) -> Response:
    """An agent changes their personal ones; an org-wide one is for admins (403 forbidden for
    others). Another agent's personal one is not found, for admins too."""
    agent = caller.agent
    changes: dict[str, Any] = body.model_dump(exclude_none=True)
    row = await services.db.run(
        lambda c: canned_queries.update_response(
            c, agent.organization_id, agent.id, agent.role == "admin", str(response_id), changes
        )
    )
    if row is None:
        raise NotFoundError(_NOT_FOUND)
    return jsonify(canned_json(row))


@routes.route(
    "DELETE",
    "/canned-responses/<uuid:response_id>",
    summary="Remove a canned response (soft delete)",
    status=204,
    errors=(403,),
)
async def delete_canned(services: Services, caller: Caller, response_id: Any) -> Response:
    """Who may: as for PATCH. The response is no longer found and its shortcut is free."""
    agent = caller.agent
    deleted = await services.db.run(
        lambda c: canned_queries.delete_response(
            c, agent.organization_id, agent.id, agent.role == "admin", str(response_id)
        )
    )
    if not deleted:
        raise NotFoundError(_NOT_FOUND)
    return no_content()
