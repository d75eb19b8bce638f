"""A session's outbox (chat/actors/frame_outbox.py): order, bounds, the writer that runs only
while frames wait, direct writes, and its end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio
import trio.testing

from chat.actors.frame_outbox import Outbox
from chat.metrics.series import SessionMeter

DEADLINE = 10


class GatedSocket:
    """Records what was sent and by which task; each send waits while the gate is shut (a
    client that reads nothing). `cancels_on_failure` as a DirectSocket declares it."""

    def __init__(self, *, direct: bool) -> None:
        self.cancels_on_failure = direct
        self.sent: list[tuple[str, trio.lowlevel.Task]] = []
        self.open_gate = trio.Event()
        self.open_gate.set()
        self.sent_one = trio.Event()

    async def send(self, data: str) -> None:
        self.sent.append((data, trio.lowlevel.current_task()))
        self.sent_one.set()
        await self.open_gate.wait()

    def texts(self) -> list[str]:
        return [data for data, _ in self.sent]


def meter() -> SessionMeter:
    return SessionMeter.unregistered("test")


@asynccontextmanager
async def started(socket: GatedSocket) -> AsyncIterator[tuple[Outbox, trio.Nursery]]:
    """An outbox of 8 writing to `socket` from a nursery of its own, within the deadline."""
    outbox = Outbox(8)
    with trio.fail_after(DEADLINE):
        async with trio.open_nursery() as nursery:
            await outbox.start(nursery, socket, meter())
            yield outbox, nursery


async def test_frames_are_written_in_order_by_a_writer_that_ends_when_none_waits() -> None:
    socket = GatedSocket(direct=False)
    outbox = Outbox(8)
    with trio.fail_after(DEADLINE):
        async with trio.open_nursery() as nursery:
            outbox.send_nowait("welcome")  # queued before the start: written first
            assert socket.sent == []
            await outbox.start(nursery, socket, meter())  # by a writer: the socket may raise
            for n in range(5):
                await outbox.send(f"frame {n}")
            await trio.testing.wait_all_tasks_blocked()
            assert socket.texts() == ["welcome"] + [f"frame {n}" for n in range(5)]
            # The writer has ended: an idle session holds no task for its outbox.
            assert nursery.child_tasks == set()
            assert len(outbox) == 0
            writer = socket.sent[0][1]
            assert writer is not trio.lowlevel.current_task()

            outbox.send_nowait("later")  # a writer again, for the frames that came
            await trio.testing.wait_all_tasks_blocked()
            assert socket.texts()[-1] == "later" and nursery.child_tasks == set()


async def test_a_full_outbox_refuses_nowait_and_send_waits_for_room() -> None:
    socket = GatedSocket(direct=False)
    socket.open_gate = trio.Event()  # the client reads nothing
    outbox = Outbox(2)
    with trio.fail_after(DEADLINE):
        async with trio.open_nursery() as nursery:
            await outbox.start(nursery, socket, meter())
            outbox.send_nowait("a")
            await socket.sent_one.wait()  # the writer took "a" and is stuck writing it
            outbox.send_nowait("b")
            outbox.send_nowait("c")
            with pytest.raises(trio.WouldBlock):
                outbox.send_nowait("d")
            sent_d = trio.Event()

            async def send_d() -> None:
                await outbox.send("d")
                sent_d.set()

            nursery.start_soon(send_d)
            await trio.testing.wait_all_tasks_blocked()
            assert not sent_d.is_set() and len(outbox) == 2
            socket.open_gate.set()
            await sent_d.wait()
            await trio.testing.wait_all_tasks_blocked()
            assert socket.texts() == ["a", "b", "c", "d"]


async def test_put_writes_in_the_callers_task_only_when_nothing_waits() -> None:
    socket = GatedSocket(direct=True)
    me = trio.lowlevel.current_task()
    async with started(socket) as (outbox, _):
        await outbox.put("direct")
        assert socket.sent == [("direct", me)]  # written before put returned, by me

        socket.open_gate = trio.Event()
        outbox.send_nowait("queued")  # the writer is started, not run yet
        await outbox.put("behind")  # so this one waits behind it
        assert socket.texts() == ["direct"]
        socket.open_gate.set()
        await trio.testing.wait_all_tasks_blocked()
        assert socket.texts() == ["direct", "queued", "behind"]
        assert socket.sent[2][1] is not me


async def test_put_queues_on_a_socket_that_raises_for_a_gone_peer() -> None:
    socket = GatedSocket(direct=False)
    me = trio.lowlevel.current_task()
    async with started(socket) as (outbox, _):
        await outbox.put("frame")
        await trio.testing.wait_all_tasks_blocked()
        assert socket.texts() == ["frame"] and socket.sent[0][1] is not me


async def test_a_closed_outbox_drops_what_waits_and_refuses_more() -> None:
    socket = GatedSocket(direct=False)
    socket.open_gate = trio.Event()
    outbox = Outbox(1)
    with trio.fail_after(DEADLINE):
        async with trio.open_nursery() as nursery:
            await outbox.start(nursery, socket, meter())
            outbox.send_nowait("a")
            await socket.sent_one.wait()
            outbox.send_nowait("b")  # waits: the outbox is full
            refused: list[BaseException] = []

            async def send_c() -> None:
                try:
                    await outbox.send("c")
                except trio.BrokenResourceError as exc:
                    refused.append(exc)

            nursery.start_soon(send_c)
            await trio.testing.wait_all_tasks_blocked()
            outbox.close()
            await trio.testing.wait_all_tasks_blocked()
            assert len(refused) == 1  # the waiting sender was told
            socket.open_gate.set()
            await trio.testing.wait_all_tasks_blocked()
            assert socket.texts() == ["a"]  # "b" was dropped
            with pytest.raises(trio.BrokenResourceError):
                outbox.send_nowait("d")


class AtOnceSocket(GatedSocket):
    """A GatedSocket that can also send without waiting (as DirectSocket.send_now), taking
    only the first `take` characters of the next frame when told (a full kernel buffer)."""

    def __init__(self) -> None:
        super().__init__(direct=True)
        self.writing = False
        self.take: int | None = None
        self.rest = ""

    def send_now(self, data: str) -> bool:
        if self.writing or self.rest:
            return False
        if self.take is not None:
            data, self.rest, self.take = data[: self.take], data[self.take :], None
        self.sent.append((data, trio.lowlevel.current_task()))
        return True

    def unsent(self) -> bool:
        return bool(self.rest)

    async def flush(self) -> None:
        rest, self.rest = self.rest, ""
        await self.send(rest)

    async def send(self, data: str) -> None:
        self.writing = True
        try:
            if self.rest:
                data, self.rest = self.rest + data, ""
            await super().send(data)
        finally:
            self.writing = False


async def test_any_task_writes_at_once_on_a_socket_that_can() -> None:
    socket = AtOnceSocket()
    outbox = Outbox(8)
    me = trio.lowlevel.current_task()
    with trio.fail_after(DEADLINE):
        async with trio.open_nursery() as nursery:
            outbox.send_nowait("welcome")
            await outbox.start(nursery, socket, meter())
            assert socket.sent == [("welcome", me)]  # by the session's own task, no writer

            outbox.send_nowait("delivered")  # as a thread actor's fan-out does
            assert socket.sent[-1] == ("delivered", me) and nursery.child_tasks == set()

            # The kernel takes part of a frame: a writer sends the rest first, in the next
            # frame's write when one waits (one write, not two).
            socket.take = 3
            outbox.send_nowait("partial")
            outbox.send_nowait("next")
            assert len(nursery.child_tasks) == 1 and len(outbox) == 1
            await trio.testing.wait_all_tasks_blocked()
            assert socket.texts()[2:] == ["par", "tialnext"]
            assert nursery.child_tasks == set() and len(outbox) == 0

            # The rest waits for room: later frames, from any task, queue behind it.
            socket.open_gate = trio.Event()
            socket.take = 2
            outbox.send_nowait("slow")
            await trio.testing.wait_all_tasks_blocked()  # the writer waits with "ow"
            await outbox.put("after")
            outbox.send_nowait("last")
            assert socket.texts()[-2:] == ["sl", "ow"] and len(outbox) == 2
            socket.open_gate.set()
            await trio.testing.wait_all_tasks_blocked()
            assert socket.texts()[-4:] == ["sl", "ow", "after", "last"]


async def test_a_frame_queued_after_the_nursery_closed_is_dropped() -> None:
    socket = GatedSocket(direct=False)
    outbox = Outbox(8)
    async with trio.open_nursery() as nursery:
        await outbox.start(nursery, socket, meter())
    outbox.send_nowait("late")  # no writer can start any more: the outbox closes itself
    assert socket.sent == [] and len(outbox) == 0
    with pytest.raises(trio.BrokenResourceError):
        outbox.send_nowait("later")
