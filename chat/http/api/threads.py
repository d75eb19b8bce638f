"""A thread, its history, and what agents do to it (claim, close, transfer)."""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat import thread_history
from chat.db import accounts, space_queries, thread_queries
from chat.errors import NotFoundError
from chat.http.auth import Caller
from chat.http.bodies import MessageListQuery, TransferThread
from chat.http.openapi import Api
from chat.http.replies import MessagePage, Thread, ThreadWithVisitor
from chat.json_types import Json
from chat.services import Services
from chat.streams.log import ThreadAction
from chat.wire import thread_json, visitor_json

TAG = "threads"


def add_routes(api: Api, services: Services) -> None:
    db, stream_log = services.db, services.stream_log

    async def own_thread(caller: Caller, thread_id: Any) -> Json:
        """The thread from PostgreSQL, or, not projected yet, from the log's state."""
        org, wanted = caller.agent.organization_id, str(thread_id)
        thread = await db.run(lambda c: thread_queries.thread_with_visitor(c, org, wanted))
        if thread is not None:
            return thread
        spaces = await db.run(lambda c: space_queries.list_spaces(c, org))
        space_id = await stream_log.space_holding_thread((s.id for s in spaces), wanted)
        snapshot = await stream_log.thread_state(space_id, wanted) if space_id else None
        if space_id is None or snapshot is None:
            raise NotFoundError("no such thread")
        found = thread_json(snapshot)
        visitor = await stream_log.visitor(space_id, snapshot.visitor_id)
        found["visitor"] = visitor_json(space_id, snapshot.visitor_id, visitor)
        return found

    async def change(
        caller: Caller, thread_id: Any, action: ThreadAction, target: str = ""
    ) -> Response:
        thread = await own_thread(caller, thread_id)
        snapshot = await stream_log.do_change_thread(
            thread["space_id"],
            thread["id"],
            action,
            agent_id=caller.agent.id,
            target_agent_id=target,
        )
        assert snapshot is not None  # only expiry answers None
        return jsonify(thread_json(snapshot))

    @api.route(
        "GET",
        "/threads/<uuid:thread_id>",
        summary="A thread with its visitor",
        tag=TAG,
        reply=ThreadWithVisitor,
    )
    async def get_thread(caller: Caller, thread_id: Any) -> Response:
        return jsonify(await own_thread(caller, thread_id))

    @api.route(
        "GET",
        "/threads/<uuid:thread_id>/messages",
        summary="A page of a thread's messages, oldest first",
        tag=TAG,
        query=MessageListQuery,
        reply=MessagePage,
    )
    async def list_messages(caller: Caller, thread_id: Any, query: MessageListQuery) -> Response:
        """PostgreSQL's rows joined with the log's tail not yet projected: a message acked a
        moment ago is here, never twice. Without `before`, the newest page."""
        thread = await own_thread(caller, thread_id)
        items = await thread_history.messages_before(
            stream_log, db, thread["space_id"], thread["id"], query.before, query.limit + 1
        )
        next_before = None
        if len(items) > query.limit:
            items = items[1:]
            next_before = items[0]["id"]
        return jsonify({"items": items, "next_before": next_before})

    @api.route(
        "POST",
        "/threads/<uuid:thread_id>/claim",
        summary="Take an unassigned thread",
        tag=TAG,
        reply=Thread,
        errors=(409,),
    )
    async def claim_thread(caller: Caller, thread_id: Any) -> Response:
        """Of concurrent claims exactly one wins; the others get 409 already_claimed."""
        return await change(caller, thread_id, "claim")

    @api.route(
        "POST",
        "/threads/<uuid:thread_id>/close",
        summary="Close a thread",
        tag=TAG,
        reply=Thread,
        errors=(409,),
    )
    async def close_thread(caller: Caller, thread_id: Any) -> Response:
        return await change(caller, thread_id, "close")

    @api.route(
        "POST",
        "/threads/<uuid:thread_id>/transfer",
        summary="Hand a thread to another agent of the organization",
        tag=TAG,
        body=TransferThread,
        reply=Thread,
        errors=(409,),
    )
    async def transfer_thread(caller: Caller, thread_id: Any, body: TransferThread) -> Response:
        """An unknown or deleted agent, or another organization's, is 404 not_found."""
        org, target = caller.agent.organization_id, str(body.agent_id)
        found = await db.run(lambda c: accounts.agent_by_id(c, org, target))
        if found is None:
            raise NotFoundError("no such agent")
        return await change(caller, thread_id, "transfer", found.id)
