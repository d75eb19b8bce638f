"""The widget and agent WebSocket endpoints: handshake checks, then the session actors.

Each handshake's database check runs inside the session registry's `open_*_watch`, which
registers the session so that a later revocation closes it (chat/actors/revocation.py). Served
bare, in front of quart-trio (chat/http/bare_ws.py).
"""

from __future__ import annotations

import logging
import uuid

import psycopg
import trio

from chat.actors.agent import run_agent_session
from chat.actors.revocation import AgentWatch, WidgetWatch
from chat.actors.socket import SessionDeps, close_quietly
from chat.actors.visitor import run_visitor_session
from chat.auth.rotation import check_session_token_any
from chat.auth.tokens import issue_session_token
from chat.db.rows import AgentRow, SpaceRow
from chat.errors import (
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHORIZED,
    ChatError,
    NotFoundError,
    UnauthorizedError,
    UnavailableError,
)
from chat.http.auth import check_agent_session
from chat.http.bare_ws import Handler, HandshakeSocket
from chat.http.client_address import client_address
from chat.http.origin import origin_allowed
from chat.http.sign_in_copy import org_spaces
from chat.http.throttle import address_id
from chat.ids import is_stream_id
from chat.protocol.inbound import Auth, parse_agent_frame
from chat.services import Services

logger = logging.getLogger(__name__)
TOO_MANY_SOCKETS = "too many connections from this address; retry later"


def session_deps(services: Services) -> SessionDeps:
    """What the sessions use of the process's services."""
    return SessionDeps(
        settings=services.settings,
        stream_log=services.stream_log,
        router=services.router,
        db=services.db,
        threads=services.threads,
        commands=services.thread_commands(),
        stats=services.session_stats,
        floors=services.floors,
    )


def ws_routes(services: Services) -> dict[str, Handler]:
    """The WebSocket paths and their handlers (served by chat/http/bare_ws.py)."""
    settings = services.settings
    deps = session_deps(services)
    socket_slots = services.socket_slots

    async def widget_socket(ws: HandshakeSocket) -> None:
        key = ws.args.get("key", "")
        try:
            async with services.revocations.open_widget_watch(
                key, lambda: check_widget_key(services, key)
            ) as (space, watch):
                await _serve_widget(ws, space, key, watch)
        except NotFoundError:
            if not ws.accepted:
                await ws.reject(404, "not_found", "unknown widget key")

    async def _serve_widget(
        ws: HandshakeSocket, space: SpaceRow, key: str, watch: WidgetWatch
    ) -> None:
        if not origin_allowed(ws.headers.get("Origin"), space.allowed_domains):
            await ws.reject(403, "origin_not_allowed", "this origin may not use the widget")
            return
        last = ws.args.get("last") or None
        if last is not None and not is_stream_id(last):
            await ws.reject(400, "invalid", "last must be a message id")
            return
        token = ws.args.get("session", "")
        visitor_id, resign = (
            check_session_token_any(settings.verifying_keys, space.id, token)
            if token
            else (None, False)
        )
        if visitor_id is None:
            visitor_id, resign = str(uuid.uuid4()), True
        if resign:
            # A new visitor, or one whose token a previous SECRET_KEY signed (a rotation's
            # grace period): the welcome carries a token under the current key.
            token = issue_session_token(settings.secret_key, space.id, visitor_id)
        address = address_id(client_address(ws, settings.trusted_proxies))
        async with socket_slots.open_slot(address) as admitted:
            if not admitted:  # refused before the upgrade, with the contract's error shape
                await ws.reject(429, "rate_limited", TOO_MANY_SOCKETS)
                return
            # The welcome is the session's first frame, sent before it reads: the upgrade's
            # answer goes out with it.
            await ws.accept(with_first_frame=True)
            await run_visitor_session(
                deps,
                ws,
                space,
                visitor_id,
                token,
                last,
                watch,
                address,
                user_agent=ws.headers.get("User-Agent") or "",
            )

    async def agent_socket(ws: HandshakeSocket) -> None:
        await ws.accept()
        try:
            token = await _receive_token(services, ws, ws.args.get("token"))
            async with services.revocations.open_agent_watch(
                lambda: check_sign_in(services, token)
            ) as (agent, watch):
                await _serve_agent(ws, agent, watch)
        except UnavailableError as err:
            # The sign-in could not be checked (PostgreSQL down and no copy vouches for it):
            # the client retries later, it is not told to sign in again.
            deps.stats.agent.closed(CLOSE_TRY_AGAIN)
            await close_quietly(ws, CLOSE_TRY_AGAIN, err.message)
        except ChatError as err:
            # Only the handshake raises one: a session answers its errors with frames and ends
            # with close codes inside its own nursery.
            deps.stats.agent.closed(CLOSE_UNAUTHORIZED)
            await close_quietly(ws, CLOSE_UNAUTHORIZED, err.message)

    async def _serve_agent(ws: HandshakeSocket, agent: AgentRow, watch: AgentWatch) -> None:
        # Listed after the watch is registered, so a space deleted meanwhile either is not
        # listed or reaches the watch (and the session drops it).
        # From the copy in Valkey while PostgreSQL is down (chat/http/sign_in_copy.py).
        try:
            spaces = await org_spaces(services, agent.organization_id, remember=True)
        except psycopg.OperationalError as exc:
            raise UnavailableError("the spaces cannot be listed now; retry shortly") from exc
        await run_agent_session(deps, ws, agent, spaces, watch)

    routes: dict[str, Handler] = {"/ws/widget": widget_socket, "/ws/agent": agent_socket}
    if settings.bench_echo:
        routes["/ws/echo"] = echo_socket
    return routes


async def echo_socket(ws: HandshakeSocket) -> None:
    """A bare echo through the same stack (only with CHAT_BENCH_ECHO=true): the bench's ceiling
    figure, so every msgs/s it reports can be read as a share of what the stack does with no
    work per frame."""
    await ws.accept()
    while True:
        await ws.send(str(await ws.receive()))


async def check_widget_key(services: Services, key: str) -> SpaceRow:
    """The live space this widget key names; NotFoundError otherwise. From this process's cache
    when the key was seen before (chat/actors/space_cache.py): a PostgreSQL outage does not stop
    new visitors of a known space."""
    space = await services.spaces.space_by_widget_key(key)
    if space is None:
        raise NotFoundError("unknown widget key")
    return space


async def check_sign_in(services: Services, token: str) -> tuple[AgentRow, str]:
    """The live agent and the id of the live sign-in the token belongs to; UnauthorizedError
    otherwise, or UnavailableError when PostgreSQL is down and the copy cannot vouch for it."""
    caller = await check_agent_session(services, token, remember=True, bots=True)
    return caller.agent, caller.session_id


async def _receive_token(services: Services, socket: HandshakeSocket, token: str | None) -> str:
    """The token from the query, or from a first `auth` frame within the allowed time."""
    if not token:
        with trio.move_on_after(services.settings.agent_auth_timeout_seconds):
            frame = parse_agent_frame(await socket.receive())
            if isinstance(frame, Auth):
                token = frame.token
        if not token:
            raise UnauthorizedError("authenticate within 5 s")
    return token
