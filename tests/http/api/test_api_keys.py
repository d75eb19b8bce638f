"""API keys (structures.md, "API keys"): created by admins and shown once, stored hashed, scoped,
revocable, acting as their admin while that admin is a live admin, and throttled."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from chat.config import Settings
from chat.db.api_key_queries import MAX_LIVE_KEYS
from chat.embedded.services import EmbeddedServices
from chat.server import serve
from tests.helpers.api import add_member, assert_error
from tests.helpers.chat import Org, make_org, widget
from tests.helpers.db import database_down, query
from tests.helpers.http import Reply, call
from tests.http.test_api_key_format import key_secret

API = "/api/v1"
ALL_SCOPES = ["read", "write", "admin"]


async def _create(org: Org, scopes: list[str], name: str = "CRM sync") -> dict[str, Any]:
    reply = await call(
        "POST", f"{org.base}{API}/api-keys", {"name": name, "scopes": scopes}, token=org.token
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def _as_key(org: Org, key: str, method: str, path: str, body: Any = None) -> Reply:
    return await call(method, f"{org.base}{API}{path}", body, token=key)


async def test_a_key_is_shown_once_stored_hashed_and_acts_as_its_admin(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        created = await _create(org, ["read"])
        key = created["key"]
        assert key.startswith("chat_sk_") and len(key) >= len("chat_sk_") + 32 + 1 + 43
        assert key.startswith(created["prefix"]) and key.endswith(created["last4"])
        assert (created["scopes"], created["created_by"]) == (["read"], org.agent["id"])
        assert (created["last_used_at"], created["revoked_at"]) == (None, None)

        me = await _as_key(org, key, "GET", "/auth/me")
        assert me.status == 200, me.body
        assert me.body["id"] == org.agent["id"]
        spaces = await _as_key(org, key, "GET", "/spaces")
        assert [s["id"] for s in spaces.body["items"]] == [org.space["id"]]

        listed = await call("GET", f"{base_url}{API}/api-keys", token=org.token)
        assert listed.status == 200, listed.body
        [item] = listed.body["items"]
        assert "key" not in item and key not in json.dumps(listed.body)
        assert item["id"] == created["id"] and item["created_by_name"] == org.agent["name"]
        assert item["last_used_at"] is not None  # the two calls above

        # The table holds the key's SHA-256 and nothing from which the key could be read.
        [(stored_hash, whole_row)] = query(
            settings.database_url,
            "SELECT key_hash, row_to_json(k)::text FROM api_keys k WHERE id = %s",
            (created["id"],),
        )
        assert bytes(stored_hash) == hashlib.sha256(key.encode()).digest()
        secret = key_secret(key)
        assert secret not in whole_row and secret[:-4] not in whole_row


async def test_scopes_limit_what_a_key_may_do(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with widget(org) as (visitor, _):
            thread_id = (await visitor.say("hello"))["thread_id"]
        read = (await _create(org, ["read"]))["key"]
        write = (await _create(org, ["write"]))["key"]
        admin = (await _create(org, ["admin"]))["key"]

        for key, method, path, body, needed in (
            (read, "POST", f"/threads/{thread_id}/claim", None, "write"),
            (read, "POST", "/tags", {"name": "vip"}, "admin"),
            (write, "GET", "/spaces", None, "read"),
            (admin, "GET", f"/threads/{thread_id}", None, "read"),
        ):
            refused = await _as_key(org, key, method, path, body)
            error = assert_error(refused, 403, "forbidden", (method, path))
            assert error["details"] == {"required_scope": needed}
            assert repr(needed) in error["message"]

        claimed = await _as_key(org, write, "POST", f"/threads/{thread_id}/claim")
        assert claimed.status == 200, claimed.body
        assert claimed.body["assigned_agent_id"] == org.agent["id"]  # the key's admin
        tag = await _as_key(org, admin, "POST", "/tags", {"name": "vip"})
        assert tag.status == 201, tag.body


async def test_keys_cannot_manage_sign_ins_or_keys(base_url: str) -> None:
    """Even a key with every scope: a leaked key must not mint keys or take over the account."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        key = (await _create(org, ALL_SCOPES))["key"]
        for method, path, body in (
            ("POST", "/api-keys", {"name": "another", "scopes": ["read"]}),
            ("GET", "/api-keys", None),
            ("POST", "/auth/logout", {"refresh_token": "x"}),
            ("PATCH", "/auth/me", {"name": "Mallory"}),
            (
                "POST",
                "/webhooks",
                {"url": "https://hooks.example.test/", "kinds": ["message.created"]},
            ),
        ):
            refused = await _as_key(org, key, method, path, body)
            assert_error(refused, 403, "forbidden", (method, path))
        me = await call("GET", f"{base_url}{API}/auth/me", token=org.token)
        assert me.body["name"] == org.agent["name"]
        listed = await call("GET", f"{base_url}{API}/api-keys", token=org.token)
        assert len(listed.body["items"]) == 1


async def test_a_revoked_key_is_refused_and_stays_listed(base_url: str) -> None:
    with trio.fail_after(30):
        org, other = await make_org(base_url), await make_org(base_url)
        created = await _create(org, ["read"])
        url = f"{base_url}{API}/api-keys/{created['id']}"

        # Another organization's admin: not found, and the key still works.
        assert_error(await call("DELETE", url, token=other.token), 404, "not_found")
        assert (await _as_key(org, created["key"], "GET", "/spaces")).status == 200

        assert (await call("DELETE", url, token=org.token)).status == 204
        refused = await _as_key(org, created["key"], "GET", "/spaces")
        assert_error(refused, 401, "unauthorized")
        assert (await call("DELETE", url, token=org.token)).status == 204  # again: no change
        [item] = (await call("GET", f"{base_url}{API}/api-keys", token=org.token)).body["items"]
        assert item["revoked_at"] is not None and item["active"] is False
        assert (await call("GET", f"{base_url}{API}/api-keys", token=other.token)).body == {
            "items": []
        }


async def test_a_key_stops_with_its_admin_deleted_or_demoted(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = base_url + API
        second = await add_member(api, org.token, "Grace")
        promoted = await call(
            "PATCH", f"{api}/agents/{second.agent['id']}", {"role": "admin"}, token=org.token
        )
        assert promoted.status == 200, promoted.body
        key = (await _create(org, ["read"]))["key"]
        ada = f"{api}/agents/{org.agent['id']}"

        demoted = await call("PATCH", ada, {"role": "agent"}, token=second.token)
        assert demoted.status == 200, demoted.body
        assert_error(await _as_key(org, key, "GET", "/spaces"), 401, "unauthorized")
        [listed] = (await call("GET", f"{api}/api-keys", token=second.token)).body["items"]
        assert (listed["active"], listed["revoked_at"]) == (False, None)
        # Made admin again, the admin's keys work again (revoke them to end them for good).
        assert (await call("PATCH", ada, {"role": "admin"}, token=second.token)).status == 200
        assert (await _as_key(org, key, "GET", "/spaces")).status == 200
        [listed] = (await call("GET", f"{api}/api-keys", token=second.token)).body["items"]
        assert listed["active"] is True

        assert (await call("DELETE", ada, token=second.token)).status == 204
        assert_error(await _as_key(org, key, "GET", "/spaces"), 401, "unauthorized")


async def test_last_used_is_written_at_most_once_a_minute(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        created = await _create(org, ["read"])
        sql = "SELECT last_used_at FROM api_keys WHERE id = %s"
        assert query(settings.database_url, sql, (created["id"],)) == [(None,)]
        assert (await _as_key(org, created["key"], "GET", "/spaces")).status == 200
        [(first,)] = query(settings.database_url, sql, (created["id"],))
        assert first is not None
        assert (await _as_key(org, created["key"], "GET", "/spaces")).status == 200
        assert query(settings.database_url, sql, (created["id"],)) == [(first,)]
        # A minute later (moved back in the table rather than waited for), a use writes again.
        query(
            settings.database_url,
            "UPDATE api_keys SET last_used_at = last_used_at - interval '61 seconds'"
            " WHERE id = %s RETURNING id",
            (created["id"],),
        )
        assert (await _as_key(org, created["key"], "GET", "/spaces")).status == 200
        [(later,)] = query(settings.database_url, sql, (created["id"],))
        assert later > first


async def test_bad_keys_are_401_and_the_body_is_checked(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        created = await _create(org, ["read"])
        real = created["key"]
        wrong_secret = real[:-1] + ("A" if real[-1] != "A" else "B")
        unknown_id = "chat_sk_" + "0" * 32 + real[-44:]
        for bad in ("chat_sk_nope", wrong_secret, unknown_id, real + "x"):
            assert_error(await _as_key(org, bad, "GET", "/spaces"), 401, "unauthorized", bad)
        for body in ({"name": "x", "scopes": []}, {"name": "x", "scopes": ["root"]}, {"name": ""}):
            reply = await call("POST", f"{base_url}{API}/api-keys", body, token=org.token)
            assert_error(reply, 422, "invalid", body)
        twice = await _create(org, ["admin", "read", "read"])
        assert twice["scopes"] == ["read", "admin"]


async def test_a_key_is_not_accepted_on_the_agent_socket(base_url: str) -> None:
    """The socket is a person's presence (online, routing); keys are for REST."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        key = (await _create(org, ALL_SCOPES))["key"]
        async with open_websocket_url(f"{org.ws_base}/ws/agent?token={key}") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await ws.get_message()
        assert closed.value.reason is not None and closed.value.reason.code == 4001


async def test_keys_never_reach_the_logs(base_url: str, caplog: pytest.LogCaptureFixture) -> None:
    with trio.fail_after(30):
        caplog.set_level(logging.DEBUG)
        org = await make_org(base_url)
        created = await _create(org, ["read"])
        await _as_key(org, created["key"], "GET", "/spaces")
        await _as_key(org, created["key"], "POST", "/tags", {"name": "x"})
        await _as_key(org, created["key"][:-2] + "zz", "GET", "/spaces")
        secret = key_secret(created["key"])
        assert caplog.records  # something was logged, or the check proves nothing
        assert not [r for r in caplog.records if secret[:12] in r.getMessage()]


async def test_failed_keys_are_throttled_per_address_and_good_keys_have_their_own_budget(
    settings: Settings, nursery: trio.Nursery
) -> None:
    with trio.fail_after(60):
        limited = settings.model_copy(
            update={
                "login_attempts_per_address_per_minute": 3,
                "api_requests_per_minute": 6,
                "api_burst": 6,
            }
        )
        base = str((await nursery.start(serve, limited, "127.0.0.1", 0))[0])
        org = await make_org(base)  # 2 requests of the address's budget, then the admin's
        key = (await _create(org, ["read"]))["key"]
        other = (await _create(org, ["read"], "another"))["key"]

        # The key's own budget: 6 pass, the 7th is refused; the admin's token still has its own.
        for _ in range(6):
            assert (await _as_key(org, key, "GET", "/spaces")).status == 200
        over = assert_error(await _as_key(org, key, "GET", "/spaces"), 429, "rate_limited")
        assert over["details"]["retry_after_seconds"] >= 1
        assert (await call("GET", f"{base}{API}/spaces", token=org.token)).status == 200

        # Three bad keys from this address are 401; then any key is 429 before a lookup.
        bad = other[:-1] + ("A" if other[-1] != "A" else "B")
        for _ in range(3):
            assert_error(await _as_key(org, bad, "GET", "/spaces"), 401, "unauthorized")
        refused = await _as_key(org, bad, "GET", "/spaces")
        assert_error(refused, 429, "rate_limited")
        assert int(refused.header("Retry-After") or 0) >= 1
        assert_error(await _as_key(org, other, "GET", "/spaces"), 429, "rate_limited")


async def test_an_organization_has_at_most_100_live_keys(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        made = [await _create(org, ["read"], f"key {n}") for n in range(MAX_LIVE_KEYS)]
        body = {"name": "one more", "scopes": ["read"]}
        over = await call("POST", f"{base_url}{API}/api-keys", body, token=org.token)
        assert_error(over, 409, "too_many_api_keys")
        revoked = await call("DELETE", f"{base_url}{API}/api-keys/{made[0]['id']}", token=org.token)
        assert revoked.status == 204
        assert (await _create(org, ["read"], "one more"))["name"] == "one more"


async def test_keys_need_postgresql_while_sign_ins_use_the_copy(
    base_url: str, settings: Settings, embedded: EmbeddedServices
) -> None:
    """Keys have no copy in Valkey: during an outage a key is 503 unavailable (never let in
    unchecked, never 401, which would tell an integration its key is bad)."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        key = (await _create(org, ["read"]))["key"]
        assert (await _as_key(org, key, "GET", "/spaces")).status == 200
        me = await call("GET", f"{base_url}{API}/auth/me", token=org.token)  # noted in the copy
        assert me.status == 200
        async with database_down(embedded.database_url, settings.database_url):
            assert_error(await _as_key(org, key, "GET", "/spaces"), 503, "unavailable")
            spaces = await call("GET", f"{base_url}{API}/spaces", token=org.token)
            assert spaces.status == 200, spaces.body


async def test_the_openapi_document_names_each_routes_scope_and_the_few_that_refuse_keys(
    base_url: str,
) -> None:
    with trio.fail_after(30):
        spec = (await call("GET", f"{base_url}{API}/openapi.json")).body
        assert "api_key" in spec["components"]["securitySchemes"]
        scopes: dict[str, str | None] = {}
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                schemes = {k: v for req in operation.get("security", []) for k, v in req.items()}
                if "bearer" in schemes:
                    [scopes[f"{method.upper()} {path}"]] = schemes.get("api_key") or [None]
        refused = {name for name, scope in scopes.items() if scope is None}
        assert refused == {
            f"POST {API}/api-keys",
            f"GET {API}/api-keys",
            f"DELETE {API}/api-keys/{{key_id}}",
            f"POST {API}/auth/logout",
            f"PATCH {API}/auth/me",
            # Two-factor sign-in is a person's own security (tests/http/test_two_factor.py).
            f"GET {API}/auth/two-factor",
            f"POST {API}/auth/two-factor/recovery-codes",
            f"POST {API}/auth/two-factor/disable",
            f"POST {API}/agents/{{agent_id}}/two-factor/reset",
            # A space's identity secret signs who visitors are: a leaked key must not hand it
            # out (structures.md, "Signed visitor identity"); an admin reads it in person.
            f"GET {API}/spaces/{{space_id}}/identity-secret",
            f"POST {API}/spaces/{{space_id}}/identity-secret",
            # Webhooks: an endpoint registered with a leaked key would outlive its revocation.
            f"GET {API}/webhooks",
            f"POST {API}/webhooks",
            f"GET {API}/webhooks/{{webhook_id}}",
            f"PATCH {API}/webhooks/{{webhook_id}}",
            f"DELETE {API}/webhooks/{{webhook_id}}",
            f"POST {API}/webhooks/{{webhook_id}}/rotate-secret",
            f"POST {API}/webhooks/{{webhook_id}}/replay",
            f"GET {API}/webhooks/{{webhook_id}}/deliveries",
            # An agent's picture is a person's own, shown to visitors (README "Appearance").
            f"GET {API}/auth/me/avatar",
            f"PUT {API}/auth/me/avatar",
            f"DELETE {API}/auth/me/avatar",
        }
        assert scopes[f"GET {API}/auth/me"] == "read"
        assert scopes[f"POST {API}/threads/{{thread_id}}/claim"] == "write"
        assert scopes[f"GET {API}/organization/export"] == "admin"
        assert scopes[f"DELETE {API}/agents/{{agent_id}}"] == "admin"
        assert len(scopes) > 50  # every agent and admin route was seen
