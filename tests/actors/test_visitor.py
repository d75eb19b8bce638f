"""The visitor session (chat/actors/visitor.py) over an in-process socket against the real Valkey
and PostgreSQL: a session that falls behind its thread is cut off with 1013, and counted."""

from __future__ import annotations

import uuid

import trio

from chat.actors.revocation import WidgetWatch
from chat.actors.socket import OUTBOX_SIZE
from chat.actors.visitor import run_visitor_session
from chat.auth.tokens import issue_session_token
from chat.config import Settings
from chat.errors import CLOSE_TRY_AGAIN
from chat.http.ws import session_deps
from chat.services import open_services
from tests.helpers.fake_socket import FakeSocket
from tests.helpers.rows import make_org_rows

# Enough agent messages to fill the client's side and the outbox, with room to spare.
BEHIND = 100 + OUTBOX_SIZE + 300


async def test_a_session_that_falls_behind_is_cut_off_and_counted(settings: Settings) -> None:
    with trio.fail_after(60):
        org = make_org_rows(settings.database_url)
        space, agent = org.space, org.agents[0]
        async with open_services(settings, projector=False) as services:
            deps = session_deps(services)
            visitor_id = str(uuid.uuid4())
            token = issue_session_token(settings.secret_key, space.id, visitor_id)
            peer = FakeSocket()
            watch = WidgetWatch(space.id, space.widget_key)

            async def serve() -> None:
                try:
                    await run_visitor_session(deps, peer, space, visitor_id, token, None, watch)
                finally:
                    peer.session_over()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve)
                assert (await peer.next())["type"] == "welcome"
                await peer.say({"type": "message", "client_id": "v1", "content": "hello"})
                thread_id = (await peer.next())["thread_id"]

                async def say(n: int) -> None:
                    await services.stream_log.do_post_message(
                        space.id,
                        sender_type="agent",
                        sender_id=agent.id,
                        sender_name=agent.name,
                        content=f"m{n}",
                        client_id=f"a{n}",
                        thread_id=thread_id,
                    )

                await say(0)
                while (frame := await peer.next())["type"] != "message":
                    assert frame["type"] in ("thread", "queue"), frame  # opened: it waits
                assert frame["content"] == "m0"  # the session follows the thread live
                assert deps.stats.overflows["visitor"] == 0
                for n in range(1, BEHIND):  # and the client reads nothing meanwhile
                    await say(n)
                while True:
                    try:
                        await peer.next()
                    except trio.EndOfChannel:
                        break
            assert peer.closed_with == CLOSE_TRY_AGAIN
            assert deps.stats.overflows["visitor"] == 1
