"""The REST routes the realtime core needs: accounts, spaces, threads, messages, widget config."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from quart import Blueprint, Response, jsonify, request

from chat import history
from chat.actors.agent import agent_json
from chat.auth.passwords import hash_password, verify_password
from chat.auth.tokens import (
    AccessClaims,
    issue_access_token,
    new_refresh_token,
    refresh_token_hash,
)
from chat.context import Services
from chat.db import accounts
from chat.db import history as db_history
from chat.db import spaces as space_queries
from chat.db.rows import AgentRow, SpaceRow
from chat.errors import (
    InvalidCredentialsError,
    InvalidError,
    NotFoundError,
    OriginNotAllowedError,
    UnauthorizedError,
)
from chat.http.auth import check_caller
from chat.http.bodies import CreateSpace, Login, Refresh, Register, read_body
from chat.http.origin import origin_allowed
from chat.ids import is_stream_id
from chat.streams import groups
from chat.wire import thread_json, visitor_json

Json = dict[str, Any]
THREAD_STATUSES = ("unassigned", "active", "closed", "expired")


def space_json(space: SpaceRow) -> Json:
    return {
        "id": space.id,
        "organization_id": space.organization_id,
        "name": space.name,
        "widget_key": space.widget_key,
        "allowed_domains": space.allowed_domains,
        "settings": space.settings,
        "created_at": space.created_at.isoformat(),
    }


def _limit(default: int = 50, most: int = 200) -> int:
    raw = request.args.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise InvalidError(f"limit must be 1..{most}")
    return int(raw)


def rest_blueprint(services: Services) -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    db, settings = services.db, services.settings

    async def tokens_for(agent: AgentRow, family_id: str | None = None) -> Json:
        access = issue_access_token(
            settings.secret_key,
            AccessClaims(agent.id, agent.organization_id, agent.role),
            settings.access_token_ttl_seconds,
        )
        refresh, refresh_hash = new_refresh_token()
        await db.run(
            lambda c: accounts.store_refresh_token(
                c, agent.id, refresh_hash, settings.refresh_token_ttl_seconds, family_id
            )
        )
        return {"access_token": access, "refresh_token": refresh}

    @api.post("/auth/register")
    async def register() -> tuple[Response, int]:
        body = await read_body(Register)
        password_hash = await hash_password(body.password)
        org, agent = await db.run(
            lambda c: accounts.create_organization_with_admin(
                c, body.organization_name, body.name, str(body.email), password_hash
            )
        )
        tokens = await tokens_for(agent)
        organization = {"id": org.id, "name": org.name, "created_at": org.created_at.isoformat()}
        return jsonify(
            {**tokens, "agent": agent_json(agent, False), "organization": organization}
        ), 201

    @api.post("/auth/login")
    async def login() -> Response:
        body = await read_body(Login)
        agent = await db.run(lambda c: accounts.agent_by_email(c, body.email))
        if not await verify_password(agent.password_hash if agent else None, body.password):
            raise InvalidCredentialsError()
        assert agent is not None
        return jsonify({**await tokens_for(agent), "agent": agent_json(agent, False)})

    @api.post("/auth/refresh")
    async def refresh() -> Response:
        body = await read_body(Refresh)
        used = await db.run(
            lambda c: accounts.use_refresh_token(c, refresh_token_hash(body.refresh_token))
        )
        if used is None:
            raise UnauthorizedError("invalid refresh token")
        agent_id, family_id = used
        agent = await db.run(lambda c: _agent_anywhere(c, agent_id))
        if agent is None:
            raise UnauthorizedError("invalid refresh token")
        return jsonify(await tokens_for(agent, family_id))

    @api.get("/auth/me")
    async def me() -> Response:
        return jsonify(agent_json(await check_caller(services)))

    @api.get("/spaces")
    async def list_spaces() -> Response:
        agent = await check_caller(services)
        rows = await db.run(lambda c: space_queries.list_spaces(c, agent.organization_id))
        return jsonify({"items": [space_json(s) for s in rows]})

    @api.post("/spaces")
    async def create_space() -> tuple[Response, int]:
        agent = await check_caller(services, admin=True)
        body = await read_body(CreateSpace)
        space = await db.run(
            lambda c: space_queries.create_space(
                c,
                agent.organization_id,
                body.name,
                body.allowed_domains,
                body.settings.model_dump(),
            )
        )
        await groups.ensure_group(services.log, space.id)
        return jsonify(space_json(space)), 201

    async def own_space(agent: AgentRow, space_id: str) -> SpaceRow:
        space = await db.run(
            lambda c: space_queries.space_by_id(c, agent.organization_id, space_id)
        )
        if space is None:
            raise NotFoundError("no such space")
        return space

    @api.get("/spaces/<uuid:space_id>")
    async def get_space(space_id: Any) -> Response:
        agent = await check_caller(services)
        return jsonify(space_json(await own_space(agent, str(space_id))))

    @api.get("/spaces/<uuid:space_id>/threads")
    async def list_threads(space_id: Any) -> Response:
        agent = await check_caller(services)
        space = await own_space(agent, str(space_id))
        statuses = request.args.get("status", "unassigned,active").split(",")
        if not statuses or any(s not in THREAD_STATUSES for s in statuses):
            raise InvalidError(f"status must be among {', '.join(THREAD_STATUSES)}")
        limit = _limit()
        cursor = _thread_cursor(request.args.get("cursor"))
        rows = await db.run(
            lambda c: db_history.list_threads(c, space.id, statuses, limit + 1, cursor)
        )
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = f"{rows[-1]['last_activity_at']}|{rows[-1]['id']}"
        return jsonify({"items": rows, "next_cursor": next_cursor})

    async def own_thread(agent: AgentRow, thread_id: str) -> Json:
        """The thread from PostgreSQL, or, not projected yet, from the log's state."""
        thread = await db.run(
            lambda c: db_history.thread_with_visitor(c, agent.organization_id, thread_id)
        )
        if thread is not None:
            return thread
        spaces = await db.run(lambda c: space_queries.list_spaces(c, agent.organization_id))
        space_id = await services.log.space_holding_thread((s.id for s in spaces), thread_id)
        snapshot = await services.log.thread_state(space_id, thread_id) if space_id else None
        if space_id is None or snapshot is None:
            raise NotFoundError("no such thread")
        found = thread_json(snapshot)
        visitor = await services.log.visitor(space_id, snapshot.visitor_id)
        found["visitor"] = visitor_json(space_id, snapshot.visitor_id, visitor)
        return found

    @api.get("/threads/<uuid:thread_id>")
    async def get_thread(thread_id: Any) -> Response:
        agent = await check_caller(services)
        return jsonify(await own_thread(agent, str(thread_id)))

    @api.get("/threads/<uuid:thread_id>/messages")
    async def list_messages(thread_id: Any) -> Response:
        agent = await check_caller(services)
        thread = await own_thread(agent, str(thread_id))
        before = request.args.get("before")
        if before is not None and not is_stream_id(before):
            raise InvalidError("before must be a message id")
        limit = _limit()
        items = await history.messages_before(
            services.log, db, thread["space_id"], thread["id"], before, limit + 1
        )
        next_before = None
        if len(items) > limit:
            items = items[1:]
            next_before = items[0]["id"]
        return jsonify({"items": items, "next_before": next_before})

    @api.post("/threads/<uuid:thread_id>/<any(claim, close, transfer):action>")
    async def change_thread(thread_id: Any, action: str) -> Response:
        agent = await check_caller(services)
        thread = await own_thread(agent, str(thread_id))
        target = ""
        if action == "transfer":
            data = await request.get_json(force=True, silent=True) or {}
            wanted = str(data.get("agent_id", "")) if isinstance(data, dict) else ""
            found = await db.run(lambda c: _agent_in_org(c, agent.organization_id, wanted))
            if found is None:
                raise NotFoundError("no such agent")
            target = found.id
        snapshot = await services.log.do_change_thread(
            thread["space_id"],
            thread["id"],
            action,  # type: ignore[arg-type]
            agent_id=agent.id,
            target_agent_id=target,
        )
        assert snapshot is not None
        return jsonify(thread_json(snapshot))

    @api.get("/widget/<widget_key>/config")
    async def widget_config(widget_key: str) -> Response:
        space = await db.run(lambda c: space_queries.space_by_widget_key(c, widget_key))
        if space is None:
            raise NotFoundError("unknown widget key")
        if not origin_allowed(request.headers.get("Origin"), space.allowed_domains):
            raise OriginNotAllowedError()
        online = await services.log.online_agents(
            space.id, settings.presence_ttl_seconds * 1000, int(time.time() * 1000)
        )
        return jsonify(
            {
                "space": {"name": space.name, "settings": space.settings},
                "agents_online": bool(online),
            }
        )

    return api


def _agent_anywhere(conn: Any, agent_id: str) -> AgentRow | None:
    row = conn.execute(
        "SELECT organization_id::text FROM agents WHERE id = %s AND deleted_at IS NULL",
        (agent_id,),
    ).fetchone()
    return accounts.agent_by_id(conn, row[0], agent_id) if row else None


def _agent_in_org(conn: Any, organization_id: str, agent_id: str) -> AgentRow | None:
    try:
        uuid.UUID(agent_id)
    except ValueError:
        return None  # a malformed id is simply nobody
    return accounts.agent_by_id(conn, organization_id, agent_id)


def _thread_cursor(raw: str | None) -> tuple[datetime, str] | None:
    if raw is None:
        return None
    stamp, _, thread_id = raw.partition("|")
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")), thread_id
    except ValueError as exc:
        raise InvalidError("invalid cursor") from exc
