"""The agent session's dispatch (chat/actors/agent.py): each frame kind reaches its handler and is
answered as the contract says, over an in-process socket against the real Valkey and PostgreSQL;
and the bounded map of thread -> space it keeps."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

from chat.actors.agent import ThreadSpaces, run_agent_session
from chat.actors.revocation import AgentWatch
from chat.config import Settings
from chat.db.rows import AgentRow, SpaceRow
from chat.http.ws import session_deps
from chat.json_types import Json
from chat.services import Services, open_services
from tests.helpers.fake_socket import FakeSocket
from tests.helpers.rows import make_org_rows, open_thread


def test_thread_spaces_keeps_the_most_recently_used() -> None:
    known = ThreadSpaces(size=2)
    known.put("t1", "s1")
    known.put("t2", "s2")
    assert known.get("t1") == "s1"  # now the most recent
    known.put("t3", "s1")
    assert (known.get("t2"), known.get("t1"), known.get("t3")) == (None, "s1", "s1")
    known.forget_space("s1")
    assert len(known) == 0


@asynccontextmanager
async def _agent_on(
    peer: FakeSocket, services: Services, agent: AgentRow, space: SpaceRow
) -> AsyncIterator[Json]:
    """The agent's session on `peer` for the block; yields the welcome."""
    async with trio.open_nursery() as nursery:
        watch = AgentWatch(agent.id, "sign-in")
        nursery.start_soon(run_agent_session, session_deps(services), peer, agent, [space], watch)
        yield await peer.next()
        nursery.cancel_scope.cancel()


async def test_each_frame_kind_is_answered(settings: Settings) -> None:
    with trio.fail_after(30):
        org = make_org_rows(settings.database_url)
        agent, space = org.agents[0], org.space
        foreign_space = make_org_rows(settings.database_url).space
        async with open_services(settings, projector=False) as services:
            thread_id = await open_thread(services.stream_log, space.id)
            foreign_thread = await open_thread(services.stream_log, foreign_space.id)
            peer = FakeSocket()
            async with _agent_on(peer, services, agent, space) as welcome:
                assert welcome["type"] == "welcome" and welcome["agent"]["id"] == agent.id
                assert welcome["spaces"] == [{"id": space.id, "name": "Shop"}]
                assert agent.id in await services.stream_log.online_agents(space.id)

                await peer.say({"type": "ping"})
                assert await peer.next() == {"type": "pong"}
                await peer.say({"type": "auth", "token": "again"})
                assert (await peer.next())["code"] == "invalid"

                await peer.say({"type": "claim", "thread_id": thread_id})
                claimed = await peer.next()
                assert (claimed["type"], claimed["ref"], claimed["thread_id"]) == (
                    "ack",
                    "claim",
                    thread_id,
                )
                assert claimed["thread"]["assigned_agent_id"] == agent.id

                nobody = str(uuid.uuid4())
                await peer.say({"type": "transfer", "thread_id": thread_id, "agent_id": nobody})
                refused = await peer.next()
                assert (refused["code"], refused["ref"], refused["thread_id"]) == (
                    "not_found",
                    "transfer",
                    thread_id,
                )

                for frame in (
                    {"type": "close", "thread_id": foreign_thread},
                    {"type": "typing", "thread_id": foreign_thread, "active": True},
                ):
                    await peer.say(frame)
                    assert (await peer.next())["code"] == "not_found", frame
                await peer.say(
                    {"type": "message", "thread_id": thread_id, "client_id": "m1", "content": " "}
                )
                blank = await peer.next()
                assert (blank["code"], blank["client_id"]) == ("invalid", "m1")
                await peer.say(
                    {"type": "message", "thread_id": thread_id, "client_id": "m2", "content": "hi"}
                )
                ack = await peer.next()
                assert (ack["type"], ack["ref"], ack["client_id"]) == ("ack", "message", "m2")

                await peer.say({"type": "subscribe", "space_id": foreign_space.id})
                assert (await peer.next())["code"] == "not_found"
                await peer.say({"type": "subscribe", "space_id": space.id})
                assert (await peer.next())["type"] == "subscribed"

                await peer.say({"type": "close", "thread_id": thread_id})
                closed = await peer.next()
                # The subscribed feed's thread.updated may come first: the close frees the
                # agent's capacity slot before it is acked (structures.md, "Routing").
                while closed["type"] != "ack":
                    closed = await peer.next()
                assert (closed["ref"], closed["thread"]["status"]) == ("close", "closed")
            # Leaving marked the agent gone from the space.
            assert agent.id not in await services.stream_log.online_agents(space.id)
