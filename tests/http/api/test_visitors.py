"""The visitor route of chat/http/api/visitors.py: a visitor with their threads, newest first,
for the console's visitor panel; and the thread list's `assigned` filter it uses for "mine"."""

from __future__ import annotations

import trio

from chat.config import Settings
from tests.helpers.api import NO_SUCH_ID, VISITOR_FIELDS, add_member, assert_error
from tests.helpers.chat import make_org, widget
from tests.helpers.db import wait_for_rows
from tests.helpers.http import call


async def test_a_visitor_with_their_threads(base_url: str, settings: Settings) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        async with widget(org) as (visitor, welcome):
            await visitor.send({"type": "identify", "name": "Vera", "email": "vera@example.com"})
            first = await visitor.say("first conversation")
        closed = await call("POST", f"{api}/threads/{first['thread_id']}/close", token=org.token)
        assert closed.status == 200, closed.body
        async with widget(org, session=welcome["session"]) as (visitor, _):
            # The widget's "Start a new conversation": not a reopen of the first.
            second = await visitor.say("second conversation", reopen=False)
        visitor_id = welcome["visitor"]["id"]
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM threads WHERE visitor_id = %s",
            (visitor_id,),
            2,
        )
        found = await call("GET", f"{api}/visitors/{visitor_id}", token=org.token)
        assert found.status == 200, found.body
        assert set(found.body["visitor"]) == VISITOR_FIELDS
        assert found.body["visitor"]["name"] == "Vera"
        assert found.body["visitor"]["email"] == "vera@example.com"
        threads = found.body["threads"]
        assert [t["id"] for t in threads] == [second["thread_id"], first["thread_id"]]
        assert [t["status"] for t in threads] == ["unassigned", "closed"]

        for unknown in (NO_SUCH_ID, "not-a-uuid"):
            missing = await call("GET", f"{api}/visitors/{unknown}", token=org.token)
            assert_error(missing, 404, "not_found")
        assert_error(await call("GET", f"{api}/visitors/{visitor_id}"), 401, "unauthorized")


async def test_thread_list_by_assigned_agent(base_url: str, settings: Settings) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        peer = await add_member(api, org.token, "Pat")
        acks = []
        for n in range(3):
            async with widget(org) as (visitor, _):
                acks.append(await visitor.say(f"hello {n}"))
        await wait_for_rows(settings.database_url, "SELECT count(*) FROM threads", (), len(acks))
        mine, theirs, nobody = (a["thread_id"] for a in acks)
        claimed = await call("POST", f"{api}/threads/{mine}/claim", token=org.token)
        assert claimed.status == 200, claimed.body
        claimed = await call("POST", f"{api}/threads/{theirs}/claim", token=peer.token)
        assert claimed.status == 200, claimed.body
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) FROM threads WHERE status = 'active'",
            (),
            2,
        )
        listing = f"{api}/spaces/{org.space['id']}/threads?status=active"
        me = await call("GET", f"{listing}&assigned=me", token=org.token)
        assert [t["id"] for t in me.body["items"]] == [mine], me.body
        by_id = await call("GET", f"{listing}&assigned={peer.agent['id']}", token=org.token)
        assert [t["id"] for t in by_id.body["items"]] == [theirs], by_id.body
        everyone = await call("GET", listing, token=org.token)
        assert {t["id"] for t in everyone.body["items"]} == {mine, theirs}
        queue = await call(
            "GET", f"{api}/spaces/{org.space['id']}/threads?status=unassigned", token=org.token
        )
        assert [t["id"] for t in queue.body["items"]] == [nobody]
        bad = await call("GET", f"{listing}&assigned=someone", token=org.token)
        assert_error(bad, 422, "invalid")
