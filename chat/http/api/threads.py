"""A thread, its history, and what agents do to it (claim, close, transfer, reopen): the REST
face of chat/commands/threads.py, which the agent socket shares."""

from __future__ import annotations

from typing import Any

import psycopg
from quart import Response, jsonify

from chat import thread_history
from chat.commands.threads import Actor, ThreadCommands
from chat.db import thread_queries
from chat.db.breaker import is_unavailable
from chat.errors import NotFoundError
from chat.http.auth import Caller
from chat.http.bodies import MessageListQuery, TransferThread
from chat.http.openapi import Routes
from chat.http.replies import MessagePage, Thread, ThreadWithVisitor
from chat.http.sign_in_copy import org_spaces
from chat.json_types import Json
from chat.protocol.outbound import thread_json, visitor_json
from chat.services import Services

routes = Routes(tag="threads", api_keys=True)


def _commands(services: Services) -> ThreadCommands:
    return services.thread_commands()


async def space_of_thread(services: Services, caller: Caller, thread_id: Any) -> str:
    """The caller's organization's space holding the thread; NotFoundError otherwise. The
    organization's spaces come from the copy in Valkey while PostgreSQL is down."""
    org = caller.agent.organization_id
    spaces = [s.id for s in await org_spaces(services, org)]
    return await _commands(services).space_of(org, str(thread_id), spaces)


@routes.route(
    "GET",
    "/threads/<uuid:thread_id>",
    summary="A thread with its visitor",
    reply=ThreadWithVisitor,
)
async def get_thread(services: Services, caller: Caller, thread_id: Any) -> Response:
    return jsonify(await thread_with_visitor(services, caller, str(thread_id)))


async def thread_with_visitor(services: Services, caller: Caller, thread_id: str) -> Json:
    """The projected row when there is one (with the visitor as projected); a thread not
    projected yet from the log's state, so it is visible at once."""
    org = caller.agent.organization_id
    down: psycopg.OperationalError | None = None
    try:
        row = await services.db.run(lambda c: thread_queries.thread_with_visitor(c, org, thread_id))
    except psycopg.OperationalError as exc:
        if not is_unavailable(exc):
            raise
        row, down = None, exc  # PostgreSQL is down: the log may still know the thread
    if row is not None:
        return row
    space_id = await space_of_thread(services, caller, thread_id)
    stream_log = services.stream_log
    snapshot = await stream_log.thread_state(space_id, thread_id)
    if snapshot is None:
        if down is not None:
            raise down  # only PostgreSQL could say
        raise NotFoundError("no such thread")
    found = thread_json(snapshot)
    visitor = await stream_log.visitor(space_id, snapshot.visitor_id)
    found["visitor"] = visitor_json(space_id, snapshot.visitor_id, visitor)
    return found


@routes.route(
    "GET",
    "/threads/<uuid:thread_id>/messages",
    summary="A page of a thread's messages, oldest first",
    query=MessageListQuery,
    reply=MessagePage,
)
async def list_messages(
    services: Services, caller: Caller, thread_id: Any, query: MessageListQuery
) -> Response:
    """PostgreSQL's rows joined with the log's tail not yet projected: a message acked a
    moment ago is here, never twice. Without `before`, the newest page."""
    space_id = await space_of_thread(services, caller, thread_id)
    wanted = query.limit + 1  # one more than asked: is there an older page?
    try:
        items = await thread_history.messages_before(
            services.stream_log, services.db, space_id, str(thread_id), query.before, wanted
        )
        older = len(items) > query.limit
    except psycopg.OperationalError as exc:
        if not is_unavailable(exc):
            raise
        # PostgreSQL is down: the thread's stream holds every message not projected yet, and
        # the newest ones; older ones, if the stream was trimmed, wait for PostgreSQL.
        items, older = await thread_history.log_messages_before(
            services.stream_log, space_id, str(thread_id), query.before, wanted
        )
        if older and not items:
            raise
    next_before = None
    if len(items) > query.limit:
        items = items[1:]
    if older:
        next_before = items[0]["id"]
    return jsonify({"items": items, "next_before": next_before})


@routes.route(
    "POST",
    "/threads/<uuid:thread_id>/claim",
    summary="Take an unassigned thread",
    reply=Thread,
    errors=(409,),
)
async def claim_thread(services: Services, caller: Caller, thread_id: Any) -> Response:
    """Of concurrent claims exactly one wins; the others get 409 already_claimed."""
    space_id = await space_of_thread(services, caller, thread_id)
    thread = await _commands(services).do_claim(
        space_id, str(thread_id), actor=Actor.of(caller.agent)
    )
    return jsonify(thread_json(thread))


@routes.route(
    "POST",
    "/threads/<uuid:thread_id>/close",
    summary="Close a thread",
    reply=Thread,
    errors=(403, 409),
)
async def close_thread(services: Services, caller: Caller, thread_id: Any) -> Response:
    """A waiting thread by any agent; an assigned one by its holder or an admin (403
    forbidden)."""
    space_id = await space_of_thread(services, caller, thread_id)
    thread = await _commands(services).do_close(
        space_id, str(thread_id), actor=Actor.of(caller.agent)
    )
    return jsonify(thread_json(thread))


@routes.route(
    "POST",
    "/threads/<uuid:thread_id>/transfer",
    summary="Hand a thread to another agent of the organization",
    body=TransferThread,
    reply=Thread,
    errors=(403, 409),
)
async def transfer_thread(
    services: Services, caller: Caller, thread_id: Any, body: TransferThread
) -> Response:
    """The holder or an admin transfers an assigned thread, only an admin a waiting one (403
    forbidden). An unknown or deleted agent, or another organization's, is 404 not_found; a
    target not accepting chats is 409 agent_unavailable, one at its max_concurrent_chats 409
    agent_at_capacity, unless an admin sends `force: true`."""
    space_id = await space_of_thread(services, caller, thread_id)
    thread = await _commands(services).do_transfer(
        space_id,
        str(thread_id),
        actor=Actor.of(caller.agent),
        target_agent_id=str(body.agent_id),
        force=body.force,
    )
    return jsonify(thread_json(thread))


@routes.route(
    "POST",
    "/threads/<uuid:thread_id>/reopen",
    summary="Reopen a closed or expired thread; the caller holds it",
    reply=Thread,
    errors=(409,),
)
async def reopen_thread(services: Services, caller: Caller, thread_id: Any) -> Response:
    """Any agent of the organization, like a claim; an open thread is answered as it is. 409
    visitor_busy when the visitor has opened another conversation since; 404 not_found once
    the log has forgotten the thread (7 days after it closed)."""
    space_id = await space_of_thread(services, caller, thread_id)
    thread = await _commands(services).do_reopen(
        space_id, str(thread_id), actor=Actor.of(caller.agent)
    )
    return jsonify(thread_json(thread))
