"""The stream reader on a cluster (chat/streams/cluster_reader.py): woken by the appends' shard
channels, one subscriber connection per master, the spaces read in pipelined rounds. The routing
tests of tests.streams.test_reader run here too, with its fixtures, against the cluster; and a
process follows more slots per master than a pool holds connections."""

from __future__ import annotations

import uuid

import trio

from chat.embedded.cluster import LocalCluster
from chat.embedded.resp import call
from chat.events import MessagePosted
from chat.streams.client import slot_of
from chat.streams.log import StreamLog
from chat.streams.reader import StreamRouter, Subscription, run_stream_reader
from tests.cluster.shards import slot_ranges
from tests.helpers.streams import visitor_says
from tests.streams.test_reader import (
    router,
    test_the_reader_routes_live_entries_and_skips_undecodable_ones,
    test_unsubscribe_stops_delivery_and_the_last_one_unfollows_the_space,
)

__all__ = [
    "router",
    "test_the_reader_routes_live_entries_and_skips_undecodable_ones",
    "test_unsubscribe_stops_delivery_and_the_last_one_unfollows_the_space",
]

# More slots per master than the 128 connections per node the reader once needed (one blocked
# XREAD per followed slot), so a reader holding a connection per slot could not serve them.
SLOTS_PER_MASTER = 150
MESSAGES_PER_SPACE = 3


async def test_subscribing_to_a_new_space_starts_from_its_last_entry(
    router: StreamRouter, stream_log: StreamLog
) -> None:
    with trio.fail_after(10):
        space = str(uuid.uuid4())
        acks = await visitor_says(stream_log, space, ["before"])
        await router.subscribe(space)
        assert router.positions[space] == acks[-1].id
        other = str(uuid.uuid4())
        await router.subscribe(other)  # an empty (missing) stream
        assert router.positions[other] == "0-0"
        # No wake stream: the cluster's reader is woken in this process and by the appends.
        assert not await stream_log.redis.exists([router.wake_key])


def _spaces_on_distinct_slots(stream_log: StreamLog, cluster: LocalCluster) -> list[str]:
    """Spaces whose event streams lie on distinct slots, SLOTS_PER_MASTER on each master."""
    ranges = slot_ranges(cluster)
    per_master: dict[int, list[str]] = {port: [] for _, _, port in ranges}
    seen: set[int] = set()
    while any(len(spaces) < SLOTS_PER_MASTER for spaces in per_master.values()):
        space = str(uuid.uuid4())
        slot = slot_of(stream_log.keys(space).events)
        port = next(port for low, high, port in ranges if low <= slot <= high)
        if slot not in seen and len(per_master[port]) < SLOTS_PER_MASTER:
            seen.add(slot)
            per_master[port].append(space)
    return [space for spaces in per_master.values() for space in spaces]


async def _contents(sub: Subscription, count: int) -> list[str]:
    got = []
    for _ in range(count):
        entry = await sub.receive.receive()
        assert isinstance(entry.event, MessagePosted)
        got.append(entry.event.content)
    return got


async def test_a_process_following_more_slots_than_a_pool_holds_gets_every_entry(
    router: StreamRouter, stream_log: StreamLog, local_cluster: LocalCluster
) -> None:
    spaces = _spaces_on_distinct_slots(stream_log, local_cluster)
    masters = len(local_cluster.masters)
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            await nursery.start(run_stream_reader, stream_log.redis, router)
            subs = {space: await router.subscribe(space, kind="message") for space in spaces}
            received: dict[str, list[str]] = {}

            async def converse(space: str) -> None:
                # Every append is acked while the reader follows all the slots (none waits
                # for a connection held by a blocked read), and the reader hands each space
                # its own messages, in order.
                said = [f"{space}:{n}" for n in range(MESSAGES_PER_SPACE)]
                await visitor_says(stream_log, space, said)
                received[space] = await _contents(subs[space], MESSAGES_PER_SPACE)

            async with trio.open_nursery() as conversations:
                for space in spaces:
                    conversations.start_soon(converse, space)
            assert received == {
                space: [f"{space}:{n}" for n in range(MESSAGES_PER_SPACE)] for space in spaces
            }
            # Connections scale with the masters, not with the slots followed: a subscriber
            # and a few commands' connections per master.
            pool = stream_log.redis.connection_pool
            assert pool.statistics.active_connections <= 8 * masters < len(spaces) // masters
            nursery.cancel_scope.cancel()


async def test_entries_still_arrive_after_the_subscriber_loses_its_connections(
    router: StreamRouter, stream_log: StreamLog, local_cluster: LocalCluster
) -> None:
    space = str(uuid.uuid4())
    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            await nursery.start(run_stream_reader, stream_log.redis, router)
            sub = await router.subscribe(space, kind="message")
            visitor = str(uuid.uuid4())
            await visitor_says(stream_log, space, ["one"], visitor=visitor)
            assert await _contents(sub, 1) == ["one"]
            # Every master drops its pub/sub clients: messages published now reach nobody
            # until the subscriber is started again; the reader's pass reads them meanwhile.
            for master in local_cluster.masters:
                await trio.to_thread.run_sync(
                    call, "127.0.0.1", master.port, local_cluster.password,
                    "CLIENT", "KILL", "TYPE", "pubsub",
                )  # fmt: skip
            await visitor_says(stream_log, space, ["two", "three"], visitor=visitor)
            assert await _contents(sub, 2) == ["two", "three"]
            nursery.cancel_scope.cancel()
