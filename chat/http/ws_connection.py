"""One WebSocket served straight off its TCP connection (issue 19, step 6).

Through hypercorn, every WebSocket is a connection task reading into h11/wsproto, a task group,
an app task fed by a channel, an idle-timer task and a send lock, and each frame sent crosses
three awaits and a lock: about 19 KB and two schedule points per frame on top of our session.
The front door (chat/http/front_door.py) hands the handshakes of our WebSocket routes to a
`DirectSocket` instead: the route's handler runs in the connection's own task, `receive` reads
the stream and parses with wsproto in the caller's task, `send` encodes and writes at once.

The protocol work is wsproto's (framing, masking, UTF-8, close handshake) and h11's (the HTTP
answer to the handshake); what this module adds is what hypercorn's WebSocket stream did with
them, kept the same so sessions and clients see no difference:
- a message longer than `max_message` characters is answered with close 1009;
- a ping is answered with a pong; a peer's close is answered, then the handler is cancelled
  (as an ASGI `websocket.disconnect` did; chat/http/bare_ws.py);
- a send to a peer that is gone cancels the handler too, never raises into the session;
- a frame is written whole or not at all: each write is shielded, but a peer that takes no bytes
  for SEND_STALL_SECONDS gets its connection dropped (hypercorn waited forever).
"""

from __future__ import annotations

import logging
import os
from typing import ClassVar, NoReturn, cast

import h11
import trio
from wsproto.connection import Connection, ConnectionState
from wsproto.events import (
    CloseConnection,
    Event,
    Message,
    Ping,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError

from chat.http.bare_ws import JSON_HEADERS, SocketHeaders, error_body, query_args
from chat.http.ws_handshake import PlainHandshake

logger = logging.getLogger(__name__)

RECEIVE_BYTES = 64 * 1024
SEND_STALL_SECONDS = 30.0
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011


class DirectSocket:
    """A WebSocket route's socket over a trio stream: the handshake (`accept`/`reject`) over
    the h11 connection that parsed the request, then frames through a wsproto connection.

    `cancel_scope` is for the handler to run in: the peer's close or disappearance cancels it.
    Nothing of the request is kept but its arguments and headers."""

    # A send to a gone peer cancels the handler (`_gone`) instead of raising into the caller, so
    # any task of the session may write its own frames (chat/actors/frame_outbox.py Outbox.put).
    cancels_on_failure: ClassVar[bool] = True

    __slots__ = (
        "_stream",
        "_http",
        "_handshake",
        "_ws",
        "cancel_scope",
        "_send_lock",
        "_rest",
        "_parts",
        "_length",
        "_max_message",
        "args",
        "headers",
        "remote_addr",
        "accepted",
        "answered",
    )

    def __init__(
        self,
        stream: trio.abc.Stream,
        http: h11.Connection,
        request: h11.Request,
        handshake: PlainHandshake,
        *,
        remote_addr: str | None,
        max_message: int,
    ) -> None:
        self._stream = stream
        self._http: h11.Connection | None = http
        self._handshake: PlainHandshake | None = handshake
        self._ws: Connection | None = None
        self.cancel_scope = trio.CancelScope()
        self._send_lock = trio.StrictFIFOLock()
        # What the kernel did not take of a frame `send_now` began: written before anything else.
        self._rest: bytes | memoryview = b""
        self._parts: list[str | bytes] = []
        self._length = 0
        self._max_message = max_message
        _, _, query = request.target.partition(b"?")
        self.args = query_args(query.decode("latin1"))
        self.headers = SocketHeaders(list(request.headers))
        self.remote_addr = remote_addr
        self.accepted = False
        self.answered = False  # an HTTP answer was sent instead of the upgrade

    async def accept(self, *, with_first_frame: bool = False) -> None:
        """Answer the upgrade. `with_first_frame`: the answer waits to go out with the first
        frame, as `send_now` leaves a frame's rest (every write puts it first), in one write:
        a widget's connect is then one segment out instead of two, each a syscall here and a
        wakeup at the client (issue 19). Only for a handler that sends before it reads."""
        assert self._http is not None and self._handshake is not None, "accepted twice"
        status, headers, self._ws = self._handshake.accept(None, [])
        data = self._http.send(h11.InformationalResponse(status_code=status, headers=headers))
        trailing, _ = self._http.trailing_data  # frames a client sent before our answer
        self._http = self._handshake = None
        if trailing:
            self._ws.receive_data(bytes(trailing))
        self.accepted = True
        if with_first_frame:
            self._rest = data
        else:
            await self._write(data)

    async def reject(self, status: int, code: str, message: str) -> None:
        """Refuse the handshake with an HTTP answer in the contract's error shape."""
        await self.answer(status, JSON_HEADERS, error_body(code, message))

    async def answer(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        """An HTTP answer instead of the upgrade; the connection closes after it."""
        http = self._http
        assert http is not None, "answered after the upgrade"
        self._http = self._handshake = None
        self.answered = True
        if not any(name == b"content-length" for name, _ in headers):
            headers = [*headers, (b"content-length", str(len(body)).encode())]
        if not any(name == b"connection" for name, _ in headers):
            headers = [*headers, (b"connection", b"close")]
        data = http.send(h11.Response(status_code=status, headers=headers)) or b""
        data += http.send(h11.Data(data=body)) or b""
        data += http.send(h11.EndOfMessage()) or b""
        await self._write(data)

    async def receive(self) -> str | bytes:
        ws = self._ws
        assert ws is not None, "receive before accept"
        while True:
            for event in ws.events():
                if isinstance(event, Message):
                    if ws.state is not ConnectionState.OPEN:
                        continue  # we sent our close (1009): read on to the peer's, drop the rest
                    self._parts.append(event.data)
                    self._length += len(event.data)
                    if self._length > self._max_message:
                        self._parts.clear()
                        await self._send_event(CloseConnection(code=CLOSE_MESSAGE_TOO_BIG))
                    elif event.message_finished:
                        return self._whole_message(isinstance(event, TextMessage))
                elif isinstance(event, Ping):
                    await self._send_event(event.response())
                elif isinstance(event, CloseConnection):
                    if ws.state is ConnectionState.REMOTE_CLOSING:
                        await self._send_event(event.response())
                    elif ws.state is ConnectionState.OPEN:
                        # wsproto met a protocol error (bad UTF-8, a bad frame): say which.
                        await self._send_event(CloseConnection(event.code, event.reason))
                    await self._gone()
            try:
                data = await self._stream.receive_some(RECEIVE_BYTES)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                data = b""
            if not data:
                await self._gone()
            ws.receive_data(data if type(data) is bytes else bytes(data))

    def _whole_message(self, text: bool) -> str | bytes:
        parts, self._parts, self._length = self._parts, [], 0
        if len(parts) == 1:
            return parts[0]
        if text:
            return "".join(cast(list[str], parts))
        return b"".join(cast(list[bytes], parts))

    async def send(self, data: str) -> None:
        await self._send_event(TextMessage(data=data))

    def send_now(self, data: str) -> bool:
        """Send a text frame without waiting, from any task, when no write is in progress;
        False (nothing sent) otherwise. The kernel may take only part of the frame: the rest is
        kept and written before any later frame, and the caller must then `flush` (in a task of
        the session) for it to go. A gone peer ends the handler as `send` does; the frame counts
        as sent (dropped, as any frame to a gone peer).

        For frames made outside the session's own tasks (a thread actor's fan-out), which must
        never wait on or fail with this socket: writing at once saves the writer task's step."""
        ws = self._ws
        if ws is None or self._rest or self._send_lock.locked():
            return False
        try:
            frame = ws.send(TextMessage(data=data))
        except LocalProtocolError:
            return True  # the socket is closing or closed: frames after that are dropped
        try:
            self._rest = self._write_now(frame)
        except (trio.ClosedResourceError, OSError):
            self.cancel_scope.cancel()  # as _gone, without raising into a caller outside it
        return True

    def unsent(self) -> bool:
        """Whether part of a frame `send_now` began waits for `flush`."""
        return bool(self._rest)

    async def flush(self) -> None:
        """Write what `send_now` left (nothing if nothing waits)."""
        await self._write(b"")

    async def close(self, code: int, reason: str = "") -> None:
        if not self.accepted:
            if self._http is not None:  # closed during the handshake: hypercorn answered 403
                await self.answer(403, [], b"")
            return
        await self._send_event(CloseConnection(code=code, reason=reason))

    async def _send_event(self, event: Event) -> None:
        ws = self._ws
        assert ws is not None
        try:
            data = ws.send(event)
        except LocalProtocolError:
            return  # the socket is closing or closed: frames after that are dropped
        await self._write(data)

    async def _write(self, data: bytes) -> None:
        """Write `data` whole: a frame cut by a cancellation would corrupt every later one."""
        # Without a schedule point when nobody else writes (the common case): every schedule
        # point costs a task step on the hot path (issue 19).
        try:
            self._send_lock.acquire_nowait()
        except trio.WouldBlock:
            await self._send_lock.acquire()
        try:
            if self._rest:  # a frame send_now began goes first
                data, self._rest = bytes(self._rest) + data, b""
            rest = self._write_now(data) if data else b""
            if rest:
                with trio.CancelScope(shield=True) as stall:
                    stall.deadline = trio.current_time() + SEND_STALL_SECONDS
                    await self._stream.send_all(rest)
                broken = stall.cancelled_caught
            else:
                broken = False
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            broken = True
        finally:
            self._send_lock.release()
        if broken:
            await self._gone()

    def _write_now(self, data: bytes) -> bytes | memoryview:
        """Hand `data` to the kernel at once, without trio's send path; returns what it did not
        take (the caller waits for room to write the rest). Raises OSError for a gone peer.

        trio's SocketStream.send_all costs two context managers, a cancel scope here and a
        schedule point per frame, the largest share of a message's CPU after our own code
        (issue 19): the socket is non-blocking, so one write either goes through (the common
        case: the kernel's send buffer has room) or says how much did. The descriptor is read
        from the open socket at each call (-1 once closed), never kept: a closed one's number
        may already name another connection."""
        stream = self._stream
        if not isinstance(stream, trio.SocketStream):
            return data
        fd = stream.socket.fileno()
        if fd < 0:
            raise trio.ClosedResourceError("the connection is closed")
        try:
            written = os.write(fd, data)
        except BlockingIOError:
            return data
        return memoryview(data)[written:] if written < len(data) else b""

    async def _gone(self) -> NoReturn:
        """The peer is gone or closed: end the handler (as a `websocket.disconnect` did)."""
        self.cancel_scope.cancel()
        await trio.lowlevel.checkpoint()
        raise trio.BrokenResourceError("the WebSocket closed")  # pragma: no cover

    def open(self) -> bool:
        """Whether frames may still be sent (the upgrade happened and no close was sent)."""
        return self._ws is not None and self._ws.state is ConnectionState.OPEN
