"""Who is calling with an API key (structures.md, "API keys"): the key checked against its
stored hash, the admin it acts as, and the scope the route needs."""

from __future__ import annotations

from chat.auth.api_keys import Scope, api_key_id, api_key_matches
from chat.db import api_key_queries
from chat.db.rows import AgentRow
from chat.errors import ForbiddenError, MissingScopeError, UnauthorizedError
from chat.http import throttle
from chat.services import Services

INVALID_MESSAGE = "invalid or revoked API key"
NO_ADMIN_MESSAGE = "this API key's admin was deleted or is no longer an admin"
REFUSED_MESSAGE = (
    "API keys cannot be used here: sign-ins and API keys are managed by a signed-in person"
)


async def check_api_key(services: Services, key: str, scope: Scope | None) -> tuple[AgentRow, str]:
    """The admin a live key acts as, and the key's id, when the key has `scope`.

    UnauthorizedError (401) for a malformed, unknown or revoked key, a wrong secret, or a key
    whose admin was deleted or demoted; each such failure counts against the client address
    (chat/http/throttle.py). ForbiddenError (403) where keys are refused (`scope` None), and
    MissingScopeError (403, `details.required_scope`) for a key without `scope`.

    Needs PostgreSQL (keys have no copy in Valkey, unlike sign-ins): during an outage the
    lookup fails and the request is answered 503 `unavailable`.
    """
    key_id = api_key_id(key)
    found = None
    if key_id is not None:
        found = await services.db.run(lambda c: api_key_queries.key_in_use(c, key_id))
    if found is None or not api_key_matches(key, found.key_hash):
        await throttle.count_key_failure(services)
        raise UnauthorizedError(INVALID_MESSAGE)
    agent = found.agent
    if agent is None:
        await throttle.count_key_failure(services)
        raise UnauthorizedError(NO_ADMIN_MESSAGE)
    if found.last_used_stale:  # at most once a minute per key (api_key_queries)
        await services.db.run(lambda c: api_key_queries.note_key_used(c, found.id))
    if scope is None:
        raise ForbiddenError(REFUSED_MESSAGE)
    if scope not in found.scopes:
        raise MissingScopeError(scope)
    return agent, found.id
