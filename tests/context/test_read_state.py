"""Read state (structures.md, "Read state"): an agent's read marker per conversation follows the
agent across its sockets, survives a reload (REST unread counts), the visitor sees "seen" when an
agent has read, and agents hear when the visitor has read. Real server, Valkey and PostgreSQL."""

from __future__ import annotations

import trio

from chat.config import Settings
from tests.helpers.api import NO_SUCH_ID, add_member, assert_error
from tests.helpers.chat import agent_socket, make_org, widget
from tests.helpers.db import wait_for_messages, wait_for_rows
from tests.helpers.http import call


async def test_a_read_marker_reaches_the_agents_other_session_live(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        space_id, me = org.space["id"], org.agent["id"]
        peer = await add_member(f"{base_url}/api/v1", org.token, "Pat")
        async with (
            widget(org) as (visitor, _),
            agent_socket(base_url, org.token, subscribe=space_id) as (tab1, _),
            agent_socket(base_url, org.token, subscribe=space_id) as (tab2, _),
            agent_socket(base_url, peer.token, subscribe=space_id) as (other, _),
        ):
            ack = await visitor.say("hello")
            thread_id = ack["thread_id"]
            await tab1.send({"type": "read", "thread_id": thread_id})
            done = await tab1.expect("ack", ref="read")
            assert done["id"] == ack["id"] and done["thread_id"] == thread_id
            heard = await tab2.expect("read", thread_id=thread_id)
            assert heard["reader_type"] == "agent" and heard["reader_id"] == me
            assert heard["id"] == ack["id"] and heard["cursor"]
            # The visitor hears "seen" (no agent named), as far as the agent read.
            seen = await visitor.expect("seen")
            assert seen == {"type": "seen", "thread_id": thread_id, "id": ack["id"]}
            # A marker never moves back: an older id changes nothing and appends nothing.
            await tab1.send({"type": "read", "thread_id": thread_id, "id": "1-0"})
            assert (await tab1.expect("ack", ref="read"))["id"] == ack["id"]
            # Another agent's marker is theirs: the colleague's socket never hears ours. A
            # barrier: a later message reaches it after any read entry would have.
            await tab1.send(
                {"type": "message", "thread_id": thread_id, "client_id": "m1", "content": "hi"}
            )
            await other.expect("message", client_id="m1")
            assert not any(f["type"] == "read" for f in other.seen), other.seen


async def test_the_visitor_reads_and_the_agent_hears_it(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        space_id = org.space["id"]
        async with (
            widget(org) as (visitor, welcome),
            agent_socket(base_url, org.token, subscribe=space_id) as (agent, _),
        ):
            thread_id = (await visitor.say("hello"))["thread_id"]
            await agent.send(
                {"type": "message", "thread_id": thread_id, "client_id": "r1", "content": "yes?"}
            )
            reply = await agent.expect("ack", client_id="r1")
            await visitor.expect("message", client_id="r1")
            await visitor.send({"type": "read", "id": reply["id"]})
            heard = await agent.expect("read", thread_id=thread_id, reader_type="visitor")
            assert heard["id"] == reply["id"]
            assert heard["reader_id"] == welcome["visitor"]["id"]
            # An id past the thread's end stops at its end; a malformed one is refused.
            await visitor.send({"type": "read", "id": "99999999999999-0"})
            await visitor.send({"type": "read", "id": "soon"})
            assert (await visitor.expect("error"))["code"] == "invalid"
            state = await call(
                "GET", f"{base_url}/api/v1/threads/{thread_id}/read", token=org.token
            )
            assert state.status == 200, state.body
            assert state.body["visitor_read_id"] == reply["id"]
            assert state.body["id"] is None


async def test_unread_counts_survive_a_reload(base_url: str, settings: Settings) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        async with widget(org) as (visitor, welcome):
            thread_id = (await visitor.say("one"))["thread_id"]
            second = await visitor.say("two")
            await wait_for_messages(settings.database_url, thread_id, 2)
            listing = f"{api}/spaces/{org.space['id']}/threads"
            before = await call("GET", listing, token=org.token)
            row = next(t for t in before.body["items"] if t["id"] == thread_id)
            assert row["unread"] == 2 and row["last_read_id"] is None
            marked = await call(
                "POST", f"{api}/threads/{thread_id}/read", {"id": second["id"]}, token=org.token
            )
            assert marked.status == 200, marked.body
            assert marked.body["id"] == second["id"]
            await visitor.say("three")
            await wait_for_messages(settings.database_url, thread_id, 3)
            await wait_for_rows(
                settings.database_url,
                "SELECT count(*) FROM read_markers WHERE thread_id = %s",
                (thread_id,),
                1,
            )
            # A reload: a new sign-in's REST list counts only the message after the marker.
            after = await call("GET", listing, token=org.token)
            row = next(t for t in after.body["items"] if t["id"] == thread_id)
            assert row["unread"] == 1 and row["last_read_id"] == second["id"]
            # The visitor's reconnect hears how far an agent has read.
            async with widget(org, session=welcome["session"]) as (again, _):
                assert (await again.expect("seen"))["id"] == second["id"]


async def test_read_state_of_another_organization_is_not_found(base_url: str) -> None:
    with trio.fail_after(40):
        org = await make_org(base_url)
        stranger = await make_org(base_url)
        api = f"{base_url}/api/v1"
        async with widget(org) as (visitor, _):
            thread_id = (await visitor.say("hello"))["thread_id"]
        for thread in (thread_id, NO_SUCH_ID):
            url = f"{api}/threads/{thread}/read"
            assert_error(await call("GET", url, token=stranger.token), 404, "not_found")
            assert_error(await call("POST", url, {}, token=stranger.token), 404, "not_found")
        bad = await call("POST", f"{api}/threads/{thread_id}/read", {"id": "x"}, token=org.token)
        assert_error(bad, 422, "invalid")
        async with agent_socket(base_url, stranger.token) as (agent, _):
            await agent.send({"type": "read", "thread_id": thread_id})
            refused = await agent.expect("error")
            assert refused["code"] == "not_found" and refused["ref"] == "read"
