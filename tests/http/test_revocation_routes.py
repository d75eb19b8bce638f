"""The REST routes that take authority away close the live sockets it granted, end to end:
DELETE /agents/{id}, POST /auth/logout, a password change, refresh-token reuse (4001), and
POST /spaces/{id}/rotate-key, DELETE /spaces/{id} (4004). chat/actors/revocation.py has the
mechanism's own tests (tests/actors/test_revocation.py)."""

from __future__ import annotations

from typing import Any

import trio

from chat.errors import CLOSE_KEY_REVOKED, CLOSE_UNAUTHORIZED
from tests.helpers.api import create_agent
from tests.helpers.chat import (
    PASSWORD,
    Org,
    agent_socket,
    assert_alive,
    close_code,
    make_org,
    widget,
)
from tests.helpers.http import call


async def _agent(org: Org) -> tuple[str, str]:
    """A new agent of the org made through POST /agents; (its id, its email)."""
    agent = await create_agent(f"{org.base}/api/v1", org.token, "Agent")
    return agent["id"], agent["email"]


async def _login(org: Org, email: str, password: str = PASSWORD) -> dict[str, Any]:
    reply = await call(
        "POST", f"{org.base}/api/v1/auth/login", {"email": email, "password": password}
    )
    assert reply.status == 200, reply.body
    return dict(reply.body)


async def test_deleting_an_agent_closes_its_sockets(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        agent_id, email = await _agent(org)
        tokens = await _login(org, email)
        async with (
            agent_socket(base_url, tokens["access_token"]) as (doomed, _),
            agent_socket(base_url, org.token) as (admin, _),
        ):
            deleted = await call("DELETE", f"{base_url}/api/v1/agents/{agent_id}", token=org.token)
            assert deleted.status == 204, deleted.body
            assert await close_code(doomed) == CLOSE_UNAUTHORIZED
            await assert_alive(admin)


async def test_logout_closes_that_sign_in_only(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        _, email = await _agent(org)
        leaving, staying = await _login(org, email), await _login(org, email)
        async with (
            agent_socket(base_url, leaving["access_token"]) as (left, _),
            agent_socket(base_url, staying["access_token"]) as (stayed, _),
        ):
            out = await call(
                "POST",
                f"{base_url}/api/v1/auth/logout",
                {"refresh_token": leaving["refresh_token"]},
                token=leaving["access_token"],
            )
            assert out.status == 204, out.body
            assert await close_code(left) == CLOSE_UNAUTHORIZED
            await assert_alive(stayed)


async def test_password_change_closes_the_other_sign_ins(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        _, email = await _agent(org)
        here, elsewhere = await _login(org, email), await _login(org, email)
        async with (
            agent_socket(base_url, here["access_token"]) as (mine, _),
            agent_socket(base_url, elsewhere["access_token"]) as (other, _),
        ):
            changed = await call(
                "PATCH",
                f"{base_url}/api/v1/auth/me",
                {"password": "a brand new password", "current_password": PASSWORD},
                token=here["access_token"],
            )
            assert changed.status == 200, changed.body
            assert await close_code(other) == CLOSE_UNAUTHORIZED
            await assert_alive(mine)


async def test_refresh_token_reuse_closes_the_family_sockets(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        _, email = await _agent(org)
        first = await _login(org, email)
        api = f"{base_url}/api/v1/auth/refresh"
        rotated = await call("POST", api, {"refresh_token": first["refresh_token"]})
        assert rotated.status == 200, rotated.body
        async with agent_socket(base_url, rotated.body["access_token"]) as (socket, _):
            reused = await call("POST", api, {"refresh_token": first["refresh_token"]})
            assert reused.status == 401, reused.body
            assert await close_code(socket) == CLOSE_UNAUTHORIZED


async def test_rotating_the_key_closes_its_widgets(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        async with widget(org) as (visitor, _):
            rotated = await call(
                "POST", f"{base_url}/api/v1/spaces/{org.space['id']}/rotate-key", token=org.token
            )
            assert rotated.status == 200, rotated.body
            assert rotated.body["widget_key"] != org.space["widget_key"]
            assert await close_code(visitor) == CLOSE_KEY_REVOKED
        renewed = Org(org.base, org.token, org.agent, rotated.body)
        async with widget(renewed) as (visitor, welcome):
            assert welcome["type"] == "welcome"


async def test_deleting_the_space_closes_its_widgets(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        async with widget(org) as (visitor, _):
            deleted = await call(
                "DELETE", f"{base_url}/api/v1/spaces/{org.space['id']}", token=org.token
            )
            assert deleted.status == 204, deleted.body
            assert await close_code(visitor) == CLOSE_KEY_REVOKED


async def test_a_new_role_closes_the_agents_sockets_and_a_new_name_does_not(base_url: str) -> None:
    """A socket decides by the role it connected with what reaches it (whispers: structures.md,
    "Roles and supervisors"), so a role change closes the agent's sockets (4001) and they
    reconnect with the new one; its sign-in stays valid. Other changes close nothing."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        agent_id, email = await _agent(org)
        tokens = await _login(org, email)
        url = f"{base_url}/api/v1/agents/{agent_id}"
        async with (
            agent_socket(base_url, tokens["access_token"]) as (changed, _),
            agent_socket(base_url, org.token) as (admin, _),
        ):
            renamed = await call("PATCH", url, {"name": "Renamed"}, token=org.token)
            assert renamed.status == 200, renamed.body
            await assert_alive(changed)
            promoted = await call("PATCH", url, {"role": "supervisor"}, token=org.token)
            assert promoted.status == 200 and promoted.body["role"] == "supervisor"
            assert await close_code(changed) == CLOSE_UNAUTHORIZED
            await assert_alive(admin)
        async with agent_socket(base_url, tokens["access_token"]) as (_again, welcome):
            assert welcome["agent"]["role"] == "supervisor"
