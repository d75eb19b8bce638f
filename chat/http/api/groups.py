"""Groups (departments): listed by any agent of the organization, managed by its admins.

The routing engine reads what is stored here (strategy, sticky, members); these routes only
keep it. structures.md, "Groups".
"""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat.db import bot_queries, group_queries, space_queries
from chat.db.rows import GroupRow
from chat.errors import FieldInvalidError, NotFoundError
from chat.http.api.views import group_json, no_content
from chat.http.auth import Caller
from chat.http.bodies import CreateGroup, GroupMembers, UpdateGroup
from chat.http.openapi import Routes
from chat.http.replies import Group, GroupList
from chat.http.sign_in_copy import spaces_changed
from chat.services import Services

routes = Routes(tag="groups", api_keys=True)


def hold_bot(conn: Any, org: str, bot_id: str | None, field: str) -> None:
    """A bot named to answer first must be a live bot of the organization, kept so until the
    transaction ends (a delete meanwhile waits, then clears what named it); 422 otherwise."""
    if bot_id is not None and not bot_queries.hold_live_bot(conn, org, bot_id):
        raise FieldInvalidError(field, "not a bot of this organization (or deleted)")


@routes.route("GET", "/groups", summary="The organization's groups", reply=GroupList)
async def list_groups(services: Services, caller: Caller) -> Response:
    """Open to every agent: an agent sees which groups exist and who is in them."""
    org = caller.agent.organization_id
    rows = await services.db.run(lambda c: group_queries.list_groups(c, org))
    return jsonify({"items": [group_json(g) for g in rows]})


@routes.route(
    "POST",
    "/groups",
    summary="Create a group",
    auth="admin",
    body=CreateGroup,
    reply=Group,
    status=201,
    errors=(409,),
)
async def create_group(
    services: Services, caller: Caller, body: CreateGroup
) -> tuple[Response, int]:
    """409 name_taken when a live group has the name in any case (a deleted group's name is
    free); 409 too_many_groups past 200 groups. A new group has no members."""
    org = caller.agent.organization_id
    bot_id = str(body.bot_agent_id) if body.bot_agent_id else None

    def create(conn: Any) -> GroupRow:
        hold_bot(conn, org, bot_id, "bot_agent_id")
        group = group_queries.create_group(
            conn, org, body.name, body.strategy, body.sticky, body.auto_transfer_seconds
        )
        if bot_id is None:
            return group
        found = group_queries.update_group(conn, org, group.id, {"bot_agent_id": bot_id})
        assert found is not None
        return found

    group = await services.db.run(create)
    await services.routing_changed(org)
    return jsonify(group_json(group)), 201


@routes.route("GET", "/groups/<uuid:group_id>", summary="One group", reply=Group)
async def get_group(services: Services, caller: Caller, group_id: Any) -> Response:
    org = caller.agent.organization_id
    group = await services.db.run(lambda c: group_queries.group_by_id(c, org, str(group_id)))
    if group is None:
        raise NotFoundError("no such group")
    await services.routing_changed(org)
    return jsonify(group_json(group))


@routes.route(
    "PATCH",
    "/groups/<uuid:group_id>",
    summary="Rename a group, change its strategy, stickiness or auto-transfer",
    auth="admin",
    body=UpdateGroup,
    reply=Group,
    errors=(409,),
)
async def update_group(
    services: Services, caller: Caller, group_id: Any, body: UpdateGroup
) -> Response:
    org = caller.agent.organization_id
    changes: dict[str, Any] = body.model_dump(exclude_none=True)
    if "auto_transfer_seconds" in body.model_fields_set:  # null: off
        changes["auto_transfer_seconds"] = body.auto_transfer_seconds
    if "bot_agent_id" in body.model_fields_set:  # null: no bot
        changes["bot_agent_id"] = str(body.bot_agent_id) if body.bot_agent_id else None

    def update(conn: Any) -> GroupRow | None:
        hold_bot(conn, org, changes.get("bot_agent_id"), "bot_agent_id")
        return group_queries.update_group(conn, org, str(group_id), changes)

    group = await services.db.run(update)
    if group is None:
        raise NotFoundError("no such group")
    await services.routing_changed(org)
    return jsonify(group_json(group))


@routes.route(
    "PUT",
    "/groups/<uuid:group_id>/members",
    summary="Set a group's members (the whole list)",
    auth="admin",
    body=GroupMembers,
    reply=Group,
)
async def set_members(
    services: Services, caller: Caller, group_id: Any, body: GroupMembers
) -> Response:
    """Every id must be a live agent of the organization (422 invalid names the others); an
    id given twice counts once; agents left out leave the group."""
    org = caller.agent.organization_id
    agent_ids = [str(a) for a in body.agent_ids]
    group = await services.db.run(
        lambda c: group_queries.set_members(c, org, str(group_id), agent_ids)
    )
    if group is None:
        raise NotFoundError("no such group")
    await services.routing_changed(org)
    return jsonify(group_json(group))


@routes.route(
    "DELETE",
    "/groups/<uuid:group_id>",
    summary="Remove a group (soft delete)",
    auth="admin",
    status=204,
)
async def delete_group(services: Services, caller: Caller, group_id: Any) -> Response:
    """The group is no longer found and its name is free. Spaces whose default group it was
    have none from now on (their conversations go to the whole team)."""
    org = caller.agent.organization_id
    cleared = await services.db.run(lambda c: group_queries.delete_group(c, org, str(group_id)))
    if cleared is None:
        raise NotFoundError("no such group")
    for space_id in cleared:  # their settings changed: as after PATCH /spaces/{id}
        services.spaces.forget_space(space_id)
        await services.control.do_update_space(space_id)
    if cleared:
        await spaces_changed(services, org)  # the outage copy of the spaces, too
    await services.routing_changed(org)
    # Nothing orphaned: its open conversations go to their space's default group (or the team).
    for space in await services.db.run(lambda c: space_queries.list_spaces(c, org)):
        default = space.settings.get("default_group_id") or ""
        await services.routing_log.regroup(space.id, str(group_id), str(default))
    return no_content()
