"""The agent's snapshot (StreamLog.open_snapshot, a Follow with snapshot=True): the open
threads of a space at a cursor, then every entry after it, so nothing is missed or doubled.

Against the real Valkey, with the real reader: a burst of visitors opening threads races
followers that start at every point of the burst."""

from __future__ import annotations

import random
import uuid

import pytest
import trio

from chat.events import LogEntry, ThreadOpened
from chat.streams.follow import Live
from chat.streams.log import StreamLog
from chat.streams.reader import StreamRouter, run_stream_reader
from tests.helpers.follow import run_follow
from tests.helpers.streams import visitor_says


async def test_the_snapshot_holds_the_open_threads_at_the_events_last_id(
    stream_log: StreamLog,
) -> None:
    space = str(uuid.uuid4())
    with trio.fail_after(10):
        empty = await stream_log.open_snapshot(space)
        assert (empty.cursor, empty.threads) == ("0-0", [])
        vera, otto = str(uuid.uuid4()), str(uuid.uuid4())
        first = (await visitor_says(stream_log, space, ["hello"], visitor=vera))[0]
        await stream_log.do_update_visitor(space, vera, {"name": "Vera"})
        second = (await visitor_says(stream_log, space, ["hi", "there"], visitor=otto))[0]
        closed = (await visitor_says(stream_log, space, ["bye"]))[0]
        await stream_log.do_change_thread(space, closed.thread_id, "close", agent_id="a1")
        await stream_log.do_change_thread(space, second.thread_id, "claim", agent_id="a1")
        snap = await stream_log.open_snapshot(space)
        assert snap.cursor == await stream_log.last_id(stream_log.keys(space).events)
        by_id = {t.thread.id: t for t in snap.threads}
        assert set(by_id) == {first.thread_id, second.thread_id}
        assert by_id[first.thread_id].thread.status == "unassigned"
        assert by_id[first.thread_id].visitor is not None
        assert by_id[first.thread_id].visitor.name == "Vera"  # type: ignore[union-attr]
        assert by_id[second.thread_id].thread.status == "active"
        assert by_id[second.thread_id].thread.assigned_agent_id == "a1"
        assert by_id[second.thread_id].visitor.id == otto  # type: ignore[union-attr]


VISITORS = 40
FOLLOWERS = 25


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_snapshot_then_live_misses_and_doubles_no_thread(
    stream_log: StreamLog, seed: int
) -> None:
    """Each follower sees every thread exactly once: in its snapshot, or as a thread.opened
    after the snapshot's cursor; never both, never neither."""
    rng = random.Random(seed)
    space = str(uuid.uuid4())
    router = StreamRouter(stream_log, node_id="n1")
    opened: set[str] = set()
    seen: list[list[str]] = [[] for _ in range(FOLLOWERS)]

    async def visitor() -> None:
        await trio.sleep(rng.random() * 0.2)
        ack = (await visitor_says(stream_log, space, ["hi", "again"]))[0]
        opened.add(ack.thread_id)

    async def follower(n: int, all_opened: trio.Event) -> None:
        await trio.sleep(rng.random() * 0.25)
        send, receive = trio.open_memory_channel[LogEntry | Live](10_000)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: run_follow(router, space, send, snapshot=True))
            first = await receive.receive()
            assert isinstance(first, Live) and first.snapshot is not None
            assert first.cursor == first.snapshot.cursor
            seen[n] += [t.thread.id for t in first.snapshot.threads]
            while True:
                if all_opened.is_set() and len(set(seen[n])) == VISITORS:
                    break
                with trio.move_on_after(0.05):
                    item = await receive.receive()
                    assert isinstance(item, LogEntry)
                    assert parse(item.id) > parse(first.cursor)
                    if isinstance(item.event, ThreadOpened):
                        seen[n].append(item.event.thread.id)
            nursery.cancel_scope.cancel()

    with trio.fail_after(30):
        async with trio.open_nursery() as outer:
            await outer.start(run_stream_reader, stream_log.redis, router)
            all_opened = trio.Event()
            async with trio.open_nursery() as nursery:
                for n in range(FOLLOWERS):
                    nursery.start_soon(follower, n, all_opened)
                async with trio.open_nursery() as burst:
                    for _ in range(VISITORS):
                        burst.start_soon(visitor)
                all_opened.set()
            outer.cancel_scope.cancel()
    assert len(opened) == VISITORS
    for threads in seen:
        assert sorted(threads) == sorted(opened)  # each once: none missed, none doubled


def parse(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)
