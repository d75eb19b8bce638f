"""The contract's six delivery properties, against real processes, Valkey and PostgreSQL."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import trio
from trio_websocket import ConnectionClosed

from chat.config import Settings
from chat.server import serve
from tests.conftest import ServerProcess, free_port
from tests.helpers.chat import agent_socket, make_org, widget
from tests.helpers.db import peer_agent_token, query, wait_for_rows

FAST = {"visitor_messages_per_second": 100, "visitor_burst": 100}


async def _spawn(
    settings: Settings, made: list[ServerProcess], node: str, tmp: Path, port: int | None = None
) -> ServerProcess:
    server = ServerProcess(settings, port or free_port())
    made.append(server)
    await server.start(node, tmp)
    return server


async def test_acked_messages_survive_kill_9(
    settings: Settings, server_processes: list[ServerProcess], tmp_path: Path
) -> None:
    """1. Durable ack: kill -9 while a visitor streams; every acked message lands once."""
    with trio.fail_after(90):
        server = await _spawn(settings, server_processes, "a", tmp_path)
        org = await make_org(server.base, settings=FAST)
        acked: list[dict[str, Any]] = []
        with contextlib.suppress(ConnectionClosed, ConnectionError):
            async with widget(org) as (visitor, _):
                for n in range(10_000):
                    acked.append(await visitor.say(f"message {n}"))
                    if n == 40:
                        server.kill()  # the socket dies under the next send
        assert len(acked) >= 41
        await server.start("a2", tmp_path)  # same port and data, new process
        thread_id = acked[0]["thread_id"]
        # The message in flight at the kill may have landed without an ack: at least all acked.
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) >= %s FROM messages WHERE thread_id = %s",
            (len(acked), thread_id),
            True,
        )
        rows = query(
            settings.database_url,
            "SELECT id_ms || '-' || id_seq, client_id FROM messages WHERE thread_id = %s",
            (thread_id,),
        )
        stored = [r[0] for r in rows]
        assert all(stored.count(a["id"]) == 1 for a in acked)
        assert len(rows) - len(acked) in (0, 1)
        assert len({r[1] for r in rows}) == len(rows)


async def test_one_order_for_every_participant(base_url: str) -> None:
    """2. Visitor and agent sending at once both see the thread in stream-id order."""
    with trio.fail_after(60):
        org = await make_org(base_url, settings=FAST)
        async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
            async with widget(org) as (visitor, _):
                first = await visitor.say("start")
                thread_id = first["thread_id"]

                async def visitor_sends() -> None:
                    for n in range(8):
                        await visitor.send(
                            {"type": "message", "client_id": f"v{n}", "content": f"v{n}"}
                        )

                async def agent_sends() -> None:
                    for n in range(8):
                        await agent.send(
                            {
                                "type": "message",
                                "client_id": f"a{n}",
                                "thread_id": thread_id,
                                "content": f"a{n}",
                            }
                        )

                async with trio.open_nursery() as nursery:
                    nursery.start_soon(visitor_sends)
                    nursery.start_soon(agent_sends)
                agent_ids = await _collect(agent, 17, lambda f: f["type"] == "message")
                visitor_ids = await _collect(visitor, 8, lambda f: f["type"] == "message")
                acks = await _collect(visitor, 9, lambda f: f["type"] == "ack")
        assert agent_ids == sorted(agent_ids, key=_key) and len(set(agent_ids)) == 17
        # The visitor gets the agent's messages as frames and its own as acks: each in order.
        assert visitor_ids == sorted(visitor_ids, key=_key) and len(set(visitor_ids)) == 8
        assert acks == sorted(acks, key=_key)
        assert set(visitor_ids) | set(acks) == set(agent_ids)


def _key(message_id: str) -> tuple[int, int]:
    ms, seq = message_id.split("-")
    return int(ms), int(seq)


async def _collect(client: Any, count: int, wanted: Any) -> list[str]:
    ids = [f["id"] for f in client.seen if wanted(f)]
    while len(ids) < count:
        frame = await client.next()
        if wanted(frame):
            ids.append(frame["id"])
    return ids


async def test_visitor_resume_after_a_long_gap_misses_nothing(
    settings: Settings, nursery: trio.Nursery
) -> None:
    """3. A resume gets every message after `last`, not only the first 50 of them: the live
    feed starts where the welcome's history ends, so a cut-off history would be a gap."""
    with trio.fail_after(60):
        # The agent sends faster than the default flood limit allows; flooding is tested apart.
        fast = settings.model_copy(update={"flood_frames_per_second": 10_000})
        base = str((await nursery.start(serve, fast, "127.0.0.1", 0))[0])
        org = await make_org(base, settings=FAST)
        async with widget(org) as (visitor, welcome):
            session = welcome["session"]
            ack = await visitor.say("hello")
        async with agent_socket(base, org.token) as (agent, _):
            sent = [await agent.say(f"r{n}", thread_id=ack["thread_id"]) for n in range(70)]
        async with widget(org, session=session, last=ack["id"]) as (visitor, welcome):
            assert [m["id"] for m in welcome["history"]] == [s["id"] for s in sent]
            later = await visitor.say("after the gap")
            assert later["thread_id"] == ack["thread_id"]


async def test_gapless_resume_for_visitor_and_agent(base_url: str) -> None:
    """3. Reconnecting with the last id / cursor yields every later event once."""
    with trio.fail_after(60):
        org = await make_org(base_url, settings=FAST)
        async with widget(org) as (visitor, welcome):
            session = welcome["session"]
            ack = await visitor.say("hello")
        thread_id = ack["thread_id"]
        async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
            sent = [await agent.say(f"reply {n}", thread_id=thread_id) for n in range(5)]
            cursor = sent[-1]["id"]
        async with widget(org, session=session, last=ack["id"]) as (visitor, welcome):
            assert [m["id"] for m in welcome["history"]] == [s["id"] for s in sent]
            assert welcome["thread"]["id"] == thread_id
            more = [await visitor.say(f"more {n}") for n in range(3)]
        async with agent_socket(base_url, org.token) as (agent, _):
            await agent.send({"type": "subscribe", "space_id": org.space["id"], "cursor": cursor})
            subscribed = await agent.expect("subscribed")
            replayed = [f for f in agent.seen if "cursor" in f]
            assert [f["id"] for f in replayed if f["type"] == "message"] == [m["id"] for m in more]
            assert all(_key(f["cursor"]) > _key(cursor) for f in replayed)
            assert subscribed["cursor"] == replayed[-1]["cursor"]
            async with widget(org, session=session) as (visitor, _):
                live = await visitor.say("live after resume")
            frame = await agent.expect("message")
            assert frame["id"] == live["id"]


async def test_many_nodes_converse_and_survive_a_node(
    settings: Settings, server_processes: list[ServerProcess], tmp_path: Path
) -> None:
    """5. Visitor on node A, agent on node B; A dies; the visitor resumes on B, nothing lost."""
    with trio.fail_after(90):
        node_a = await _spawn(settings, server_processes, "a", tmp_path)
        node_b = await _spawn(settings, server_processes, "b", tmp_path)
        org = await make_org(node_a.base, settings=FAST)
        org_b = type(org)(node_b.base, org.token, org.agent, org.space)
        async with agent_socket(node_b.base, org.token, subscribe=org.space["id"]) as (agent, _):
            async with widget(org) as (visitor, welcome):
                session = welcome["session"]
                ack = await visitor.say("hi from node A")
                assert (await agent.expect("message"))["id"] == ack["id"]
                reply = await agent.say("hi from node B", thread_id=ack["thread_id"])
                assert (await visitor.expect("message"))["id"] == reply["id"]
                node_a.kill()
            missed = [
                await agent.say(f"while you were away {n}", thread_id=ack["thread_id"])
                for n in range(3)
            ]
            async with widget(org_b, session=session, last=reply["id"]) as (visitor, welcome):
                assert [m["id"] for m in welcome["history"]] == [m["id"] for m in missed]
                again = await visitor.say("back, via node B")
                frame = await agent.expect("message", client_id=again["client_id"])
                assert frame["id"] == again["id"]
                final = await agent.say("welcome back", thread_id=ack["thread_id"])
                assert (await visitor.expect("message"))["id"] == final["id"]


async def test_concurrent_claims_have_one_winner(base_url: str, settings: Settings) -> None:
    """6. Five agents claim one thread at the same moment: exactly one succeeds."""
    with trio.fail_after(60):
        org = await make_org(base_url)
        async with widget(org) as (visitor, _):
            thread_id = (await visitor.say("help"))["thread_id"]
        tokens = [org.token] + [await peer_agent_token(base_url, org, n) for n in range(4)]
        results: list[dict[str, Any]] = []

        async def claim(token: str) -> None:
            async with agent_socket(base_url, token) as (agent, _):
                await agent.send({"type": "claim", "thread_id": thread_id})
                while True:
                    frame = await agent.next()
                    if frame["type"] in ("ack", "error") and frame.get("ref") == "claim":
                        results.append(frame)
                        return

        async with trio.open_nursery() as nursery:
            for token in tokens:
                nursery.start_soon(claim, token)
        wins = [r for r in results if r["type"] == "ack"]
        losses = [r for r in results if r["type"] == "error"]
        assert len(wins) == 1 and len(losses) == 4
        assert {r["code"] for r in losses} == {"already_claimed"}
