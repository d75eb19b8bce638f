"""The REST API's blueprint: every resource module's routes, and the OpenAPI document of them."""

from __future__ import annotations

from quart import Blueprint, Response, jsonify

from chat.http.api import (
    agents,
    api_keys,
    attachments,
    auth,
    avatars,
    bot_rules,
    bots,
    canned,
    groups,
    identity,
    inbound,
    lifecycle,
    notes,
    organization,
    ratings,
    reads,
    reports,
    search,
    spaces,
    tags,
    thread_messages,
    threads,
    transcript_mail,
    transcripts,
    two_factor,
    visitors,
    webhooks,
    widget,
)
from chat.http.auth import check_caller
from chat.http.openapi import Api, Operation
from chat.services import Services

PREFIX = "/api/v1"
TITLE = "chat REST API"
# The account routes (sign-ins, passwords, two-factor, API keys): a bot token is refused there
# (structures.md, "Bots"); it may call every other route its role `agent` may.
BOT_REFUSED_TAGS = frozenset({"auth", "api keys"})


def api_blueprint(services: Services) -> Blueprint:
    blueprint = Blueprint("api", __name__, url_prefix=PREFIX)

    async def caller(op: Operation) -> object:
        assert op.role is not None  # the Api checks the callers of role routes only
        return await check_caller(
            services, role=op.role, key_scope=op.key_scope, bots=op.tag not in BOT_REFUSED_TAGS
        )

    api = Api(blueprint, services, caller, TITLE)
    for resource in (
        auth,
        agents,
        spaces,
        threads,
        thread_messages,
        bots,
        widget,
        visitors,
        groups,
        organization,
        inbound,
        canned,
        notes,
        tags,
        reads,
        search,
        attachments,
        avatars,
        transcripts,
        transcript_mail,
        lifecycle,
        identity,
        api_keys,
        two_factor,
        webhooks,
        ratings,
        reports,
        bot_rules,
    ):
        api.include(resource.routes)
    document = api.openapi(PREFIX)

    @blueprint.get("/openapi.json")
    async def openapi() -> Response:
        return jsonify(document)

    return blueprint
