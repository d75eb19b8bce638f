"""An organization's tag list (structures.md, "Tags"): every agent reads it, admins manage it.
Putting tags on conversations is chat/http/api/notes.py."""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat.commands.notes import TAG_NOT_FOUND
from chat.db import tag_queries
from chat.errors import NotFoundError
from chat.http.api.views import no_content
from chat.http.auth import Caller
from chat.http.note_models import CreateTag, Tag, TagList, UpdateTag
from chat.http.openapi import Routes
from chat.services import Services

routes = Routes(tag="notes and tags", api_keys=True)


@routes.route("GET", "/tags", summary="The organization's tags", reply=TagList)
async def list_tags(services: Services, caller: Caller) -> Response:
    """At most 200, so one answer (no cursor)."""
    org = caller.agent.organization_id
    return jsonify({"items": await services.db.run(lambda c: tag_queries.list_tags(c, org))})


@routes.route(
    "POST",
    "/tags",
    summary="Create a tag",
    auth="admin",
    body=CreateTag,
    reply=Tag,
    status=201,
    errors=(409,),
)
async def create_tag(services: Services, caller: Caller, body: CreateTag) -> tuple[Response, int]:
    """409 name_taken for a name the organization has (in any case); 409 too_many_tags past
    200."""
    org = caller.agent.organization_id
    row = await services.db.run(lambda c: tag_queries.create_tag(c, org, body.name, body.colour))
    return jsonify(row), 201


@routes.route(
    "PATCH",
    "/tags/<uuid:tag_id>",
    summary="Rename or recolour a tag",
    auth="admin",
    body=UpdateTag,
    reply=Tag,
    errors=(409,),
)
async def update_tag(services: Services, caller: Caller, tag_id: Any, body: UpdateTag) -> Response:
    org = caller.agent.organization_id
    changes: dict[str, Any] = body.model_dump(exclude_none=True)
    row = await services.db.run(lambda c: tag_queries.update_tag(c, org, str(tag_id), changes))
    if row is None:
        raise NotFoundError(TAG_NOT_FOUND)
    return jsonify(row)


@routes.route("DELETE", "/tags/<uuid:tag_id>", summary="Delete a tag", auth="admin", status=204)
async def delete_tag(services: Services, caller: Caller, tag_id: Any) -> Response:
    """The tag leaves every conversation it was on (their log entries stay)."""
    org = caller.agent.organization_id
    if not await services.db.run(lambda c: tag_queries.delete_tag(c, org, str(tag_id))):
        raise NotFoundError(TAG_NOT_FOUND)
    return no_content()
