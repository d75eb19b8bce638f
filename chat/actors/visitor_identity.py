"""What a visitor session adds for signed identity (structures.md, "Signed visitor identity"): a
signed `identify` verifies the visitor as the site's user, one visitor per user id and space, so
the user's history follows them across browsers; an unsigned one can change only an anonymous
visitor; a space with `require_identity` takes messages from verified visitors only.

Typed against `IdentitySession`, the fields of chat/actors/visitor.py's session it uses.
"""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

from chat.actors.frame_outbox import Outbox
from chat.actors.socket import SessionDeps
from chat.auth.identity import check_identity_token
from chat.auth.tokens import issue_session_token
from chat.db import identity_queries
from chat.db.rows import SpaceRow
from chat.errors import IdentityInvalidError, IdentityRequiredError
from chat.protocol.outbound import identity_frame
from chat.space_settings import SpaceSettings

logger = logging.getLogger(__name__)


class IdentitySession(Protocol):
    deps: SessionDeps
    space: SpaceRow
    space_settings: SpaceSettings
    visitor_id: str
    token: str
    name: str | None
    verified: bool
    outbox: Outbox


def check_may_open(session: IdentitySession) -> None:
    """`require_identity`: a visitor not verified may not write (which opens a conversation),
    nor leave a message offline. Checked before anything is stored or any budget spent."""
    if session.space_settings.require_identity and not session.verified:
        raise IdentityRequiredError()


async def verify(session: IdentitySession, token: str, ttl_seconds: int) -> bool:
    """Check a signed identity token and store it: the visitor verified as the token's `sub`
    with its name, email and attributes. Answers the `identity` frame with the verified
    visitor's session token. True when that is this socket's visitor; False when it is another
    (the site's user has a visitor already, or this one is verified as someone else): the client
    reconnects with the new token. Refused: IdentityInvalidError, IdentityExpiredError."""
    deps, space_id = session.deps, session.space.id
    secret = await deps.db.run(lambda c: identity_queries.space_secret(c, space_id))
    if secret is None:
        raise IdentityInvalidError("this space has no identity secret: an admin generates one")
    signed = check_identity_token(secret, token)
    log = deps.stream_log.identity
    # This anonymous visitor becomes the user's if the user has none yet: what they wrote before
    # signing in stays theirs. A visitor verified as another user is never adopted.
    proposed = "" if session.verified else session.visitor_id
    if await log.visitor_of(space_id, signed.sub) is None:
        # Valkey lost the mapping (its keys never expire): PostgreSQL's projection restores it.
        known = await deps.db.run(lambda c: identity_queries.visitor_of(c, space_id, signed.sub))
        proposed = known or proposed
    landed = await log.do_verified_identify(
        space_id,
        signed.sub,
        proposed=proposed,
        fresh=str(uuid.uuid4()),
        fields=signed.fields,
        ttl_seconds=ttl_seconds,
    )
    if landed.visitor_id == session.visitor_id:
        session.verified = True
        session.name = signed.fields.get("name", session.name)
        await session.outbox.send(identity_frame(session.token))
        return True
    logger.info("visitor %s signed in as visitor %s", session.visitor_id, landed.visitor_id)
    other = issue_session_token(deps.settings.secret_key, space_id, landed.visitor_id)
    await session.outbox.send(identity_frame(other))
    return False
