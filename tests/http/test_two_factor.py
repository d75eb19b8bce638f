"""Two-factor sign-in over REST: enrolment, the login's second step with a TOTP computed here
(tests/helpers/totp.py, not the server's library), recovery codes, the organization's
requirement, refresh, the attempt budget, and tokens that are not access tokens."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from chat.config import Settings
from tests.helpers.api import assert_error, create_agent
from tests.helpers.chat import PASSWORD
from tests.helpers.http import Reply, call
from tests.helpers.totp import hotp, totp


@dataclass
class Account:
    """A signed-in agent: its JSON and current tokens."""

    email: str
    agent: dict[str, Any]
    access: str
    refresh: str


async def _register(base: str) -> Account:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    body = {"organization_name": "Acme", "name": "Ada", "email": email, "password": PASSWORD}
    reply = await call("POST", f"{base}/api/v1/auth/register", body)
    assert reply.status == 201, reply.body
    return Account(
        email, reply.body["agent"], reply.body["access_token"], reply.body["refresh_token"]
    )


def _tokens(reply: Reply) -> tuple[str, str]:
    assert reply.status == 200, reply.body
    return reply.body["access_token"], reply.body["refresh_token"]


async def _login(base: str, email: str, password: str = PASSWORD) -> Reply:
    return await call("POST", f"{base}/api/v1/auth/login", {"email": email, "password": password})


async def _challenge(base: str, email: str) -> str:
    """A right password of an enrolled agent: the challenge token of its 401."""
    error = assert_error(await _login(base, email), 401, "two_factor_code_required")
    return str(error["details"]["challenge_token"])


async def _second_factor(base: str, challenge: str, **code: str) -> Reply:
    body = {"challenge_token": challenge, **code}
    return await call("POST", f"{base}/api/v1/auth/login/second-factor", body)


async def _enrol(base: str, token: str) -> tuple[str, list[str], Reply]:
    """Enrol with `token` (access or enrolment): the secret, recovery codes, the confirm reply
    (whose `confirmed_with` is the code that confirmed)."""
    started = await call("POST", f"{base}/api/v1/auth/two-factor/enrol", token=token)
    assert started.status == 200, started.body
    secret = started.body["secret"]
    assert started.body["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={secret}" in started.body["otpauth_uri"]
    assert started.body["qr_code"].startswith("data:image/svg+xml")
    confirm = f"{base}/api/v1/auth/two-factor/confirm"
    wrong = await call("POST", confirm, {"code": _wrong(secret)}, token=token)
    assert_error(wrong, 401, "invalid_two_factor_code")
    first = totp(secret)
    confirmed = await call("POST", confirm, {"code": first}, token=token)
    assert confirmed.status == 200, confirmed.body
    confirmed.body["confirmed_with"] = first
    codes = confirmed.body["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes, confirmed


def _wrong(secret: str) -> str:
    """A code valid at no step the server accepts now."""
    valid = {totp(secret, steps_ahead=s) for s in (-2, -1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in valid)


def test_rfc6238_reference_vectors() -> None:
    """The tests' own TOTP is right: RFC 6238 appendix B (SHA-1, 8 digits)."""
    key = b"12345678901234567890"
    for at, expected in ((59, "94287082"), (1111111109, "07081804"), (2000000000, "69279037")):
        assert hotp(key, at // 30, digits=8) == expected


async def test_enrol_then_sign_in_with_a_code_and_with_recovery_codes(base_url: str) -> None:
    with trio.fail_after(60):
        ada = await _register(base_url)
        api = f"{base_url}/api/v1"
        status = await call("GET", f"{api}/auth/two-factor", token=ada.access)
        assert status.body == {
            "enabled": False,
            "pending": False,
            "recovery_codes_left": 0,
            "required": False,
        }
        secret, codes, confirmed = await _enrol(base_url, ada.access)
        assert "access_token" not in confirmed.body  # signed in already: codes only
        status = await call("GET", f"{api}/auth/two-factor", token=ada.access)
        assert status.body["enabled"] is True and status.body["recovery_codes_left"] == 10
        again = await call("POST", f"{api}/auth/two-factor/enrol", token=ada.access)
        assert_error(again, 409, "two_factor_enabled")

        # The password alone no longer signs in; the code of the step confirmed is spent, the
        # next step's code (within the ±1 step drift) signs in once.
        challenge = await _challenge(base_url, ada.email)
        # (the very code that confirmed: one computed now may be of the next step already)
        reused = await _second_factor(base_url, challenge, code=confirmed.body["confirmed_with"])
        assert_error(reused, 401, "invalid_two_factor_code")
        next_code = totp(secret, steps_ahead=1)
        signed_in = await _second_factor(base_url, challenge, code=next_code)
        access, refresh = _tokens(signed_in)
        assert signed_in.body["agent"]["id"] == ada.agent["id"]
        me = await call("GET", f"{api}/auth/me", token=access)
        assert me.status == 200 and me.body["id"] == ada.agent["id"]
        replay = await _second_factor(
            base_url, await _challenge(base_url, ada.email), code=next_code
        )
        assert_error(replay, 401, "invalid_two_factor_code")
        # That sign-in passed the second factor: it refreshes, and so does its successor.
        rotated = await call("POST", f"{api}/auth/refresh", {"refresh_token": refresh})
        _, refresh = _tokens(rotated)
        _tokens(await call("POST", f"{api}/auth/refresh", {"refresh_token": refresh}))

        # A recovery code works once, typed in any case and spacing.
        typed = codes[0].upper().replace("-", " ")
        by_recovery = await _second_factor(
            base_url, await _challenge(base_url, ada.email), recovery_code=typed
        )
        _tokens(by_recovery)
        spent = await _second_factor(
            base_url, await _challenge(base_url, ada.email), recovery_code=codes[0]
        )
        assert_error(spent, 401, "invalid_two_factor_code")
        status = await call("GET", f"{api}/auth/two-factor", token=ada.access)
        assert status.body["recovery_codes_left"] == 9


async def test_the_sign_in_from_before_enrolling_stops_refreshing(base_url: str) -> None:
    """Once the agent has a second factor, only sign-ins that passed it refresh: the one that
    enrolled counts as passed, another one of before does not."""
    with trio.fail_after(60):
        ada = await _register(base_url)
        api = f"{base_url}/api/v1"
        _, other_refresh = _tokens(await _login(base_url, ada.email))
        await _enrol(base_url, ada.access)
        refused = await call("POST", f"{api}/auth/refresh", {"refresh_token": other_refresh})
        assert_error(refused, 401, "unauthorized")
        assert "second factor" in refused.body["error"]["message"]
        _tokens(await call("POST", f"{api}/auth/refresh", {"refresh_token": ada.refresh}))


async def test_wrong_codes_are_budgeted_per_agent_and_per_address(base_url: str) -> None:
    """5 wrong codes per agent and 10 per address every 5 minutes (the defaults); a right code
    spends nothing."""
    with trio.fail_after(90):
        ada = await _register(base_url)
        secret, codes, _ = await _enrol(base_url, ada.access)  # one wrong code spent here
        challenge = await _challenge(base_url, ada.email)
        # Right codes give their attempt back: more sign-ins than the budget all pass.
        _tokens(await _second_factor(base_url, challenge, code=totp(secret, steps_ahead=1)))
        for _ in range(4):
            wrong = await _second_factor(base_url, challenge, code=_wrong(secret))
            assert_error(wrong, 401, "invalid_two_factor_code")
        limited = await _second_factor(base_url, challenge, code=_wrong(secret))
        assert_error(limited, 429, "rate_limited")
        assert int(limited.header("Retry-After") or 0) >= 1
        # Over the budget even a right code is not checked.
        right = await _second_factor(base_url, challenge, recovery_code=codes[0])
        assert_error(right, 429, "rate_limited")

        # The address has spent 5 of its 10; another agent from it spends the other 5, and a
        # third agent's first attempt from it is refused by the address budget.
        other = await _register(base_url)
        other_secret, _, _ = await _enrol(base_url, other.access)
        other_challenge = await _challenge(base_url, other.email)
        for _ in range(4):
            wrong = await _second_factor(base_url, other_challenge, code=_wrong(other_secret))
            assert_error(wrong, 401, "invalid_two_factor_code")
        third = await _register(base_url)
        started = await call("POST", f"{base_url}/api/v1/auth/two-factor/enrol", token=third.access)
        code = totp(started.body["secret"])
        confirm = f"{base_url}/api/v1/auth/two-factor/confirm"
        refused = await call("POST", confirm, {"code": code}, token=third.access)
        assert_error(refused, 429, "rate_limited")


async def test_an_organization_that_requires_two_factor(base_url: str) -> None:
    with trio.fail_after(90):
        ada = await _register(base_url)
        api = f"{base_url}/api/v1"
        bob = await create_agent(api, ada.access)
        bob_access, bob_refresh = _tokens(await _login(base_url, bob["email"]))
        require = {"require_two_factor": True}
        early = await call("PATCH", f"{api}/organization", require, token=ada.access)
        assert_error(early, 409, "two_factor_not_enabled")  # the admin enrols first
        await _enrol(base_url, ada.access)
        as_member = await call("PATCH", f"{api}/organization", require, token=bob_access)
        assert_error(as_member, 403, "forbidden")
        turned_on = await call("PATCH", f"{api}/organization", require, token=ada.access)
        assert turned_on.status == 200 and turned_on.body["require_two_factor"] is True

        # Bob's sign-in passed no second factor: it no longer refreshes.
        refused = await call("POST", f"{api}/auth/refresh", {"refresh_token": bob_refresh})
        assert_error(refused, 401, "unauthorized")
        # His password is answered with the enrolment path, and its token is no access token.
        error = assert_error(await _login(base_url, bob["email"]), 403, "two_factor_required")
        enrolment = error["details"]["enrolment_token"]
        assert error["details"]["expires_in"] > 0
        assert_error(await call("GET", f"{api}/auth/me", token=enrolment), 401, "unauthorized")
        wrong_pw = await _login(base_url, bob["email"], "not the password")
        assert_error(wrong_pw, 401, "invalid_credentials")  # no token without the password
        secret, _, enrolled = await _enrol(base_url, enrolment)
        access, _ = _tokens(enrolled)  # confirming with the enrolment token signs him in
        assert enrolled.body["agent"]["id"] == bob["id"]
        assert (await call("GET", f"{api}/auth/me", token=access)).status == 200
        # Enrolled, he cannot turn it off while the organization requires it.
        off = await call(
            "POST", f"{api}/auth/two-factor/disable", {"password": PASSWORD}, token=access
        )
        assert_error(off, 409, "two_factor_mandatory")
        challenge = await _challenge(base_url, bob["email"])
        _tokens(await _second_factor(base_url, challenge, code=totp(secret, steps_ahead=1)))
        # The admin's own sign-in (the one that enrolled) keeps refreshing.
        _tokens(await call("POST", f"{api}/auth/refresh", {"refresh_token": ada.refresh}))


async def test_pending_tokens_open_nothing_else(base_url: str) -> None:
    """A challenge token is not an access token: REST answers 401, the agent socket 4001."""
    with trio.fail_after(60):
        ada = await _register(base_url)
        await _enrol(base_url, ada.access)
        challenge = await _challenge(base_url, ada.email)
        api = f"{base_url}/api/v1"
        assert_error(await call("GET", f"{api}/auth/me", token=challenge), 401, "unauthorized")
        enrol = await call("POST", f"{api}/auth/two-factor/enrol", token=challenge)
        assert_error(enrol, 401, "unauthorized")
        ws = base_url.replace("http", "ws") + f"/ws/agent?token={challenge}"
        async with open_websocket_url(ws) as socket:
            try:
                while True:
                    await socket.get_message()
            except ConnectionClosed as closed:
                assert closed.reason is not None and closed.reason.code == 4001
        garbage = await _second_factor(base_url, ada.access, code="123456")  # an access token
        assert_error(garbage, 401, "unauthorized")


async def test_regenerate_disable_and_admin_reset(base_url: str, settings: Settings) -> None:
    with trio.fail_after(90):
        ada = await _register(base_url)
        api = f"{base_url}/api/v1"
        secret, codes, _ = await _enrol(base_url, ada.access)
        regen = f"{api}/auth/two-factor/recovery-codes"
        wrong = await call("POST", regen, {"password": "not the password"}, token=ada.access)
        assert_error(wrong, 403, "wrong_password")
        both = await call("POST", regen, {"password": PASSWORD, "code": "123456"}, token=ada.access)
        assert_error(both, 422, "invalid")
        fresh = await call("POST", regen, {"password": PASSWORD}, token=ada.access)
        assert fresh.status == 200 and len(fresh.body["recovery_codes"]) == 10
        old = await _second_factor(
            base_url, await _challenge(base_url, ada.email), recovery_code=codes[1]
        )
        assert_error(old, 401, "invalid_two_factor_code")  # the old set is gone

        # The secret is sealed at rest: the row does not hold it.
        with psycopg.connect(settings.database_url) as conn:
            row = conn.execute(
                "SELECT secret_sealed FROM two_factor WHERE agent_id = %s", (ada.agent["id"],)
            ).fetchone()
        assert row is not None and secret.encode() not in bytes(row[0])

        off_url = f"{api}/auth/two-factor/disable"
        off = await call("POST", off_url, {"code": totp(secret, steps_ahead=1)}, token=ada.access)
        assert off.status == 204, off.body
        _tokens(await _login(base_url, ada.email))  # the password alone signs in again
        again = await call("POST", off_url, {"password": PASSWORD}, token=ada.access)
        assert_error(again, 409, "two_factor_not_enabled")

        # An admin resets a member who lost their device; another organization's admin cannot.
        bob = await create_agent(api, ada.access)
        bob_access, bob_refresh = _tokens(await _login(base_url, bob["email"]))
        await _enrol(base_url, bob_access)
        await _challenge(base_url, bob["email"])
        stranger = await _register(base_url)
        reset = f"{api}/agents/{bob['id']}/two-factor/reset"
        assert_error(await call("POST", reset, token=stranger.access), 404, "not_found")
        assert_error(await call("POST", reset, token=bob_access), 403, "forbidden")
        assert (await call("POST", reset, token=ada.access)).status == 204
        # His sign-ins ended with it; the password alone signs him in again.
        ended = await call("POST", f"{api}/auth/refresh", {"refresh_token": bob_refresh})
        assert_error(ended, 401, "unauthorized")
        _tokens(await _login(base_url, bob["email"]))


async def test_openapi_lists_the_two_factor_routes(base_url: str) -> None:
    with trio.fail_after(30):
        spec = await call("GET", f"{base_url}/api/v1/openapi.json")
        paths = spec.body["paths"]
        for path, method in (
            ("/api/v1/auth/login/second-factor", "post"),
            ("/api/v1/auth/two-factor", "get"),
            ("/api/v1/auth/two-factor/enrol", "post"),
            ("/api/v1/auth/two-factor/confirm", "post"),
            ("/api/v1/auth/two-factor/recovery-codes", "post"),
            ("/api/v1/auth/two-factor/disable", "post"),
            ("/api/v1/agents/{agent_id}/two-factor/reset", "post"),
        ):
            operation = paths[path][method]
            error_ref = json.dumps(operation["responses"]["429"])
            assert "ErrorReply" in error_ref, (path, operation)
        login = paths["/api/v1/auth/login"]["post"]["responses"]
        assert {"401", "403"} <= set(login)
