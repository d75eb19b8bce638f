"""Two-factor sign-in (TOTP): the login's second step, enrolment, recovery codes, turning it
off, and an admin's reset. structures.md, "Two-factor sign-in"."""

from __future__ import annotations

from typing import Any

from quart import Response, jsonify, request

from chat.auth import totp
from chat.auth.passwords import verify_password
from chat.db import accounts, two_factor_queries
from chat.errors import (
    NotFoundError,
    TwoFactorEnabledError,
    TwoFactorMandatoryError,
    TwoFactorNotEnabledError,
    UnavailableError,
    WrongPasswordError,
)
from chat.http import throttle
from chat.http.api.auth import sign_in
from chat.http.api.views import agent_reply, no_content
from chat.http.auth import Caller
from chat.http.client_address import client_address
from chat.http.openapi import Routes
from chat.http.replies import SignedIn
from chat.http.second_factor import (
    agent_of_challenge,
    check_code,
    check_enroller,
)
from chat.http.sign_in_copy import end_sign_ins
from chat.http.two_factor_models import (
    ConfirmEnrolment,
    Enrolled,
    Enrolment,
    ProveIdentity,
    RecoveryCodes,
    SecondFactor,
    TwoFactorStatus,
)
from chat.services import Services

routes = Routes(tag="auth")


@routes.route(
    "POST",
    "/auth/login/second-factor",
    summary="Finish a sign-in with a code from the authenticator app or a recovery code",
    auth="public",
    body=SecondFactor,
    reply=SignedIn,
    errors=(401,),
)
async def login_second_factor(services: Services, body: SecondFactor) -> Response:
    """A wrong, expired or reused code is 401 `invalid_two_factor_code` (the challenge token
    stays good until it expires); wrong codes are budgeted per agent and per address (429).
    A recovery code works once."""
    agent = await agent_of_challenge(services, body.challenge_token)
    await check_code(services, agent.id, code=body.code, recovery_code=body.recovery_code)
    tokens = await sign_in(services, agent, second_factor=True)
    return jsonify({**tokens, "agent": await agent_reply(services, agent)})


@routes.route(
    "GET", "/auth/two-factor", summary="The caller's two-factor sign-in", reply=TwoFactorStatus
)
async def get_two_factor(services: Services, caller: Caller) -> Response:
    agent = caller.agent
    found = await services.db.run(lambda c: two_factor_queries.enrolment(c, agent.id))
    needs = await services.db.run(lambda c: two_factor_queries.sign_in_needs(c, agent.id))
    enabled = found is not None and found.confirmed_at is not None
    return jsonify(
        {
            "enabled": enabled,
            "pending": found is not None and not enabled,
            "recovery_codes_left": found.recovery_codes_left if enabled and found else 0,
            "required": needs.required,
        }
    )


@routes.route(
    "POST",
    "/auth/two-factor/enrol",
    summary="Start enrolling an authenticator app: a new secret, its URI and QR code",
    auth="public",
    reply=Enrolment,
    errors=(401, 409),
)
async def start_enrolment(services: Services) -> Response:
    """The secret waits for its first code (/auth/two-factor/confirm); starting again replaces
    a waiting one. 409 `two_factor_enabled` when the agent has a confirmed one.

    Bearer: an access token, or the `enrolment_token` of a 403 `two_factor_required` from
    /auth/login."""
    enroller = await check_enroller(services)
    agent = enroller.agent
    secret = totp.new_secret()
    sealed = totp.seal_secret(services.settings.secret_key, agent.id, secret)
    if not await services.db.run(lambda c: two_factor_queries.start_enrolment(c, agent.id, sealed)):
        raise TwoFactorEnabledError()
    uri = totp.provisioning_uri(secret, agent.email)
    return jsonify({"secret": secret, "otpauth_uri": uri, "qr_code": totp.qr_data_uri(uri)})


@routes.route(
    "POST",
    "/auth/two-factor/confirm",
    summary="Confirm the enrolment with a first code; the recovery codes, shown once",
    auth="public",
    body=ConfirmEnrolment,
    reply=Enrolled,
    errors=(401, 409),
)
async def confirm_enrolment(services: Services, body: ConfirmEnrolment) -> Response:
    """From now on the agent's sign-ins ask for a code. The caller's own sign-in counts as
    having passed the second factor; with an enrolment token the reply signs the agent in
    (access_token, refresh_token, agent). 401 `invalid_two_factor_code` for a wrong code, 409
    `two_factor_not_enabled` when no enrolment waits.

    Bearer: an access token, or the `enrolment_token` of a 403 `two_factor_required` from
    /auth/login."""
    enroller = await check_enroller(services)
    agent = enroller.agent
    found = await services.db.run(lambda c: two_factor_queries.enrolment(c, agent.id))
    if found is None or found.confirmed_at is not None:
        raise TwoFactorNotEnabledError("no enrolment waits for its first code")
    await check_code(services, agent.id, code=body.code, confirming=True)
    codes = await _new_recovery_codes(services, agent.id, session_id=enroller.session_id)
    if enroller.session_id is not None:
        return jsonify({"recovery_codes": codes})
    tokens = await sign_in(services, agent, second_factor=True)
    return jsonify({"recovery_codes": codes, **tokens, "agent": await agent_reply(services, agent)})


@routes.route(
    "POST",
    "/auth/two-factor/recovery-codes",
    summary="Replace the recovery codes (the old ones stop working)",
    body=ProveIdentity,
    reply=RecoveryCodes,
    errors=(403, 409),
)
async def regenerate_recovery_codes(
    services: Services, caller: Caller, body: ProveIdentity
) -> Response:
    """Needs a code (or a recovery code) or the password."""
    await _require_enabled(services, caller.agent.id)
    await _prove(services, caller, body)
    return jsonify({"recovery_codes": await _new_recovery_codes(services, caller.agent.id)})


@routes.route(
    "POST",
    "/auth/two-factor/disable",
    summary="Turn two-factor sign-in off",
    body=ProveIdentity,
    status=204,
    errors=(403, 409),
)
async def disable(services: Services, caller: Caller, body: ProveIdentity) -> Response:
    """Needs a code (or a recovery code) or the password. 409 `two_factor_mandatory` while the
    organization requires two-factor sign-in."""
    agent = caller.agent
    await _require_enabled(services, agent.id)
    needs = await services.db.run(lambda c: two_factor_queries.sign_in_needs(c, agent.id))
    if needs.required:
        raise TwoFactorMandatoryError()
    await _prove(services, caller, body)
    await services.db.run(lambda c: two_factor_queries.remove(c, agent.id))
    return no_content()


@routes.route(
    "POST",
    "/agents/<uuid:agent_id>/two-factor/reset",
    summary="Turn an agent's two-factor sign-in off (a lost device) and end its sign-ins",
    auth="admin",
    status=204,
)
async def reset(services: Services, caller: Caller, agent_id: Any) -> Response:
    """The agent signs in with the password alone again, or, when the organization requires
    two-factor sign-in, is asked to enrol anew. Every sign-in of the agent ends."""
    org = caller.agent.organization_id

    def drop(conn: Any) -> list[str] | None:
        if accounts.agent_by_id(conn, org, str(agent_id)) is None:
            return None
        two_factor_queries.remove(conn, str(agent_id))
        return accounts.end_sign_ins(conn, str(agent_id))

    ended = await services.db.run(drop)
    if ended is None:
        raise NotFoundError("no such agent")
    await end_sign_ins(services, str(agent_id), ended)
    return no_content()


async def _require_enabled(services: Services, agent_id: str) -> None:
    found = await services.db.run(lambda c: two_factor_queries.enrolment(c, agent_id))
    if found is None or found.confirmed_at is None:
        raise TwoFactorNotEnabledError()


async def _prove(services: Services, caller: Caller, body: ProveIdentity) -> None:
    """The caller owns the account: a right code, or the right password (budgeted as logins)."""
    agent = caller.agent
    if body.password is None:
        await check_code(services, agent.id, code=body.code, recovery_code=body.recovery_code)
        return
    if caller.from_copy:
        raise UnavailableError("a password check needs the database; retry shortly")
    address = client_address(request, services.settings.trusted_proxies)
    await throttle.check_login_attempt(services, agent.email, address)
    if not await verify_password(agent.password_hash, body.password):
        raise WrongPasswordError()


async def _new_recovery_codes(
    services: Services, agent_id: str, *, session_id: str | None = None
) -> list[str]:
    """Fresh recovery codes replace the agent's; `session_id` (the caller's sign-in) is marked
    as having passed the second factor in the same transaction."""
    codes = totp.new_recovery_codes()
    secret_key = services.settings.secret_key
    hashes = [totp.recovery_code_hash(secret_key, agent_id, code) for code in codes]

    def store(conn: Any) -> None:
        two_factor_queries.replace_recovery_codes(conn, agent_id, hashes)
        if session_id is not None:
            two_factor_queries.mark_sign_in(conn, agent_id, session_id)

    await services.db.run(store)
    return codes
