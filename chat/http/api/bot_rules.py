"""The built-in rules bot's rules (README "Built-in bot", structures.md "Built-in bot"): read and
replaced by the organization's admins, whole. A bot with rules is answered by the service's own
rules bot (chat/actors/rules_bot.py), which reloads them within a few seconds.

Another organization's bot, a person, or a deleted bot: 404 not_found.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from quart import Response, jsonify

from chat.db import rules_bot_queries, space_queries
from chat.errors import NotFoundError
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.rulesbot.rules import BotRules, rules_of
from chat.services import Services
from chat.streams import groups
from chat.streams.keys import RULES_BOT_GROUP

routes = Routes(tag="bots", api_keys=True)


class BotRulesReply(BaseModel):
    model_config = ConfigDict(frozen=True)

    bot_id: UUID
    name: str = Field(description="The bot's display name, what visitors see")
    rules: BotRules | None = Field(
        description="The built-in rules bot's rules; null: an external bot (it has none)"
    )


class BotRulesList(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[BotRulesReply] = Field(description="The organization's bots, oldest first")


def _reply(row: rules_bot_queries.RulesBotRow) -> dict[str, Any]:
    rules = rules_of(row.rules).model_dump(mode="json") if row.rules is not None else None
    return {"bot_id": row.id, "name": row.name, "rules": rules}


@routes.route(
    "GET",
    "/bots/rules",
    summary="Every bot of the organization with its built-in rules (null: an external bot)",
    auth="admin",
    reply=BotRulesList,
)
async def list_rules(services: Services, caller: Caller) -> Response:
    org = caller.agent.organization_id
    rows = await services.db.run(lambda c: rules_bot_queries.organization_bots(c, org))
    return jsonify({"items": [_reply(row) for row in rows]})


@routes.route(
    "GET",
    "/bots/<uuid:bot_id>/rules",
    summary="A bot's built-in rules",
    auth="admin",
    reply=BotRulesReply,
)
async def get_rules(services: Services, caller: Caller, bot_id: Any) -> Response:
    org = caller.agent.organization_id
    row = await services.db.run(lambda c: rules_bot_queries.bot_rules(c, org, str(bot_id)))
    if row is None:
        raise NotFoundError("no such bot")
    return jsonify(_reply(row))


@routes.route(
    "PUT",
    "/bots/<uuid:bot_id>/rules",
    summary="Replace a bot's built-in rules (it becomes the built-in rules bot)",
    auth="admin",
    body=BotRules,
    reply=BotRulesReply,
)
async def put_rules(services: Services, caller: Caller, bot_id: Any, body: BotRules) -> Response:
    """The whole rule set; a field left out takes its default. 422 invalid names the fields
    that break a bound (8 buttons of 40 characters, 100 knowledge entries, ...)."""
    org = caller.agent.organization_id
    rules = body.model_dump(mode="json")

    def save(conn: Any) -> rules_bot_queries.RulesBotRow | None:
        if not rules_bot_queries.set_bot_rules(conn, org, str(bot_id), rules):
            return None
        return rules_bot_queries.bot_rules(conn, org, str(bot_id))

    row = await services.db.run(save)
    if row is None:
        raise NotFoundError("no such bot")
    # The rules bot reads the spaces' streams from here on (an existing group stays where it
    # is): what visitors write from now is answered, the history before is not replayed.
    for space in await services.db.run(lambda c: space_queries.list_spaces(c, org)):
        await groups.ensure_group(services.stream_log, space.id, RULES_BOT_GROUP, "$")
    return jsonify(_reply(row))
