"""The space routes of chat/http/api/spaces.py: create, list, read, update, delete, rotate the
widget key, and list a space's threads (statuses, pages), each happy path and each documented
error."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import trio

from chat.config import Settings
from tests.helpers.api import (
    NO_SUCH_ID,
    SPACE_FIELDS,
    THREAD_FIELDS,
    Invalid,
    add_member,
    assert_error,
    failed_fields,
    open_threads,
)
from tests.helpers.chat import ORIGIN, handshake_status, make_org, widget
from tests.helpers.db import query as query_db
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call


async def test_spaces(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await add_member(api, org.token)
        body = {
            "name": "Blog",
            "allowed_domains": ["Blog.Example.com", "*.Example.org", "blog.example.com"],
            "settings": {"greeting": "Hello", "max_open_threads": 3},
        }
        created = await call("POST", f"{api}/spaces", body, token=org.token)
        assert created.status == 201, created.body
        space = created.body
        assert set(space) == SPACE_FIELDS
        assert space["allowed_domains"] == ["blog.example.com", "*.example.org"]
        assert (space["settings"]["greeting"], space["settings"]["max_open_threads"]) == (
            "Hello",
            3,
        )
        assert space["settings"]["visitor_burst"] == 5  # defaults fill the rest
        assert space["widget_key"] and space["widget_key"] != org.space["widget_key"]
        refused: Invalid = [
            ({"allowed_domains": ["https://blog.example.com"]}, "allowed_domains"),
            ({"allowed_domains": []}, "allowed_domains"),
            ({"name": ""}, "name"),
            ({"settings": {"color": "red"}}, "settings.color"),
            ({"settings": {"unknown": 1}}, "settings.unknown"),
            ({"widget_key": "wk_mine"}, "widget_key"),
        ]
        for bad, field in refused:
            reply = await call("POST", f"{api}/spaces", {**body, **bad}, token=org.token)
            assert field in failed_fields(reply), (bad, reply.body)
        assert_error(await call("POST", f"{api}/spaces", body, token=bob.token), 403, "forbidden")
        assert_error(await call("POST", f"{api}/spaces", body), 401, "unauthorized")

        url = f"{api}/spaces/{space['id']}"
        for token in (org.token, bob.token):
            listed = await call("GET", f"{api}/spaces", token=token)
            assert [s["id"] for s in listed.body["items"]] == [org.space["id"], space["id"]]
            assert (await call("GET", url, token=token)).body == space
        assert_error(
            await call("GET", f"{api}/spaces/{NO_SUCH_ID}", token=org.token), 404, "not_found"
        )

        # Settings merge key by key: what a PATCH leaves out keeps its value.
        first = await call("PATCH", url, {"settings": {"color": "#112233"}}, token=org.token)
        assert first.status == 200, first.body
        second = await call(
            "PATCH",
            url,
            {
                "name": "Blog 2",
                "allowed_domains": ["news.example.com"],
                "settings": {"greeting": "Hey"},
            },
            token=org.token,
        )
        assert second.status == 200, second.body
        settings = second.body["settings"]
        assert (settings["color"], settings["greeting"], settings["max_open_threads"]) == (
            "#112233",
            "Hey",
            3,
        )
        assert (second.body["name"], second.body["allowed_domains"]) == (
            "Blog 2",
            ["news.example.com"],
        )
        assert second.body["widget_key"] == space["widget_key"]
        assert (await call("GET", url, token=bob.token)).body == second.body
        refused = [
            ({"settings": {"visitor_burst": 0}}, "settings.visitor_burst"),
            ({"allowed_domains": ["*"]}, "allowed_domains"),
            ({"name": "x" * 121}, "name"),
        ]
        for bad, field in refused:
            assert field in failed_fields(await call("PATCH", url, bad, token=org.token))
        assert_error(await call("PATCH", url, {"name": "X"}, token=bob.token), 403, "forbidden")
        assert_error(
            await call("PATCH", f"{api}/spaces/{NO_SUCH_ID}", {"name": "X"}, token=org.token),
            404,
            "not_found",
        )
        assert (await call("GET", url, token=org.token)).body == second.body

        assert_error(await call("DELETE", url, token=bob.token), 403, "forbidden")
        deleted = await call("DELETE", url, token=org.token)
        assert deleted.status == 204 and deleted.body is None
        assert_error(await call("GET", url, token=org.token), 404, "not_found")
        assert_error(await call("DELETE", url, token=org.token), 404, "not_found")
        assert_error(await call("PATCH", url, {"name": "X"}, token=org.token), 404, "not_found")
        listed = await call("GET", f"{api}/spaces", token=org.token)
        assert [s["id"] for s in listed.body["items"]] == [org.space["id"]]
        config = f"{api}/widget/{space['widget_key']}/config"
        gone = await call("GET", config, origin="https://news.example.com")
        assert_error(gone, 404, "not_found")
        assert await handshake_status(org, space["widget_key"]) == 404


async def test_rotate_key(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        bob = await add_member(api, org.token)
        old_key = org.space["widget_key"]
        url = f"{api}/spaces/{org.space['id']}/rotate-key"
        assert_error(await call("POST", url, token=bob.token), 403, "forbidden")
        assert_error(await call("POST", url), 401, "unauthorized")
        assert_error(
            await call("POST", f"{api}/spaces/{NO_SUCH_ID}/rotate-key", token=org.token),
            404,
            "not_found",
        )
        assert await handshake_status(org, old_key) is None  # the refusals rotated nothing

        rotated = await call("POST", url, token=org.token)
        assert rotated.status == 200, rotated.body
        new_key = rotated.body["widget_key"]
        assert new_key != old_key
        assert {k: v for k, v in rotated.body.items() if k != "widget_key"} == {
            k: v for k, v in org.space.items() if k != "widget_key"
        }
        space = await call("GET", f"{api}/spaces/{org.space['id']}", token=org.token)
        assert space.body["widget_key"] == new_key

        assert await handshake_status(org, old_key) == 404
        old_config = await call("GET", f"{api}/widget/{old_key}/config", origin=ORIGIN)
        assert_error(old_config, 404, "not_found")
        new_config = await call("GET", f"{api}/widget/{new_key}/config", origin=ORIGIN)
        assert new_config.status == 200, new_config.body
        org.space = rotated.body
        async with widget(org) as (_visitor, welcome):
            assert welcome["visitor"]["space_id"] == org.space["id"]


async def test_thread_list_statuses_and_pages(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        threads = [ack["thread_id"] for ack in await open_threads(org, 5)]
        claimed, closed = threads[1], threads[3]
        claim = await call("POST", f"{api}/threads/{claimed}/claim", token=org.token)
        assert claim.status == 200, claim.body
        close = await call("POST", f"{api}/threads/{closed}/close", token=org.token)
        assert close.status == 200, close.body
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) = 5 AND count(*) FILTER (WHERE status = 'active') = 1"
            " AND count(*) FILTER (WHERE status = 'closed') = 1 FROM threads WHERE space_id = %s",
            (org.space["id"],),
            True,
        )
        url = f"{api}/spaces/{org.space['id']}/threads"

        async def listed(query: str) -> list[dict[str, Any]]:
            reply = await call("GET", f"{url}{query}", token=org.token)
            assert reply.status == 200, reply.body
            assert reply.body["next_cursor"] is None
            assert all(
                set(t) == THREAD_FIELDS | {"unread", "last_read_id", "tag_ids"}
                for t in reply.body["items"]
            )
            return list(reply.body["items"])

        def ids(items: list[dict[str, Any]]) -> list[str]:
            return [t["id"] for t in items]

        default = await listed("")
        assert sorted(ids(default)) == sorted(t for t in threads if t != closed)
        assert ids(await listed("?status=closed")) == [closed]
        active = await listed("?status=active")
        assert ids(active) == [claimed] and active[0]["assigned_agent_id"] == org.agent["id"]
        assert sorted(ids(await listed("?status=unassigned"))) == sorted(
            set(threads) - {claimed, closed}
        )
        assert ids(await listed("?status=expired")) == []
        everything = await listed("?status=closed,unassigned,active,expired&limit=200")
        assert sorted(ids(everything)) == sorted(threads)
        newest_first = sorted(
            everything, key=lambda t: (t["last_activity_at"], t["id"]), reverse=True
        )
        assert ids(everything) == ids(newest_first)
        assert everything[0]["id"] == closed  # closing was the latest activity

        # Pages of two: every thread once, in the same order as the one big page.
        async def pages_of_two() -> list[str]:
            paged: list[str] = []
            cursor = None
            for _page in range(3):
                query = "?status=unassigned,active,closed&limit=2"
                if cursor:
                    query += f"&cursor={quote(cursor)}"
                reply = await call("GET", url + query, token=org.token)
                assert reply.status == 200, reply.body
                paged += ids(reply.body["items"])
                cursor = reply.body["next_cursor"]
                assert (cursor is None) == (len(paged) == 5), (paged, cursor)
            return paged

        assert await pages_of_two() == ids(everything)
        # Threads active at the same instant (ms, as the projector writes) still page without
        # gaps or repeats: the cursor breaks ties by id.
        tied = await trio.to_thread.run_sync(
            query_db,
            settings.database_url,
            "UPDATE threads SET last_activity_at = '2026-01-02T03:04:05.678Z'"
            " WHERE space_id = %s RETURNING id",
            (org.space["id"],),
        )
        assert len(tied) == 5
        assert await pages_of_two() == sorted(threads, reverse=True)

        for query, field in [
            ("?limit=0", "limit"),
            ("?limit=201", "limit"),
            ("?limit=many", "limit"),
            ("?status=open", "status"),
            ("?status=active,", "status"),
            ("?cursor=" + "x" * 201, "cursor"),
        ]:
            reply = await call("GET", url + query, token=org.token)
            assert field in failed_fields(reply), (query, reply.body)
        for cursor in ("garbage", "2024-01-01T00:00:00Z|not-a-uuid", f"yesterday|{threads[0]}"):
            reply = await call("GET", f"{url}?cursor={quote(cursor)}", token=org.token)
            assert_error(reply, 400, "invalid")
        assert_error(
            await call("GET", f"{api}/spaces/{NO_SUCH_ID}/threads", token=org.token),
            404,
            "not_found",
        )
        assert_error(await call("GET", url), 401, "unauthorized")
