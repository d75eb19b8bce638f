"""Following (chat/streams/follow.py): from a cursor, catch up from the log and then go live, each
entry once and in order across the switch, and again after the subscription overflowed.

Against the real Valkey. The deterministic tests run no reader: they hand the router entries
themselves (StreamRouter.deliver), so the overlap between what catch-up read and what the
subscription holds is chosen, not raced for."""

from __future__ import annotations

import uuid

import pytest
import trio
import trio.testing
from coredis import PureToken

from chat.errors import CursorExpiredError
from chat.events import LogEntry
from chat.streams.follow import CATCH_UP_PAGE, Live
from chat.streams.log import StreamLog
from chat.streams.reader import SUBSCRIPTION_BUFFER, StreamRouter, run_stream_reader
from tests.helpers.follow import run_follow
from tests.helpers.streams import visitor_says

SPACE = str(uuid.uuid4())
OUT_SIZE = 2 * (SUBSCRIPTION_BUFFER + CATCH_UP_PAGE)  # room for everything a test sends


@pytest.fixture
def router(stream_log: StreamLog) -> StreamRouter:
    return StreamRouter(stream_log, node_id="n1")


async def thread_entries(stream_log: StreamLog, thread_id: str) -> list[LogEntry]:
    """Everything the thread's stream holds, oldest first."""
    return await stream_log.read_range(stream_log.keys(SPACE).thread(thread_id), None, 10_000)


def ids(items: list[LogEntry | Live]) -> list[str]:
    return [i.id if isinstance(i, LogEntry) else f"live {i.cursor}" for i in items]


def waiting(receive: trio.MemoryReceiveChannel[LogEntry | Live]) -> list[LogEntry | Live]:
    items = []
    while True:
        try:
            items.append(receive.receive_nowait())
        except trio.WouldBlock:
            return items


async def test_catch_up_then_live_repeats_and_skips_nothing(
    router: StreamRouter, stream_log: StreamLog
) -> None:
    send, receive = trio.open_memory_channel[LogEntry | Live](OUT_SIZE)
    with trio.fail_after(20):
        vera = str(uuid.uuid4())
        acks = await visitor_says(stream_log, SPACE, [f"m{n}" for n in range(5)], visitor=vera)
        thread = acks[0].thread_id
        logged = await thread_entries(stream_log, thread)  # thread.opened, then five messages
        async with trio.open_nursery() as nursery:
            cursor = await nursery.start(
                lambda task_status: run_follow(
                    router,
                    SPACE,
                    send,
                    thread_id=thread,
                    after=logged[1].id,
                    task_status=task_status,
                )
            )
            assert cursor == logged[-1].id
            caught_up = waiting(receive)
            assert ids(caught_up) == [e.id for e in logged[2:]] + [f"live {cursor}"]
            # The subscription holds entries catch-up sent already (appended while it read):
            # they are skipped; the first new one goes on.
            later = await visitor_says(stream_log, SPACE, ["m5"], visitor=vera)
            live = (await thread_entries(stream_log, thread))[-1]
            assert live.id == later[0].id
            router.deliver(SPACE, [*logged[3:], live])
            assert (await receive.receive()).id == live.id
            router.deliver(SPACE, [live])  # a repeat of the last one sent
            await trio.testing.wait_all_tasks_blocked()
            assert waiting(receive) == []
            nursery.cancel_scope.cancel()


async def test_from_now_sends_live_at_the_space_position_and_then_only_new_entries(
    router: StreamRouter, stream_log: StreamLog
) -> None:
    send, receive = trio.open_memory_channel[LogEntry | Live](OUT_SIZE)
    with trio.fail_after(20):
        vera = str(uuid.uuid4())
        before = await visitor_says(stream_log, SPACE, ["old"], visitor=vera)
        async with trio.open_nursery() as nursery:
            await nursery.start(run_stream_reader, stream_log.redis, router)
            cursor = await nursery.start(
                lambda task_status: run_follow(router, SPACE, send, task_status=task_status)
            )
            assert cursor == before[0].id
            assert ids(waiting(receive)) == [f"live {cursor}"]
            after = await visitor_says(stream_log, SPACE, ["new"], visitor=vera)
            assert (await receive.receive()).id == after[0].id
            nursery.cancel_scope.cancel()


async def test_after_an_overflow_it_resubscribes_and_catches_up_from_the_log(
    router: StreamRouter, stream_log: StreamLog
) -> None:
    """The consumer stalls while more than a subscription's buffer arrives: the follow is cut
    off, subscribes again and reads the rest from the log, each entry still once, in order."""
    send, receive = trio.open_memory_channel[LogEntry | Live](0)  # the consumer is us, stalled
    with trio.fail_after(60):
        vera = str(uuid.uuid4())
        first = await visitor_says(stream_log, SPACE, ["first"], visitor=vera)
        thread = first[0].thread_id
        start = (await thread_entries(stream_log, thread))[-1].id
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                lambda: run_follow(router, SPACE, send, thread_id=thread, after=start)
            )
            assert await receive.receive() == Live(start)
            count = SUBSCRIPTION_BUFFER + 100
            await visitor_says(stream_log, SPACE, [f"m{n}" for n in range(count)], visitor=vera)
            burst = (await thread_entries(stream_log, thread))[2:]
            assert len(burst) == count
            router.deliver(SPACE, burst)  # more than its buffer, all at once
            got = [await receive.receive() for _ in burst]
            assert ids(got) == [e.id for e in burst]
            # What the subscription took came as delivered (one handed straight to the waiting
            # follow, a buffer's worth held); the rest was read from the log.
            held = 1 + SUBSCRIPTION_BUFFER
            assert [g is b for g, b in zip(got, burst, strict=True)] == [True] * held + [False] * (
                count - held
            )
            # Live again on its new subscription; nothing further was repeated.
            again = await visitor_says(stream_log, SPACE, ["again"], visitor=vera)
            live = (await thread_entries(stream_log, thread))[-1]
            assert live.id == again[0].id
            router.deliver(SPACE, [*burst[-3:], live])
            assert (await receive.receive()).id == live.id
            nursery.cancel_scope.cancel()


async def test_live_appends_racing_the_switch_arrive_once_each_in_order(
    router: StreamRouter, stream_log: StreamLog
) -> None:
    """With the real reader, while a writer keeps appending: whatever the overlap, the follower
    sees exactly the thread's entries after its cursor."""
    send, receive = trio.open_memory_channel[LogEntry | Live](OUT_SIZE)
    with trio.fail_after(60):
        visitor = str(uuid.uuid4())
        first = await visitor_says(stream_log, SPACE, ["first"], visitor=visitor)
        thread = first[0].thread_id
        cursor = (await thread_entries(stream_log, thread))[-1].id
        async with trio.open_nursery() as nursery:
            await nursery.start(run_stream_reader, stream_log.redis, router)
            writing = trio.Event()

            async def writer() -> None:
                await visitor_says(stream_log, SPACE, [f"a{n}" for n in range(50)], visitor=visitor)
                writing.set()

            nursery.start_soon(writer)
            await nursery.start(
                lambda task_status: run_follow(
                    router, SPACE, send, thread_id=thread, after=cursor, task_status=task_status
                )
            )
            await writing.wait()
            logged = await thread_entries(stream_log, thread)
            got: list[str] = []
            while len([i for i in got if not i.startswith("live")]) < len(logged) - 2:
                got += ids([await receive.receive()])
            assert [i for i in got if not i.startswith("live")] == [e.id for e in logged[2:]]
            assert len([i for i in got if i.startswith("live")]) == 1
            await trio.testing.wait_all_tasks_blocked()
            assert waiting(receive) == []
            nursery.cancel_scope.cancel()


async def start_following(router: StreamRouter, after: str, thread_id: str | None = None) -> str:
    """The cursor a follow from `after` starts with (it is cancelled once started)."""
    send, _ = trio.open_memory_channel[LogEntry | Live](OUT_SIZE)
    async with trio.open_nursery() as nursery:
        cursor: str = await nursery.start(
            lambda task_status: run_follow(
                router, SPACE, send, thread_id=thread_id, after=after, task_status=task_status
            )
        )
        nursery.cancel_scope.cancel()
    return cursor


async def test_a_space_cursor_before_deleted_entries_is_refused(
    router: StreamRouter, stream_log: StreamLog
) -> None:
    """An agent's space cursor older than what the log keeps: the gap is said, not skipped."""
    with trio.fail_after(20):
        acks = await visitor_says(stream_log, SPACE, ["a", "b", "c"])
        key = stream_log.keys(SPACE).events
        assert await start_following(router, acks[0].id) == acks[2].id  # nothing gone yet
        await stream_log.redis.xdel(key, [acks[1].id])
        with pytest.RaisesGroup(CursorExpiredError, flatten_subgroups=True):
            await start_following(router, acks[0].id)
        assert await start_following(router, acks[2].id) == acks[2].id  # past the gap: fine


async def test_a_space_cursor_before_trimmed_entries_is_refused(
    router: StreamRouter, stream_log: StreamLog
) -> None:
    with trio.fail_after(20):
        acks = await visitor_says(stream_log, SPACE, ["a", "b", "c"])
        key = stream_log.keys(SPACE).events
        await stream_log.redis.xtrim(key, PureToken.MINID, acks[2].id)  # as trim_projected does
        with pytest.RaisesGroup(CursorExpiredError, flatten_subgroups=True):
            await start_following(router, acks[0].id)
