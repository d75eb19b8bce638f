"""Checks across every REST route (chat/http/api/): who may call what (401 without a valid token;
each route's role, `x-role` in the OpenAPI document, reached by that role and the ones above it
and 403 for those below: agent < supervisor < admin, chat/auth/roles.py), and the error shape of
failures the framework answers (unknown path or method, bad id, oversized or malformed body).

The errors a route may answer are declared in chat/http/openapi.py (`errors=` and the implied
401/403/404/422). Every error reply is checked for the contract's shape by `assert_error`
(tests/helpers/api.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import trio

from chat.config import Settings
from tests.helpers.api import NO_SUCH_ID, add_member, assert_error
from tests.helpers.chat import PASSWORD, make_org
from tests.helpers.http import call

REST_MAX_BODY_BYTES = 64 * 1024  # the contract's limit on a REST body

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
    ("GET", "/spaces/{space_id}/identity-secret", None),
    ("POST", "/spaces/{space_id}/identity-secret", None),
    ("POST", "/groups", {"name": "X"}),
    ("PATCH", "/groups/{group_id}", {"name": "X"}),
    ("PUT", "/groups/{group_id}/members", {"agent_ids": []}),
    ("DELETE", "/groups/{group_id}", None),
    ("PATCH", "/organization", {"default_max_concurrent_chats": 2}),
    ("POST", "/tags", {"name": "X"}),
    ("PATCH", "/tags/{tag_id}", {"name": "X"}),
    ("DELETE", "/tags/{tag_id}", None),
    ("GET", "/organization/export", None),
    ("GET", "/spaces/{space_id}/deleted-threads", None),
    ("DELETE", "/threads/{thread_id}", None),
    ("POST", "/threads/{thread_id}/restore", None),
    ("DELETE", "/visitors/{visitor_id}", None),
]
# Routes for supervisors and admins (403 forbidden for agents): running the floor.
SUPERVISOR_ROUTES: list[tuple[str, str, Any]] = [
    ("POST", "/threads/{thread_id}/whisper", {"client_id": "w1", "content": "Offer the refund"}),
]
ROLES = ("agent", "supervisor", "admin")  # least to most
# Routes that may answer 403 for another reason than the caller's role alone (closing or
# transferring a thread: whether the caller holds it; tests/http/api/test_threads.py; an
# org-wide canned response: tests/canned/test_canned_api.py).
OTHER_403 = {
    ("PATCH", "/auth/me"),
    ("GET", "/widget/{widget_key}/config"),
    ("POST", "/threads/{thread_id}/close"),
    ("POST", "/threads/{thread_id}/transfer"),
    ("POST", "/canned-responses"),
    ("PATCH", "/canned-responses/{response_id}"),
    ("DELETE", "/canned-responses/{response_id}"),
    # Attachments and the transcript by mail: the widget's routes keep the widget's Origin rule.
    ("POST", "/widget/{widget_key}/attachments"),
    ("GET", "/widget/{widget_key}/attachments/{attachment_id}/link"),
    ("POST", "/widget/{widget_key}/threads/{thread_id}/transcript/email"),
    # The organization requires two-factor sign-in and this agent has not enrolled.
    ("POST", "/auth/login"),
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every secured route is called twice without a valid token from one address: with the
    webhook routes that passed the anonymous API burst (120), and bad tokens count as failed
    API keys too (30 a minute). Both limits have tests of their own (tests/http/test_throttle.py,
    tests/http/api/test_api_keys.py); lifted here."""
    lifted = {"login_attempts_per_address_per_minute": 0, "api_requests_per_minute": 0}
    return settings.model_copy(update=lifted)


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
                # Agent routes; the inbound mail route has a token of its own, and without it
                # configured is no route at all (404: tests/email/test_mail_flow.py).
                if {"bearer": []} in operation.get("security", []):
                    secured.append(route)
                if "403" in operation["responses"]:
                    forbidding.add(route)
        assert len(secured) >= 19, secured
        for method, path in secured:
            url = api + re.sub(r"\{\w+\}", NO_SUCH_ID, path)
            for token in (None, "not-a-token"):
                reply = await call(method, url, token=token)
                assert_error(reply, 401, "unauthorized")

        # Every route that takes a bearer token may also answer 403 to an API key (a scope it
        # lacks, or a route that refuses keys: tests/http/api/test_api_keys.py).
        role_routes = {(m, p) for m, p, _ in ADMIN_ROUTES + SUPERVISOR_ROUTES}
        assert forbidding == role_routes | OTHER_403 | set(secured)
        group = await call("POST", f"{api}/groups", {"name": "Sales"}, token=org.token)
        tag = await call("POST", f"{api}/tags", {"name": "Billing"}, token=org.token)
        ids = {
            "agent_id": org.agent["id"],
            "space_id": org.space["id"],
            "group_id": group.body["id"],
            "tag_id": tag.body["id"],
            # The role is checked before the thread or visitor is looked up.
            "thread_id": NO_SUCH_ID,
            "visitor_id": NO_SUCH_ID,
        }
        sue = await add_member(api, org.token, "Sue", role="supervisor")
        for method, path, body in ADMIN_ROUTES:
            for refused in (bob, sue):
                reply = await call(method, api + path.format(**ids), body, token=refused.token)
                assert_error(reply, 403, "forbidden", (refused.agent["role"], method, path))
        for method, path, body in SUPERVISOR_ROUTES:
            reply = await call(method, api + path.format(**ids), body, token=bob.token)
            assert_error(reply, 403, "forbidden", (method, path))
        agents = await call("GET", f"{api}/agents", token=org.token)
        assert agents.body["items"] == [
            {**org.agent, "is_online": False, "active_chats": 0},
            {**bob.agent, "is_online": False, "active_chats": 0},
            {**sue.agent, "is_online": False, "active_chats": 0},
        ]
        spaces = await call("GET", f"{api}/spaces", token=org.token)
        assert spaces.body["items"] == [org.space]
        groups = await call("GET", f"{api}/groups", token=org.token)
        assert groups.body["items"] == [group.body]


async def test_each_role_reaches_the_routes_of_its_role_and_no_others(base_url: str) -> None:
    """The role table over every secured route, read from the OpenAPI document: an agent, a
    supervisor and an admin each call every route (ids that name nothing, no body): a route of
    their role or below gets past the role check (any answer but 401 and 403: a 404, a 422, or
    the route's own answer), a route above their role is 403 forbidden in the contract's shape.
    The admin-only routes stay admin-only; the supervisor's own are the ones listed here."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        callers = {
            "agent": (await add_member(api, org.token, "Bob")).token,
            "supervisor": (await add_member(api, org.token, "Sue", role="supervisor")).token,
            "admin": org.token,
        }
        spec = (await call("GET", f"{api}/openapi.json")).body
        needs: dict[tuple[str, str], str] = {}
        for path, operations in spec["paths"].items():
            for method, operation in operations.items():
                if {"bearer": []} in operation.get("security", []):
                    needs[(method.upper(), path.removeprefix("/api/v1"))] = operation["x-role"]
        assert {r for r, role in needs.items() if role == "supervisor"} == {
            (m, p) for m, p, _ in SUPERVISOR_ROUTES
        }
        assert {(m, p) for m, p, _ in ADMIN_ROUTES} <= {
            r for r, role in needs.items() if role == "admin"
        }
        for (method, path), needed in sorted(needs.items()):
            url = api + re.sub(r"\{\w+\}", NO_SUCH_ID, path)
            for role, token in callers.items():
                reply = await call(method, url, token=token)
                context = (role, method, path, reply.status, reply.body)
                if ROLES.index(role) >= ROLES.index(needed):
                    assert reply.status not in (401, 403), context
                else:
                    assert_error(reply, 403, "forbidden", context)


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


async def test_nul_characters_are_refused_before_they_reach_postgresql(base_url: str) -> None:
    """PostgreSQL text cannot hold U+0000: a body or a widget key carrying one is a 4xx, never a
    500 (found by schemathesis), and an escaped backslash before "u0000" is ordinary text."""
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        nul_name = b'{"name": "a\\u0000b", "allowed_domains": ["x.example.com"]}'
        assert_error(await call("POST", f"{api}/spaces", nul_name, token=org.token), 400, "invalid")
        literal = b'{"name": "a\\\\u0000b", "allowed_domains": ["x.example.com"]}'
        created = await call("POST", f"{api}/spaces", literal, token=org.token)
        assert created.status == 201, created.body
        assert created.body["name"] == "a\\u0000b"
        nul_key = await call("GET", f"{api}/widget/wk_a%00b/config", origin="https://x.example.com")
        assert_error(nul_key, 404, "not_found")
