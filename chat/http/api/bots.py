"""Bots (structures.md, "Bots"; README "Bots"): agents of kind `bot` that a company plugs in (its
own bot, an AI service). Admins create them, rotate their tokens and delete them; a bot then
connects with its token like any agent client, to /ws/agent or the REST API."""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat.auth.bot_tokens import NewBotToken
from chat.db import bot_queries
from chat.db.rows import AgentRow
from chat.errors import NotFoundError
from chat.http.api.views import agent_reply, no_content
from chat.http.auth import Caller
from chat.http.bot_models import Bot, BotCreated, BotList, BotToken, CreateBot
from chat.http.openapi import Routes
from chat.http.sign_in_copy import spaces_changed
from chat.json_types import Json
from chat.services import Services

routes = Routes(tag="bots", api_keys=True)


async def _bot_json(services: Services, bot: AgentRow) -> Json:
    found = await agent_reply(services, bot)
    info = await services.db.run(lambda c: bot_queries.token_info(c, bot.id))
    found["token_prefix"] = info.prefix if info else None
    found["token_last4"] = info.last4 if info else None
    last = info.last_used_at if info else None
    found["token_last_used_at"] = last.isoformat() if last else None
    return found


def _token_json(token: NewBotToken) -> Json:
    return {"token": token.token, "prefix": token.prefix, "last4": token.last4}


@routes.route(
    "POST",
    "/bots",
    summary="Add a bot, with its token (shown once)",
    auth="admin",
    body=CreateBot,
    reply=BotCreated,
    status=201,
)
async def create_bot(services: Services, caller: Caller, body: CreateBot) -> tuple[Response, int]:
    """A bot is an agent of kind `bot` and role `agent`: it has no password and never signs in;
    its token opens /ws/agent and the REST API as the bot. Answer first with it by naming it
    in a space's settings (`bot_agent_id`) or a group's `bot_agent_id`."""
    org = caller.agent.organization_id
    bot, token = await services.db.run(lambda c: bot_queries.create_bot(c, org, body.name))
    await services.routing_changed(org)  # the directories learn the bot (bot_for_visitor)
    return jsonify({"bot": await _bot_json(services, bot), "token": token.token}), 201


@routes.route("GET", "/bots", summary="The organization's bots", auth="admin", reply=BotList)
async def list_bots(services: Services, caller: Caller) -> Response:
    org = caller.agent.organization_id
    bots = await services.db.run(lambda c: bot_queries.list_bots(c, org))
    return jsonify({"items": [await _bot_json(services, b) for b in bots]})


@routes.route("GET", "/bots/<uuid:bot_id>", summary="One bot", auth="admin", reply=Bot)
async def get_bot(services: Services, caller: Caller, bot_id: Any) -> Response:
    org = caller.agent.organization_id
    bot = await services.db.run(lambda c: bot_queries.bot_by_id(c, org, str(bot_id)))
    if bot is None:
        raise NotFoundError("no such bot")
    return jsonify(await _bot_json(services, bot))


@routes.route(
    "POST",
    "/bots/<uuid:bot_id>/rotate-token",
    summary="Replace a bot's token (the old one stops working now)",
    auth="admin",
    reply=BotToken,
)
async def rotate_token(services: Services, caller: Caller, bot_id: Any) -> Response:
    """The new token is shown once. The bot's open sockets close (4001) and its REST calls with
    the old token are refused (401) from now on."""
    org, target = caller.agent.organization_id, str(bot_id)
    token = await services.db.run(lambda c: bot_queries.rotate_token(c, org, target))
    if token is None:
        raise NotFoundError("no such bot")
    await services.control.do_end_all_sign_ins(target, keep_session_id=None)
    return jsonify(_token_json(token))


@routes.route(
    "DELETE", "/bots/<uuid:bot_id>", summary="Remove a bot (soft delete)", auth="admin", status=204
)
async def delete_bot(services: Services, caller: Caller, bot_id: Any) -> Response:
    """Its token stops working and its sockets close (4001). Spaces and groups that routed to it
    route to people from now on; the conversations it holds stay with it until a person claims
    them or the router hands them over (it is gone: structures.md, "Bots")."""
    org, target = caller.agent.organization_id, str(bot_id)
    cleared = await services.db.run(lambda c: bot_queries.delete_bot(c, org, target))
    if cleared is None:
        raise NotFoundError("no such bot")
    await services.control.do_revoke_agent(target)
    for space_id in cleared:  # their settings changed: as after PATCH /spaces/{id}
        services.spaces.forget_space(space_id)
        await services.control.do_update_space(space_id)
    if cleared:
        await spaces_changed(services, org)
    await services.routing_changed(org)
    return no_content()
