"""Who is calling: the bearer access token, checked against a live agent and a live sign-in,
or an API key (chat/http/api_key_auth.py), checked against its hash and its scopes."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from quart import request

from chat.auth.api_keys import Scope, looks_like_api_key
from chat.auth.bot_tokens import looks_like_bot_token
from chat.auth.roles import Role, role_at_least
from chat.auth.rotation import check_access_token_any
from chat.db import accounts
from chat.db.breaker import is_unavailable
from chat.db.rows import AgentRow
from chat.errors import ForbiddenError, UnauthorizedError, UnavailableError
from chat.http.api_key_auth import check_api_key
from chat.http.bot_auth import bot_session_id, check_bot_token
from chat.http.sign_in_copy import agent_from_copy, remember_agent
from chat.services import Services


@dataclass(frozen=True, slots=True)
class Caller:
    agent: AgentRow
    session_id: str  # the sign-in (refresh-token family) the access token belongs to
    # Checked against the copy in Valkey because PostgreSQL was down (chat/http/sign_in_copy.py):
    # the row carries no password hash.
    from_copy: bool = False
    # Set when the caller is an API key acting as `agent` (its admin); `session_id` is then the
    # key's id, which no sign-in has, so ending "the caller's sign-in" ends nothing.
    api_key_id: str | None = None


async def check_agent_session(
    services: Services, token: str, *, remember: bool = False, bots: bool = False
) -> Caller:
    """The live agent and sign-in a token belongs to; UnauthorizedError otherwise (deleted
    agents, and sign-ins ended by logout, reuse detection or a password change, too).

    PostgreSQL decides whenever it answers; `remember` then notes its answer in the copy (an
    agent handshake does). Only while PostgreSQL cannot answer, the copy decides: what it cannot
    vouch for is UnavailableError.

    With `bots`, a bot token (structures.md, "Bots") is checked against its hash instead; its
    sign-in is `bot:<bot id>`. PostgreSQL must answer for it (no copy): UnavailableError
    otherwise. Without, a bot token is no access token (UnauthorizedError)."""
    if bots and looks_like_bot_token(token):
        try:
            bot = await check_bot_token(services.db, token)
        except psycopg.OperationalError as exc:
            if not is_unavailable(exc):
                raise
            raise UnavailableError("bot tokens cannot be checked now; retry shortly") from exc
        return Caller(bot, bot_session_id(bot.id))
    claims = check_access_token_any(services.settings.verifying_keys, token)

    async def read() -> AgentRow | None:
        return await services.db.run(
            lambda c: accounts.agent_in_session(
                c, claims.organization_id, claims.agent_id, claims.session_id
            )
        )

    try:
        if remember:
            agent = await remember_agent(services, claims.agent_id, claims.session_id, read)
        else:
            agent = await read()
    except psycopg.OperationalError as exc:
        if not is_unavailable(exc):
            raise
        return Caller(await agent_from_copy(services, claims), claims.session_id, from_copy=True)
    if agent is None:
        raise UnauthorizedError("the agent no longer exists or this sign-in has ended")
    return Caller(agent, claims.session_id)


async def check_caller(
    services: Services,
    *,
    role: Role = "agent",
    key_scope: Scope | None = None,
    bots: bool = True,
) -> Caller:
    """The request's bearer token checked; ForbiddenError when the agent's role is below `role`
    (chat/auth/roles.py). An API key is accepted only with `key_scope` among its scopes (None:
    keys are refused); it acts as its admin. A bot token acts as its bot (a role `agent`);
    ForbiddenError where `bots` is False (the account routes: a bot has no password, no second
    factor and no keys)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("missing bearer token")
    if looks_like_api_key(token.strip()):
        agent, key_id = await check_api_key(services, token.strip(), key_scope)
        caller = Caller(agent, session_id=key_id, api_key_id=key_id)
    else:
        caller = await check_agent_session(services, token.strip(), bots=True)
    if caller.agent.is_bot and not bots:
        raise ForbiddenError("bots cannot use the account routes")
    if not role_at_least(caller.agent.role, role):
        raise ForbiddenError("admins only" if role == "admin" else f"{role}s and admins only")
    return caller
