"""A session's outbox: its frames on their way to the socket, in order, and the task that writes
them, which runs only while frames wait (issue 19).

A session had a trio memory channel (about 1.9 KB: its state, a deque, two ordered dicts of
waiting tasks, both ends) and a writer task parked on it (about 3 KB: the task, its context,
its coroutine frames) for its whole life, though most widget sockets idle: about 5 KB of the
26 KB an idle widget socket cost. An idle `Outbox` is one small object: frames wait in a deque
made when the first one is queued and dropped once they are written, and the writer task is
started in the session's nursery when a frame is queued with no writer running; it ends when
nothing waits.

Order: queued frames are written in the order queued, by one writer at a time. A session's own
tasks may write a frame themselves (`put`) when nothing waits and no writer runs, on sockets
whose send never raises into the caller for a gone peer but cancels the session
(`cancels_on_failure`, chat/http/ws_connection.py): a task of the session then ends at that
cancellation, as it would had the writer failed. Such a socket serialises its writes in call
order (DirectSocket's FIFO lock), so a direct write still waiting for room stays ahead of the
frames queued after it. Any task (a thread actor's fan-out too) has its frame written at once,
without waiting, when nothing waits, no writer runs and the socket can (`send_now`: no write in
progress); a frame the kernel took only part of has its rest written by a writer started for
it, before anything else. Otherwise frames are queued. At the start (`start`), the frames
queued before (the welcome) are written by the session's own task on such a socket.

Bounds: at most `size` frames wait. `send_nowait` raises trio.WouldBlock when full (a feed then
cuts the session off, chat/actors/visitor_feed.py); `send` and `put` wait for room. Once the
session is over (`close`), sending raises trio.BrokenResourceError, as a channel whose receiver
closed did.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol, cast

import trio

from chat.metrics.series import SessionMeter
from chat.protocol.outbound import Frame, dumps
from chat.protocol.stamped import EntryText


class FrameSocket(Protocol):
    """What the outbox needs of a socket (chat/actors/socket.py's Socket)."""

    async def send(self, data: str) -> None: ...


class AtOnceSocket(FrameSocket, Protocol):
    """A socket that can also send without waiting (chat/http/ws_connection.py DirectSocket)."""

    def send_now(self, data: str) -> bool:
        """Sent (or begun: see `unsent`), or False when a write is in progress."""
        ...

    def unsent(self) -> bool:
        """Part of a frame `send_now` began waits for `flush`."""
        ...

    async def flush(self) -> None: ...


class Outbox:
    """One session's frames to its socket; see the module's doc."""

    __slots__ = ("_size", "_frames", "_room", "_writing", "_closed", "_direct", "_now", "_writer")

    def __init__(self, size: int) -> None:
        self._size = size
        self._frames: deque[Frame] | None = None  # None while empty: an empty deque is 760 B
        self._room: trio.lowlevel.ParkingLot | None = None  # senders waiting for room
        self._writing = False  # a writer task is started and has not ended
        self._closed = False
        self._direct = False
        self._now: AtOnceSocket | None = None  # the socket, when it can send without waiting
        # (nursery, socket, meter) once `start` ran: where the writer runs and what it writes to.
        self._writer: tuple[trio.Nursery, FrameSocket, SessionMeter] | None = None

    async def start(self, nursery: trio.Nursery, socket: FrameSocket, meter: SessionMeter) -> None:
        """Write to `socket` from now on, a writer running in `nursery` (the session's) when
        needed. Frames queued before (the welcome) are written first: by the caller (the
        session's own task) on a socket that allows it, which saves a writer task per session."""
        self._writer = (nursery, socket, meter)
        self._direct = bool(getattr(socket, "cancels_on_failure", False))
        if self._direct and hasattr(socket, "send_now"):
            self._now = cast(AtOnceSocket, socket)
        if not self._frames:
            return
        if self._direct:
            self._writing = True
            await self._write_waiting()
        else:
            self._start_writer()

    def close(self) -> None:
        """The session is over: what still waits is dropped; sending raises from now on."""
        self._closed = True
        self._frames = None
        self._writer = None
        self._now = None
        if self._room is not None:
            self._room.unpark_all()  # they find it closed

    def __len__(self) -> int:
        """The frames waiting to be written."""
        return len(self._frames) if self._frames is not None else 0

    def send_nowait(self, frame: Frame) -> None:
        """Queue `frame`; trio.WouldBlock when `size` frames wait already."""
        if self._closed:
            raise trio.BrokenResourceError("the session is over")
        frames = self._frames
        if not frames and not self._writing and self._now is not None and self._sent_now(frame):
            return
        if frames is None:
            frames = self._frames = deque()
        elif len(frames) >= self._size:
            raise trio.WouldBlock
        frames.append(frame)
        if not self._writing and self._writer is not None:
            self._start_writer()

    async def send(self, frame: Frame) -> None:
        """Queue `frame`, waiting while the outbox is full. Without a schedule point when there
        is room (the common case): on the hot path (acks, each delivered entry, pongs) every
        schedule point is a task step, about a tenth of the service's CPU at a steady rate."""
        while True:
            try:
                self.send_nowait(frame)
                return
            except trio.WouldBlock:
                if self._room is None:
                    self._room = trio.lowlevel.ParkingLot()
                await self._room.park()
            except trio.BrokenResourceError:
                # The session is over, its nursery cancelled: a task of it still running its
                # step ends at that cancellation here instead of raising into the nursery.
                await trio.lowlevel.checkpoint()
                raise

    async def put(self, frame: Frame) -> None:
        """`send` for the session's own tasks: written at once when nothing waits and no writer
        runs, on a socket that allows it (see the module's doc)."""
        writer = self._writer
        if self._direct and not self._writing and not self._frames and writer is not None:
            if self._now is None or not self._sent_now(frame):
                await write_frame(writer[1], frame, writer[2])  # waits its turn, and for room
        else:
            await self.send(frame)

    def _sent_now(self, frame: Frame) -> bool:
        """Written at once (or begun, its rest left to a writer started for it); False: the
        socket has a write in progress, so the frame is to be queued."""
        socket, writer = self._now, self._writer
        assert socket is not None and writer is not None
        if not socket.send_now(frame_text(frame)):
            return False
        counted(frame, writer[2])
        if socket.unsent():
            self._start_writer()
        return True

    def _start_writer(self) -> None:
        assert self._writer is not None
        try:
            self._writer[0].start_soon(self._write_waiting)
        except RuntimeError:  # the session's nursery has closed: the session is over
            self.close()
            return
        self._writing = True

    async def _write_waiting(self) -> None:
        """The writer: what `send_now` left of a frame, then the waiting frames, in order, until
        none is left."""
        try:
            # A rest alone is flushed; one with frames behind it goes out in the first
            # frame's write (a DirectSocket writes its rest first).
            if self._now is not None and self._now.unsent() and not self._frames:
                await self._now.flush()
            while self._frames and (writer := self._writer) is not None:
                frame = self._frames.popleft()
                if self._room:  # None, or senders wait for the room made
                    self._room.unpark_all()
                await write_frame(writer[1], frame, writer[2])
        finally:
            self._writing = False
            if not self._frames:
                self._frames = None


async def write_frame(socket: FrameSocket, frame: Frame, meter: SessionMeter) -> None:
    """Send one frame, and count it."""
    await socket.send(frame_text(frame))
    counted(frame, meter)


def frame_text(frame: Frame) -> str:
    """A frame's text. It may come encoded already (text shared by every session that gets the
    same entry): a log entry's frame is sent as a plain str (a copy), since a JSON parser such
    as orjson refuses a str subclass."""
    if type(frame) is EntryText:
        return str.__str__(frame)
    return frame if isinstance(frame, str) else dumps(frame)


def counted(frame: Frame, meter: SessionMeter) -> None:
    """A frame sent: the text of a log entry's frame knows when the entry was appended (the
    delivery latency)."""
    if type(frame) is EntryText:
        meter.delivered(frame.appended)
    meter.frames_sent.inc()
