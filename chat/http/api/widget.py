"""The widget's public configuration, read cross-origin by the embedding page."""

from __future__ import annotations

import logging

import psycopg
import trio
from quart import Response, jsonify, request

from chat.business_hours import widget_hours
from chat.clock import utc_now
from chat.db import group_queries
from chat.db.rows import SpaceRow
from chat.errors import NotFoundError, OriginNotAllowedError
from chat.http.api.transcript_mail import email_on
from chat.http.errors import error_response
from chat.http.openapi import Routes
from chat.http.origin import origin_allowed
from chat.http.replies import WidgetConfig
from chat.http.team import public_team, reply_time
from chat.services import Services
from chat.space_settings import SpaceSettings

logger = logging.getLogger(__name__)

CONFIG_MAX_AGE_SECONDS = 30
# The groups offered to visitors come from PostgreSQL, not the space cache: past this wait the
# config answers without them (the pre-chat form then offers none) rather than not at all.
GROUPS_WAIT_SECONDS = 1.0

routes = Routes(tag="widget")


@routes.route(
    "GET",
    "/widget/<widget_key>/config",
    summary="A space's public widget settings, whether agents are online, its team and reply time",
    auth="public",
    reply=WidgetConfig,
    errors=(403, 404),
)
async def widget_config(services: Services, widget_key: str) -> Response:
    """Same Origin rule as /ws/widget; a same-origin page (which browsers send without an
    Origin header) is checked by its host. The page's origin is echoed in
    Access-Control-Allow-Origin, on errors too, so the widget can read the answer and tell a
    refused key or origin from an outage."""
    origin = _page_origin()
    try:
        reply = await _config(services, widget_key, origin)
    except (NotFoundError, OriginNotAllowedError) as err:
        reply = error_response(err.status, err.code, err.message)
    if origin is not None and origin != "null":  # "null" would let any sandboxed page read
        reply.headers["Access-Control-Allow-Origin"] = origin
    reply.headers["Vary"] = "Origin, Sec-Fetch-Site"
    return reply


async def _config(services: Services, widget_key: str, origin: str | None) -> Response:
    space = await services.spaces.space_by_widget_key(widget_key)  # cached, as the handshake
    if space is None:
        raise NotFoundError("unknown widget key")
    if not origin_allowed(origin, space.allowed_domains):
        raise OriginNotAllowedError()
    online = await services.stream_log.online_agents(space.id)
    # `locale` always (spaces made before it have none stored): the widget's language setting.
    settings = {**space.settings, "locale": SpaceSettings.of(space.settings).locale}
    settings.pop("bot_agent_id", None)  # which bot answers first is the team's business
    public = {"name": space.name, "settings": settings}
    groups = await _offered_groups(services, space)
    # Business hours: the verdict now and the open intervals ahead, which the widget re-checks
    # on its own timer (structures.md, "Business hours"); null for a space without hours.
    hours = widget_hours(SpaceSettings.of(space.settings).business_hours, utc_now())
    # Cached per space for a few minutes (chat/db/team_cache.py): no query per page load.
    team = await services.team.snapshot(services.db, space.organization_id, space.id)
    reply = jsonify(
        {
            "space": public,
            "agents_online": bool(online),
            "groups": groups,
            "hours": hours,
            # The widget offers "Email me the transcript" only when it can be sent.
            "transcript_email": email_on(services),
            "team": public_team(team, set(online)),
            "reply_time": reply_time(team.reply_seconds),
        }
    )
    reply.headers["Cache-Control"] = f"private, max-age={CONFIG_MAX_AGE_SECONDS}"
    return reply


async def _offered_groups(services: Services, space: SpaceRow) -> list[dict[str, str]]:
    """The organization's groups by id and name (nothing else of them is public) when the
    space lets the visitor pick one; none otherwise, or when PostgreSQL does not answer."""
    if not SpaceSettings.of(space.settings).visitor_picks_group:
        return []
    org = space.organization_id
    try:
        with trio.fail_after(GROUPS_WAIT_SECONDS):
            found = await services.db.run(lambda c: group_queries.public_groups(c, org))
    except (psycopg.OperationalError, trio.TooSlowError) as exc:
        logger.warning("widget config without its groups, the database did not answer: %r", exc)
        return []
    return [{"id": group_id, "name": name} for group_id, name in found]


def _page_origin() -> str | None:
    """The Origin header; for a same-origin fetch (no Origin sent) this service's own origin.
    Sec-Fetch-Site is set by the browser itself, so a page cannot claim to be same-origin."""
    origin = request.headers.get("Origin")
    if origin is None and request.headers.get("Sec-Fetch-Site") == "same-origin":
        return f"{request.scheme}://{request.host}"
    return origin
