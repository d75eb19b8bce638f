"""Tags (chat/http/api/tags.py, the thread tag routes of chat/http/api/notes.py, the agent
socket's `tag`/`untag` frames): admins manage the list; tags on conversations are log entries,
projected; `?tag=` filters the thread list; another organization's tag is 404."""

from __future__ import annotations

import trio

from chat.config import Settings
from chat.events import ThreadTagChanged
from tests.helpers.api import add_member
from tests.helpers.chat import Org, agent_socket, make_org, widget
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call
from tests.notes.helpers import api, create_tag, listed, server_log, space_entries, tag

_PRESENT = "SELECT count(*) FROM thread_tags WHERE thread_id = %s AND present"


async def _threads(org: Org, n: int) -> list[str]:
    ids: list[str] = []
    for i in range(n):
        async with widget(org) as (visitor, _):
            ids.append((await visitor.say(f"visitor {i}"))["thread_id"])
    return ids


async def test_tag_list_is_for_admins_to_manage(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        member = await add_member(api(org), org.token, "Bob")
        vip = await create_tag(org, "VIP", "#FFCC00")
        assert vip["colour"] == "#ffcc00" and vip["name"] == "VIP"
        taken = await call("POST", f"{api(org)}/tags", {"name": "vip"}, token=org.token)
        assert taken.status == 409 and taken.body["error"]["code"] == "name_taken"
        bad = await call(
            "POST", f"{api(org)}/tags", {"name": "x", "colour": "red"}, token=org.token
        )
        assert bad.status == 422
        refused = await call("POST", f"{api(org)}/tags", {"name": "Spam"}, token=member.token)
        assert refused.status == 403 and refused.body["error"]["code"] == "forbidden"
        seen = await call("GET", f"{api(org)}/tags", token=member.token)
        assert [t["name"] for t in seen.body["items"]] == ["VIP"]
        renamed = await call(
            "PATCH", f"{api(org)}/tags/{vip['id']}", {"name": "Gold"}, token=org.token
        )
        assert renamed.status == 200 and renamed.body["name"] == "Gold"
        gone = await call("DELETE", f"{api(org)}/tags/{vip['id']}", token=org.token)
        assert gone.status == 204
        assert (await call("GET", f"{api(org)}/tags", token=org.token)).body["items"] == []


async def test_tags_are_log_entries_and_filter_the_list(base_url: str, settings: Settings) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        vip, bug = await create_tag(org, "VIP"), await create_tag(org, "Bug")
        first, second, third = await _threads(org, 3)
        async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
            put = await tag(org, org.token, first, vip["id"])
            assert put.status == 200 and put.body == {
                "thread_id": first,
                "tag_ids": [vip["id"]],
                "change": "tagged",
            }
            pushed = await agent.expect("thread.tags", thread_id=first)
            assert (pushed["change"], pushed["tag_id"], pushed["by"]) == (
                "tagged",
                vip["id"],
                org.agent["id"],
            )
            # Again: nothing to do, nothing appended.
            again = await tag(org, org.token, first, vip["id"])
            assert again.body["change"] == "none"
            # Over the socket.
            await agent.send({"type": "tag", "thread_id": second, "tag_id": vip["id"]})
            ack = await agent.expect("ack", ref="tag")
            assert ack["change"] == "tagged"
            await agent.send({"type": "tag", "thread_id": second, "tag_id": bug["id"]})
            await agent.expect("ack", ref="tag", tag_id=bug["id"])
            await agent.send({"type": "untag", "thread_id": second, "tag_id": vip["id"]})
            untagged = await agent.expect("ack", ref="untag")
            assert untagged["change"] == "untagged"

        for thread_id, count in ((first, 1), (second, 1)):
            await wait_for_rows(settings.database_url, _PRESENT, (thread_id,), count)
        by_vip = await listed(org, f"?tag={vip['id']}")
        assert [t["id"] for t in by_vip.body["items"]] == [first]
        by_bug = await listed(org, f"?tag={bug['id']}")
        assert [t["id"] for t in by_bug.body["items"]] == [second]
        everything = await listed(org)
        rows = {t["id"]: t["tag_ids"] for t in everything.body["items"]}
        assert rows == {first: [vip["id"]], second: [bug["id"]], third: []}

        async with server_log(settings) as log:
            changes = [
                (e.event.type, e.event.thread_id, e.event.tag_id)
                for e in await space_entries(log, org.space["id"])
                if isinstance(e.event, ThreadTagChanged)
            ]
        assert changes == [
            ("thread.tagged", first, vip["id"]),
            ("thread.tagged", second, vip["id"]),
            ("thread.tagged", second, bug["id"]),
            ("thread.untagged", second, vip["id"]),
        ]

        # A deleted tag leaves the rows and cannot filter any more.
        assert (await call("DELETE", f"{api(org)}/tags/{bug['id']}", token=org.token)).status == 204
        after = {t["id"]: t["tag_ids"] for t in (await listed(org)).body["items"]}
        assert after[second] == []
        assert (await listed(org, f"?tag={bug['id']}")).status == 404


async def test_another_organizations_tag_is_not_found(base_url: str) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        other = await make_org(base_url)
        theirs = await create_tag(other, "Theirs")
        [thread_id] = await _threads(org, 1)
        put = await tag(org, org.token, thread_id, theirs["id"])
        assert put.status == 404 and put.body["error"]["code"] == "not_found"
        filtered = await listed(org, f"?tag={theirs['id']}")
        assert filtered.status == 404
        async with agent_socket(base_url, org.token) as (agent, _):
            await agent.send({"type": "tag", "thread_id": thread_id, "tag_id": theirs["id"]})
            error = await agent.expect("error", ref="tag")
            assert error["code"] == "not_found" and error["thread_id"] == thread_id
        mine = await create_tag(org, "Mine")
        assert (await tag(org, org.token, thread_id, mine["id"])).status == 200
