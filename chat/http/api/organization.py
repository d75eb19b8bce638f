"""The caller's organization: read by any of its agents, changed by its admins."""

from __future__ import annotations

from quart import Response, jsonify

from chat.db import accounts
from chat.errors import UnauthorizedError
from chat.http.api.views import organization_json
from chat.http.auth import Caller
from chat.http.bodies import UpdateOrganization
from chat.http.openapi import Routes
from chat.http.replies import Organization
from chat.services import Services

routes = Routes(tag="organization", api_keys=True)


@routes.route("GET", "/organization", summary="The caller's organization", reply=Organization)
async def get_organization(services: Services, caller: Caller) -> Response:
    org = caller.agent.organization_id
    found = await services.db.run(lambda c: accounts.organization_by_id(c, org))
    if found is None:  # organizations are never deleted: only a caller that is gone meets it
        raise UnauthorizedError("the organization no longer exists")
    return jsonify(organization_json(found))


@routes.route(
    "PATCH",
    "/organization",
    summary="Rename the organization or change the capacity new agents get",
    auth="admin",
    body=UpdateOrganization,
    reply=Organization,
)
async def update_organization(
    services: Services, caller: Caller, body: UpdateOrganization
) -> Response:
    """`default_max_concurrent_chats` is what an agent created without a max_concurrent_chats
    gets; agents that exist keep theirs."""
    org = caller.agent.organization_id
    changes: dict[str, object] = body.model_dump(exclude_none=True)
    updated = await services.db.run(lambda c: accounts.update_organization(c, org, changes))
    if updated is None:
        raise UnauthorizedError("the organization no longer exists")
    return jsonify(organization_json(updated))
