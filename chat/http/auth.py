"""Who is calling: the bearer access token, checked against a live agent and a live sign-in."""

from __future__ import annotations

from dataclasses import dataclass

from quart import request

from chat.auth.tokens import check_access_token
from chat.db import accounts
from chat.db.rows import AgentRow
from chat.errors import ForbiddenError, UnauthorizedError
from chat.services import Services


@dataclass(frozen=True, slots=True)
class Caller:
    agent: AgentRow
    session_id: str  # the sign-in (refresh-token family) the access token belongs to


async def check_agent_session(services: Services, token: str) -> Caller:
    """The live agent and sign-in a token belongs to; UnauthorizedError otherwise (deleted
    agents, and sign-ins ended by logout, reuse detection or a password change, too)."""
    claims = check_access_token(services.settings.secret_key, token)
    agent = await services.db.run(
        lambda c: accounts.agent_in_session(
            c, claims.organization_id, claims.agent_id, claims.session_id
        )
    )
    if agent is None:
        raise UnauthorizedError("the agent no longer exists or this sign-in has ended")
    return Caller(agent, claims.session_id)


async def check_caller(services: Services, *, admin: bool = False) -> Caller:
    """The request's bearer token checked; ForbiddenError when `admin` and the agent is not."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("missing bearer token")
    caller = await check_agent_session(services, token.strip())
    if admin and caller.agent.role != "admin":
        raise ForbiddenError("admins only")
    return caller
