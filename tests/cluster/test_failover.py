"""A shard's master fails over to its replica under load: no acked message is lost or doubled,
and /readyz fails while the shard is down. A cluster of this test's own, three masters with a
replica each, acks in "replicated" durability (WAIT 1: a replica holds every acked entry)."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from chat.config import Settings
from chat.embedded.cluster import (
    LocalCluster,
    node_role,
    restart_node,
    start_cluster,
    stop_cluster,
)
from chat.streams.client import open_redis
from chat.streams.keys import SpaceKeys
from tests.cluster.shards import master_of
from tests.helpers.chat import Client, agent_socket, make_org, widget
from tests.helpers.db import query, wait_for_rows
from tests.helpers.http import call

pytestmark = pytest.mark.faults

FAST = {"visitor_messages_per_second": 100, "visitor_burst": 100}


@pytest.fixture
def replicated(tmp_path: Path) -> Iterator[LocalCluster]:
    data = tmp_path / "replicated"
    found = start_cluster(data, masters=3, replicas=1)
    try:
        yield found
    finally:
        stop_cluster(data)


@pytest.fixture
def settings(settings: Settings, replicated: LocalCluster) -> Settings:
    return settings.model_copy(
        update={
            "redis_url": replicated.url,
            "ack_durability": "replicated",
            # The visitor streams as fast as acks come back; flooding is tested elsewhere.
            "flood_frames_per_second": 10_000,
        }
    )


async def _say_until_acked(visitor: Client, content: str) -> dict[str, Any]:
    """Send until acked, again under the same client_id after each refusal (the shard is down
    for a moment): the service stores it once whatever happened to the earlier tries."""
    client_id = str(uuid.uuid4())
    while True:
        await visitor.send({"type": "message", "client_id": client_id, "content": content})
        while True:
            frame = await visitor.next(timeout=20)
            if frame.get("client_id") == client_id and frame["type"] in ("ack", "error"):
                break
        if frame["type"] == "ack":
            return frame
        assert frame["code"] == "unavailable", frame
        await trio.sleep(0.2)  # a retry's pause while the replica takes over


async def test_a_master_killed_under_load_fails_over_and_loses_no_acked_message(
    base_url: str, settings: Settings, replicated: LocalCluster
) -> None:
    with trio.fail_after(120):
        org = await make_org(base_url, settings=FAST)
        events = SpaceKeys(settings.key_prefix, org.space["id"]).events
        master = master_of(replicated, events)
        replica = next(n for n in replicated.nodes if n.replica_of == master.number)
        acked: list[dict[str, Any]] = []

        async def bring_back_a_replica() -> None:
            # Once the replica has taken over, the killed master is started again and rejoins
            # as its replica: until then "replicated" acks have no replica to wait for.
            while node_role(replica.port, replicated.password) != "master":
                await trio.sleep(0.1)
            await trio.to_thread.run_sync(restart_node, replicated, master.number)

        async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
            async with widget(org) as (visitor, _), trio.open_nursery() as nursery:
                for n in range(120):
                    acked.append(await _say_until_acked(visitor, f"message {n}"))
                    if n == 40:
                        os.kill(master.pid, signal.SIGKILL)  # under load, no goodbye
                        nursery.start_soon(bring_back_a_replica)
            # The agent hears every acked message, in order, across the failover.
            heard: list[str] = []
            wanted = {a["id"] for a in acked}
            while not wanted <= set(heard):
                frame = await agent.expect("message", timeout=30)
                heard.append(frame["id"])
        assert node_role(replica.port, replicated.password) == "master"
        ids = [a["id"] for a in acked]
        assert len(set(ids)) == len(ids) == 120
        order = [tuple(map(int, i.split("-"))) for i in heard]
        assert order == sorted(order) and len(set(heard)) == len(heard)
        thread_id = acked[0]["thread_id"]
        async with open_redis(replicated.url) as redis:
            stream = await redis.xrange(
                SpaceKeys(settings.key_prefix, org.space["id"]).thread(thread_id)
            )
            kept = {str(e.identifier) for e in stream}
        assert set(ids) <= kept
        await wait_for_rows(
            settings.database_url,
            "SELECT count(*) >= %s FROM messages WHERE thread_id = %s",
            (len(ids), thread_id),
            True,
        )
        rows = query(
            settings.database_url,
            "SELECT id_ms || '-' || id_seq FROM messages WHERE thread_id = %s",
            (thread_id,),
        )
        stored = [r[0] for r in rows]
        assert all(stored.count(i) == 1 for i in ids)


async def test_readyz_fails_while_a_shard_is_down_and_recovers_after_its_failover(
    base_url: str, replicated: LocalCluster
) -> None:
    with trio.fail_after(60):
        assert (await call("GET", f"{base_url}/readyz")).status == 200
        master = replicated.masters[1]
        os.kill(master.pid, signal.SIGKILL)
        while (reply := await call("GET", f"{base_url}/readyz")).status == 200:
            await trio.sleep(0.05)  # polling the probe as a balancer does
        assert reply.status == 503 and "redis" in reply.body["failing"]
        while (await call("GET", f"{base_url}/readyz")).status != 200:
            await trio.sleep(0.1)
        replica = next(n for n in replicated.nodes if n.replica_of == master.number)
        assert node_role(replica.port, replicated.password) == "master"
