"""Issue 11, item 1 (its outage part): an agent whose console opens while PostgreSQL is down
connects, sees the conversations of the log and replies; a deleted agent or an ended sign-in is
still refused; what was said reaches PostgreSQL once, when it is back. The sign-in check falls
back to the copy in Valkey (chat/http/sign_in_copy.py) only while PostgreSQL cannot answer."""

from __future__ import annotations

import logging
import uuid

import psycopg
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from chat.config import Settings
from chat.embedded.services import EmbeddedServices
from chat.server import serve
from tests.helpers.api import add_member
from tests.helpers.chat import PASSWORD, Client, Org, agent_socket, make_org, widget
from tests.helpers.db import database_down, query, wait_for_messages
from tests.helpers.http import call

CLOSE_UNAUTHORIZED = 4001
logger = logging.getLogger(__name__)


async def closed_with(base: str, token: str) -> int:
    """The code an agent handshake with `token` is closed with (it must get no welcome)."""
    url = f"{base.replace('http://', 'ws://')}/ws/agent?token={token}"
    async with open_websocket_url(url) as ws:
        try:
            with trio.fail_after(15):
                frame = await ws.get_message()
                raise AssertionError(f"admitted: {frame!r}")
        except ConnectionClosed as closed:
            assert closed.reason is not None
            return int(closed.reason.code)


async def sign_in(base: str, email: str) -> tuple[str, str]:
    """A new sign-in: (access token, refresh token)."""
    login = await call("POST", f"{base}/api/v1/auth/login", {"email": email, "password": PASSWORD})
    assert login.status == 200, login.body
    return str(login.body["access_token"]), str(login.body["refresh_token"])


async def start(settings: Settings, nursery: trio.Nursery) -> tuple[str, Org]:
    binds = await nursery.start(serve, settings, "127.0.0.1", 0)
    base = str(binds[0])
    return base, await make_org(base)


async def test_an_agent_connects_sees_and_replies_while_postgresql_is_down(
    settings: Settings, embedded: EmbeddedServices, nursery: trio.Nursery
) -> None:
    with trio.fail_after(120):
        base, org = await start(settings, nursery)
        api, space_id = f"{base}/api/v1", org.space["id"]
        gone = await add_member(api, org.token, "Gone")
        deleted = await call("DELETE", f"{api}/agents/{gone.agent['id']}", token=org.token)
        assert deleted.status == 204
        bea = await add_member(api, org.token, "Bea")
        out_token, out_refresh = await sign_in(base, bea.agent["email"])  # a second sign-in
        logout = {"refresh_token": out_refresh}
        assert (await call("POST", f"{api}/auth/logout", logout, token=out_token)).status == 204
        async with widget(org) as (first, _):  # the widget key is seen once before the outage
            await first.say("before")
        async with database_down(embedded.database_url, settings.database_url):
            started = trio.current_time()
            async with agent_socket(base, org.token) as (ada, welcome):
                logger.warning("first welcome in %.3f s", trio.current_time() - started)
                assert welcome["agent"]["id"] == org.agent["id"]
                assert [s["id"] for s in welcome["spaces"]] == [space_id]
                async with widget(org) as (visitor, _):
                    asked = await visitor.say("is anyone there?")
                    thread_id = asked["thread_id"]
                    await ada.send({"type": "subscribe", "space_id": space_id})
                    subscribed = await ada.expect("subscribed", space_id=space_id)
                    assert thread_id in [t["id"] for t in subscribed["threads"]]
                    answer = await reply(ada, visitor, thread_id, "yes, how can I help?")
                    await rest_during_outage(org, thread_id, ["is anyone there?", answer])
            # Refused as with PostgreSQL: the deleted agent, the ended sign-in. Admitted: a
            # sign-in the copy saw live (Bea's first).
            assert await closed_with(base, gone.token) == CLOSE_UNAUTHORIZED
            assert await closed_with(base, out_token) == CLOSE_UNAUTHORIZED
            started = trio.current_time()
            async with agent_socket(base, bea.token) as (_, bea_welcome):
                logger.warning("a later welcome in %.3f s", trio.current_time() - started)
                assert bea_welcome["agent"]["id"] == bea.agent["id"]
        # PostgreSQL is back: both messages are projected, each once.
        await wait_for_messages(settings.database_url, thread_id, 2, timeout=30)
        rows = query(
            settings.database_url,
            "SELECT sender_type, content, count(*) OVER (PARTITION BY client_id)"
            " FROM messages WHERE thread_id = %s ORDER BY id_ms, id_seq",
            (thread_id,),
        )
        assert rows == [("visitor", "is anyone there?", 1), ("agent", answer, 1)]


async def reply(agent: Client, visitor: Client, thread_id: str, content: str) -> str:
    """The agent answers over its socket: acked once in the log, heard by the visitor."""
    client_id = str(uuid.uuid4())
    frame = {"type": "message", "thread_id": thread_id, "client_id": client_id, "content": content}
    await agent.send(frame)
    ack = await agent.expect("ack", client_id=client_id)
    heard = await visitor.expect("message", id=ack["id"])
    assert heard["content"] == content and heard["sender_type"] == "agent"
    return content


async def rest_during_outage(org: Org, thread_id: str, said: list[str]) -> None:
    """What the console reads at its start answers from the log; the agents list, which only
    PostgreSQL holds, is 503 `unavailable`."""
    api, token, space_id = f"{org.base}/api/v1", org.token, org.space["id"]
    queue = await call("GET", f"{api}/spaces/{space_id}/threads?status=unassigned", token=token)
    assert queue.status == 200, queue.body
    assert thread_id in [t["id"] for t in queue.body["items"]]
    history = await call("GET", f"{api}/threads/{thread_id}/messages?limit=50", token=token)
    assert history.status == 200, history.body
    assert [m["content"] for m in history.body["items"]] == said
    thread = await call("GET", f"{api}/threads/{thread_id}", token=token)
    assert thread.status == 200 and thread.body["visitor_id"], thread.body
    assert (await call("GET", f"{api}/spaces", token=token)).body["items"][0]["id"] == space_id
    assert (await call("GET", f"{api}/auth/me", token=token)).body["id"] == org.agent["id"]
    claimed = await call("POST", f"{api}/threads/{thread_id}/claim", token=token)
    assert claimed.status == 200 and claimed.body["status"] == "active", claimed.body
    for needs_postgres in ("/agents", f"/spaces/{space_id}/threads?status=closed"):
        refused = await call("GET", api + needs_postgres, token=token)
        assert refused.status == 503, (needs_postgres, refused.body)
        assert refused.body["error"]["code"] == "unavailable"


async def test_while_postgresql_answers_it_decides_whatever_the_copy_says(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """An agent deleted behind the service's back (the copy in Valkey still says live) is
    refused: the copy is never asked while PostgreSQL answers."""
    with trio.fail_after(60):
        base, org = await start(settings, nursery)
        bea = await add_member(f"{base}/api/v1", org.token, "Bea")
        async with agent_socket(base, bea.token):
            pass  # the handshake noted Bea in the copy
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute("UPDATE agents SET deleted_at = now() WHERE id = %s", (bea.agent["id"],))
        assert await closed_with(base, bea.token) == CLOSE_UNAUTHORIZED
        me = await call("GET", f"{base}/api/v1/auth/me", token=bea.token)
        assert me.status == 401, me.body
