"""Appearance (chat/http/api/avatars.py, chat/http/team.py, the space settings position and
launcher_label): validation, tenancy, and that the widget config shows visitors only display
names and pictures of the team, never an email or an id."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import trio

from chat.config import Settings
from tests.files.images import HTML, SVG, png
from tests.helpers.api import NO_SUCH_ID, add_member, assert_error, failed_fields
from tests.helpers.chat import ORIGIN, agent_socket, make_org, widget
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call


def _bytes(url: str) -> tuple[int, bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=20) as resp:  # noqa: S310 - the test server
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.headers.items()}


async def test_appearance_settings_are_validated_and_admin_only(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        space = f"{api}/spaces/{org.space['id']}"
        assert (org.space["settings"]["position"], org.space["settings"]["launcher_label"]) == (
            "right",
            "",
        )
        change = {"settings": {"position": "left", "launcher_label": "  Chat with us \u202e "}}
        ok = await call("PATCH", space, change, token=org.token)
        assert ok.status == 200, ok.body
        # Trimmed, and a bidi override (which would reorder the host page's text) removed.
        assert ok.body["settings"]["position"] == "left"
        assert ok.body["settings"]["launcher_label"] == "Chat with us"
        assert ok.body["settings"]["greeting"] == "Hi! How can we help?"  # the others kept
        for bad, field in [
            ({"position": "top-left"}, "settings.position"),
            ({"launcher_label": "x" * 41}, "settings.launcher_label"),
            ({"launcher_label": "two\nlines"}, "settings.launcher_label"),
            ({"color": "#12345"}, "settings.color"),
            ({"greeting": "g" * 501}, "settings.greeting"),
        ]:
            refused = await call("PATCH", space, {"settings": bad}, token=org.token)
            assert field in failed_fields(refused), (bad, refused.body)
        # Only admins change a space; another organization's space is not found.
        bob = await add_member(api, org.token)
        assert_error(await call("PATCH", space, change, token=bob.token), 403, "forbidden")
        other = await make_org(base_url)
        assert_error(await call("PATCH", space, change, token=other.token), 404, "not_found")
        assert_error(
            await call("PATCH", f"{api}/spaces/{NO_SUCH_ID}", change, token=org.token),
            404,
            "not_found",
        )
        config = await call("GET", f"{api}/widget/{org.space['widget_key']}/config", origin=ORIGIN)
        assert config.body["space"]["settings"]["position"] == "left"
        assert config.body["space"]["settings"]["launcher_label"] == "Chat with us"


async def test_avatars(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        mine = f"{api}/auth/me/avatar"
        assert (await call("GET", mine, token=org.token)).body == {"avatar_url": None}
        image = png(16)
        put = await call("PUT", mine, image, token=org.token, headers={"Content-Type": "image/png"})
        assert put.status == 200, put.body
        url = put.body["avatar_url"]
        assert url.startswith("/api/v1/avatars/") and org.agent["id"] not in url
        assert (await call("GET", mine, token=org.token)).body == {"avatar_url": url}
        status, body, headers = await trio.to_thread.run_sync(_bytes, base_url + url)
        assert (status, body, headers["content-type"]) == (200, image, "image/png")
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cross-origin-resource-policy"] == "cross-origin"
        # Never markup, whatever the declared type; an unsigned caller cannot set one.
        for bad in (SVG, HTML, b"plain words"):
            refused = await call(
                "PUT", mine, bad, token=org.token, headers={"Content-Type": "image/png"}
            )
            assert_error(refused, 415, "file_type_not_allowed")
        big = png(16) + b"\0" * (64 * 1024)
        assert (
            await call("PUT", mine, big, token=org.token, headers={"Content-Type": "image/png"})
        ).status == 413
        assert_error(
            await call("PUT", mine, image, headers={"Content-Type": "image/png"}),
            401,
            "unauthorized",
        )
        # A new picture replaces the old one, whose URL is gone; deleting leaves initials.
        again = await call(
            "PUT", mine, png(12), token=org.token, headers={"Content-Type": "image/png"}
        )
        assert again.body["avatar_url"] != url
        assert_error(await call("GET", base_url + url), 404, "not_found")
        assert (await call("DELETE", mine, token=org.token)).status == 204
        assert_error(await call("GET", base_url + again.body["avatar_url"]), 404, "not_found")
        assert (await call("GET", mine, token=org.token)).body == {"avatar_url": None}
        assert_error(await call("GET", f"{api}/avatars/{NO_SUCH_ID}"), 404, "not_found")


async def test_widget_config_shows_the_team_and_nothing_private(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)  # its admin is "Ada"
        api = f"{base_url}/api/v1"
        members = [await add_member(api, org.token, name) for name in ("Bob", "Cy", "Dee")]
        bob = members[0]
        put = await call(
            "PUT",
            f"{api}/auth/me/avatar",
            png(),
            token=bob.token,
            headers={"Content-Type": "image/png"},
        )
        assert put.status == 200, put.body
        url = f"{api}/widget/{org.space['widget_key']}/config"
        # Bob online: he comes first; then by recent activity (none yet: oldest accounts first).
        async with agent_socket(base_url, bob.token):
            config = await call("GET", url, origin=ORIGIN)
        assert config.status == 200, config.body
        assert config.body["team"] == {
            "members": [
                {"name": "Bob", "avatar_url": put.body["avatar_url"]},
                {"name": "Ada", "avatar_url": None},
                {"name": "Cy", "avatar_url": None},
            ],
            "others": 1,
        }
        assert config.body["reply_time"] is None  # no conversation yet
        text = json.dumps(config.body)
        private: list[Any] = [org.agent["id"], org.agent["organization_id"], org.agent["email"]]
        for m in members:
            private += [m.agent["id"], m.agent["email"]]
        leaked = [value for value in private if value in text]
        assert leaked == [], leaked
        assert "@" not in text
        # The console's preview reads the same through an agent route, for its own spaces only.
        preview = await call("GET", f"{api}/spaces/{org.space['id']}/team", token=bob.token)
        assert preview.status == 200, preview.body
        assert preview.body["reply_time"] is None
        assert [m["name"] for m in preview.body["team"]["members"]] == ["Ada", "Bob", "Cy"]
        other = await make_org(base_url)
        refused = await call("GET", f"{api}/spaces/{org.space['id']}/team", token=other.token)
        assert_error(refused, 404, "not_found")


async def test_reply_time_from_a_real_conversation(base_url: str, settings: Settings) -> None:
    """An answered conversation gives the space a reply time; its agent becomes the most
    recently active one (shown first when nobody is online)."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        cy = await add_member(api, org.token, "Cy")
        async with agent_socket(base_url, cy.token, subscribe=org.space["id"]) as (agent, _):
            async with widget(org) as (visitor, _):
                ack = await visitor.say("hello?")
                await agent.send({"type": "claim", "thread_id": ack["thread_id"]})
                await agent.expect("ack", ref="claim")
                await agent.say("Hi!", thread_id=ack["thread_id"])
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM messages WHERE thread_id = %s AND sender_type = 'agent'",
            (ack["thread_id"],),
            1,
        )
        # The first config of this space is read now (its snapshot is cached a few minutes).
        config = await call("GET", f"{api}/widget/{org.space['widget_key']}/config", origin=ORIGIN)
        assert config.body["reply_time"] == "minutes"
        assert [m["name"] for m in config.body["team"]["members"]] == ["Cy", "Ada"]
        assert config.body["team"]["others"] == 0
