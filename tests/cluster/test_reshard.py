"""A followed space's slot moves to another master while the reader follows it (chat/streams/
cluster_reader.py): the server ends the subscription, the reader asks again, and every entry,
before and after the move, reaches the subscription once and in order. A cluster of this test's
own, so the move leaves the session's cluster as it was."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from chat.embedded.cluster import LocalCluster, start_cluster, stop_cluster
from chat.embedded.resp import call
from chat.events import MessagePosted
from chat.streams.client import slot_of
from chat.streams.log import StreamLog
from chat.streams.reader import StreamRouter, run_stream_reader
from tests.cluster.shards import master_of
from tests.helpers.streams import open_stream_log, visitor_says

pytestmark = pytest.mark.faults


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    data = tmp_path / "reshard"
    found = start_cluster(data, masters=3)
    try:
        yield found
    finally:
        stop_cluster(data)


def _move_slot(cluster: LocalCluster, slot: int, source: int, target: int) -> None:
    """CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE of the slot's keys, SETSLOT NODE on every
    master: how an operator's resharding moves one slot (valkey-cli --cluster reshard)."""
    password = cluster.password

    def on(port: int, *args: str) -> object:
        return call("127.0.0.1", port, password, *args, timeout=10)

    source_id, target_id = str(on(source, "CLUSTER", "MYID")), str(on(target, "CLUSTER", "MYID"))
    on(target, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", source_id)
    on(source, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", target_id)
    while keys := on(source, "CLUSTER", "GETKEYSINSLOT", str(slot), "100"):
        assert isinstance(keys, list)
        on(source, "MIGRATE", "127.0.0.1", str(target), "", "0", "5000", "AUTH", password,
           "KEYS", *[str(k) for k in keys])  # fmt: skip
    for master in cluster.masters:
        on(master.port, "CLUSTER", "SETSLOT", str(slot), "NODE", target_id)


async def test_a_followed_space_keeps_its_entries_across_a_slot_move(
    own_cluster: LocalCluster,
) -> None:
    with trio.fail_after(60):
        async with open_stream_log(own_cluster.url) as stream_log:
            await _follow_across_a_move(stream_log, own_cluster)


async def _follow_across_a_move(stream_log: StreamLog, cluster: LocalCluster) -> None:
    space = str(uuid.uuid4())
    events = stream_log.keys(space).events
    source = master_of(cluster, events)
    target = next(m for m in cluster.masters if m.port != source.port)
    router = StreamRouter(stream_log, node_id="n1")
    async with trio.open_nursery() as nursery:
        await nursery.start(run_stream_reader, stream_log.redis, router)
        sub = await router.subscribe(space, kind="message")
        visitor = str(uuid.uuid4())
        before = await visitor_says(stream_log, space, ["one", "two"], visitor=visitor)
        got = [await sub.receive.receive() for _ in before]
        await trio.to_thread.run_sync(
            _move_slot, cluster, slot_of(events), source.port, target.port
        )
        assert master_of(cluster, events).port == target.port
        after = await visitor_says(stream_log, space, ["three", "four"], visitor=visitor)
        got += [await sub.receive.receive() for _ in after]
        assert [e.id for e in got] == [a.id for a in before + after]
        assert [e.event.content for e in got if isinstance(e.event, MessagePosted)] == [
            "one",
            "two",
            "three",
            "four",
        ]
        nursery.cancel_scope.cancel()
