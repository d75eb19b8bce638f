"""Who is calling with a bot token (structures.md, "Bots"): the token checked against the bot's
stored hash. The bot then acts as itself, an agent of role `agent` and kind `bot`, on the agent
WebSocket and the REST API alike, except the account routes (sign-in, password, two-factor, API
keys: chat/http/auth.py refuses them)."""

from __future__ import annotations

from chat.auth.bot_tokens import bot_token_agent_id, bot_token_matches
from chat.db import bot_queries
from chat.db.pool import Database
from chat.db.rows import AgentRow
from chat.errors import UnauthorizedError

INVALID_MESSAGE = "invalid or rotated bot token, or the bot was deleted"


def bot_session_id(bot_id: str) -> str:
    """The sign-in a bot's sockets are filed under (chat/actors/revocation.py): one per bot, so
    a rotation or a delete ends every socket of it (`do_end_all_sign_ins`, `do_revoke_agent`)."""
    return "bot:" + bot_id


async def check_bot_token(db: Database, token: str) -> AgentRow:
    """The live bot a token belongs to; UnauthorizedError for a malformed or unknown token, a
    rotated one, or a deleted bot. Not throttled per address as API keys are: a token is 256
    random bits, and each try costs one primary-key read.

    Needs PostgreSQL (bots have no copy in Valkey): during an outage this raises the
    database's error, which callers answer as `unavailable`."""
    bot_id = bot_token_agent_id(token)
    found = None
    if bot_id is not None:
        found = await db.run(lambda c: bot_queries.bot_with_token(c, bot_id))
    if found is None or not bot_token_matches(token, found[1]):
        raise UnauthorizedError(INVALID_MESSAGE)
    agent = found[0]
    await db.run(lambda c: bot_queries.note_token_used(c, agent.id))
    return agent
