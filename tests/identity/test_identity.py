"""Signed visitor identity (structures.md, "Signed visitor identity"): a token the site signed
with its space's secret makes one visitor of a site user across sockets and browsers; forged,
expired or over-long tokens are refused; an unsigned identify never changes a verified visitor;
`require_identity` takes messages from verified visitors only."""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import trio

from chat.config import Settings
from chat.streams.client import open_redis
from tests.files.images import png
from tests.helpers.api import assert_error
from tests.helpers.chat import ORIGIN, agent_socket, make_org, widget
from tests.helpers.db import query, wait_for_rows
from tests.helpers.http import call
from tests.http.api.test_attachments import visitor_upload
from tests.identity.helpers import identity_secret, sign


async def _identify(visitor: Any, token: str) -> dict[str, Any]:
    """Send a signed identify; the `identity` or `error` frame answering it."""
    await visitor.send({"type": "identify", "token": token})
    return await visitor.expect_any(("identity", "error"))


async def test_the_secret_is_an_admins_and_nobody_elses(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        api, space_id = f"{base_url}/api/v1", org.space["id"]
        url = f"{api}/spaces/{space_id}/identity-secret"
        before = await call("GET", url, token=org.token)
        assert before.status == 200 and before.body == {"secret": None, "rotated_at": None}
        first = await identity_secret(org)
        read = await call("GET", url, token=org.token)
        assert read.body["secret"] == first and read.header("Cache-Control") == "no-store"
        rotated = await call("POST", url, token=org.token)
        assert rotated.status == 200 and rotated.body["secret"] not in (None, first)
        # Nowhere else: not in the space's JSON, not in the widget's config.
        space = await call("GET", f"{api}/spaces/{space_id}", token=org.token)
        config = await call("GET", f"{api}/widget/{org.space['widget_key']}/config", origin=ORIGIN)
        for reply in (space, config):
            assert rotated.body["secret"] not in str(reply.body) and first not in str(reply.body)
        # An agent who is not an admin: 403; another organization's admin: 404.
        email = f"agent-{uuid.uuid4().hex[:8]}@example.com"
        made = await call(
            "POST",
            f"{api}/agents",
            {"email": email, "name": "Bo", "password": "correct horse", "role": "agent"},
            token=org.token,
        )
        assert made.status == 201, made.body
        login = await call(
            "POST", f"{api}/auth/login", {"email": email, "password": "correct horse"}
        )
        agent_token = login.body["access_token"]
        for method in ("GET", "POST"):
            assert_error(await call(method, url, token=agent_token), 403, "forbidden")
        other = await make_org(base_url)
        for method in ("GET", "POST"):
            assert_error(await call(method, url, token=other.token), 404, "not_found")
        paths = (await call("GET", f"{api}/openapi.json")).body["paths"]
        operations = paths["/api/v1/spaces/{space_id}/identity-secret"]
        assert {"get", "post"} <= set(operations)
        assert {"403", "404"} <= set(operations["post"]["responses"])


async def test_one_signed_user_is_one_visitor_across_browsers(
    base_url: str, settings: Settings
) -> None:
    """The first browser's anonymous visitor becomes the user's (its conversation with it); a
    second browser signing in is handed that visitor's session and sees the history."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        secret = await identity_secret(org)
        token = sign(secret, "user-42", name="Grace", email="grace@example.com")
        async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
            async with widget(org) as (first, welcome):
                visitor_id = welcome["visitor"]["id"]
                await first.say("before signing in")
                answer = await _identify(first, token)
                assert answer == {
                    "type": "identity",
                    "session": welcome["session"],
                    "verified": True,
                }
                await first.say("after signing in")
                updated = await agent.expect("visitor.updated")
                while "external_id" not in updated["visitor"]:  # the page the visitor was on
                    updated = await agent.expect("visitor.updated")
                assert updated["visitor"]["visitor_id"] == visitor_id
                assert updated["visitor"]["external_id"] == "user-42"
                assert updated["visitor"]["name"] == "Grace"
            async with widget(org) as (second, other):
                assert other["visitor"]["id"] != visitor_id
                handed = await _identify(second, sign(secret, "user-42"))
                assert handed["type"] == "identity" and handed["session"] == welcome["session"]
            async with widget(org, session=handed["session"]) as (_, resumed):
                assert resumed["visitor"]["id"] == visitor_id
                assert [m["content"] for m in resumed["history"]] == [
                    "before signing in",
                    "after signing in",
                ]
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM visitors WHERE id = %s AND external_id = 'user-42'",
            (visitor_id,),
            1,
        )
        panel = await call("GET", f"{base_url}/api/v1/visitors/{visitor_id}", token=org.token)
        assert panel.body["context"]["verified"] is True
        assert panel.body["context"]["external_id"] == "user-42"
        assert panel.body["visitor"]["name"] == "Grace"
        # The second browser's anonymous visitor was left as it was: never verified.
        rows = query(
            settings.database_url, "SELECT count(*) FROM visitors WHERE external_id IS NOT NULL"
        )
        assert rows == [(1,)]


async def test_bad_tokens_are_refused_and_verify_nothing(base_url: str, settings: Settings) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        no_secret_yet = sign("x" * 43, "user-1")
        secret = await identity_secret(org)
        other_secret = "is_" + "k" * 43
        unsigned = jwt.encode({"sub": "user-1", "exp": 2**31}, None, algorithm="none")
        cases = {
            "identity_invalid": [
                sign(other_secret, "user-1"),  # forged: another key
                unsigned,  # alg none
                sign(secret + "-" * 40, "user-1", algorithm="HS512"),  # another algorithm
                sign(secret, "user-1", ttl=2 * 86400),  # valid for longer than a day
                jwt.encode({"sub": "user-1"}, secret, algorithm="HS256"),  # no exp
                jwt.encode({"exp": 2**31 - 1}, secret, algorithm="HS256"),  # no sub
                sign(secret, "u" * 256),  # sub too long
                sign(secret, "user-1", email="not an email"),  # the identify bounds
                sign(secret, "user-1")[:-4] + "AAAA",  # a signature tampered with
                no_secret_yet,
            ],
            "identity_expired": [sign(secret, "user-1", ttl=-120)],
        }
        async with widget(org) as (visitor, welcome):
            for code, tokens in cases.items():
                for token in tokens:
                    # A socket of the same visitor per token: each spends identify budget
                    # (1 a second, 3 at once), and this is not about that budget.
                    async with widget(org, session=welcome["session"]) as (tab, _):
                        await tab.send({"type": "identify", "token": token})
                        refused = await tab.expect("error")
                    assert refused["code"] == code, (token, refused)
                    assert secret not in refused["message"]
            await visitor.send({"type": "identify", "token": sign(secret, "u"), "name": "Eve"})
            assert (await visitor.expect("error"))["code"] == "invalid"
            await visitor.say("still anonymous")
        visitor_id = welcome["visitor"]["id"]
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM visitors WHERE id = %s AND external_id IS NULL",
            (visitor_id,),
            1,
        )
        panel = await call("GET", f"{base_url}/api/v1/visitors/{visitor_id}", token=org.token)
        assert panel.body["context"]["verified"] is False


async def test_an_unsigned_identify_never_changes_a_verified_visitor(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        secret = await identity_secret(org)
        async with widget(org) as (visitor, welcome):
            # A second tab of the same visitor, joined while it was still anonymous.
            async with widget(org, session=welcome["session"]) as (stale_tab, _):
                await _identify(visitor, sign(secret, "user-7", name="Grace"))
                for tab in (visitor, stale_tab):
                    await tab.send({"type": "identify", "name": "Mallory", "email": "m@evil.test"})
                    refused = await tab.expect("error")
                    assert refused["code"] == "identity_verified"
                ack = await visitor.say("who am I")
        found = await call("GET", f"{base_url}/api/v1/threads/{ack['thread_id']}", token=org.token)
        assert found.body["visitor"]["name"] == "Grace", found.body
        assert found.body["visitor"]["email"] is None


async def test_a_visitor_verified_as_one_user_is_never_another(base_url: str) -> None:
    """Another user signing in on the same browser gets a visitor of their own."""
    with trio.fail_after(40):
        org = await make_org(base_url)
        secret = await identity_secret(org)
        async with widget(org) as (visitor, welcome):
            first = await _identify(visitor, sign(secret, "alice"))
            assert first["session"] == welcome["session"]
            await visitor.say("alice's question")
            second = await _identify(visitor, sign(secret, "bob"))
            assert second["type"] == "identity" and second["session"] != welcome["session"]
        async with widget(org, session=second["session"]) as (_, bob):
            assert bob["visitor"]["id"] != welcome["visitor"]["id"]
            assert bob["thread"] is None and bob["history"] == []
        # Alice signing in again anywhere lands on her visitor.
        async with widget(org) as (again, _):
            alice = await _identify(again, sign(secret, "alice"))
            assert alice["session"] == welcome["session"]


async def test_require_identity_refuses_anonymous_visitors(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url, settings={"require_identity": True})
        secret = await identity_secret(org)
        config = await call(
            "GET",
            f"{base_url}/api/v1/widget/{org.space['widget_key']}/config",
            origin=ORIGIN,
        )
        assert config.body["space"]["settings"]["require_identity"] is True
        async with widget(org) as (visitor, welcome):
            client_id = str(uuid.uuid4())
            await visitor.send({"type": "message", "client_id": client_id, "content": "hi"})
            refused = await visitor.expect("error")
            assert refused["code"] == "identity_required" and refused["client_id"] == client_id
            assert "sign in" in refused["message"]
            # Nor a message left offline.
            await visitor.send({"type": "identify", "email": "a@b.example", "offline": True})
            assert (await visitor.expect("error"))["code"] == "identity_required"
            await _identify(visitor, sign(secret, "user-9"))
            ack = await visitor.say("hi", client_id=client_id)
            assert ack["thread_id"]
        threads = await call(
            "GET", f"{base_url}/api/v1/spaces/{org.space['id']}/threads", token=org.token
        )
        assert len(threads.body["items"]) == 1
        # Nor a file for a message (stored before its message): an anonymous visitor's upload
        # is refused, a verified one's stored.
        async with widget(org) as (_, anonymous):
            refused = await visitor_upload(org, anonymous["session"], png())
            assert_error(refused, 403, "identity_required")
        stored = await visitor_upload(org, welcome["session"], png())
        assert stored.status == 201, stored.body


async def test_erased_users_start_over(base_url: str, settings: Settings) -> None:
    """Erasing a verified visitor removes the mapping: the user signs in as a new visitor."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        secret = await identity_secret(org)
        async with widget(org) as (visitor, welcome):
            await _identify(visitor, sign(secret, "user-erased"))
            await visitor.say("forget me")
        gone = welcome["visitor"]["id"]
        await wait_for_rows(
            settings.database_url, "SELECT count(*) FROM visitors WHERE id = %s", (gone,), 1
        )
        erased = await call("DELETE", f"{base_url}/api/v1/visitors/{gone}", token=org.token)
        assert erased.status == 204, erased.body
        async with widget(org) as (again, fresh):
            answer = await _identify(again, sign(secret, "user-erased"))
            assert answer["session"] == fresh["session"] != welcome["session"]


async def test_a_lost_mapping_is_restored_from_postgresql(
    base_url: str, settings: Settings
) -> None:
    """Valkey loses the user's mapping (its keys never expire, but a store can be lost): the
    projection in PostgreSQL names the user's visitor, and the user lands on it again."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        secret = await identity_secret(org)
        async with widget(org) as (visitor, welcome):
            await _identify(visitor, sign(secret, "user-restored"))
            await visitor.say("remember me")
        visitor_id = welcome["visitor"]["id"]
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM visitors WHERE id = %s AND external_id = 'user-restored'",
            (visitor_id,),
            1,
        )
        base = f"{settings.key_prefix}:{{{org.space['id']}}}:"
        async with open_redis(settings.redis_url) as redis:
            assert (
                await redis.delete([base + "ident:user-restored", base + "idv:" + visitor_id]) == 2
            )
        async with widget(org) as (again, _):
            answer = await _identify(again, sign(secret, "user-restored"))
            assert answer["session"] == welcome["session"]
        async with widget(org, session=welcome["session"]) as (_, resumed):
            assert [m["content"] for m in resumed["history"]] == ["remember me"]
