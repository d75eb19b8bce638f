"""The agent routes of chat/http/api/agents.py: create, list, read, update and delete the
organization's agents, each happy path and each documented error."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import trio

from chat.auth import passwords
from tests.helpers.api import (
    AGENT_FIELDS,
    NO_SUCH_ID,
    Invalid,
    add_member,
    assert_error,
    failed_fields,
)
from tests.helpers.chat import PASSWORD, make_org
from tests.helpers.http import call


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
            assert all(set(a) == AGENT_FIELDS | {"active_chats"} for a in listed.body["items"])
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


async def test_names_lose_bidi_controls_and_need_a_visible_character(base_url: str) -> None:
    """Issue 15, finding 8: a bidi override in an agent's or organization's name reached every
    agent and visitor who saw it."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        email = f"bob-{uuid.uuid4().hex[:8]}@example.com"
        body = {"email": email, "name": "\u202eBob\u2066", "password": PASSWORD}
        created = await call("POST", f"{api}/agents", body, token=org.token)
        assert created.status == 201 and created.body["name"] == "Bob", created.body
        for invisible in ("\u200b\u200d", "\u202e \u2069"):
            reply = await call(
                "POST", f"{api}/agents", {**body, "name": invisible}, token=org.token
            )
            assert failed_fields(reply) == {"name"}, invisible
            renamed = {"name": invisible}
            reply = await call("PATCH", f"{api}/auth/me", renamed, token=org.token)
            assert failed_fields(reply) == {"name"}, invisible
        register = {
            "organization_name": "\u202dAcme",
            "name": "Ann",
            "email": f"ann-{uuid.uuid4().hex[:8]}@example.com",
            "password": PASSWORD,
        }
        registered = await call("POST", f"{api}/auth/register", register)
        assert registered.status == 201, registered.body
        assert registered.body["organization"]["name"] == "Acme"


BURST = 50
# The login starts once this many of the burst's new passwords wait to be hashed.
QUEUED = 20


def _post_json(url: str, body: dict[str, Any], token: str) -> int:
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    req = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310
            return int(resp.status)
    except urllib.error.HTTPError as err:
        err.close()
        return int(err.code)


async def test_one_organizations_burst_of_new_agents_does_not_delay_anothers_login(
    base_url: str,
) -> None:
    """Issue 15, finding 13: 100 concurrent POST /agents with a taken email each ran argon2id
    before the 409, all hashing shared one limiter of 2, and another organization's login took
    9 s. Now a taken email costs a SELECT, new passwords are hashed one at a time per
    organization, and logins verify on their own limiter."""
    with trio.fail_after(120):
        busy = await make_org(base_url)
        calm = await make_org(base_url)
        api = f"{base_url}/api/v1"
        taken = busy.agent["email"]
        statuses: list[int] = []
        # The burst's own worker threads: the login below must not wait for one of them.
        threads = trio.CapacityLimiter(BURST)

        async def add(n: int) -> None:
            fresh = f"burst-{n}-{uuid.uuid4().hex[:6]}@example.com"
            body = {"email": taken if n % 2 else fresh, "name": f"B{n}", "password": PASSWORD}
            statuses.append(
                await trio.to_thread.run_sync(
                    _post_json, f"{api}/agents", body, busy.token, limiter=threads
                )
            )

        async with trio.open_nursery() as nursery:
            for n in range(BURST):
                nursery.start_soon(add, n)
            # Wait until the burst has hashes queued (polling the in-process server's limiters).
            while passwords.hashes_waiting() < QUEUED:
                await trio.sleep(0.005)
            started = trio.current_time()
            login = {"email": calm.agent["email"], "password": PASSWORD}
            signed_in = await call("POST", f"{api}/auth/login", login)
            # Measured, not fail_after: the client's worker thread cannot be cancelled.
            took = trio.current_time() - started
            assert signed_in.status == 200, signed_in.body
            assert took < 1.0, f"the login took {took:.2f} s behind another organization's burst"
        assert sorted(set(statuses)) == [201, 409]
        assert statuses.count(409) == BURST // 2
