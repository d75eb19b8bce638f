"""An organization's API keys (structures.md, "API keys"): admins create, list and revoke them.

Only a signed-in admin manages keys, never a key itself: a leaked key that could mint keys would
outlive its own revocation.
"""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify

from chat.auth.api_keys import new_api_key
from chat.db import api_key_queries
from chat.errors import NotFoundError
from chat.http.api.views import no_content
from chat.http.api_key_models import ApiKeyList, CreateApiKey, CreatedApiKey
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.services import Services

routes = Routes(tag="api keys", api_keys=False)


@routes.route(
    "POST",
    "/api-keys",
    summary="Create an API key (the key is in this answer only)",
    auth="admin",
    body=CreateApiKey,
    reply=CreatedApiKey,
    status=201,
    errors=(409,),
)
async def create_api_key(
    services: Services, caller: Caller, body: CreateApiKey
) -> tuple[Response, int]:
    """The key acts as the calling admin, within its scopes, until it is revoked or that admin
    is deleted or demoted. Only its SHA-256 is stored: keep the `key` of this answer, it cannot
    be shown again. 409 too_many_api_keys past 100 live keys."""
    org, admin = caller.agent.organization_id, caller.agent.id
    new = new_api_key()
    row = await services.db.run(
        lambda c: api_key_queries.create_api_key(c, org, admin, body.name, list(body.scopes), new)
    )
    return jsonify({**row, "key": new.key}), 201


@routes.route(
    "GET", "/api-keys", summary="The organization's API keys", auth="admin", reply=ApiKeyList
)
async def list_api_keys(services: Services, caller: Caller) -> Response:
    """Revoked keys too (with revoked_at), oldest first; never a key itself."""
    org = caller.agent.organization_id
    return jsonify(
        {"items": await services.db.run(lambda c: api_key_queries.list_api_keys(c, org))}
    )


@routes.route(
    "DELETE",
    "/api-keys/<uuid:key_id>",
    summary="Revoke an API key",
    auth="admin",
    status=204,
)
async def revoke_api_key(services: Services, caller: Caller, key_id: Any) -> Response:
    """The key stops working at once, on every process (each request looks it up). Revoking a
    revoked key changes nothing; it stays listed."""
    org = caller.agent.organization_id
    row = await services.db.run(lambda c: api_key_queries.revoke_api_key(c, org, str(key_id)))
    if row is None:
        raise NotFoundError("no such API key")
    return no_content()
