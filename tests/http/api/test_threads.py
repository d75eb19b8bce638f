"""The thread routes of chat/http/api/threads.py: read a thread and its messages, claim, close and
transfer it, each happy path and each documented error. Listing a space's threads is a space
route (tests/http/api/test_spaces.py)."""

from __future__ import annotations

import trio

from chat.config import Settings
from tests.helpers.api import (
    MESSAGE_FIELDS,
    NO_SUCH_ID,
    THREAD_FIELDS,
    VISITOR_FIELDS,
    add_member,
    assert_error,
    failed_fields,
    open_threads,
)
from tests.helpers.chat import agent_socket, make_org, widget
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call


async def claim_projected(database_url: str, thread_id: str) -> None:
    """Until PostgreSQL holds the thread's claim: GET /threads/{id} answers the projected row,
    and a loaded CI run read it before the projector had written the claim."""
    await wait_for_rows(
        database_url,
        "SELECT count(*) FROM threads WHERE id = %s AND assigned_agent_id IS NOT NULL",
        (thread_id,),
        1,
    )


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


async def test_claim_close_and_transfer(base_url: str, settings: Settings) -> None:
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
        [ack] = await open_threads(org, 1)
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
        await claim_projected(settings.database_url, ack["thread_id"])
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


async def test_thread_commands_by_role_over_rest_and_the_socket(
    base_url: str, settings: Settings
) -> None:
    """Issue 15, finding 4: an agent who lost a claim took the thread by transferring it to
    themselves, and any agent closed a colleague's conversation. REST answers 403 forbidden,
    the socket an error frame with the same code; a target's availability is 409."""
    with trio.fail_after(40):
        org = await make_org(base_url)  # org.token is the admin's
        api = f"{base_url}/api/v1"
        bob = await add_member(api, org.token, "Bob")
        cleo = await add_member(api, org.token, "Cleo")
        [ack] = await open_threads(org, 1)
        thread_id = ack["thread_id"]
        thread = f"{api}/threads/{thread_id}"
        assert (await call("POST", f"{thread}/claim", token=bob.token)).status == 200
        assert_error(
            await call("POST", f"{thread}/claim", token=cleo.token), 409, "already_claimed"
        )
        to_self = {"agent_id": cleo.agent["id"]}
        assert_error(
            await call("POST", f"{thread}/transfer", to_self, token=cleo.token), 403, "forbidden"
        )
        assert_error(await call("POST", f"{thread}/close", token=cleo.token), 403, "forbidden")
        async with agent_socket(base_url, cleo.token) as (socket, _):
            for frame in (
                {"type": "transfer", "thread_id": thread_id, "agent_id": cleo.agent["id"]},
                {"type": "close", "thread_id": thread_id},
            ):
                await socket.send(frame)
                error = await socket.expect("error")
                assert (error["code"], error["ref"], error["thread_id"]) == (
                    "forbidden",
                    frame["type"],
                    thread_id,
                )
        # The refused commands appended nothing (each was answered forbidden), so the projected
        # row is then the thread's state.
        await claim_projected(settings.database_url, thread_id)
        still = await call("GET", thread, token=bob.token)
        assert (still.body["status"], still.body["assigned_agent_id"]) == (
            "active",
            bob.agent["id"],
        )

        # A target that is not accepting chats: 409 for the holder; an admin may force it,
        # an agent may not.
        away = {"accepting_chats": False}
        assert (await call("PATCH", f"{api}/auth/me", away, token=cleo.token)).status == 200
        assert_error(
            await call("POST", f"{thread}/transfer", to_self, token=bob.token),
            409,
            "agent_unavailable",
        )
        forced = {**to_self, "force": True}
        assert_error(
            await call("POST", f"{thread}/transfer", forced, token=bob.token), 403, "forbidden"
        )
        moved = await call("POST", f"{thread}/transfer", forced, token=org.token)
        assert moved.status == 200 and moved.body["assigned_agent_id"] == cleo.agent["id"]
        # The admin closes whoever holds it.
        closed = await call("POST", f"{thread}/close", token=org.token)
        assert closed.status == 200 and closed.body["status"] == "closed"
