"""Soft delete and restore of conversations (chat/http/api/lifecycle.py): log entries, projected
`deleted_at`, out of lists and the export, visible to admins in the deleted list, restorable."""

from __future__ import annotations

import trio

from chat.config import Settings
from tests.helpers.api import add_member, assert_error
from tests.helpers.chat import Org, agent_socket, make_org, widget
from tests.helpers.db import wait_for_messages, wait_for_rows
from tests.helpers.http import call


async def _closed_thread(org: Org, settings: Settings) -> str:
    async with widget(org) as (visitor, _):
        ack = await visitor.say("please forget me later")
    thread_id = str(ack["thread_id"])
    closed = await call("POST", f"{org.base}/api/v1/threads/{thread_id}/close", token=org.token)
    assert closed.status == 200, closed.body
    await wait_for_messages(settings.database_url, thread_id, 1)
    return thread_id


async def _listed(org: Org) -> list[str]:
    url = f"{org.base}/api/v1/spaces/{org.space['id']}/threads?status=closed"
    reply = await call("GET", url, token=org.token)
    return [t["id"] for t in reply.body["items"]]


async def _found(org: Org) -> list[str]:
    """The threads whose messages search finds for the closed thread's words."""
    reply = await call("GET", f"{org.base}/api/v1/search?q=forget", token=org.token)
    assert reply.status == 200, reply.body
    return [hit["message"]["thread_id"] for hit in reply.body["items"]]


async def _deleted_at(settings: Settings, thread_id: str, deleted: bool) -> None:
    sql = "SELECT deleted_at IS NOT NULL FROM threads WHERE id = %s"
    await wait_for_rows(settings.database_url, sql, (thread_id,), deleted)


async def test_delete_hides_and_restore_brings_back(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        thread_id = await _closed_thread(org, settings)
        assert thread_id in await _listed(org)
        assert await _found(org) == [thread_id]
        api = f"{base_url}/api/v1"
        async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
            deleted = await call("DELETE", f"{api}/threads/{thread_id}", token=org.token)
            assert deleted.status == 204
            frame = await agent.expect("thread.deleted", thread_id=thread_id)
            assert frame["by"] == org.agent["id"] and "cursor" in frame
        await _deleted_at(settings, thread_id, True)
        assert thread_id not in await _listed(org)
        assert await _found(org) == []  # out of search too
        gone = await call("GET", f"{api}/spaces/{org.space['id']}/deleted-threads", token=org.token)
        assert [t["id"] for t in gone.body["items"]] == [thread_id]
        assert gone.body["items"][0]["deleted_at"]
        export = await call("GET", f"{api}/organization/export", token=org.token)
        assert export.status == 200 and export.body is None  # its only conversation is deleted
        # Its messages are kept: an admin can still read it before restoring it.
        detail = await call("GET", f"{api}/threads/{thread_id}", token=org.token)
        assert detail.body["deleted_at"]

        restored = await call("POST", f"{api}/threads/{thread_id}/restore", token=org.token)
        assert restored.status == 204
        await _deleted_at(settings, thread_id, False)
        assert thread_id in await _listed(org)
        assert await _found(org) == [thread_id]
        gone = await call("GET", f"{api}/spaces/{org.space['id']}/deleted-threads", token=org.token)
        assert gone.body["items"] == []


async def test_open_threads_agents_and_strangers_are_refused(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        async with widget(org) as (visitor, _):
            ack = await visitor.say("still here")
        open_id = ack["thread_id"]
        reply = await call("DELETE", f"{api}/threads/{open_id}", token=org.token)
        assert_error(reply, 409, "thread_open")
        thread_id = await _closed_thread(org, settings)
        member = await add_member(api, org.token)
        reply = await call("DELETE", f"{api}/threads/{thread_id}", token=member.token)
        assert_error(reply, 403, "forbidden")
        stranger = await make_org(base_url)
        reply = await call("DELETE", f"{api}/threads/{thread_id}", token=stranger.token)
        assert_error(reply, 404, "not_found")


async def test_a_deleted_thread_is_not_reopened(base_url: str, settings: Settings) -> None:
    """The visitor's next message opens a new conversation; an agent's reopen is 404."""
    with trio.fail_after(60):
        org = await make_org(base_url, settings={"reopen_window_seconds": 86400})
        api = f"{base_url}/api/v1"
        async with widget(org) as (visitor, welcome):
            ack = await visitor.say("first")
        thread_id = ack["thread_id"]
        await call("POST", f"{api}/threads/{thread_id}/close", token=org.token)
        assert (await call("DELETE", f"{api}/threads/{thread_id}", token=org.token)).status == 204
        reopen = await call("POST", f"{api}/threads/{thread_id}/reopen", token=org.token)
        assert_error(reopen, 404, "not_found")
        async with widget(org, session=welcome["session"]) as (visitor, _):
            again = await visitor.say("second")
        assert again["thread_id"] != thread_id
