"""Sign-in: register, login, refresh (rotating), logout, and the caller's own account."""

from __future__ import annotations

import uuid
from typing import Any

from quart import Response, jsonify, request

from chat.auth.passwords import hash_password, verify_password
from chat.auth.tokens import AccessClaims, issue_access_token, new_refresh_token
from chat.auth.tokens import refresh_token_hash as hash_of
from chat.db import accounts
from chat.db.rows import AgentRow
from chat.errors import (
    EmailTakenError,
    InvalidCredentialsError,
    RegistrationFailedError,
    UnauthorizedError,
    UnavailableError,
    WrongPasswordError,
)
from chat.http import throttle
from chat.http.api.views import agent_reply, no_content, organization_json
from chat.http.auth import Caller
from chat.http.bodies import Login, Logout, Refresh, Register, UpdateMe
from chat.http.client_address import client_address
from chat.http.openapi import Routes
from chat.http.replies import Agent, Registered, SignedIn, Tokens
from chat.http.sign_in_copy import agent_changed, end_sign_ins, remember_agent
from chat.json_types import Json
from chat.protocol.outbound import agent_json
from chat.services import Services

# API keys are refused on every sign-in route (403): they are for the REST API's resources, and a
# key that could end sign-ins, change a password or (with 2FA) a second factor would be a way to
# take over the account. GET /auth/me is the exception: it tells a key whom it acts as.
routes = Routes(tag="auth", api_keys=False)


async def _sign_in(services: Services, agent: AgentRow, session_id: str | None = None) -> Json:
    """A new access token and refresh token; a new sign-in unless `session_id` continues one."""
    settings = services.settings
    session_id = session_id or str(uuid.uuid4())
    access = issue_access_token(
        settings.secret_key,
        AccessClaims(agent.id, agent.organization_id, agent.role, session_id),
        settings.access_token_ttl_seconds,
    )
    refresh, refresh_hash = new_refresh_token()

    def store(conn: Any) -> AgentRow | None:
        accounts.store_refresh_token(
            conn, agent.id, refresh_hash, settings.refresh_token_ttl_seconds, session_id
        )
        return accounts.live_agent(conn, agent.id)

    # Noted in the copy in Valkey, so this sign-in works while PostgreSQL is down.
    await remember_agent(services, agent.id, session_id, lambda: services.db.run(store))
    return {"access_token": access, "refresh_token": refresh}


@routes.route(
    "POST",
    "/auth/register",
    summary="Create an organization and its first admin",
    auth="public",
    body=Register,
    reply=Registered,
    status=201,
    errors=(409,),
)
async def register(services: Services, body: Register) -> tuple[Response, int]:
    """A taken email is 409 `registration_failed`, which does not say why (structures.md,
    "Auth": without email verification the refusal itself still tells, so registrations are
    budgeted per address an hour). The email is checked before hashing; the unique index
    decides a race the same way."""
    address = client_address(request, services.settings.trusted_proxies)
    await throttle.check_registration(services, address)
    email = str(body.email)
    if await services.db.run(lambda c: accounts.email_in_use(c, email)):
        raise RegistrationFailedError()
    password_hash = await hash_password(
        body.password, budget=f"addr:{throttle.address_id(address)}"
    )
    try:
        org, agent = await services.db.run(
            lambda c: accounts.create_organization_with_admin(
                c, body.organization_name, body.name, email, password_hash
            )
        )
    except EmailTakenError as exc:
        raise RegistrationFailedError() from exc
    reply = {**await _sign_in(services, agent), "agent": agent_json(agent, False)}
    return jsonify({**reply, "organization": organization_json(org)}), 201


@routes.route(
    "POST",
    "/auth/login",
    summary="Sign in with email and password",
    auth="public",
    body=Login,
    reply=SignedIn,
    errors=(401,),
)
async def login(services: Services, body: Login) -> Response:
    """Unknown emails and wrong passwords get the same answer, in the same time."""
    await throttle.check_login_attempt(
        services, body.email, client_address(request, services.settings.trusted_proxies)
    )
    agent = await services.db.run(lambda c: accounts.agent_by_email(c, body.email))
    if not await verify_password(agent.password_hash if agent else None, body.password):
        raise InvalidCredentialsError()
    assert agent is not None
    return jsonify({**await _sign_in(services, agent), "agent": await agent_reply(services, agent)})


@routes.route(
    "POST",
    "/auth/refresh",
    summary="Trade a refresh token for new tokens (rotation)",
    auth="public",
    body=Refresh,
    reply=Tokens,
    errors=(401,),
)
async def refresh(services: Services, body: Refresh) -> Response:
    """Each refresh token works once. Presenting a used one again revokes its whole sign-in:
    someone else has a copy."""
    db = services.db
    used = await db.run(lambda c: accounts.use_refresh_token(c, hash_of(body.refresh_token)))
    if used is not None and used.reused:
        await end_sign_ins(services, used.agent_id, [used.session_id])
    if used is None or not used.valid:
        raise UnauthorizedError("invalid refresh token")
    agent = await db.run(lambda c: accounts.live_agent(c, used.agent_id))
    if agent is None:
        raise UnauthorizedError("invalid refresh token")
    return jsonify(await _sign_in(services, agent, used.session_id))


@routes.route("POST", "/auth/logout", summary="End this sign-in", body=Logout, status=204)
async def logout(services: Services, caller: Caller, body: Logout) -> Response:
    """Ends the caller's sign-in and the one the refresh token belongs to (normally the
    same): their tokens stop working and their WebSockets close (4001)."""
    agent_id = caller.agent.id

    def end(conn: Any) -> list[str]:
        ended = {caller.session_id}
        other = accounts.session_of_refresh_token(conn, agent_id, hash_of(body.refresh_token))
        if other is not None:
            ended.add(other)
        for session_id in ended:
            accounts.end_sign_in(conn, agent_id, session_id)
        return sorted(ended)

    await end_sign_ins(services, agent_id, await services.db.run(end))
    return no_content()


@routes.route("GET", "/auth/me", summary="The calling agent", reply=Agent, api_keys=True)
async def get_me(services: Services, caller: Caller) -> Response:
    return jsonify(await agent_reply(services, caller.agent))


@routes.route(
    "PATCH",
    "/auth/me",
    summary="Change the caller's name, availability or password",
    body=UpdateMe,
    reply=Agent,
    errors=(403,),
)
async def update_me(services: Services, caller: Caller, body: UpdateMe) -> Response:
    """A new password needs `current_password` and ends every other sign-in of the agent."""
    agent = caller.agent
    if body.password is not None and caller.from_copy:
        raise UnavailableError("a password change needs the database; retry shortly")
    changes: dict[str, object] = body.model_dump(
        include={"name", "accepting_chats"}, exclude_none=True
    )
    if body.password is not None:
        await throttle.check_login_attempt(
            services, agent.email, client_address(request, services.settings.trusted_proxies)
        )
        if not await verify_password(agent.password_hash, body.current_password or ""):
            raise WrongPasswordError()
        budget = f"org:{agent.organization_id}"
        changes["password_hash"] = await hash_password(body.password, budget=budget)

    def update(conn: Any) -> tuple[AgentRow | None, list[str]]:
        updated = accounts.update_agent(conn, agent.organization_id, agent.id, changes)
        ended = []
        if body.password is not None:
            ended = accounts.end_sign_ins(conn, agent.id, keep_session=caller.session_id)
        return updated, ended

    updated, ended = await services.db.run(update)
    if updated is None:
        raise UnauthorizedError("the agent no longer exists")
    await end_sign_ins(services, agent.id, ended)
    await agent_changed(services, updated)
    return jsonify(await agent_reply(services, updated))
