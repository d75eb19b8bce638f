"""The widget's public configuration, read cross-origin by the embedding page."""

from __future__ import annotations

import time

from quart import Response, jsonify, request

from chat.context import Services
from chat.db import spaces as space_queries
from chat.errors import NotFoundError, OriginNotAllowedError
from chat.http.openapi import Api
from chat.http.origin import origin_allowed
from chat.http.replies import WidgetConfig

TAG = "widget"
CONFIG_MAX_AGE_SECONDS = 30


def add_routes(api: Api, services: Services) -> None:
    settings = services.settings

    @api.route(
        "GET",
        "/widget/<widget_key>/config",
        summary="A space's public widget settings and whether agents are online",
        tag=TAG,
        auth="public",
        reply=WidgetConfig,
        errors=(403, 404),
    )
    async def widget_config(widget_key: str) -> Response:
        """Same Origin rule as /ws/widget. An allowed Origin is echoed in
        Access-Control-Allow-Origin, so the widget can read this from the host page."""
        space = await services.db.run(lambda c: space_queries.space_by_widget_key(c, widget_key))
        if space is None:
            raise NotFoundError("unknown widget key")
        origin = request.headers.get("Origin")
        if not origin_allowed(origin, space.allowed_domains):
            raise OriginNotAllowedError()
        online = await services.log.online_agents(
            space.id, settings.presence_ttl_seconds * 1000, int(time.time() * 1000)
        )
        reply = jsonify(
            {
                "space": {"name": space.name, "settings": space.settings},
                "agents_online": bool(online),
            }
        )
        assert origin is not None  # origin_allowed refuses a missing one
        reply.headers["Access-Control-Allow-Origin"] = origin
        reply.headers["Vary"] = "Origin"
        reply.headers["Cache-Control"] = f"private, max-age={CONFIG_MAX_AGE_SECONDS}"
        return reply
