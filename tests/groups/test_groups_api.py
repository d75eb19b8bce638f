"""The group routes of chat/http/api/groups.py: create, list, read, rename, members, delete; each
documented error; roles and tenancy; and what groups change elsewhere (agents' group_ids, spaces'
default group, the widget config, the organization's default capacity)."""

from __future__ import annotations

from typing import Any

import trio

from chat.config import Settings
from chat.db import group_queries
from tests.helpers.api import (
    GROUP_FIELDS,
    NO_SUCH_ID,
    Member,
    add_member,
    assert_error,
    failed_fields,
)
from tests.helpers.chat import ORIGIN, make_org
from tests.helpers.db import query
from tests.helpers.http import call


async def _create(api: str, token: str, **body: Any) -> dict[str, Any]:
    reply = await call("POST", f"{api}/groups", {"name": "Sales", **body}, token=token)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def test_crud_round_trip(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await add_member(api, org.token, "Bob")
        sales = await _create(api, org.token, name="  Sales ", strategy="round_robin")
        assert set(sales) == GROUP_FIELDS
        assert (sales["name"], sales["strategy"], sales["sticky"]) == (
            "Sales",
            "round_robin",
            False,
        )
        assert sales["agent_ids"] == [] and sales["organization_id"] == org.agent["organization_id"]
        support = await _create(api, org.token, name="Support")
        assert support["strategy"] == "manual"  # today's behaviour unless chosen

        url = f"{api}/groups/{sales['id']}"
        patched = await call(
            "PATCH",
            url,
            {"name": "Sales EU", "strategy": "least_loaded", "sticky": True},
            token=org.token,
        )
        assert patched.status == 200, patched.body
        assert (patched.body["name"], patched.body["strategy"], patched.body["sticky"]) == (
            "Sales EU",
            "least_loaded",
            True,
        )
        members = [bob.agent["id"], org.agent["id"], bob.agent["id"]]  # twice counts once
        put = await call("PUT", f"{url}/members", {"agent_ids": members}, token=org.token)
        assert put.status == 200, put.body
        assert put.body["agent_ids"] == [org.agent["id"], bob.agent["id"]]  # oldest agent first
        one = await call("GET", url, token=bob.token)
        assert one.status == 200 and one.body == put.body

        # An agent shows its groups (every agent reply: the list, one agent, /auth/me).
        me = await call("GET", f"{api}/auth/me", token=bob.token)
        assert me.body["group_ids"] == [sales["id"]]
        await call(
            "PUT",
            f"{api}/groups/{support['id']}/members",
            {"agent_ids": [bob.agent["id"]]},
            token=org.token,
        )
        listed = await call("GET", f"{api}/agents", token=bob.token)
        groups_of = {a["id"]: a["group_ids"] for a in listed.body["items"]}
        assert groups_of == {
            org.agent["id"]: [sales["id"]],
            bob.agent["id"]: [sales["id"], support["id"]],
        }

        emptied = await call("PUT", f"{url}/members", {"agent_ids": []}, token=org.token)
        assert emptied.body["agent_ids"] == []
        listed = await call("GET", f"{api}/groups", token=bob.token)
        assert listed.status == 200
        assert [g["id"] for g in listed.body["items"]] == [sales["id"], support["id"]]

        deleted = await call("DELETE", url, token=org.token)
        assert deleted.status == 204
        for method, path, body in (
            ("GET", url, None),
            ("PATCH", url, {"name": "Back"}),
            ("PUT", f"{url}/members", {"agent_ids": []}),
            ("DELETE", url, None),
        ):
            assert_error(await call(method, path, body, token=org.token), 404, "not_found")
        listed = await call("GET", f"{api}/groups", token=org.token)
        assert [g["id"] for g in listed.body["items"]] == [support["id"]]
        me = await call("GET", f"{api}/agents/{bob.agent['id']}", token=org.token)
        assert me.body["group_ids"] == [support["id"]]  # a deleted group is nobody's


async def test_names_are_unique_among_live_groups_in_any_case(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        other = await make_org(base_url)
        api = f"{base_url}/api/v1"
        sales = await _create(api, org.token, name="Sales")
        taken = await call("POST", f"{api}/groups", {"name": "sALES"}, token=org.token)
        assert_error(taken, 409, "name_taken")
        support = await _create(api, org.token, name="Support")
        renamed = await call(
            "PATCH", f"{api}/groups/{support['id']}", {"name": "SALES "}, token=org.token
        )
        assert_error(renamed, 409, "name_taken")
        await _create(api, other.token, name="Sales")  # another organization's names are apart
        assert (await call("DELETE", f"{api}/groups/{sales['id']}", token=org.token)).status == 204
        again = await _create(api, org.token, name="sales")  # a deleted group's name is free
        assert again["id"] != sales["id"]
        same = await call(
            "PATCH", f"{api}/groups/{again['id']}", {"name": "Sales"}, token=org.token
        )
        assert same.status == 200 and same.body["name"] == "Sales"  # its own name, recased


async def test_bodies_are_validated(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        refused = [
            ({"name": ""}, "name"),
            ({"name": "   "}, "name"),
            ({"name": "x" * 81}, "name"),
            ({"name": "A", "strategy": "random"}, "strategy"),
            ({"name": "A", "sticky": "maybe"}, "sticky"),
            ({"name": "A", "organization_id": NO_SUCH_ID}, "organization_id"),
        ]
        for body, field in refused:
            reply = await call("POST", f"{api}/groups", body, token=org.token)
            assert field in failed_fields(reply), (body, reply.body)
        assert (await _create(api, org.token, name="x" * 80))["name"] == "x" * 80
        group = await _create(api, org.token, name="Sales")
        too_many = {"agent_ids": [NO_SUCH_ID] * 1001}
        reply = await call("PUT", f"{api}/groups/{group['id']}/members", too_many, token=org.token)
        assert "agent_ids" in failed_fields(reply)
        listed = await call("GET", f"{api}/groups", token=org.token)
        assert len(listed.body["items"]) == 2  # the refused bodies made nothing


async def test_members_must_be_live_agents_of_the_organization(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        other = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await add_member(api, org.token, "Bob")
        carol = await add_member(api, org.token, "Carol")
        group = await _create(api, org.token)
        url = f"{api}/groups/{group['id']}/members"
        assert (
            await call("PUT", url, {"agent_ids": [carol.agent["id"]]}, token=org.token)
        ).status == 200
        assert (
            await call("DELETE", f"{api}/agents/{bob.agent['id']}", token=org.token)
        ).status == 204
        for stranger in (other.agent["id"], bob.agent["id"], NO_SUCH_ID):
            reply = await call(
                "PUT", url, {"agent_ids": [org.agent["id"], stranger]}, token=org.token
            )
            assert failed_fields(reply) == {"agent_ids"}
            assert stranger in reply.body["error"]["message"]
        kept = await call("GET", f"{api}/groups/{group['id']}", token=org.token)
        assert kept.body["agent_ids"] == [carol.agent["id"]]  # a refused list changes nothing

        # A member deleted later leaves the group.
        assert (
            await call("DELETE", f"{api}/agents/{carol.agent['id']}", token=org.token)
        ).status == 204
        after = await call("GET", f"{api}/groups/{group['id']}", token=org.token)
        assert after.body["agent_ids"] == []


async def test_agents_read_admins_write(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob: Member = await add_member(api, org.token, "Bob")
        group = await _create(api, org.token)
        url = f"{api}/groups/{group['id']}"
        for method, path, body in (
            ("POST", f"{api}/groups", {"name": "Mine"}),
            ("PATCH", url, {"name": "Mine"}),
            ("PUT", f"{url}/members", {"agent_ids": [bob.agent["id"]]}),
            ("DELETE", url, None),
            ("PATCH", f"{api}/organization", {"default_max_concurrent_chats": 9}),
        ):
            assert_error(await call(method, path, body, token=bob.token), 403, "forbidden")
            assert_error(await call(method, path, body), 401, "unauthorized")
        for path in (f"{api}/groups", url, f"{api}/organization"):
            assert (await call("GET", path, token=bob.token)).status == 200
        unchanged = await call("GET", url, token=org.token)
        assert unchanged.body == group


async def test_another_organizations_group_is_not_found(base_url: str) -> None:
    with trio.fail_after(30):
        a = await make_org(base_url)
        b = await make_org(base_url)
        api = f"{base_url}/api/v1"
        theirs = await _create(api, a.token, name="Secret plans")
        url = f"{api}/groups/{theirs['id']}"
        for method, path, body in (
            ("GET", url, None),
            ("PATCH", url, {"name": "Taken over"}),
            ("PUT", f"{url}/members", {"agent_ids": [b.agent["id"]]}),
            ("DELETE", url, None),
        ):
            reply = await call(method, path, body, token=b.token)
            assert_error(reply, 404, "not_found", (method, path))
            assert "Secret plans" not in str(reply.body)
        listed = await call("GET", f"{api}/groups", token=b.token)
        assert listed.body["items"] == []
        # Nor can B's space name it as its default group.
        space = await call(
            "PATCH",
            f"{api}/spaces/{b.space['id']}",
            {"settings": {"default_group_id": theirs["id"]}},
            token=b.token,
        )
        assert failed_fields(space) == {"settings.default_group_id"}
        still = await call("GET", url, token=a.token)
        assert still.body == theirs


async def test_a_space_names_its_default_group(base_url: str, settings: Settings) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        group = await _create(api, org.token)
        space_url = f"{api}/spaces/{org.space['id']}"
        assert org.space["settings"]["default_group_id"] is None
        assert org.space["settings"]["visitor_picks_group"] is False
        for bad in (NO_SUCH_ID, "not-a-uuid"):
            reply = await call(
                "PATCH", space_url, {"settings": {"default_group_id": bad}}, token=org.token
            )
            assert failed_fields(reply) == {"settings.default_group_id"}, bad
        change = {"default_group_id": group["id"].upper(), "visitor_picks_group": True}
        set_ = await call("PATCH", space_url, {"settings": change}, token=org.token)
        assert set_.status == 200, set_.body
        assert set_.body["settings"]["default_group_id"] == group["id"]
        assert set_.body["settings"]["visitor_picks_group"] is True
        kept = await call("PATCH", space_url, {"settings": {"greeting": "Hey"}}, token=org.token)
        assert kept.body["settings"]["default_group_id"] == group["id"]  # left out: kept
        created = await call(
            "POST",
            f"{api}/spaces",
            {"name": "Two", "allowed_domains": ["two.test"], "settings": change},
            token=org.token,
        )
        assert created.status == 201 and created.body["settings"]["default_group_id"] == group["id"]

        # Deleting the group leaves both spaces without a default group.
        assert (await call("DELETE", f"{api}/groups/{group['id']}", token=org.token)).status == 204
        for space_id in (org.space["id"], created.body["id"]):
            space = await call("GET", f"{api}/spaces/{space_id}", token=org.token)
            assert space.body["settings"]["default_group_id"] is None, space.body
            assert space.body["settings"]["visitor_picks_group"] is True
        refused = await call(
            "PATCH", space_url, {"settings": {"default_group_id": group["id"]}}, token=org.token
        )
        assert failed_fields(refused) == {"settings.default_group_id"}  # deleted: not a group
        other = await _create(api, org.token, name="Other")
        await call(
            "PATCH", space_url, {"settings": {"default_group_id": other["id"]}}, token=org.token
        )
        cleared = await call(
            "PATCH", space_url, {"settings": {"default_group_id": None}}, token=org.token
        )
        assert cleared.body["settings"]["default_group_id"] is None  # null: no group
        stored = query(
            settings.database_url, "SELECT settings FROM spaces WHERE id = %s", (org.space["id"],)
        )
        assert stored[0][0]["default_group_id"] is None


async def test_the_widget_config_lists_groups_when_visitors_pick(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        await _create(api, org.token, name="Support", strategy="round_robin")
        sales = await _create(api, org.token, name="billing")
        bob = await add_member(api, org.token, "Bob")
        await call(
            "PUT",
            f"{api}/groups/{sales['id']}/members",
            {"agent_ids": [bob.agent["id"]]},
            token=org.token,
        )
        config_url = f"{api}/widget/{org.space['widget_key']}/config"
        headers = {"Origin": ORIGIN}
        off = await call("GET", config_url, headers=headers)
        assert off.status == 200 and off.body["groups"] == []
        await call(
            "PATCH",
            f"{api}/spaces/{org.space['id']}",
            {"settings": {"visitor_picks_group": True}},
            token=org.token,
        )
        on = await call("GET", config_url, headers=headers)
        assert on.status == 200, on.body
        support = next(
            g
            for g in (await call("GET", f"{api}/groups", token=org.token)).body["items"]
            if g["name"] == "Support"
        )
        # By name, id and name only: no strategy, no members.
        assert on.body["groups"] == [
            {"id": sales["id"], "name": "billing"},
            {"id": support["id"], "name": "Support"},
        ]
        assert bob.agent["id"] not in str(on.body)


async def test_the_organization_default_capacity(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        got = await call("GET", f"{api}/organization", token=org.token)
        assert got.status == 200 and got.body["default_max_concurrent_chats"] == 5
        assert got.body["id"] == org.agent["organization_id"]
        for bad in (0, 1001, "many"):
            reply = await call(
                "PATCH",
                f"{api}/organization",
                {"default_max_concurrent_chats": bad},
                token=org.token,
            )
            assert failed_fields(reply) == {"default_max_concurrent_chats"}
        patched = await call(
            "PATCH", f"{api}/organization", {"default_max_concurrent_chats": 3}, token=org.token
        )
        assert patched.status == 200 and patched.body["default_max_concurrent_chats"] == 3
        bob = await add_member(api, org.token, "Bob")  # names no capacity: the default
        assert bob.agent["max_concurrent_chats"] == 3
        carol = await call(
            "POST",
            f"{api}/agents",
            {
                "email": "carol-cap@example.com",
                "name": "Carol",
                "password": "long enough pw",
                "max_concurrent_chats": 7,
            },
            token=org.token,
        )
        assert carol.body["max_concurrent_chats"] == 7
        other = await make_org(base_url)  # another organization's default is its own
        assert (await call("GET", f"{api}/organization", token=other.token)).body[
            "default_max_concurrent_chats"
        ] == 5


async def test_groups_per_organization_are_capped(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        org_id = org.agent["organization_id"]
        # Fill to one below the cap straight in PostgreSQL (200 requests would test nothing more).
        query(
            settings.database_url,
            "INSERT INTO groups (id, organization_id, name)"
            " SELECT gen_random_uuid(), %s, 'g' || n FROM generate_series(2, %s) n"
            " RETURNING id",
            (org_id, group_queries.MAX_GROUPS_PER_ORGANIZATION),
        )
        last = await _create(api, org.token, name="Last")
        assert_error(
            await call("POST", f"{api}/groups", {"name": "One more"}, token=org.token),
            409,
            "too_many_groups",
        )
        assert (await call("DELETE", f"{api}/groups/{last['id']}", token=org.token)).status == 204
        await _create(api, org.token, name="One more")  # a deleted group frees its place
