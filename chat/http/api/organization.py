"""The caller's organization: read by any of its agents, changed by its admins."""

from __future__ import annotations

from quart import Response, jsonify

from chat.db import accounts, two_factor_queries
from chat.errors import TwoFactorNotEnabledError, UnauthorizedError
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
    summary="Rename the organization, change the capacity new agents get, or require 2FA",
    auth="admin",
    body=UpdateOrganization,
    reply=Organization,
    errors=(409,),
)
async def update_organization(
    services: Services, caller: Caller, body: UpdateOrganization
) -> Response:
    """`default_max_concurrent_chats` is what an agent created without a max_concurrent_chats
    gets; agents that exist keep theirs.

    `require_two_factor` true needs the caller enrolled in two-factor sign-in (409
    `two_factor_not_enabled` otherwise), so no admin locks the organization out; from then on,
    sign-ins that passed no second factor stop refreshing, and agents without a second factor
    are asked to enrol when they sign in."""
    org = caller.agent.organization_id
    changes: dict[str, object] = body.model_dump(exclude_none=True)
    if body.require_two_factor:
        needs = await services.db.run(
            lambda c: two_factor_queries.sign_in_needs(c, caller.agent.id)
        )
        if not needs.enrolled:
            raise TwoFactorNotEnabledError("enrol in two-factor sign-in before requiring it")
    updated = await services.db.run(lambda c: accounts.update_organization(c, org, changes))
    if updated is None:
        raise UnauthorizedError("the organization no longer exists")
    return jsonify(organization_json(updated))
