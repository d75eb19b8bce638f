"""The organization's agents: listed by anyone of it, managed by its admins."""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat.auth.passwords import hash_password
from chat.db import accounts, space_queries
from chat.db.rows import AgentRow
from chat.errors import EmailTakenError, FieldInvalidError, NotFoundError
from chat.http.api.views import agent_reply, agents_json, no_content
from chat.http.auth import Caller
from chat.http.bodies import CreateAgent, UpdateAgent
from chat.http.openapi import Routes
from chat.http.replies import Agent, AgentList
from chat.http.sign_in_copy import agent_changed, agent_deleted, end_sign_ins
from chat.services import Services

routes = Routes(tag="agents", api_keys=True)


@routes.route(
    "POST",
    "/agents",
    summary="Add an agent or admin",
    auth="admin",
    body=CreateAgent,
    reply=Agent,
    status=201,
    errors=(409,),
)
async def create_agent(
    services: Services, caller: Caller, body: CreateAgent
) -> tuple[Response, int]:
    """A taken email is 409 email_taken before any hashing (an admin adding a colleague needs
    to know why; probing through it is bounded by the caller's request budget). New passwords
    are hashed one at a time per organization (chat/auth/passwords.py)."""
    email = str(body.email)
    if await services.db.run(lambda c: accounts.email_in_use(c, email)):
        raise EmailTakenError()
    org = caller.agent.organization_id
    password_hash = await hash_password(body.password, budget=f"org:{org}")
    agent = await services.db.run(
        lambda c: accounts.create_agent(
            c,
            caller.agent.organization_id,
            body.name,
            str(body.email),
            password_hash,
            body.role,
            body.max_concurrent_chats,
        )
    )
    return jsonify(await agent_reply(services, agent)), 201


@routes.route("GET", "/agents", summary="The organization's agents", reply=AgentList)
async def list_agents(services: Services, caller: Caller) -> Response:
    """Open to every agent, not only admins: agents transfer threads to each other and see
    who is online."""
    org = caller.agent.organization_id
    agents = await services.db.run(lambda c: accounts.list_agents(c, org))
    spaces = await services.db.run(lambda c: space_queries.list_spaces(c, org))
    return jsonify({"items": await agents_json(services, agents, spaces, loads=True)})


@routes.route("GET", "/agents/<uuid:agent_id>", summary="One agent", reply=Agent)
async def get_agent(services: Services, caller: Caller, agent_id: Any) -> Response:
    org = caller.agent.organization_id
    agent = await services.db.run(lambda c: accounts.agent_by_id(c, org, str(agent_id)))
    if agent is None:
        raise NotFoundError("no such agent")
    return jsonify(await agent_reply(services, agent))


@routes.route(
    "PATCH",
    "/agents/<uuid:agent_id>",
    summary="Change an agent's name, role, capacity, availability or password",
    auth="admin",
    body=UpdateAgent,
    reply=Agent,
    errors=(409,),
)
async def update_agent(
    services: Services, caller: Caller, agent_id: Any, body: UpdateAgent
) -> Response:
    """Setting a password ends all the agent's sign-ins. The last admin keeps the role. A new
    role closes the agent's sockets (4001; its sign-ins stay), which reconnect with it."""
    org, target = caller.agent.organization_id, str(agent_id)
    changes: dict[str, object] = body.model_dump(exclude={"password"}, exclude_none=True)
    if body.password is not None:
        changes["password_hash"] = await hash_password(body.password, budget=f"org:{org}")

    def update(conn: Any) -> tuple[AgentRow | None, list[str], bool]:
        before = accounts.agent_by_id(conn, org, target)
        if before is not None and before.is_bot and set(changes) - {"name"}:
            # No password, no role above agent, no capacity: a bot is only renamed here
            # (structures.md, "Bots").
            field = sorted(set(changes) - {"name"})[0].removesuffix("_hash")
            raise FieldInvalidError(field, "a bot has only a name")
        updated = accounts.update_agent(conn, org, target, changes)
        ended = []
        if updated is not None and body.password is not None:
            ended = accounts.end_sign_ins(conn, target)
        new_role = before is not None and updated is not None and before.role != updated.role
        return updated, ended, new_role

    updated, ended, new_role = await services.db.run(update)
    if updated is None:
        raise NotFoundError("no such agent")
    await end_sign_ins(services, target, ended)
    if new_role:
        await services.control.do_role_changed(target)
    await agent_changed(services, updated)
    return jsonify(await agent_reply(services, updated))


@routes.route(
    "DELETE",
    "/agents/<uuid:agent_id>",
    summary="Remove an agent (soft delete)",
    auth="admin",
    status=204,
    errors=(409,),
)
async def delete_agent(services: Services, caller: Caller, agent_id: Any) -> Response:
    """The agent can no longer sign in or refresh, and its WebSockets close (4001). Its
    email becomes free for a new account; its messages keep its name."""
    org, target = caller.agent.organization_id, str(agent_id)
    if not await services.db.run(lambda c: accounts.delete_agent(c, org, target)):
        raise NotFoundError("no such agent")
    await services.control.do_revoke_agent(target)
    await agent_deleted(services, target)  # refused during PostgreSQL outages too
    return no_content()
