"""The second factor's checks for the HTTP routes: what a password-correct sign-in still owes,
whose enrolment a bearer token opens, and checking a code (TOTP or recovery) under its attempt
budget. structures.md, "Two-factor sign-in", has the whole flow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from quart import request

from chat.auth import totp
from chat.auth.pending_tokens import (
    CHALLENGE,
    CHALLENGE_TTL_SECONDS,
    ENROLMENT,
    ENROLMENT_TTL_SECONDS,
    PendingClaims,
    check_pending_token,
    issue_pending_token,
)
from chat.db import accounts, two_factor_queries
from chat.db.rows import AgentRow
from chat.errors import (
    InvalidTwoFactorCodeError,
    TwoFactorCodeRequiredError,
    TwoFactorRequiredError,
    UnauthorizedError,
    UnavailableError,
)
from chat.http.auth import check_agent_session
from chat.http.client_address import client_address
from chat.http.code_throttle import spend_code_attempt
from chat.services import Services

logger = logging.getLogger(__name__)


async def check_second_factor_owed(services: Services, agent: AgentRow) -> None:
    """After a right password: TwoFactorCodeRequiredError (with a challenge token) when the
    agent has a second factor, TwoFactorRequiredError (with an enrolment token) when the
    organization requires one and the agent has none; nothing when none is owed."""
    needs = await services.db.run(lambda c: two_factor_queries.sign_in_needs(c, agent.id))
    claims = PendingClaims(agent.id, agent.organization_id)
    secret = services.settings.secret_key
    if needs.enrolled:
        raise TwoFactorCodeRequiredError(
            challenge_token=issue_pending_token(secret, CHALLENGE, claims),
            expires_in=CHALLENGE_TTL_SECONDS,
        )
    if needs.required:
        raise TwoFactorRequiredError(
            enrolment_token=issue_pending_token(secret, ENROLMENT, claims),
            expires_in=ENROLMENT_TTL_SECONDS,
        )


async def agent_of_challenge(services: Services, token: str) -> AgentRow:
    """The live agent a challenge token was issued to; UnauthorizedError otherwise."""
    claims = check_pending_token(services.settings.secret_key, CHALLENGE, token)
    return await _live_agent(services, claims)


@dataclass(frozen=True, slots=True)
class Enroller:
    """Who is enrolling: a signed-in agent (`session_id`), or one holding an enrolment token
    (`session_id` None: confirming signs them in)."""

    agent: AgentRow
    session_id: str | None


async def check_enroller(services: Services) -> Enroller:
    """The request's bearer: an access token of a live sign-in, or an enrolment token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("missing bearer token")
    try:
        claims = check_pending_token(services.settings.secret_key, ENROLMENT, token)
    except UnauthorizedError:
        caller = await check_agent_session(services, token)
        if caller.from_copy:
            raise UnavailableError("enrolment needs the database; retry shortly") from None
        return Enroller(caller.agent, caller.session_id)
    return Enroller(await _live_agent(services, claims), None)


async def _live_agent(services: Services, claims: PendingClaims) -> AgentRow:
    agent = await services.db.run(lambda c: accounts.live_agent(c, claims.agent_id))
    if agent is None or agent.organization_id != claims.organization_id:
        raise UnauthorizedError("the agent no longer exists")
    return agent


async def check_code(
    services: Services,
    agent_id: str,
    *,
    code: str | None = None,
    recovery_code: str | None = None,
    confirming: bool = False,
) -> None:
    """Check and consume one code of the agent: a TOTP `code` of its confirmed enrolment (of
    its enrolment waiting for a first code when `confirming`), or a `recovery_code`.
    InvalidTwoFactorCodeError when it is wrong or used already; RateLimitedError over the
    attempt budget (chat/http/code_throttle.py), which a right code does not spend."""
    address = client_address(request, services.settings.trusted_proxies)
    spent = await spend_code_attempt(services, agent_id, address)
    if not await _consume(services, agent_id, code, recovery_code, confirming):
        raise InvalidTwoFactorCodeError()
    try:
        await spent.give_back()
    except UnavailableError as exc:  # the code stands; only its attempt stays counted
        logger.warning("a right code's attempt was not given back: %r", exc)


async def _consume(
    services: Services,
    agent_id: str,
    code: str | None,
    recovery_code: str | None,
    confirming: bool,
) -> bool:
    # Every key that verifies: a SECRET_KEY rotation keeps enrolments and recovery codes made
    # under the previous key working through its grace period (README, "Rotating SECRET_KEY").
    secret_keys = services.settings.verifying_keys
    if recovery_code is not None:
        if confirming:
            return False
        hashes = [totp.recovery_code_hash(k, agent_id, recovery_code) for k in secret_keys]
        return bool(
            await services.db.run(
                lambda c: two_factor_queries.use_recovery_code(c, agent_id, hashes)
            )
        )
    found = await services.db.run(lambda c: two_factor_queries.enrolment(c, agent_id))
    if found is None or code is None or (found.confirmed_at is None) != confirming:
        return False
    try:
        secret, key_index = totp.open_secret_any(secret_keys, agent_id, found.secret_sealed)
    except totp.SealError:
        logger.error("the TOTP secret of agent %s does not open: reset its 2FA", agent_id)
        return False
    if key_index > 0:  # sealed under a previous key: sealed anew, before the grace period ends
        sealed = totp.seal_secret(secret_keys[0], agent_id, secret)
        await services.db.run(lambda c: two_factor_queries.reseal(c, agent_id, sealed))
    step = totp.matching_step(secret, code)
    if step is None:
        return False
    return bool(
        await services.db.run(
            lambda c: two_factor_queries.accept_step(c, agent_id, step, confirming=confirming)
        )
    )
