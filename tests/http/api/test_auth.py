"""The sign-in routes of chat/http/api/auth.py: register, login, refresh, logout, and reading and
changing the caller's own agent (/auth/me), each happy path and each documented error.

The token mechanics (forgeries, refresh families, reuse) are tests/http/test_tokens.py.
"""

from __future__ import annotations

import json

import trio

from chat.config import Settings
from chat.server import serve
from tests.helpers.api import AGENT_FIELDS, assert_error, failed_fields, register_body
from tests.helpers.http import call


async def test_register(base_url: str) -> None:
    with trio.fail_after(30):
        api = f"{base_url}/api/v1"
        body = register_body()
        created = await call("POST", f"{api}/auth/register", body)
        assert created.status == 201, created.body
        assert set(created.body) == {"access_token", "refresh_token", "agent", "organization"}
        agent, org = created.body["agent"], created.body["organization"]
        assert set(agent) == AGENT_FIELDS
        assert (agent["email"], agent["name"], agent["role"]) == (body["email"], "Ann", "admin")
        assert set(org) == {
            "id",
            "name",
            "default_max_concurrent_chats",
            "require_two_factor",
            "created_at",
            "time_zone",
        }
        assert (org["require_two_factor"], org["time_zone"]) == (False, "UTC")
        assert (org["name"], org["default_max_concurrent_chats"]) == ("Acme", 5)
        assert agent["organization_id"] == org["id"]
        me = await call("GET", f"{api}/auth/me", token=created.body["access_token"])
        assert me.status == 200 and me.body["id"] == agent["id"]

        taken = {**body, "email": body["email"].upper(), "organization_name": "Other"}
        # Registration does not name the cause (issue 15, finding 5): the refusal is the same
        # generic registration_failed, and says nothing about the email.
        refused = assert_error(
            await call("POST", f"{api}/auth/register", taken), 409, "registration_failed"
        )
        assert "email" not in refused["message"].lower() and "details" not in refused
        for bad, field in [
            ({"password": "short"}, "password"),
            ({"email": "not-an-email"}, "email"),
            ({"name": "   "}, "name"),
            ({"organization_name": "x" * 121}, "organization_name"),
            ({"role": "admin"}, "role"),  # extra fields are refused
        ]:
            reply = await call("POST", f"{api}/auth/register", register_body(**bad))
            assert field in failed_fields(reply), (bad, reply.body)
        missing = {k: v for k, v in register_body().items() if k != "password"}
        assert "password" in failed_fields(await call("POST", f"{api}/auth/register", missing))
        assert_error(await call("POST", f"{api}/auth/register", b"{not json"), 400, "invalid")
        assert_error(await call("POST", f"{api}/auth/register", [body]), 400, "invalid")


async def test_login(base_url: str) -> None:
    with trio.fail_after(30):
        api = f"{base_url}/api/v1"
        body = register_body()
        assert (await call("POST", f"{api}/auth/register", body)).status == 201
        login = await call(
            "POST",
            f"{api}/auth/login",
            {"email": body["email"].upper(), "password": body["password"]},
        )
        assert login.status == 200, login.body
        assert set(login.body) == {"access_token", "refresh_token", "agent"}
        assert set(login.body["agent"]) == AGENT_FIELDS
        assert login.body["agent"]["email"] == body["email"]
        me = await call("GET", f"{api}/auth/me", token=login.body["access_token"])
        assert me.status == 200 and me.body["email"] == body["email"]

        wrong = await call(
            "POST", f"{api}/auth/login", {"email": body["email"], "password": "wrong password"}
        )
        unknown = await call(
            "POST", f"{api}/auth/login", {"email": "nobody@example.com", "password": "whatever1"}
        )
        # An unknown email is answered exactly as a wrong password: no account probing.
        assert assert_error(wrong, 401, "invalid_credentials") == assert_error(
            unknown, 401, "invalid_credentials"
        )
        assert "password" in failed_fields(
            await call("POST", f"{api}/auth/login", {"email": body["email"]})
        )
        assert_error(await call("POST", f"{api}/auth/login", b"[1, 2"), 400, "invalid")


async def test_refresh_and_logout(base_url: str) -> None:
    with trio.fail_after(30):
        api = f"{base_url}/api/v1"
        created = await call("POST", f"{api}/auth/register", register_body())
        refresh = created.body["refresh_token"]
        rotated = await call("POST", f"{api}/auth/refresh", {"refresh_token": refresh})
        assert rotated.status == 200, rotated.body
        assert set(rotated.body) == {"access_token", "refresh_token"}
        assert rotated.body["refresh_token"] != refresh
        token = rotated.body["access_token"]
        assert (await call("GET", f"{api}/auth/me", token=token)).status == 200

        unknown = await call("POST", f"{api}/auth/refresh", {"refresh_token": "no-such-token"})
        assert_error(unknown, 401, "unauthorized")
        empty = await call("POST", f"{api}/auth/refresh", {"refresh_token": ""})
        assert "refresh_token" in failed_fields(empty)
        assert_error(await call("POST", f"{api}/auth/refresh", b"nope"), 400, "invalid")

        logout_body = {"refresh_token": rotated.body["refresh_token"]}
        assert_error(await call("POST", f"{api}/auth/logout", logout_body), 401, "unauthorized")
        assert "refresh_token" in failed_fields(
            await call("POST", f"{api}/auth/logout", {}, token=token)
        )
        done = await call("POST", f"{api}/auth/logout", logout_body, token=token)
        assert done.status == 204 and done.body is None
        assert_error(await call("GET", f"{api}/auth/me", token=token), 401, "unauthorized")
        again = await call("POST", f"{api}/auth/refresh", logout_body)
        assert_error(again, 401, "unauthorized")


async def test_me(base_url: str) -> None:
    with trio.fail_after(30):
        api = f"{base_url}/api/v1"
        body = register_body()
        created = await call("POST", f"{api}/auth/register", body)
        token = created.body["access_token"]
        me = await call("GET", f"{api}/auth/me", token=token)
        assert me.status == 200 and me.body == created.body["agent"]
        assert_error(await call("GET", f"{api}/auth/me"), 401, "unauthorized")
        assert_error(await call("GET", f"{api}/auth/me", token="not.a.jwt"), 401, "unauthorized")

        changed = await call(
            "PATCH", f"{api}/auth/me", {"name": " Annie ", "accepting_chats": False}, token=token
        )
        assert changed.status == 200, changed.body
        assert (changed.body["name"], changed.body["accepting_chats"]) == ("Annie", False)
        assert (await call("GET", f"{api}/auth/me", token=token)).body["name"] == "Annie"

        new = {"password": "a new long password"}
        assert "current_password" in str(
            assert_error(await call("PATCH", f"{api}/auth/me", new, token=token), 422, "invalid")
        )
        wrong = {**new, "current_password": "not my password"}
        assert_error(
            await call("PATCH", f"{api}/auth/me", wrong, token=token), 403, "wrong_password"
        )
        for bad, field in [
            ({"name": ""}, "name"),
            ({"name": "x" * 121}, "name"),
            ({"role": "admin"}, "role"),  # nobody promotes themselves
            ({"accepting_chats": "maybe"}, "accepting_chats"),
            ({"password": "short", "current_password": body["password"]}, "password"),
        ]:
            reply = await call("PATCH", f"{api}/auth/me", bad, token=token)
            assert field in failed_fields(reply), (bad, reply.body)
        assert_error(await call("PATCH", f"{api}/auth/me", b"{", token=token), 400, "invalid")
        assert_error(await call("PATCH", f"{api}/auth/me", {"name": "X"}), 401, "unauthorized")
        still = await call("GET", f"{api}/auth/me", token=token)
        assert (still.body["name"], still.body["role"]) == ("Annie", "admin")

        # The refused changes left the password alone: the old one is still the current one.
        ok = {**new, "current_password": body["password"]}
        assert (await call("PATCH", f"{api}/auth/me", ok, token=token)).status == 200
        old_login = {"email": body["email"], "password": body["password"]}
        assert_error(await call("POST", f"{api}/auth/login", old_login), 401, "invalid_credentials")
        fresh = await call("POST", f"{api}/auth/login", {**old_login, **new})
        assert fresh.status == 200, fresh.body


async def test_registration_does_not_reveal_a_known_email(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """Issue 15, finding 5: registration answered `email_taken` for a known email while login
    hid unknown ones. Now the refusal names no cause, and one address can probe only
    `registrations_per_address_per_hour` emails: past it, a taken and a fresh email get the
    same 429, before anything is looked up."""
    limited = settings.model_copy(update={"registrations_per_address_per_hour": 3})
    with trio.fail_after(60):
        binds = await nursery.start(serve, limited, "127.0.0.1", 0)
        api = f"{binds[0]}/api/v1"
        known = register_body()
        assert (await call("POST", f"{api}/auth/register", known)).status == 201
        taken = await call("POST", f"{api}/auth/register", {**known, "organization_name": "B"})
        error = assert_error(taken, 409, "registration_failed")
        assert "email" not in json.dumps(taken.body).lower()
        assert (await call("POST", f"{api}/auth/register", register_body())).status == 201
        past_taken = await call("POST", f"{api}/auth/register", known)
        past_fresh = await call("POST", f"{api}/auth/register", register_body())
        for reply in (past_taken, past_fresh):
            assert_error(reply, 429, "rate_limited")
        assert past_taken.body["error"]["message"] == past_fresh.body["error"]["message"]
        assert error["message"] != past_taken.body["error"]["message"]
