"""Agents' pictures (structures.md, "Appearance"): each agent sets its own; visitors see them in
the widget's header, served from this service's origin so a host page's CSP that allows the
service's images (as it must for attachments) shows them.

The public URL names a random id made per upload, never the agent: a picture says nothing about
who the agent is beyond what it shows. Only PNG, JPEG, GIF and WebP sniffed from the bytes are
stored (never SVG, which carries script), at most the REST body limit (64 KiB).
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from quart import Response, jsonify, request

from chat.db import space_queries, team_queries
from chat.errors import NotFoundError
from chat.files.sniffing import check_file, sniff
from chat.http.api.attachments import FILE_CSP
from chat.http.api.views import no_content
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.http.replies import WidgetTeam
from chat.http.team import ReplyTime, avatar_url, public_team, reply_time
from chat.services import Services

routes = Routes(tag="appearance", api_keys=False)

# The REST body limit (chat/http/app.py REST_MAX_BODY_BYTES): a header picture is shown at
# 28 px; 64 KiB is plenty for one, and larger bodies are refused 413 before they are read.
AVATAR_MAX_BYTES = 64 * 1024
AVATAR_MEDIA_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/octet-stream",
)
# A picture's URL changes with every upload, so its bytes never change: cached for a year.
AVATAR_CACHE = "public, max-age=31536000, immutable"


class AgentAvatar(BaseModel):
    model_config = ConfigDict(frozen=True)

    avatar_url: str | None = Field(
        description="The caller's picture (/api/v1/avatars/{id}), or null: initials are shown"
    )


class SpaceTeam(BaseModel):
    model_config = ConfigDict(frozen=True)

    team: WidgetTeam
    reply_time: ReplyTime | None


@routes.route(
    "GET",
    "/spaces/<uuid:space_id>/team",
    summary="What the space's widget header shows now: its team and reply time",
    reply=SpaceTeam,
    errors=(404,),
    api_keys=True,
)
async def space_team(services: Services, caller: Caller, space_id: Any) -> Response:
    """The `team` and `reply_time` of the space's widget config, for the console's appearance
    preview (the widget config itself answers only the space's allowed origins). Another
    organization's space is 404 not_found."""
    org = caller.agent.organization_id
    space = await services.db.run(lambda c: space_queries.space_by_id(c, org, str(space_id)))
    if space is None:
        raise NotFoundError("no such space")
    online = await services.stream_log.online_agents(space.id)
    team = await services.team.snapshot(services.db, org, space.id)
    return jsonify(
        {"team": public_team(team, set(online)), "reply_time": reply_time(team.reply_seconds)}
    )


@routes.route("GET", "/auth/me/avatar", summary="The caller's picture", reply=AgentAvatar)
async def get_avatar(services: Services, caller: Caller) -> Response:
    found = await services.db.run(lambda c: team_queries.avatar_of(c, caller.agent.id))
    return jsonify({"avatar_url": avatar_url(found)})


@routes.route(
    "PUT",
    "/auth/me/avatar",
    summary="Set the caller's picture (the raw image bytes as the body)",
    raw_body=AVATAR_MEDIA_TYPES,
    reply=AgentAvatar,
    errors=(400, 413, 415),
)
async def put_avatar(services: Services, caller: Caller) -> Response:
    """PNG, JPEG, GIF or WebP, sniffed from the bytes (the declared type is ignored): 415
    `file_type_not_allowed` otherwise, 413 over 64 KiB. The previous picture is deleted."""
    data = await request.get_data(cache=True, as_text=False)
    assert isinstance(data, bytes)  # as_text=False
    check_file(data, max_bytes=AVATAR_MAX_BYTES, kinds=frozenset({"image"}))
    found = sniff(data)
    assert found is not None  # check_file passed
    avatar_id = str(uuid.uuid4())
    # The bytes first: a row never names a file that was not stored.
    await services.files.put(avatar_id, data, found.content_type)
    old = await services.db.run(lambda c: team_queries.set_avatar(c, caller.agent.id, avatar_id))
    if old is not None:
        await services.files.delete(old)
    services.team.clear()
    return jsonify({"avatar_url": avatar_url(avatar_id)})


@routes.route("DELETE", "/auth/me/avatar", summary="Remove the caller's picture", status=204)
async def delete_avatar(services: Services, caller: Caller) -> Response:
    """Visitors see the caller's initials again."""
    old = await services.db.run(lambda c: team_queries.set_avatar(c, caller.agent.id, None))
    if old is not None:
        await services.files.delete(old)
    services.team.clear()
    return no_content()


@routes.route(
    "GET",
    "/avatars/<uuid:avatar_id>",
    summary="An agent's picture, as shown in the widget's header",
    auth="public",
    errors=(404,),
)
async def get_avatar_file(services: Services, avatar_id: Any) -> Response:
    """Public: the id is the capability, and it names only a picture. A replaced picture, or a
    deleted agent's, is 404 not_found. Served with nosniff, a sandboxing CSP, and a
    cross-origin resource policy that lets host pages show it."""
    if not await services.db.run(lambda c: team_queries.avatar_is_live(c, avatar_id)):
        raise NotFoundError("no such picture")
    data = await services.files.get(str(avatar_id))
    found = sniff(data)
    if found is None or not found.is_image:
        raise NotFoundError("no such picture")
    reply = Response(data, status=200, mimetype=found.content_type)
    reply.headers["X-Content-Type-Options"] = "nosniff"
    reply.headers["Content-Security-Policy"] = FILE_CSP
    reply.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    reply.headers["Cache-Control"] = AVATAR_CACHE
    return reply
