"""A space's identity secret (structures.md, "Signed visitor identity"): admins read it, to give
it to the site's backend, and rotate it. It is never logged, never part of a space's JSON or the
widget config, and never sent to a visitor."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from quart import Response, jsonify

from chat.auth.identity import new_identity_secret
from chat.db import identity_queries
from chat.errors import NotFoundError
from chat.http.auth import Caller
from chat.http.openapi import Routes
from chat.http.replies import IdentitySecret
from chat.services import Services

logger = logging.getLogger(__name__)

# No API key reaches these routes (the module's default, said here on purpose): the secret
# vouches for every visitor's identity, so a leaked key must not hand it out.
routes = Routes(tag="spaces", api_keys=False)


def _secret_json(secret: str | None, rotated_at: datetime | None) -> Response:
    reply = jsonify(
        {"secret": secret, "rotated_at": rotated_at.isoformat() if rotated_at else None}
    )
    reply.headers["Cache-Control"] = "no-store"  # a secret: no cache keeps a copy
    return reply


@routes.route(
    "GET",
    "/spaces/<uuid:space_id>/identity-secret",
    summary="The space's identity secret, which signs visitors' identity tokens",
    auth="admin",
    reply=IdentitySecret,
)
async def get_identity_secret(services: Services, caller: Caller, space_id: Any) -> Response:
    """`secret` is null until an admin generates one (POST): until then no token verifies."""
    org, wanted = caller.agent.organization_id, str(space_id)
    found = await services.db.run(lambda c: identity_queries.identity_secret(c, org, wanted))
    if found is None:
        raise NotFoundError("no such space")
    return _secret_json(*found)


@routes.route(
    "POST",
    "/spaces/<uuid:space_id>/identity-secret",
    summary="Generate or rotate the space's identity secret",
    auth="admin",
    reply=IdentitySecret,
)
async def rotate_identity_secret(services: Services, caller: Caller, space_id: Any) -> Response:
    """A fresh secret from the server; the old one stops verifying at once (tokens signed with
    it are refused; visitors already verified stay verified)."""
    org, wanted = caller.agent.organization_id, str(space_id)
    secret = new_identity_secret()
    rotated_at = await services.db.run(
        lambda c: identity_queries.rotate_identity_secret(c, org, wanted, secret)
    )
    if rotated_at is None:
        raise NotFoundError("no such space")
    logger.info("identity secret of space %s rotated by %s", wanted, caller.agent.id)
    return _secret_json(secret, rotated_at)
