"""The canned-response routes of chat/http/api/canned.py: create, list (with its prefix filter),
read, change, delete; scopes and who may change what; duplicate shortcuts, validation and caps.
Tenancy and the admin-route table are in tests/http (test_tenant_isolation.py, test_errors.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import trio

from chat.config import Settings
from chat.db import canned_queries
from tests.helpers.api import Member, add_member, assert_error, failed_fields
from tests.helpers.chat import Org, make_org
from tests.helpers.db import query
from tests.helpers.http import Reply, call

CANNED_FIELDS = {
    "id",
    "organization_id",
    "scope",
    "owner_agent_id",
    "shortcut",
    "title",
    "content",
    "created_at",
    "updated_at",
}


def _api(base_url: str) -> str:
    return f"{base_url}/api/v1"


async def _post(api: str, token: str, **body: Any) -> Reply:
    full = {"shortcut": "hello", "title": "Greeting", "content": "Hi {{visitor.name}}!", **body}
    return await call("POST", f"{api}/canned-responses", full, token=token)


async def _create(api: str, token: str, **body: Any) -> dict[str, Any]:
    reply = await _post(api, token, **body)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def _listed(api: str, token: str, q: str = "") -> list[tuple[str, str]]:
    """(scope, shortcut) of what the caller's list shows, in its order."""
    suffix = f"?q={quote(q)}" if q else ""
    reply = await call("GET", f"{api}/canned-responses{suffix}", token=token)
    assert reply.status == 200, reply.body
    return [(r["scope"], r["shortcut"]) for r in reply.body["items"]]


async def _org_and_agents(base_url: str) -> tuple[Org, Member, Member]:
    org = await make_org(base_url)
    api = _api(base_url)
    return org, await add_member(api, org.token, "Bob"), await add_member(api, org.token, "Cy")


async def test_crud_round_trip_keeps_placeholders(base_url: str) -> None:
    with trio.fail_after(30):
        org, bob, _cy = await _org_and_agents(base_url)
        api = _api(base_url)
        shared = await _create(
            api, org.token, scope="organization", shortcut=" Hello ", title="  Greeting "
        )
        assert set(shared) == CANNED_FIELDS
        assert (shared["scope"], shared["owner_agent_id"], shared["shortcut"]) == (
            "organization",
            None,
            "hello",  # trimmed and lowercased
        )
        assert shared["title"] == "Greeting"
        assert shared["content"] == "Hi {{visitor.name}}!"  # stored as written, not expanded
        mine = await _create(api, bob.token, shortcut="bye", title="Goodbye", content="Bye!")
        assert (mine["scope"], mine["owner_agent_id"]) == ("personal", bob.agent["id"])

        url = f"{api}/canned-responses/{mine['id']}"
        one = await call("GET", url, token=bob.token)
        assert one.status == 200 and one.body == mine
        patched = await call(
            "PATCH",
            url,
            {"title": "See you", "content": "See you, {{visitor.name|friend}}"},
            token=bob.token,
        )
        assert patched.status == 200, patched.body
        assert (patched.body["shortcut"], patched.body["title"], patched.body["content"]) == (
            "bye",
            "See you",
            "See you, {{visitor.name|friend}}",
        )
        assert patched.body["updated_at"] > mine["updated_at"]
        assert patched.body["created_at"] == mine["created_at"]

        assert await _listed(api, bob.token) == [("personal", "bye"), ("organization", "hello")]
        assert (await call("DELETE", url, token=bob.token)).status == 204
        for method, body in (("GET", None), ("PATCH", {"title": "Back"}), ("DELETE", None)):
            assert_error(await call(method, url, body, token=bob.token), 404, "not_found")
        assert await _listed(api, bob.token) == [("organization", "hello")]


async def test_each_agent_sees_the_shared_ones_and_only_their_own(base_url: str) -> None:
    with trio.fail_after(30):
        org, bob, cy = await _org_and_agents(base_url)
        api = _api(base_url)
        await _create(api, org.token, scope="organization", shortcut="hello")
        await _create(api, org.token, shortcut="admin-own", title="Admin's own")
        bobs = await _create(api, bob.token, shortcut="hello", title="Bob's hello")
        await _create(api, cy.token, shortcut="cy-only", title="Cy's")

        # A personal one may share an org-wide shortcut; it comes first.
        assert await _listed(api, bob.token) == [("personal", "hello"), ("organization", "hello")]
        assert await _listed(api, cy.token) == [("personal", "cy-only"), ("organization", "hello")]
        assert await _listed(api, org.token) == [
            ("personal", "admin-own"),
            ("organization", "hello"),
        ]
        # Another agent's personal one is not found, whoever asks, the admin included.
        url = f"{api}/canned-responses/{bobs['id']}"
        for token in (cy.token, org.token):
            for method, body in (("GET", None), ("PATCH", {"title": "Mine"}), ("DELETE", None)):
                assert_error(await call(method, url, body, token=token), 404, "not_found")
        assert (await call("GET", url, token=bob.token)).body == bobs  # untouched


async def test_org_wide_ones_are_managed_by_admins_only(base_url: str) -> None:
    with trio.fail_after(30):
        org, bob, _cy = await _org_and_agents(base_url)
        api = _api(base_url)
        refused = await _post(api, bob.token, scope="organization", shortcut="mine-for-all")
        assert_error(refused, 403, "forbidden")
        shared = await _create(api, org.token, scope="organization")
        url = f"{api}/canned-responses/{shared['id']}"
        assert (await call("GET", url, token=bob.token)).body == shared  # agents may read it
        assert_error(await call("PATCH", url, {"title": "X"}, token=bob.token), 403, "forbidden")
        assert_error(await call("DELETE", url, token=bob.token), 403, "forbidden")
        assert (await call("GET", url, token=org.token)).body == shared  # unchanged
        assert await _listed(api, bob.token) == [("organization", "hello")]

        patched = await call("PATCH", url, {"shortcut": "hi"}, token=org.token)
        assert patched.status == 200 and patched.body["shortcut"] == "hi"
        assert (await call("DELETE", url, token=org.token)).status == 204
        assert await _listed(api, bob.token) == []


async def test_shortcuts_are_unique_per_scope_in_any_case(base_url: str) -> None:
    with trio.fail_after(30):
        org, bob, cy = await _org_and_agents(base_url)
        other = await make_org(base_url)
        api = _api(base_url)
        shared = await _create(api, org.token, scope="organization", shortcut="hello")
        taken = await _post(api, org.token, scope="organization", shortcut="HELLO")
        assert_error(taken, 409, "shortcut_taken")
        await _create(api, other.token, scope="organization", shortcut="hello")  # apart

        bobs = await _create(api, bob.token, shortcut="thanks")
        assert_error(await _post(api, bob.token, shortcut="Thanks"), 409, "shortcut_taken")
        await _create(api, cy.token, shortcut="thanks")  # another agent's are apart
        second = await _create(api, bob.token, shortcut="later")
        renamed = await call(
            "PATCH",
            f"{api}/canned-responses/{second['id']}",
            {"shortcut": "THANKS"},
            token=bob.token,
        )
        assert_error(renamed, 409, "shortcut_taken")

        # A deleted one's shortcut is free again, in each scope.
        for token, row in ((org.token, shared), (bob.token, bobs)):
            deleted = await call("DELETE", f"{api}/canned-responses/{row['id']}", token=token)
            assert deleted.status == 204
        again = await _create(api, org.token, scope="organization", shortcut="hello")
        assert again["id"] != shared["id"]
        await _create(api, bob.token, shortcut="thanks")


async def test_the_list_filters_by_a_prefix_of_shortcut_or_title(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = _api(base_url)
        await _create(api, org.token, shortcut="hello", title="Greeting")
        await _create(api, org.token, shortcut="refund", title="Help with a refund")
        await _create(api, org.token, shortcut="bye", title="Goodbye")
        await _create(api, org.token, shortcut="sure", title="100% sure")
        assert await _listed(api, org.token, "he") == [
            ("personal", "hello"),
            ("personal", "refund"),
        ]
        assert await _listed(api, org.token, "/HE") == await _listed(api, org.token, "he")
        assert await _listed(api, org.token, "go") == [("personal", "bye")]
        assert await _listed(api, org.token, "ello") == []  # a prefix, not a substring
        assert await _listed(api, org.token, "%") == []  # no LIKE wildcards
        assert await _listed(api, org.token, "100%") == [("personal", "sure")]
        limited = await call("GET", f"{api}/canned-responses?limit=2", token=org.token)
        assert [r["shortcut"] for r in limited.body["items"]] == ["bye", "hello"]


async def test_bad_shortcuts_titles_and_contents_are_refused(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = _api(base_url)
        bad: list[tuple[dict[str, Any], str]] = [
            ({"shortcut": "hi there"}, "shortcut"),
            ({"shortcut": "/hello"}, "shortcut"),
            ({"shortcut": "héllo"}, "shortcut"),
            ({"shortcut": ""}, "shortcut"),
            ({"shortcut": "x" * 33}, "shortcut"),
            ({"title": ""}, "title"),
            ({"title": "\u200b "}, "title"),
            ({"title": "t" * 121}, "title"),
            ({"content": "   "}, "content"),
            ({"content": "c" * 4001}, "content"),
            ({"scope": "everyone"}, "scope"),
            ({"owner_agent_id": org.agent["id"]}, "owner_agent_id"),
        ]
        for change, field in bad:
            assert failed_fields(await _post(api, org.token, **change)) == {field}, change
        # At the limits exactly: accepted.
        edge = await _create(
            api, org.token, shortcut="a" * 32, title="t" * 120, content=" " + "c" * 4000 + " "
        )
        assert (len(edge["shortcut"]), len(edge["title"]), len(edge["content"])) == (32, 120, 4000)
        url = f"{api}/canned-responses/{edge['id']}"
        assert failed_fields(await call("PATCH", url, {"shortcut": "a b"}, token=org.token)) == {
            "shortcut"
        }
        assert failed_fields(await call("PATCH", url, {"scope": "personal"}, token=org.token)) == {
            "scope"
        }
        too_long_q = await call("GET", f"{api}/canned-responses?q={'q' * 121}", token=org.token)
        assert failed_fields(too_long_q) == {"q"}
        nul_q = await call("GET", f"{api}/canned-responses?q=a%00b", token=org.token)
        assert failed_fields(nul_q) == {"q"}
        assert await _listed(api, org.token) == [("personal", "a" * 32)]


async def test_both_scopes_are_capped(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org, bob, _cy = await _org_and_agents(base_url)
        api = _api(base_url)
        # Fill to one below each cap straight in PostgreSQL (requests would test nothing more).
        fill = (
            "INSERT INTO canned_responses (id, organization_id, owner_agent_id, shortcut, title,"
            " content) SELECT gen_random_uuid(), %s, %s, 'r' || n, 't', 'c'"
            " FROM generate_series(2, %s) n"
        )
        org_id = org.agent["organization_id"]
        caps = (
            (org.token, None, canned_queries.MAX_ORGANIZATION_RESPONSES, "organization"),
            (bob.token, bob.agent["id"], canned_queries.MAX_PERSONAL_RESPONSES, "personal"),
        )
        for token, owner, cap, scope in caps:
            query(settings.database_url, fill + " RETURNING id", (org_id, owner, cap))
            last = await _create(api, token, scope=scope, shortcut="last")
            assert_error(
                await _post(api, token, scope=scope, shortcut="one-more"),
                409,
                "too_many_canned_responses",
            )
            url = f"{api}/canned-responses/{last['id']}"
            assert (await call("DELETE", url, token=token)).status == 204
            await _create(api, token, scope=scope, shortcut="one-more")  # a deleted one frees
        # Bob's list holds both whole: the caps fit one answer.
        listed = await call("GET", f"{api}/canned-responses", token=bob.token)
        total = canned_queries.MAX_ORGANIZATION_RESPONSES + canned_queries.MAX_PERSONAL_RESPONSES
        assert len(listed.body["items"]) == total
