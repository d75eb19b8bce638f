"""The REST API route by route (chat/http/api/): each happy path and each documented error.

The errors a route may answer are declared in chat/http/openapi.py (`errors=` and the implied
401/403/404/422). Every error reply is checked for the contract's shape by `assert_error`.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import trio
from trio_websocket import ConnectionRejected, open_websocket_url

from chat.config import Settings
from tests.helpers.chat import ORIGIN, Org, agent_socket, make_org, widget
from tests.helpers.db import query as query_db
from tests.helpers.db import wait_for_rows
from tests.helpers.http import Reply, call

PASSWORD = "correct horse"
AGENT_FIELDS = {
    "id",
    "organization_id",
    "email",
    "name",
    "role",
    "is_online",
    "last_seen_at",
    "accepting_chats",
    "max_concurrent_chats",
    "created_at",
}
SPACE_FIELDS = {
    "id",
    "organization_id",
    "name",
    "widget_key",
    "allowed_domains",
    "settings",
    "created_at",
}
VISITOR_FIELDS = {"id", "space_id", "name", "email", "current_url", "created_at"}
THREAD_FIELDS = {
    "id",
    "space_id",
    "visitor_id",
    "assigned_agent_id",
    "status",
    "last_activity_at",
    "created_at",
    "closed_at",
}
MESSAGE_FIELDS = {
    "id",
    "thread_id",
    "sender_type",
    "sender_id",
    "sender_name",
    "content",
    "client_id",
    "created_at",
}
SNAKE_CASE = re.compile(r"^[a-z]+(_[a-z]+)*$")
REST_MAX_BODY_BYTES = 64 * 1024
NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"
Invalid = list[tuple[dict[str, Any], str]]  # (body change, the field its 422 names)


def assert_error(reply: Reply, status: int, code: str) -> dict[str, Any]:
    """The contract's error shape: {"error": {"code", "message", "details"?}} and nothing else."""
    assert reply.status == status, (reply.status, reply.body)
    assert isinstance(reply.body, dict) and set(reply.body) == {"error"}, reply.body
    error = reply.body["error"]
    assert set(error) <= {"code", "message", "details"}, error
    assert error["code"] == code, error
    assert SNAKE_CASE.match(error["code"]), error
    assert isinstance(error["message"], str) and error["message"], error
    assert "Traceback" not in json.dumps(reply.body)
    return dict(error)


def failed_fields(reply: Reply) -> set[str]:
    """The fields a 422 names in its details."""
    error = assert_error(reply, 422, "invalid")
    assert isinstance(error.get("details"), list) and error["details"], error
    for detail in error["details"]:
        assert set(detail) == {"field", "message"} and detail["message"], detail
    return {d["field"] for d in error["details"]}


def header(reply: Reply, name: str) -> str | None:
    return {k.lower(): v for k, v in reply.headers.items()}.get(name.lower())


@dataclass
class Member:
    """An agent of an organization (role agent), signed in."""

    agent: dict[str, Any]
    token: str


async def add_member(api: str, admin_token: str, name: str = "Bob") -> Member:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "name": name, "password": PASSWORD}
    created = await call("POST", f"{api}/agents", body, token=admin_token)
    assert created.status == 201, created.body
    login = await call("POST", f"{api}/auth/login", {"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    return Member(created.body, login.body["access_token"])


def register_body(**change: Any) -> dict[str, Any]:
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    return {
        "organization_name": "Acme",
        "name": "Ann",
        "email": email,
        "password": "long enough password",
        **change,
    }


# --- auth -------------------------------------------------------------------------------------


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
        assert set(org) == {"id", "name", "created_at"} and org["name"] == "Acme"
        assert agent["organization_id"] == org["id"]
        me = await call("GET", f"{api}/auth/me", token=created.body["access_token"])
        assert me.status == 200 and me.body["id"] == agent["id"]

        taken = {**body, "email": body["email"].upper(), "organization_name": "Other"}
        assert_error(await call("POST", f"{api}/auth/register", taken), 409, "email_taken")
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


# --- agents -----------------------------------------------------------------------------------


async def test_create_list_and_get_agents(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        email = f"bob-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "name": "Bob", "password": PASSWORD, "max_concurrent_chats": 3}
        created = await call("POST", f"{api}/agents", body, token=org.token)
        assert created.status == 201, created.body
        bob = created.body
        assert set(bob) == AGENT_FIELDS
        assert (bob["email"], bob["role"], bob["max_concurrent_chats"]) == (email, "agent", 3)
        assert bob["organization_id"] == org.agent["organization_id"]
        login = await call("POST", f"{api}/auth/login", {"email": email, "password": PASSWORD})
        assert login.status == 200 and login.body["agent"]["id"] == bob["id"]
        bob_token = login.body["access_token"]

        for taken in (email.upper(), org.agent["email"]):
            again = await call("POST", f"{api}/agents", {**body, "email": taken}, token=org.token)
            assert_error(again, 409, "email_taken")
        refused: Invalid = [
            ({"role": "owner"}, "role"),
            ({"max_concurrent_chats": 0}, "max_concurrent_chats"),
            ({"password": "short"}, "password"),
            ({"email": "nope"}, "email"),
            ({"organization_id": NO_SUCH_ID}, "organization_id"),
        ]
        for bad, field in refused:
            fresh = {**body, "email": f"x-{uuid.uuid4().hex[:8]}@example.com", **bad}
            reply = await call("POST", f"{api}/agents", fresh, token=org.token)
            assert field in failed_fields(reply), (bad, reply.body)

        # Listing and reading agents is open to every agent of the organization.
        for token in (org.token, bob_token):
            listed = await call("GET", f"{api}/agents", token=token)
            assert listed.status == 200, listed.body
            assert [a["id"] for a in listed.body["items"]] == [org.agent["id"], bob["id"]]
            assert all(set(a) == AGENT_FIELDS for a in listed.body["items"])
            one = await call("GET", f"{api}/agents/{bob['id']}", token=token)
            assert one.status == 200 and one.body == bob
        assert_error(
            await call("GET", f"{api}/agents/{NO_SUCH_ID}", token=org.token), 404, "not_found"
        )
        assert_error(
            await call("GET", f"{api}/agents/not-a-uuid", token=org.token), 404, "not_found"
        )
        other = {**body, "email": f"eve-{uuid.uuid4().hex[:8]}@example.com"}
        assert_error(await call("POST", f"{api}/agents", other, token=bob_token), 403, "forbidden")
        assert_error(await call("POST", f"{api}/agents", other), 401, "unauthorized")
        listed = await call("GET", f"{api}/agents", token=org.token)
        assert len(listed.body["items"]) == 2  # the refused creations made nobody


async def test_update_and_delete_agents(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await add_member(api, org.token)
        url = f"{api}/agents/{bob.agent['id']}"
        patched = await call(
            "PATCH",
            url,
            {"name": "Robert", "max_concurrent_chats": 9, "accepting_chats": False},
            token=org.token,
        )
        assert patched.status == 200, patched.body
        assert (patched.body["name"], patched.body["max_concurrent_chats"]) == ("Robert", 9)
        assert patched.body["accepting_chats"] is False
        assert (await call("GET", url, token=bob.token)).body["name"] == "Robert"
        for bad, field in [
            ({"role": "owner"}, "role"),
            ({"max_concurrent_chats": 1001}, "max_concurrent_chats"),
            ({"email": "new@example.com"}, "email"),
        ]:
            assert field in failed_fields(await call("PATCH", url, bad, token=org.token))
        assert_error(await call("PATCH", url, b"]", token=org.token), 400, "invalid")
        assert_error(
            await call("PATCH", f"{api}/agents/{NO_SUCH_ID}", {"name": "X"}, token=org.token),
            404,
            "not_found",
        )
        assert_error(await call("PATCH", url, {"name": "X"}, token=bob.token), 403, "forbidden")
        assert_error(await call("DELETE", url, token=bob.token), 403, "forbidden")

        # The last admin can be neither demoted nor deleted.
        ada = f"{api}/agents/{org.agent['id']}"
        assert_error(
            await call("PATCH", ada, {"role": "agent"}, token=org.token), 409, "last_admin"
        )
        assert_error(await call("DELETE", ada, token=org.token), 409, "last_admin")
        assert (await call("GET", ada, token=org.token)).body["role"] == "admin"
        promoted = await call("PATCH", url, {"role": "admin"}, token=org.token)
        assert promoted.status == 200 and promoted.body["role"] == "admin"
        demoted = await call("PATCH", ada, {"role": "agent"}, token=org.token)
        assert demoted.status == 200 and demoted.body["role"] == "agent"
        # The role is read from the database, not from the (older) token's claims.
        assert_error(await call("DELETE", url, token=org.token), 403, "forbidden")
        assert_error(await call("DELETE", url, token=bob.token), 409, "last_admin")

        deleted = await call("DELETE", ada, token=bob.token)
        assert deleted.status == 204 and deleted.body is None
        assert_error(await call("GET", ada, token=bob.token), 404, "not_found")
        assert_error(await call("DELETE", ada, token=bob.token), 404, "not_found")
        assert_error(await call("PATCH", ada, {"name": "X"}, token=bob.token), 404, "not_found")
        listed = await call("GET", f"{api}/agents", token=bob.token)
        assert [a["id"] for a in listed.body["items"]] == [bob.agent["id"]]


# --- spaces -----------------------------------------------------------------------------------


async def test_spaces(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await add_member(api, org.token)
        body = {
            "name": "Blog",
            "allowed_domains": ["Blog.Example.com", "*.Example.org", "blog.example.com"],
            "settings": {"greeting": "Hello", "max_open_threads": 3},
        }
        created = await call("POST", f"{api}/spaces", body, token=org.token)
        assert created.status == 201, created.body
        space = created.body
        assert set(space) == SPACE_FIELDS
        assert space["allowed_domains"] == ["blog.example.com", "*.example.org"]
        assert (space["settings"]["greeting"], space["settings"]["max_open_threads"]) == (
            "Hello",
            3,
        )
        assert space["settings"]["visitor_burst"] == 5  # defaults fill the rest
        assert space["widget_key"] and space["widget_key"] != org.space["widget_key"]
        refused: Invalid = [
            ({"allowed_domains": ["https://blog.example.com"]}, "allowed_domains"),
            ({"allowed_domains": []}, "allowed_domains"),
            ({"name": ""}, "name"),
            ({"settings": {"color": "red"}}, "settings.color"),
            ({"settings": {"unknown": 1}}, "settings.unknown"),
            ({"widget_key": "wk_mine"}, "widget_key"),
        ]
        for bad, field in refused:
            reply = await call("POST", f"{api}/spaces", {**body, **bad}, token=org.token)
            assert field in failed_fields(reply), (bad, reply.body)
        assert_error(await call("POST", f"{api}/spaces", body, token=bob.token), 403, "forbidden")
        assert_error(await call("POST", f"{api}/spaces", body), 401, "unauthorized")

        url = f"{api}/spaces/{space['id']}"
        for token in (org.token, bob.token):
            listed = await call("GET", f"{api}/spaces", token=token)
            assert [s["id"] for s in listed.body["items"]] == [org.space["id"], space["id"]]
            assert (await call("GET", url, token=token)).body == space
        assert_error(
            await call("GET", f"{api}/spaces/{NO_SUCH_ID}", token=org.token), 404, "not_found"
        )

        # Settings merge key by key: what a PATCH leaves out keeps its value.
        first = await call("PATCH", url, {"settings": {"color": "#112233"}}, token=org.token)
        assert first.status == 200, first.body
        second = await call(
            "PATCH",
            url,
            {
                "name": "Blog 2",
                "allowed_domains": ["news.example.com"],
                "settings": {"greeting": "Hey"},
            },
            token=org.token,
        )
        assert second.status == 200, second.body
        settings = second.body["settings"]
        assert (settings["color"], settings["greeting"], settings["max_open_threads"]) == (
            "#112233",
            "Hey",
            3,
        )
        assert (second.body["name"], second.body["allowed_domains"]) == (
            "Blog 2",
            ["news.example.com"],
        )
        assert second.body["widget_key"] == space["widget_key"]
        assert (await call("GET", url, token=bob.token)).body == second.body
        refused = [
            ({"settings": {"visitor_burst": 0}}, "settings.visitor_burst"),
            ({"allowed_domains": ["*"]}, "allowed_domains"),
            ({"name": "x" * 121}, "name"),
        ]
        for bad, field in refused:
            assert field in failed_fields(await call("PATCH", url, bad, token=org.token))
        assert_error(await call("PATCH", url, {"name": "X"}, token=bob.token), 403, "forbidden")
        assert_error(
            await call("PATCH", f"{api}/spaces/{NO_SUCH_ID}", {"name": "X"}, token=org.token),
            404,
            "not_found",
        )
        assert (await call("GET", url, token=org.token)).body == second.body

        assert_error(await call("DELETE", url, token=bob.token), 403, "forbidden")
        deleted = await call("DELETE", url, token=org.token)
        assert deleted.status == 204 and deleted.body is None
        assert_error(await call("GET", url, token=org.token), 404, "not_found")
        assert_error(await call("DELETE", url, token=org.token), 404, "not_found")
        assert_error(await call("PATCH", url, {"name": "X"}, token=org.token), 404, "not_found")
        listed = await call("GET", f"{api}/spaces", token=org.token)
        assert [s["id"] for s in listed.body["items"]] == [org.space["id"]]
        config = f"{api}/widget/{space['widget_key']}/config"
        gone = await call("GET", config, origin="https://news.example.com")
        assert_error(gone, 404, "not_found")
        assert await _handshake_status(org, space["widget_key"]) == 404


async def _handshake_status(org: Org, key: str) -> int | None:
    """The HTTP status a widget handshake with this key is refused with; None if accepted."""
    url = f"{org.ws_base}/ws/widget?key={key}"
    try:
        async with open_websocket_url(url, extra_headers=[(b"Origin", ORIGIN.encode())]):
            return None
    except ConnectionRejected as rejected:
        return int(rejected.status_code)


async def test_rotate_key(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await add_member(api, org.token)
        old_key = org.space["widget_key"]
        url = f"{api}/spaces/{org.space['id']}/rotate-key"
        assert_error(await call("POST", url, token=bob.token), 403, "forbidden")
        assert_error(await call("POST", url), 401, "unauthorized")
        assert_error(
            await call("POST", f"{api}/spaces/{NO_SUCH_ID}/rotate-key", token=org.token),
            404,
            "not_found",
        )
        assert await _handshake_status(org, old_key) is None  # the refusals rotated nothing

        rotated = await call("POST", url, token=org.token)
        assert rotated.status == 200, rotated.body
        new_key = rotated.body["widget_key"]
        assert new_key != old_key
        assert {k: v for k, v in rotated.body.items() if k != "widget_key"} == {
            k: v for k, v in org.space.items() if k != "widget_key"
        }
        space = await call("GET", f"{api}/spaces/{org.space['id']}", token=org.token)
        assert space.body["widget_key"] == new_key

        assert await _handshake_status(org, old_key) == 404
        old_config = await call("GET", f"{api}/widget/{old_key}/config", origin=ORIGIN)
        assert_error(old_config, 404, "not_found")
        new_config = await call("GET", f"{api}/widget/{new_key}/config", origin=ORIGIN)
        assert new_config.status == 200, new_config.body
        org.space = rotated.body
        async with widget(org) as (_visitor, welcome):
            assert welcome["visitor"]["space_id"] == org.space["id"]


async def test_widget_config(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(
            base_url,
            allowed=["shop.example.com", "*.example.org"],
            settings={"greeting": "Welcome!", "color": "#00aa00"},
        )
        url = f"{base_url}/api/v1/widget/{org.space['widget_key']}/config"
        for origin in (ORIGIN, "https://a.example.org"):
            ok = await call("GET", url, origin=origin)
            assert ok.status == 200, (origin, ok.body)
            assert ok.body == {
                "space": {"name": "Shop", "settings": org.space["settings"]},
                "agents_online": False,
            }
            assert header(ok, "Access-Control-Allow-Origin") == origin
            assert "origin" in (header(ok, "Vary") or "").lower()
        assert org.space["settings"]["greeting"] == "Welcome!"
        for bad_origin in (
            "https://shop.example.com.evil.net",
            "https://example.org",
            "null",
            None,
        ):
            refused = await call("GET", url, origin=bad_origin)
            assert_error(refused, 403, "origin_not_allowed")
            assert header(refused, "Access-Control-Allow-Origin") is None
        unknown = await call("GET", f"{base_url}/api/v1/widget/wk_nope/config", origin=ORIGIN)
        assert_error(unknown, 404, "not_found")

        async with agent_socket(base_url, org.token):
            online = await call("GET", url, origin=ORIGIN)
            assert online.status == 200 and online.body["agents_online"] is True
            agents = await call("GET", f"{base_url}/api/v1/agents", token=org.token)
            assert [a["is_online"] for a in agents.body["items"]] == [True]


# --- threads ----------------------------------------------------------------------------------


async def _open_threads(org: Org, count: int) -> list[dict[str, Any]]:
    """`count` visitors, each opening a thread with one message; their acks, oldest first."""
    acks = []
    for n in range(count):
        async with widget(org) as (visitor, _):
            acks.append(await visitor.say(f"hello {n}"))
    return acks


async def test_thread_list_statuses_and_pages(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        threads = [ack["thread_id"] for ack in await _open_threads(org, 5)]
        claimed, closed = threads[1], threads[3]
        claim = await call("POST", f"{api}/threads/{claimed}/claim", token=org.token)
        assert claim.status == 200, claim.body
        close = await call("POST", f"{api}/threads/{closed}/close", token=org.token)
        assert close.status == 200, close.body
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) = 5 AND count(*) FILTER (WHERE status = 'active') = 1"
            " AND count(*) FILTER (WHERE status = 'closed') = 1 FROM threads WHERE space_id = %s",
            (org.space["id"],),
            True,
        )
        url = f"{api}/spaces/{org.space['id']}/threads"

        async def listed(query: str) -> list[dict[str, Any]]:
            reply = await call("GET", f"{url}{query}", token=org.token)
            assert reply.status == 200, reply.body
            assert reply.body["next_cursor"] is None
            assert all(set(t) == THREAD_FIELDS for t in reply.body["items"])
            return list(reply.body["items"])

        def ids(items: list[dict[str, Any]]) -> list[str]:
            return [t["id"] for t in items]

        default = await listed("")
        assert sorted(ids(default)) == sorted(t for t in threads if t != closed)
        assert ids(await listed("?status=closed")) == [closed]
        active = await listed("?status=active")
        assert ids(active) == [claimed] and active[0]["assigned_agent_id"] == org.agent["id"]
        assert sorted(ids(await listed("?status=unassigned"))) == sorted(
            set(threads) - {claimed, closed}
        )
        assert ids(await listed("?status=expired")) == []
        everything = await listed("?status=closed,unassigned,active,expired&limit=200")
        assert sorted(ids(everything)) == sorted(threads)
        newest_first = sorted(
            everything, key=lambda t: (t["last_activity_at"], t["id"]), reverse=True
        )
        assert ids(everything) == ids(newest_first)
        assert everything[0]["id"] == closed  # closing was the latest activity

        # Pages of two: every thread once, in the same order as the one big page.
        async def pages_of_two() -> list[str]:
            paged: list[str] = []
            cursor = None
            for _page in range(3):
                query = "?status=unassigned,active,closed&limit=2"
                if cursor:
                    query += f"&cursor={quote(cursor)}"
                reply = await call("GET", url + query, token=org.token)
                assert reply.status == 200, reply.body
                paged += ids(reply.body["items"])
                cursor = reply.body["next_cursor"]
                assert (cursor is None) == (len(paged) == 5), (paged, cursor)
            return paged

        assert await pages_of_two() == ids(everything)
        # Threads active at the same instant (ms, as the projector writes) still page without
        # gaps or repeats: the cursor breaks ties by id.
        tied = await trio.to_thread.run_sync(
            query_db,
            settings.database_url,
            "UPDATE threads SET last_activity_at = '2026-01-02T03:04:05.678Z'"
            " WHERE space_id = %s RETURNING id",
            (org.space["id"],),
        )
        assert len(tied) == 5
        assert await pages_of_two() == sorted(threads, reverse=True)

        for query, field in [
            ("?limit=0", "limit"),
            ("?limit=201", "limit"),
            ("?limit=many", "limit"),
            ("?status=open", "status"),
            ("?status=active,", "status"),
            ("?cursor=" + "x" * 201, "cursor"),
        ]:
            reply = await call("GET", url + query, token=org.token)
            assert field in failed_fields(reply), (query, reply.body)
        for cursor in ("garbage", "2024-01-01T00:00:00Z|not-a-uuid", f"yesterday|{threads[0]}"):
            reply = await call("GET", f"{url}?cursor={quote(cursor)}", token=org.token)
            assert_error(reply, 400, "invalid")
        assert_error(
            await call("GET", f"{api}/spaces/{NO_SUCH_ID}/threads", token=org.token),
            404,
            "not_found",
        )
        assert_error(await call("GET", url), 401, "unauthorized")


async def test_thread_and_messages(base_url: str, settings: Settings) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        async with widget(org) as (visitor, welcome):
            await visitor.send({"type": "identify", "name": "Vera", "email": "vera@example.com"})
            acks = [await visitor.say(f"message {n}") for n in range(3)]
        thread_id = acks[0]["thread_id"]
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM visitors WHERE id = %s AND name = 'Vera'",
            (welcome["visitor"]["id"],),
            1,
        )
        thread = await call("GET", f"{api}/threads/{thread_id}", token=org.token)
        assert thread.status == 200, thread.body
        assert set(thread.body) == THREAD_FIELDS | {"visitor"}
        assert (thread.body["id"], thread.body["status"]) == (thread_id, "unassigned")
        assert thread.body["space_id"] == org.space["id"]
        visitor_json = thread.body["visitor"]
        assert set(visitor_json) == VISITOR_FIELDS
        assert visitor_json["id"] == thread.body["visitor_id"] == welcome["visitor"]["id"]
        assert (visitor_json["name"], visitor_json["email"]) == ("Vera", "vera@example.com")

        url = f"{api}/threads/{thread_id}/messages"
        page = await call("GET", url, token=org.token)
        assert page.status == 200, page.body
        items = page.body["items"]
        assert [m["id"] for m in items] == [a["id"] for a in acks]
        assert all(set(m) == MESSAGE_FIELDS for m in items)
        assert [m["content"] for m in items] == ["message 0", "message 1", "message 2"]
        assert {(m["sender_type"], m["thread_id"]) for m in items} == {("visitor", thread_id)}
        assert page.body["next_before"] is None
        newest = await call("GET", f"{url}?limit=2", token=org.token)
        assert [m["id"] for m in newest.body["items"]] == [a["id"] for a in acks[1:]]
        assert newest.body["next_before"] == acks[1]["id"]
        older = await call(
            "GET", f"{url}?limit=2&before={newest.body['next_before']}", token=org.token
        )
        assert [m["id"] for m in older.body["items"]] == [acks[0]["id"]]
        assert older.body["next_before"] is None

        for query, field in [
            ("?limit=0", "limit"),
            ("?limit=201", "limit"),
            ("?before=yesterday", "before"),
        ]:
            assert field in failed_fields(await call("GET", url + query, token=org.token))
        for path in (f"/threads/{NO_SUCH_ID}", f"/threads/{NO_SUCH_ID}/messages"):
            assert_error(await call("GET", api + path, token=org.token), 404, "not_found")
        assert_error(await call("GET", f"{api}/threads/{thread_id}"), 401, "unauthorized")
        assert_error(await call("GET", url), 401, "unauthorized")

        # A deleted space's threads are no longer found, by any route.
        await wait_for_rows(
            settings.database_url, "SELECT count(*) FROM threads WHERE id = %s", (thread_id,), 1
        )
        deleted = await call("DELETE", f"{api}/spaces/{org.space['id']}", token=org.token)
        assert deleted.status == 204, deleted.body
        for method, path in [
            ("GET", ""),
            ("GET", "/messages"),
            ("POST", "/claim"),
            ("POST", "/close"),
        ]:
            reply = await call(method, f"{api}/threads/{thread_id}{path}", token=org.token)
            assert_error(reply, 404, "not_found")


async def test_claim_close_and_transfer(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        other_org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await add_member(api, org.token, "Bob")
        cleo = await add_member(api, org.token, "Cleo")
        gone = await add_member(api, org.token, "Gone")
        assert (
            await call("DELETE", f"{api}/agents/{gone.agent['id']}", token=org.token)
        ).status == 204
        [ack] = await _open_threads(org, 1)
        thread = f"{api}/threads/{ack['thread_id']}"

        claimed = await call("POST", f"{thread}/claim", token=bob.token)
        assert claimed.status == 200, claimed.body
        assert set(claimed.body) == THREAD_FIELDS
        assert (claimed.body["status"], claimed.body["assigned_agent_id"]) == (
            "active",
            bob.agent["id"],
        )
        again = await call("POST", f"{thread}/claim", token=bob.token)  # idempotent for the holder
        assert again.status == 200 and again.body["assigned_agent_id"] == bob.agent["id"]
        assert_error(
            await call("POST", f"{thread}/claim", token=cleo.token), 409, "already_claimed"
        )

        for target in (NO_SUCH_ID, other_org.agent["id"], gone.agent["id"]):
            reply = await call("POST", f"{thread}/transfer", {"agent_id": target}, token=bob.token)
            assert_error(reply, 404, "not_found")
        for bad in ({"agent_id": "bob"}, {}, {"agent_id": cleo.agent["id"], "note": "x"}):
            reply = await call("POST", f"{thread}/transfer", bad, token=bob.token)
            assert_error(reply, 422, "invalid")
        assert_error(
            await call("POST", f"{thread}/transfer", b"{{", token=bob.token), 400, "invalid"
        )
        still = await call("GET", thread, token=bob.token)
        assert still.body["assigned_agent_id"] == bob.agent["id"]

        moved = await call(
            "POST", f"{thread}/transfer", {"agent_id": cleo.agent["id"]}, token=bob.token
        )
        assert moved.status == 200, moved.body
        assert (moved.body["status"], moved.body["assigned_agent_id"]) == (
            "active",
            cleo.agent["id"],
        )
        assert_error(await call("POST", f"{thread}/claim", token=bob.token), 409, "already_claimed")

        closed = await call("POST", f"{thread}/close", token=cleo.token)
        assert closed.status == 200, closed.body
        assert closed.body["status"] == "closed" and closed.body["closed_at"]
        assert_error(await call("POST", f"{thread}/close", token=cleo.token), 409, "thread_closed")
        assert_error(await call("POST", f"{thread}/claim", token=bob.token), 409, "thread_closed")
        reopen = {"agent_id": bob.agent["id"]}
        assert_error(
            await call("POST", f"{thread}/transfer", reopen, token=cleo.token), 409, "thread_closed"
        )

        unknown = f"{api}/threads/{NO_SUCH_ID}"
        for action, body in [("claim", None), ("close", None), ("transfer", reopen)]:
            reply = await call("POST", f"{unknown}/{action}", body, token=org.token)
            assert_error(reply, 404, "not_found")


# --- across routes ----------------------------------------------------------------------------

# Routes only admins may call (403 forbidden for agents), each with a valid body; ids are filled
# from the organization under test.
ADMIN_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/agents", {"email": "x@example.com", "name": "X", "password": PASSWORD}),
    ("PATCH", "/agents/{agent_id}", {"name": "X"}),
    ("DELETE", "/agents/{agent_id}", None),
    ("POST", "/spaces", {"name": "X", "allowed_domains": ["x.example.com"]}),
    ("PATCH", "/spaces/{space_id}", {"name": "X"}),
    ("DELETE", "/spaces/{space_id}", None),
    ("POST", "/spaces/{space_id}/rotate-key", None),
]
# Routes that may answer 403 for another reason than the caller's role.
OTHER_403 = {("PATCH", "/auth/me"), ("GET", "/widget/{widget_key}/config")}


async def test_every_route_checks_its_caller(base_url: str) -> None:
    """Every non-public route: 401 without a token or with a bad one. Admin routes: 403 for an
    agent (and nothing changes). Both lists come from the OpenAPI document."""
    with trio.fail_after(40):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await add_member(api, org.token)
        spec = (await call("GET", f"{api}/openapi.json")).body
        secured, forbidding = [], set()
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                route = (method.upper(), path.removeprefix("/api/v1"))
                if operation.get("security"):
                    secured.append(route)
                if "403" in operation["responses"]:
                    forbidding.add(route)
        assert len(secured) >= 19, secured
        for method, path in secured:
            url = api + re.sub(r"\{\w+\}", NO_SUCH_ID, path)
            for token in (None, "not-a-token"):
                reply = await call(method, url, token=token)
                assert_error(reply, 401, "unauthorized")

        assert forbidding == {(m, p) for m, p, _ in ADMIN_ROUTES} | OTHER_403
        ids = {"agent_id": org.agent["id"], "space_id": org.space["id"]}
        for method, path, body in ADMIN_ROUTES:
            reply = await call(method, api + path.format(**ids), body, token=bob.token)
            assert_error(reply, 403, "forbidden")
        agents = await call("GET", f"{api}/agents", token=org.token)
        assert agents.body["items"] == [
            {**org.agent, "is_online": False},
            {**bob.agent, "is_online": False},
        ]
        spaces = await call("GET", f"{api}/spaces", token=org.token)
        assert spaces.body["items"] == [org.space]


async def test_errors_have_the_contract_shape(base_url: str) -> None:
    """Failures the framework answers (unknown path, method, bad id, oversized body) included."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        assert_error(await call("GET", f"{api}/nowhere", token=org.token), 404, "not_found")
        assert_error(await call("GET", f"{api}/spaces/42", token=org.token), 404, "not_found")
        assert_error(
            await call("PUT", f"{api}/spaces", {"name": "x"}, token=org.token),
            405,
            "method_not_allowed",
        )
        # 64 KiB is the limit: a body of exactly that size is read (and fails validation), one
        # byte more is 413, on public and authenticated routes alike.
        for size, status, code in [
            (REST_MAX_BODY_BYTES, 422, "invalid"),
            (REST_MAX_BODY_BYTES + 1, 413, "too_large"),
        ]:
            prefix, suffix = b'{"name": "', b'", "allowed_domains": ["a.example.com"]}'
            filler = b"x" * (size - len(prefix) - len(suffix))
            body = prefix + filler + suffix
            assert len(body) == size
            assert_error(await call("POST", f"{api}/spaces", body, token=org.token), status, code)
            assert_error(await call("POST", f"{api}/auth/register", body), status, code)
        for body in (b"null", b"[]", b'"text"', b"12", b"{'name': 'x'}"):
            reply = await call("POST", f"{api}/spaces", body, token=org.token)
            assert_error(reply, 400, "invalid")
        listed = await call("GET", f"{api}/spaces", token=org.token)
        assert len(listed.body["items"]) == 1  # none of the refused bodies made a space


async def test_a_body_that_is_not_utf8_is_400(base_url: str) -> None:
    """JSON is UTF-8 (contract): other bytes are a malformed body, never a 500."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        for body in (b"\xff\xfe", b'{"name": "caf\xe9", "allowed_domains": ["a.example.com"]}'):
            assert_error(await call("POST", f"{api}/spaces", body, token=org.token), 400, "invalid")
            assert_error(await call("POST", f"{api}/auth/login", body), 400, "invalid")
