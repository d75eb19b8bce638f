"""The REST routes the core needs: errors in the contract's shape, tokens, and tenancy."""

from __future__ import annotations

import trio

from chat.config import Settings
from tests.helpers.api import assert_error
from tests.helpers.chat import make_org, widget
from tests.helpers.db import peer_agent_token, wait_for_messages
from tests.helpers.http import call


async def test_register_login_refresh_and_reuse_detection(base_url: str) -> None:
    with trio.fail_after(60):
        api = f"{base_url}/api/v1"
        body = {
            "organization_name": "A",
            "name": "Ann",
            "email": "ann@example.com",
            "password": "long enough password",
        }
        created = await call("POST", f"{api}/auth/register", body)
        assert created.status == 201
        assert created.body["agent"]["role"] == "admin"
        # A taken email: the generic refusal, which does not say the email exists (issue 15).
        assert_error(await call("POST", f"{api}/auth/register", body), 409, "registration_failed")
        assert_error(
            await call("POST", f"{api}/auth/register", {**body, "password": "short"}),
            422,
            "invalid",
        )
        assert_error(
            await call(
                "POST",
                f"{api}/auth/login",
                {"email": "ann@example.com", "password": "wrong password!"},
            ),
            401,
            "invalid_credentials",
        )
        assert_error(
            await call(
                "POST",
                f"{api}/auth/login",
                {"email": "nobody@example.com", "password": "wrong password!"},
            ),
            401,
            "invalid_credentials",
        )
        login = await call(
            "POST",
            f"{api}/auth/login",
            {"email": "ANN@example.com", "password": "long enough password"},
        )
        assert login.status == 200
        me = await call("GET", f"{api}/auth/me", token=login.body["access_token"])
        assert me.body["email"] == "ann@example.com"
        first = login.body["refresh_token"]
        rotated = await call("POST", f"{api}/auth/refresh", {"refresh_token": first})
        assert rotated.status == 200 and rotated.body["refresh_token"] != first
        # Reusing the rotated token revokes the family: the newer one stops working too.
        assert_error(
            await call("POST", f"{api}/auth/refresh", {"refresh_token": first}), 401, "unauthorized"
        )
        assert_error(
            await call(
                "POST", f"{api}/auth/refresh", {"refresh_token": rotated.body["refresh_token"]}
            ),
            401,
            "unauthorized",
        )
        assert_error(await call("GET", f"{api}/auth/me", token="not-a-jwt"), 401, "unauthorized")
        assert_error(await call("GET", f"{api}/auth/me"), 401, "unauthorized")


async def test_bad_bodies_get_the_error_shape(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        assert_error(
            await call("POST", f"{api}/spaces", b"not json", token=org.token), 400, "invalid"
        )
        assert_error(
            await call(
                "POST", f"{api}/spaces", {"name": "x", "allowed_domains": ["a b"]}, token=org.token
            ),
            422,
            "invalid",
        )
        assert_error(
            await call(
                "POST",
                f"{api}/spaces",
                {"name": "x", "allowed_domains": ["a.com"], "extra": 1},
                token=org.token,
            ),
            422,
            "invalid",
        )
        big = b'{"name": "' + b"x" * 70_000 + b'"}'
        assert_error(await call("POST", f"{api}/spaces", big, token=org.token), 413, "too_large")
        assert_error(
            await call("GET", f"{api}/spaces/{org.space['id']}/threads?limit=0", token=org.token),
            422,
            "invalid",
        )
        assert_error(
            await call(
                "GET", f"{api}/spaces/{org.space['id']}/threads?status=bogus", token=org.token
            ),
            422,
            "invalid",
        )
        assert_error(await call("GET", f"{api}/nowhere", token=org.token), 404, "not_found")


async def test_agents_may_not_create_spaces(base_url: str, settings: Settings) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        token = await peer_agent_token(base_url, org, 1)
        assert_error(
            await call(
                "POST",
                f"{base_url}/api/v1/spaces",
                {"name": "x", "allowed_domains": ["a.com"]},
                token=token,
            ),
            403,
            "forbidden",
        )


async def test_another_organizations_things_are_404(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        mine = await make_org(base_url)
        theirs = await make_org(base_url)
        async with widget(theirs) as (visitor, _):
            ack = await visitor.say("private")
        await wait_for_messages(settings.database_url, ack["thread_id"], 1)
        api = f"{base_url}/api/v1"
        space, thread = theirs.space["id"], ack["thread_id"]
        for method, path in [
            ("GET", f"/spaces/{space}"),
            ("GET", f"/spaces/{space}/threads"),
            ("GET", f"/threads/{thread}"),
            ("GET", f"/threads/{thread}/messages"),
            ("POST", f"/threads/{thread}/claim"),
            ("POST", f"/threads/{thread}/close"),
        ]:
            assert_error(await call(method, api + path, token=mine.token), 404, "not_found")
        listed = await call("GET", f"{api}/spaces", token=mine.token)
        assert [s["id"] for s in listed.body["items"]] == [mine.space["id"]]
        # The owner sees it, history included.
        history = await call("GET", f"{api}/threads/{thread}/messages", token=theirs.token)
        assert [m["id"] for m in history.body["items"]] == [ack["id"]]


async def test_history_joins_postgres_and_the_stream(base_url: str, settings: Settings) -> None:
    """A message acked a moment ago is in the history at once, never twice."""
    with trio.fail_after(60):
        org = await make_org(
            base_url, settings={"visitor_messages_per_second": 50, "visitor_burst": 50}
        )
        async with widget(org) as (visitor, _):
            acks = [await visitor.say(f"m{n}") for n in range(12)]
        thread = acks[0]["thread_id"]
        api = f"{base_url}/api/v1/threads/{thread}/messages"
        page = await call("GET", f"{api}?limit=5", token=org.token)
        assert [m["id"] for m in page.body["items"]] == [a["id"] for a in acks[-5:]]
        older = await call(
            "GET", f"{api}?limit=5&before={page.body['next_before']}", token=org.token
        )
        assert [m["id"] for m in older.body["items"]] == [a["id"] for a in acks[-10:-5]]
        await wait_for_messages(settings.database_url, thread, 12)
        everything = await call("GET", f"{api}?limit=100", token=org.token)
        assert [m["id"] for m in everything.body["items"]] == [a["id"] for a in acks]
        assert everything.body["next_before"] is None


async def test_health_readiness_and_metrics(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        assert (await call("GET", f"{base_url}/healthz")).body == {"status": "ok"}
        assert (await call("GET", f"{base_url}/readyz")).body == {"status": "ok"}
        async with widget(org) as (visitor, _):
            await visitor.say("counted")
        with trio.fail_after(20):
            while True:  # the projector writes the message after its next batch
                text = (await call("GET", f"{base_url}/metrics")).body
                if "chat_projector_rows_total 1.0" in text:
                    break
                await trio.sleep(0.2)
        assert "chat_projector_lag_seconds" in text and "chat_projector_lag_entries" in text
        # Deliberate drops are counted; each series is there from the start, at 0.
        assert 'chat_session_overflows_total{kind="visitor"} 0.0' in text
        assert 'chat_subscription_overflows_total{route="thread"} 0.0' in text
