"""Bot accounts (chat/http/api/bots.py): made by admins only, a token that opens the agent
socket and the REST API as the bot and nothing more, rotated and deleted; never counted online
for the widget nor shown among its team; where a space or a group names one."""

from __future__ import annotations

import trio

from tests.bots.helpers import external_bot, make_bot, route_space_to_bot
from tests.helpers.api import add_member, assert_error
from tests.helpers.chat import ORIGIN, agent_socket, close_code, make_org, widget
from tests.helpers.http import call


async def test_only_admins_make_bots_and_a_bot_manages_nothing(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        for role in ("agent", "supervisor"):
            member = await add_member(api, org.token, f"M{role}", role=role)
            refused = await call("POST", f"{api}/bots", {"name": "Nope"}, token=member.token)
            assert_error(refused, 403, "forbidden")
        account = await make_bot(org)
        bot, token = account.bot, account.token
        # What a bot may do: read its organization's spaces and itself, like an agent.
        spaces = await call("GET", f"{api}/spaces", token=token)
        assert spaces.status == 200 and spaces.body["items"][0]["id"] == org.space["id"]
        # What it may not: manage anything, or use the account routes.
        for method, path, body in (
            ("POST", "/bots", {"name": "Another"}),
            ("POST", "/agents", {"email": "x@example.com", "name": "X", "password": "p" * 12}),
            ("PATCH", f"/spaces/{org.space['id']}", {"name": "Mine"}),
            ("POST", "/groups", {"name": "Bots"}),
            ("POST", f"/bots/{bot['id']}/rotate-token", None),
            ("DELETE", f"/agents/{org.agent['id']}", None),
            ("GET", "/auth/me", None),
            ("PATCH", "/auth/me", {"password": "a new password"}),
            ("GET", "/api-keys", None),
        ):
            reply = await call(method, f"{api}{path}", body, token=token)
            assert_error(reply, 403, "forbidden")
        # Enrolment reads an access token itself: a bot's is none.
        enrol = await call("POST", f"{api}/auth/two-factor/enrol", {}, token=token)
        assert_error(enrol, 401, "unauthorized")
        # It never signs in with a password (it has none).
        login = await call(
            "POST", f"{api}/auth/login", {"email": bot["email"], "password": "anything at all"}
        )
        assert_error(login, 401, "invalid_credentials")
        # An admin renames it, nothing else.
        renamed = await call("PATCH", f"{api}/agents/{bot['id']}", {"name": "Sam"}, token=org.token)
        assert renamed.status == 200 and renamed.body["name"] == "Sam"
        for change in ({"role": "admin"}, {"password": "a long password"}):
            refused = await call("PATCH", f"{api}/agents/{bot['id']}", change, token=org.token)
            assert_error(refused, 422, "invalid")
        # It takes no conversation from the queue, and none is transferred to it.
        async with widget(org) as (visitor, _):
            thread_id = (await visitor.say("hello"))["thread_id"]
        claim = await call("POST", f"{api}/threads/{thread_id}/claim", token=token)
        assert_error(claim, 403, "forbidden")
        transfer = await call(
            "POST", f"{api}/threads/{thread_id}/transfer", {"agent_id": bot["id"]}, token=org.token
        )
        assert_error(transfer, 403, "forbidden")
        # Nor is it a group member.
        group = await call("POST", f"{api}/groups", {"name": "Sales"}, token=org.token)
        put = await call(
            "PUT",
            f"{api}/groups/{group.body['id']}/members",
            {"agent_ids": [bot["id"]]},
            token=org.token,
        )
        assert_error(put, 422, "invalid")


async def test_a_rotated_or_deleted_bots_token_stops_working(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        account = await make_bot(org)
        bot_id = account.bot["id"]
        listed = await call("GET", f"{api}/bots/{bot_id}", token=org.token)
        assert listed.body["token_prefix"] == account.token[: len("chat_bot_") + 8]
        assert listed.body["token_last4"] == account.token[-4:]
        async with agent_socket(base_url, account.token) as (socket, welcome):
            assert welcome["agent"]["id"] == bot_id
            rotated = await call("POST", f"{api}/bots/{bot_id}/rotate-token", token=org.token)
            assert rotated.status == 200, rotated.body
            assert await close_code(socket) == 4001
        old = await call("GET", f"{api}/spaces", token=account.token)
        assert_error(old, 401, "unauthorized")
        new_token = rotated.body["token"]
        assert (await call("GET", f"{api}/spaces", token=new_token)).status == 200
        async with agent_socket(base_url, new_token) as (socket, _):
            gone = await call("DELETE", f"{api}/bots/{bot_id}", token=org.token)
            assert gone.status == 204
            assert await close_code(socket) == 4001
        assert_error(await call("GET", f"{api}/spaces", token=new_token), 401, "unauthorized")
        assert_error(await call("GET", f"{api}/bots/{bot_id}", token=org.token), 404, "not_found")


async def test_a_bot_online_is_no_agent_online_for_the_widget(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        account = await make_bot(org, "Robo")
        await route_space_to_bot(org, account.bot["id"])
        config_url = f"{api}/widget/{org.space['widget_key']}/config"
        async with external_bot(base_url, account.token):
            async with widget(org) as (_, welcome):
                assert welcome["agents_online"] is False
            config = await call("GET", config_url, origin=ORIGIN)
            assert config.body["agents_online"] is False
            # The team faces are people only; the space's bot stays private.
            assert [m["name"] for m in config.body["team"]["members"]] == ["Ada"]
            assert "bot_agent_id" not in config.body["space"]["settings"]
            # With a person online too, the widget says so.
            async with agent_socket(base_url, org.token) as (admin, _):
                await admin.send({"type": "heartbeat"})
                async with widget(org) as (_, welcome):
                    assert welcome["agents_online"] is True


async def test_only_a_live_bot_of_the_organization_answers_first(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        other = await make_org(base_url)
        api = f"{base_url}/api/v1"
        theirs = await make_bot(other)
        person = await add_member(api, org.token, "Hana")
        for wrong in (theirs.bot["id"], person.agent["id"]):
            reply = await call(
                "PATCH",
                f"{api}/spaces/{org.space['id']}",
                {"settings": {"bot_agent_id": wrong}},
                token=org.token,
            )
            assert_error(reply, 422, "invalid")
            group = await call(
                "POST",
                f"{api}/groups",
                {"name": f"G{wrong[:4]}", "bot_agent_id": wrong},
                token=org.token,
            )
            assert_error(group, 422, "invalid")


async def test_another_organizations_bot_finds_nothing_here(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        other = await make_org(base_url)
        api = f"{base_url}/api/v1"
        mine = await make_bot(org)
        await route_space_to_bot(org, mine.bot["id"])
        theirs = await make_bot(other)
        async with widget(org) as (visitor, _):
            thread_id = (await visitor.say("hello"))["thread_id"]
        for path, body in (
            ("handover", {}),
            ("messages", {"client_id": "x1", "content": "hijack"}),
            ("claim", None),
        ):
            reply = await call(
                "POST", f"{api}/threads/{thread_id}/{path}", body, token=theirs.token
            )
            assert_error(reply, 404, "not_found")
        found = await call("GET", f"{api}/threads/{thread_id}", token=theirs.token)
        assert_error(found, 404, "not_found")
        # Over its socket too: another organization's thread is not found.
        async with agent_socket(base_url, theirs.token) as (socket, welcome):
            assert [s["id"] for s in welcome["spaces"]] == [other.space["id"]]
            await socket.send({"type": "handover", "thread_id": thread_id})
            refused = await socket.expect("error", ref="handover")
            assert refused["code"] == "not_found"
