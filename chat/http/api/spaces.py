"""Spaces (a site's widget configuration) and the thread lists of a space."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import psycopg
from quart import Response, jsonify

from chat.db import group_queries, space_queries, thread_queries
from chat.db.breaker import is_unavailable
from chat.db.rows import SpaceRow
from chat.errors import FieldInvalidError, InvalidError, NotFoundError
from chat.events import OPEN_THREAD_STATUSES
from chat.http.api.groups import hold_bot
from chat.http.api.reads import with_unread
from chat.http.api.thread_tags import with_tag, with_tag_ids
from chat.http.api.views import no_content
from chat.http.auth import Caller
from chat.http.bodies import CreateSpace, ThreadListQuery, UpdateSpace
from chat.http.openapi import Routes
from chat.http.replies import Space, SpaceList, ThreadPage
from chat.http.sign_in_copy import org_spaces, spaces_changed
from chat.protocol.outbound import space_json, thread_json
from chat.services import Services
from chat.streams import groups

routes = Routes(tag="spaces", api_keys=True)


async def _own_space(services: Services, caller: Caller, space_id: Any) -> SpaceRow:
    """One of the caller's organization's live spaces (from the copy in Valkey while PostgreSQL
    is down); NotFoundError otherwise."""
    org = caller.agent.organization_id
    try:
        space = await services.db.run(lambda c: space_queries.space_by_id(c, org, str(space_id)))
    except psycopg.OperationalError as exc:
        if not is_unavailable(exc):
            raise
        space = next((s for s in await org_spaces(services, org) if s.id == str(space_id)), None)
    if space is None:
        raise NotFoundError("no such space")
    return space


def _hold_default_group(conn: psycopg.Connection, org: str, group_id: str | None) -> None:
    """A default group must be a live group of the organization, kept so until the space is
    written (a group deleted meanwhile waits, then clears the space's setting)."""
    if group_id is not None and not group_queries.hold_live_group(conn, org, group_id):
        raise FieldInvalidError(
            "settings.default_group_id", "not a group of this organization (or deleted)"
        )


@routes.route("GET", "/spaces", summary="The organization's spaces", reply=SpaceList)
async def list_spaces(services: Services, caller: Caller) -> Response:
    """While PostgreSQL is down, as the copy in Valkey last saw them."""
    rows = await org_spaces(services, caller.agent.organization_id)
    return jsonify({"items": [space_json(s) for s in rows]})


@routes.route(
    "POST",
    "/spaces",
    summary="Create a space with a fresh widget key",
    auth="admin",
    body=CreateSpace,
    reply=Space,
    status=201,
)
async def create_space(
    services: Services, caller: Caller, body: CreateSpace
) -> tuple[Response, int]:
    org = caller.agent.organization_id

    def create(conn: psycopg.Connection) -> SpaceRow:
        _hold_default_group(conn, org, body.settings.default_group_id)
        hold_bot(conn, org, body.settings.bot_agent_id, "settings.bot_agent_id")
        return space_queries.create_space(
            conn, org, body.name, body.allowed_domains, body.settings.model_dump()
        )

    space = await services.db.run(create)
    await groups.ensure_group(services.stream_log, space.id)
    await services.control.do_create_space(space.id)  # every projector follows it at once
    await spaces_changed(services, space.organization_id)
    return jsonify(space_json(space)), 201


@routes.route("GET", "/spaces/<uuid:space_id>", summary="One space", reply=Space)
async def get_space(services: Services, caller: Caller, space_id: Any) -> Response:
    return jsonify(space_json(await _own_space(services, caller, space_id)))


@routes.route(
    "PATCH",
    "/spaces/<uuid:space_id>",
    summary="Rename a space, change its allowed domains or settings",
    auth="admin",
    body=UpdateSpace,
    reply=Space,
)
async def update_space(
    services: Services, caller: Caller, space_id: Any, body: UpdateSpace
) -> Response:
    """Settings given are merged into the stored ones. Widgets connecting from now on get
    the new values; open widget sockets keep what they started with."""
    org = caller.agent.organization_id
    settings_change = body.settings.changes() if body.settings else {}

    def update(conn: psycopg.Connection) -> SpaceRow | None:
        if space_queries.space_by_id(conn, org, str(space_id)) is None:
            return None  # another organization's space is 404, whatever the settings say
        _hold_default_group(conn, org, settings_change.get("default_group_id"))
        hold_bot(conn, org, settings_change.get("bot_agent_id"), "settings.bot_agent_id")
        return space_queries.update_space(
            conn, org, str(space_id), body.name, body.allowed_domains, settings_change
        )

    space = await services.db.run(update)
    if space is None:
        raise NotFoundError("no such space")
    services.spaces.forget_space(space.id)  # here at once; elsewhere through the control stream
    await services.control.do_update_space(space.id)
    await spaces_changed(services, org)
    return jsonify(space_json(space))


@routes.route(
    "DELETE",
    "/spaces/<uuid:space_id>",
    summary="Remove a space (soft delete)",
    auth="admin",
    status=204,
)
async def delete_space(services: Services, caller: Caller, space_id: Any) -> Response:
    """Its widget key stops working at once and its widget sockets close; its threads are
    no longer listed or found."""
    org = caller.agent.organization_id
    if not await services.db.run(lambda c: space_queries.delete_space(c, org, str(space_id))):
        raise NotFoundError("no such space")
    services.spaces.forget_space(str(space_id))
    await services.control.do_revoke_space(str(space_id))
    await spaces_changed(services, org)
    return no_content()


@routes.route(
    "POST",
    "/spaces/<uuid:space_id>/rotate-key",
    summary="Replace the space's widget key",
    auth="admin",
    reply=Space,
)
async def rotate_key(services: Services, caller: Caller, space_id: Any) -> Response:
    """The old key stops working at once and widget sockets opened with it close."""
    org = caller.agent.organization_id
    space = await services.db.run(lambda c: space_queries.rotate_widget_key(c, org, str(space_id)))
    if space is None:
        raise NotFoundError("no such space")
    services.spaces.forget_space(space.id)
    await services.control.do_rotate_widget_key(space.id, space.widget_key)
    await spaces_changed(services, org)
    return jsonify(space_json(space))


@routes.route(
    "GET",
    "/spaces/<uuid:space_id>/threads",
    summary="A space's threads, newest activity first",
    query=ThreadListQuery,
    reply=ThreadPage,
    errors=(400,),
)
async def list_threads(
    services: Services, caller: Caller, space_id: Any, query: ThreadListQuery
) -> Response:
    """Pages follow `next_cursor`; `assigned` keeps one agent's threads (`me`: the caller's).
    The first page also holds every open thread of the log that the projector has not written
    yet (so it may hold a few more than `limit`): a conversation is listed as soon as it exists.
    """
    space = await _own_space(services, caller, space_id)
    statuses = sorted(set(query.status.split(",")))
    cursor = _thread_cursor(query.cursor)
    assigned = caller.agent.id if query.assigned == "me" else query.assigned
    tag = await with_tag(services, caller, query.tag)
    try:
        rows = await services.db.run(
            lambda c: thread_queries.list_threads(
                c, space.id, statuses, query.limit + 1, cursor, assigned, tag
            )
        )
    except psycopg.OperationalError as exc:
        # PostgreSQL is down: the log holds every open thread (a first page of open statuses
        # comes from it alone); closed ones and later pages wait for PostgreSQL.
        if (
            not is_unavailable(exc)
            or tag is not None
            or cursor is not None
            or not OPEN_THREAD_STATUSES.issuperset(statuses)
        ):
            raise
        rows = await _open_from_log(services, space.id, statuses, assigned, projected=set())
        rows = await with_unread(services, space.id, caller.agent.id, rows)
        return jsonify({"items": rows, "next_cursor": None})
    next_cursor = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_cursor = f"{rows[-1]['last_activity_at']}|{rows[-1]['id']}"
    if tag is None and cursor is None and OPEN_THREAD_STATUSES.intersection(statuses):
        rows = await _with_unprojected(services, space.id, rows, statuses, assigned)
    rows = await with_unread(services, space.id, caller.agent.id, rows)  # "Read state"
    return jsonify({"items": await with_tag_ids(services, rows), "next_cursor": next_cursor})


async def _with_unprojected(
    services: Services,
    space_id: str,
    rows: list[dict[str, Any]],
    statuses: list[str],
    assigned: str | None,
) -> list[dict[str, Any]]:
    """`rows` (a first page) and the log's open threads PostgreSQL does not hold yet that
    match the filters, newest activity first. Pages after the first follow PostgreSQL's rows
    only, so a thread is never listed twice: one the log holds is either projected (and paged
    from PostgreSQL) or not (and only here)."""
    extra = await _open_from_log(services, space_id, statuses, assigned, projected=None)
    if not extra:
        return rows
    return _newest_first([*rows, *extra])


async def _open_from_log(
    services: Services,
    space_id: str,
    statuses: list[str],
    assigned: str | None,
    *,
    projected: set[str] | None,
) -> list[dict[str, Any]]:
    """The log's open threads matching the filters, newest activity first, but those in
    `projected` (None: those PostgreSQL holds)."""
    snapshot = await services.stream_log.open_snapshot(space_id)
    found = [
        o.thread
        for o in snapshot.threads
        if o.thread.status in statuses
        and (assigned is None or o.thread.assigned_agent_id == assigned)
    ]
    if projected is None:
        ids = [t.id for t in found]
        projected = await services.db.run(lambda c: thread_queries.projected_thread_ids(c, ids))
    return _newest_first([thread_json(t) for t in found if t.id not in projected])


def _newest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["last_activity_at"], r["id"]), reverse=True)


def _thread_cursor(raw: str | None) -> tuple[datetime, str] | None:
    """`<last_activity_at>|<thread id>` of the last thread of the previous page."""
    if raw is None:
        return None
    stamp, _, thread_id = raw.partition("|")
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        return when, str(uuid.UUID(thread_id))
    except ValueError as exc:
        raise InvalidError("invalid cursor") from exc
