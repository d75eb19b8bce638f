"""Thread actors (chat/actors/thread.py): one follow per thread fans its entries out to every
session attached in this process; a session that falls behind is cut off alone.

ThreadHandle.fan_out is driven directly; the registry (ThreadActors) runs real actors on the
real Valkey."""

from __future__ import annotations

import uuid

import pytest
import trio
import trio.testing

from chat.actors.thread import Attachment, ThreadActors, ThreadHandle
from chat.events import LogEntry
from chat.streams.log import StreamLog
from chat.streams.reader import StreamRouter, run_stream_reader
from tests.helpers.streams import message, visitor_says

SPACE = str(uuid.uuid4())


def attachment(size: int = 256) -> tuple[Attachment, trio.MemoryReceiveChannel[LogEntry]]:
    """An attachment taking entries into a channel of `size` (a session's outbox, say): it
    refuses one when the channel is full."""
    send, receive = trio.open_memory_channel[LogEntry](size)

    def deliver(entry: LogEntry) -> bool:
        try:
            send.send_nowait(entry)
        except trio.WouldBlock:
            return False
        return True

    return Attachment(deliver, trio.Event()), receive


def waiting(receive: trio.MemoryReceiveChannel[LogEntry]) -> list[str]:
    ids = []
    while True:
        try:
            ids.append(receive.receive_nowait().id)
        except (trio.WouldBlock, trio.EndOfChannel):
            return ids


def handle(*attachments: Attachment) -> ThreadHandle:
    return ThreadHandle(SPACE, "t", trio.CancelScope(), set(attachments))


def test_entries_reach_every_attachment_in_order() -> None:
    (a, a_in), (b, b_in) = attachment(), attachment()
    thread = handle(a, b)
    for n in range(5):
        thread.fan_out(message(f"1-{n}", "t"))
    assert waiting(a_in) == waiting(b_in) == [f"1-{n}" for n in range(5)]
    assert thread.attachments == {a, b}


def test_a_full_attachment_is_cut_off_and_the_others_keep_receiving() -> None:
    (slow, slow_in), (fast, fast_in) = attachment(2), attachment(2)
    thread = handle(slow, fast)
    thread.fan_out(message("1-0", "t"))
    thread.fan_out(message("1-1", "t"))
    assert waiting(fast_in) == ["1-0", "1-1"]
    thread.fan_out(message("1-2", "t"))
    assert slow.overflowed.is_set()
    assert thread.attachments == {fast}
    assert not fast.overflowed.is_set()
    thread.fan_out(message("1-3", "t"))
    assert waiting(slow_in) == ["1-0", "1-1"]  # nothing after it was cut off
    assert waiting(fast_in) == ["1-2", "1-3"]


@pytest.fixture
async def registry(stream_log: StreamLog, nursery: trio.Nursery) -> ThreadActors:
    router = StreamRouter(stream_log, node_id="n1")
    await nursery.start(run_stream_reader, stream_log.redis, router)
    return ThreadActors(router, nursery)


async def test_one_actor_per_thread_fans_live_entries_out_to_every_attachment(
    registry: ThreadActors, stream_log: StreamLog
) -> None:
    with trio.fail_after(20):
        vera, vic = str(uuid.uuid4()), str(uuid.uuid4())
        first = (await visitor_says(stream_log, SPACE, ["hi"], visitor=vera))[0].thread_id
        second = (await visitor_says(stream_log, SPACE, ["hi"], visitor=vic))[0].thread_id
        (tab1, tab1_in), (tab2, tab2_in), (other, other_in) = (attachment() for _ in range(3))
        await registry.attach_starting_actor(SPACE, first, tab1)
        await registry.attach_starting_actor(SPACE, first, tab2)
        assert len(registry) == 1  # two tabs of one thread share one actor
        await registry.attach_starting_actor(SPACE, second, other)
        assert len(registry) == 2
        acks = await visitor_says(stream_log, SPACE, ["one", "two"], visitor=vera)
        elsewhere = await visitor_says(stream_log, SPACE, ["three"], visitor=vic)
        want = [a.id for a in acks]
        assert [(await tab1_in.receive()).id for _ in want] == want
        assert [(await tab2_in.receive()).id for _ in want] == want
        assert (await other_in.receive()).id == elsewhere[0].id
        await trio.testing.wait_all_tasks_blocked()
        assert waiting(tab1_in) == waiting(other_in) == []


async def test_the_last_detach_stops_the_thread_actor(
    registry: ThreadActors, stream_log: StreamLog
) -> None:
    with trio.fail_after(20):
        vera = str(uuid.uuid4())
        thread = (await visitor_says(stream_log, SPACE, ["hi"], visitor=vera))[0].thread_id
        (tab1, tab1_in), (tab2, _) = attachment(), attachment()
        await registry.attach_starting_actor(SPACE, thread, tab1)
        await registry.attach_starting_actor(SPACE, thread, tab2)
        registry.detach(SPACE, thread, tab2)
        assert len(registry) == 1  # one tab left: the actor goes on
        registry.detach(SPACE, thread, tab1)
        registry.detach(SPACE, thread, tab1)  # twice is harmless
        assert len(registry) == 0
        await trio.testing.wait_all_tasks_blocked()
        # Its follow ended: no subscription of this process holds the space any more.
        assert SPACE not in registry.router.positions
        assert not tab1.overflowed.is_set()  # a detach is not a cut-off
        # A new attachment starts a new actor.
        (again, again_in) = attachment()
        await registry.attach_starting_actor(SPACE, thread, again)
        assert len(registry) == 1
        ack = (await visitor_says(stream_log, SPACE, ["back"], visitor=vera))[0]
        assert (await again_in.receive()).id == ack.id
        assert waiting(tab1_in) == []  # detached: nothing more reaches it
