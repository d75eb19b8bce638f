"""Who is calling: the bearer access token, checked against a live agent."""

from __future__ import annotations

from quart import request

from chat.auth.tokens import check_access_token
from chat.context import Services
from chat.db import accounts
from chat.db.rows import AgentRow
from chat.errors import ForbiddenError, UnauthorizedError


async def check_agent_token(services: Services, token: str) -> AgentRow:
    """The live agent a token belongs to; UnauthorizedError otherwise (deleted agents too)."""
    claims = check_access_token(services.settings.secret_key, token)
    agent = await services.db.run(
        lambda c: accounts.agent_by_id(c, claims.organization_id, claims.agent_id)
    )
    if agent is None:
        raise UnauthorizedError("the agent no longer exists")
    return agent


async def check_caller(services: Services, *, admin: bool = False) -> AgentRow:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("missing bearer token")
    agent = await check_agent_token(services, token.strip())
    if admin and agent.role != "admin":
        raise ForbiddenError("admins only")
    return agent
