"""A widget socket for the idle scenario's thousands: wsproto's client framing straight on a trio
stream, one task per socket (reading, the heartbeat and the close handshake all in it).

Why not trio-websocket (bench/clients.py) here: per socket it runs a reader task in a nursery of
its own, with our reader and heartbeat beside it, and its handshake is several task switches.
Connecting 2,000 or 5,000 widgets, the load processes used more CPU than the service (about 110%
against 70% of this 2-core machine), so the connect rate measured the load generator as much as
the service. The conversation scenarios keep trio-websocket, whose cost there is per message.

The socket offers permessage-deflate as Chromium does (clients.BROWSER_OFFER); wsproto's client
fails the handshake if the service accepts it (it asked for no extension), as trio-websocket did.
"""

from __future__ import annotations

import math
import time
import urllib.parse
from collections import Counter
from typing import Any

import orjson
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Event,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import RemoteProtocolError

from bench.api import BENCH_ORIGIN
from bench.clients import (
    BROWSER_OFFER,
    CONNECT_ERRORS,
    CONNECT_TIMEOUT_SECONDS,
    ClientError,
    widget_url,
)

RECEIVE_BYTES = 16 * 1024
PING = orjson.dumps({"type": "ping"}).decode()
# What a lean connect may fail with, besides what any client's may.
LEAN_CONNECT_ERRORS = (*CONNECT_ERRORS, RemoteProtocolError, trio.BrokenResourceError)


async def _connect(host: str, port: int) -> trio.SocketStream:
    """A TCP connection to `host` (an address, as the bench's URLs have): one socket and its
    connect, without open_tcp_stream's resolver call and happy-eyeballs nursery per socket."""
    family = trio.socket.AF_INET6 if ":" in host else trio.socket.AF_INET
    sock = trio.socket.socket(family, trio.socket.SOCK_STREAM)
    try:
        await sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return trio.SocketStream(sock)


class LeanWidget:
    """One connected widget socket. `run` serves it until it closes; `close` asks it to."""

    __slots__ = (
        "stream",
        "_ws",
        "_parts",
        "_early",
        "_wake",
        "pings",
        "closing",
        "closed",
        "closed_by_server",
        "done",
    )

    def __init__(self, stream: trio.SocketStream, ws: WSConnection) -> None:
        self.stream = stream
        self._ws = ws
        self._parts: list[str] = []
        self._early: list[Event] = []  # read with the welcome, handled by run
        self._wake: trio.CancelScope | None = None
        self.pings = 0  # sent
        self.closing = False  # we asked to close
        self.closed = False  # the close handshake completed, or the connection ended
        self.closed_by_server = False  # it ended before we asked it to
        self.done = trio.Event()

    @classmethod
    async def open(cls, ws_url: str, key: str) -> tuple[LeanWidget, Any, float]:
        """Connect as a widget on the bench origin; the socket, its welcome, and the seconds
        from the TCP connect to the welcome."""
        url = urllib.parse.urlsplit(widget_url(ws_url, key))
        started = time.perf_counter()
        with trio.fail_after(CONNECT_TIMEOUT_SECONDS):
            stream = await _connect(url.hostname or "127.0.0.1", url.port or 80)
            try:
                ws = WSConnection(ConnectionType.CLIENT)
                request = Request(
                    host=url.netloc,
                    target=f"{url.path}?{url.query}",
                    extra_headers=[(b"Origin", BENCH_ORIGIN.encode()), BROWSER_OFFER],
                )
                await stream.send_all(ws.send(request))
                widget = cls(stream, ws)
                welcome = await widget._welcome()
            except BaseException:
                await trio.aclose_forcefully(stream)
                raise
        return widget, welcome, time.perf_counter() - started

    async def _welcome(self) -> Any:
        accepted = False
        while True:
            events = await self._receive()
            for index, event in enumerate(events):
                if isinstance(event, AcceptConnection):
                    accepted = True
                elif isinstance(event, RejectConnection):
                    raise ClientError(f"handshake refused with HTTP {event.status_code}")
                elif isinstance(event, TextMessage) and accepted:
                    text = self._whole(event)
                    if text is None:
                        continue
                    welcome = orjson.loads(text)
                    if welcome.get("type") != "welcome":
                        raise ClientError(f"expected a welcome, got {welcome}")
                    self._early = events[index + 1 :]
                    return welcome
                elif isinstance(event, CloseConnection):
                    raise ClientError(f"closed before the welcome: {event.code} {event.reason}")

    async def run(self, frames: Counter[str], first_ping_at: float, ping_seconds: float) -> None:
        """Count the frames received by type, ping every `ping_seconds` from `first_ping_at`
        (trio time), and answer the server's pings, until the socket closes. Any end but our
        own close handshake is the server's (`closed_by_server`)."""
        next_ping = first_ping_at
        close_sent = False
        try:
            early, self._early = self._early, []
            for event in early:
                await self._handle(event, frames)
            while not self.closed:
                if self.closing and not close_sent:
                    await self._send_event(CloseConnection(code=1000))
                    close_sent = True
                data: bytes | bytearray | None = None
                # Only the read is ever cancelled (a ping due, or close()): a cancelled write
                # would cut a frame.
                with trio.CancelScope(deadline=math.inf if close_sent else next_ping) as scope:
                    self._wake = scope
                    data = await self.stream.receive_some(RECEIVE_BYTES)
                self._wake = None
                if data is None:
                    if not self.closing:
                        await self._send_event(TextMessage(data=PING))
                        self.pings += 1
                        next_ping += ping_seconds
                    continue
                if not data:
                    break
                self._ws.receive_data(bytes(data))
                for event in self._ws.events():
                    await self._handle(event, frames)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, RemoteProtocolError):
            pass
        finally:
            self.closed = True
            self.closed_by_server = not self.closing
            self.done.set()
            await trio.aclose_forcefully(self.stream)

    def close(self) -> None:
        """Start the close handshake (run's task sends the frame); then wait for `done`."""
        self.closing = True
        if self._wake is not None:
            self._wake.cancel()

    async def _handle(self, event: Event, frames: Counter[str]) -> None:
        if isinstance(event, TextMessage):
            text = self._whole(event)
            if text is not None:
                frames[str(orjson.loads(text).get("type"))] += 1
        elif isinstance(event, Ping):
            await self._send_event(event.response())
        elif isinstance(event, CloseConnection):
            if not self.closing:  # theirs first: answered; ours first: this is the answer
                await self._send_event(event.response())
            self.closed = True

    async def _receive(self) -> list[Event]:
        """The events of the next read (the handshake's); an ended connection is an error."""
        data = await self.stream.receive_some(RECEIVE_BYTES)
        if not data:
            raise ClientError("the connection ended during the handshake")
        self._ws.receive_data(bytes(data))
        return list(self._ws.events())

    def _whole(self, event: TextMessage) -> str | None:
        self._parts.append(event.data)
        if not event.message_finished:
            return None
        text, self._parts = "".join(self._parts), []
        return text

    async def _send_event(self, event: Event) -> None:
        await self.stream.send_all(self._ws.send(event))
