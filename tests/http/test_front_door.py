"""The front door (chat/http/front_door.py) on a real listener: a WebSocket route's handshake is
served by a DirectSocket in the connection's task, everything else by hypercorn through the ASGI
app, and the direct sockets keep what hypercorn's WebSocket stream did (1009, pongs, the close
handshake, 400/503/500 answers). The service's own routes run on it in every other test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import orjson
import pytest
import trio
from hypercorn.trio.worker_context import WorkerContext
from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection
from wsproto.events import (
    AcceptConnection,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.frame_protocol import Opcode

from chat.actors.frame_outbox import Outbox
from chat.actors.revocation import Watch
from chat.actors.socket import OUTBOX_SIZE, Socket, run_session
from chat.config import Settings
from chat.errors import ChatError
from chat.http.app import hypercorn_config
from chat.http.bare_ws import HandshakeSocket
from chat.http.front_door import FrontDoor
from chat.http.listener import ConnectionCap
from chat.http.ws_connection import DirectSocket
from chat.json_types import Json
from tests.helpers.chat import ORIGIN, make_org

WITHIN = 10.0
MAX_MESSAGE = 1000
SILENCE_DEADLINE = 1.0


def numbered(n: int, size: int) -> str:
    """Frame `n` of a run: its number, then one letter (which changes each frame) to `size`."""
    return f"{n:08d}" + chr(ord("a") + n % 26) * (size - 8)


@dataclass
class Seen:
    """What the handlers and the ASGI app behind the front door saw."""

    sockets: list[HandshakeSocket] = field(default_factory=list)
    asgi_scopes: list[dict[str, Any]] = field(default_factory=list)
    handler_cancelled: trio.Event = field(default_factory=trio.Event)


def _routes(seen: Seen) -> dict[str, Any]:
    async def echo(ws: HandshakeSocket) -> None:
        seen.sockets.append(ws)
        if ws.args.get("refuse"):
            await ws.reject(403, "origin_not_allowed", "no")
            return
        if ws.args.get("close_first"):  # an answer held for a first frame that is a close
            await ws.accept(with_first_frame=True)
            await ws.close(4000, "first")
            return
        await ws.accept()
        try:
            while True:
                data = await ws.receive()
                if data == "close please":
                    await ws.close(4000, "asked")
                    continue
                await ws.send(str(data))
        except trio.Cancelled:
            seen.handler_cancelled.set()
            raise

    async def broken(ws: HandshakeSocket) -> None:
        seen.sockets.append(ws)
        if ws.args.get("beside_the_close"):
            await ws.accept()

            async def fail_when_cancelled() -> None:
                try:
                    await trio.sleep_forever()
                except trio.Cancelled:
                    raise RuntimeError("a sibling's bug as the session ends") from None

            async with trio.open_nursery() as nursery:
                nursery.start_soon(fail_when_cancelled)
                await ws.receive()  # the peer's close cancels the handler
        if ws.args.get("after_accept"):
            await ws.accept()
            await ws.receive()
        raise RuntimeError("a handler's bug")

    async def flood(ws: HandshakeSocket) -> None:
        """Sends `frames` frames of `size` characters each, numbered, then "done"."""
        await ws.accept()
        frames, size = int(ws.args["frames"]), int(ws.args["size"])
        for n in range(frames):
            await ws.send(numbered(n, size))
        await ws.send("done")
        await ws.receive()

    async def mixed(ws: HandshakeSocket) -> None:
        """A session (run_session) whose own task writes `frames` frames of `size` characters,
        alternately through its outbox's put (direct while nothing waits) and send (queued);
        with `welcome`, a first frame queued on joining goes out with the upgrade's answer."""
        welcome = bool(ws.args.get("welcome"))
        await ws.accept(with_first_frame=welcome)
        session = MixedSession(
            Outbox(OUTBOX_SIZE), int(ws.args["frames"]), int(ws.args["size"]), welcome
        )
        settings = Settings(
            redis_url="redis://unused",
            database_url="postgresql://unused",
            secret_key="s" * 32,
        )
        await run_session(cast(Socket, ws), session, settings)

    return {"/ws/echo": echo, "/ws/broken": broken, "/ws/flood": flood, "/ws/mixed": mixed}


@dataclass(eq=False)
class MixedSession:
    """Writes its numbered frames from a task of its own, every other one through put."""

    outbox: Outbox
    frames: int
    size: int
    welcome: bool = False
    watch: Watch = field(default_factory=lambda: Watch("mixed"))

    @property
    def who(self) -> str:
        return "mixed"

    def parse(self, data: str | bytes) -> str:
        return str(data)

    async def join(self, nursery: trio.Nursery) -> None:
        if self.welcome:  # queued before the outbox starts, as a visitor's welcome is
            self.outbox.send_nowait("welcome")
        nursery.start_soon(self._write_all)

    async def _write_all(self) -> None:
        await trio.lowlevel.checkpoint()  # after run_session started the outbox
        for n in range(self.frames):
            text = numbered(n, self.size)
            if n % 2:
                await self.outbox.send(text)
            else:
                await self.outbox.put(text)

    async def handle(self, frame: str) -> None:
        pass

    def error_reply(self, err: ChatError, frame: str | None) -> Json:
        return {"type": "error"}

    async def leave(self) -> None:
        pass


async def _asgi(seen: Seen, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The app behind the front door: answers HTTP with 200 and accepts any WebSocket."""
    if scope["type"] == "lifespan":
        return
    seen.asgi_scopes.append(scope)
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"from asgi"})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": "from asgi"})
    await receive()


@asynccontextmanager
async def front_door(limit: int = 100) -> AsyncIterator[tuple[int, Seen, ConnectionCap]]:
    """A FrontDoor on 127.0.0.1 (its port), what it served, and its connection cap."""
    seen = Seen()
    config = hypercorn_config("127.0.0.1", 0)
    config.websocket_max_message_size = MAX_MESSAGE
    config.keep_alive_timeout = SILENCE_DEADLINE
    cap = ConnectionCap(partial(_asgi, seen), limit)
    door = FrontDoor(cap, config, WorkerContext(None), {}, _routes(seen))
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, door.serve_connection, listeners)
        yield port, seen, cap
        nursery.cancel_scope.cancel()


class Client:
    """A WebSocket client over a raw stream, with wsproto doing the framing."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.pending: list[Any] = []

    async def event(self) -> Any:
        while not self.pending:
            data = await self.stream.receive_some(65536)
            if not data:
                return None
            self.ws.receive_data(data)
            self.pending.extend(self.ws.events())
        return self.pending.pop(0)

    async def send(self, event: Any) -> None:
        await self.stream.send_all(self.ws.send(event))


async def _open(port: int, target: str, *, chunk: int = 0, behind: bytes = b"") -> Client:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    client = Client(stream)
    head = client.ws.send(Request(host="t", target=target)) + behind
    if chunk:
        for start in range(0, len(head), chunk):
            await stream.send_all(head[start : start + chunk])
    else:
        await stream.send_all(head)
    return client


async def _accepted(port: int, target: str = "/ws/echo") -> Client:
    client = await _open(port, target)
    assert isinstance(await client.event(), AcceptConnection)
    return client


async def test_a_route_handshake_is_served_directly_and_everything_else_by_hypercorn() -> None:
    with trio.fail_after(WITHIN):
        async with front_door() as (port, seen, cap):
            client = await _accepted(port, "/ws/echo?a=1&a=2&b=")
            await client.send(TextMessage(data="héllo"))
            assert (await client.event()).data == "héllo"
            assert [type(ws) for ws in seen.sockets] == [DirectSocket]
            assert seen.sockets[0].args == {"a": "1", "b": ""}
            assert seen.sockets[0].remote_addr == "127.0.0.1"
            assert cap.active == 1  # the direct socket holds a place under the cap
            assert seen.asgi_scopes == []

            # A WebSocket to another path, and plain HTTP, reach the ASGI app through hypercorn.
            other = await _accepted(port, "/ws/elsewhere")
            assert (await other.event()).data == "from asgi"
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            await stream.send_all(b"GET /ws/echo HTTP/1.1\r\nHost: t\r\n\r\n")
            answer = await stream.receive_some(65536)
            assert answer.startswith(b"HTTP/1.1 200"), answer
            assert [scope["type"] for scope in seen.asgi_scopes] == ["websocket", "http"]
            assert seen.asgi_scopes[1]["path"] == "/ws/echo"


async def test_a_handshake_in_small_pieces_and_a_frame_right_behind_it() -> None:
    """The head may come in many reads; a frame sent with the head's last bytes (before our
    answer) is read, not lost."""
    with trio.fail_after(WITHIN):
        async with front_door() as (port, _seen, _cap):
            frame = Connection(ConnectionType.CLIENT).send(TextMessage(data="early"))
            client = await _open(port, "/ws/echo", chunk=7, behind=frame)
            assert isinstance(await client.event(), AcceptConnection)
            assert (await client.event()).data == "early"


async def _slow_client(port: int, target: str) -> Client:
    """An accepted client whose socket takes a few KB at a time: the server's writes fill up."""
    sock = trio.socket.socket()
    sock.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_RCVBUF, 4096)
    await sock.connect(("127.0.0.1", port))
    client = Client(trio.SocketStream(sock))
    await client.stream.send_all(client.ws.send(Request(host="t", target=target)))
    assert isinstance(await client.event(), AcceptConnection)
    return client


async def _whole_text(client: Client) -> str:
    """The next text message, whole (wsproto hands a large one over in parts)."""
    text = ""
    while True:
        part = await client.event()
        assert isinstance(part, TextMessage), part
        text += part.data
        if part.message_finished:
            return text


async def test_frames_to_a_slow_reader_arrive_whole_and_in_order() -> None:
    """A peer that reads slowly fills the kernel's buffers: a write then takes part of a frame
    (or nothing) at once, and the rest waits for room (DirectSocket._write_now, then send_all).
    Every frame still arrives whole, in order."""
    frames, size = 64, 32 * 1024  # 2 MB against a receive buffer of a few KB
    with trio.fail_after(WITHIN):
        async with front_door() as (port, _seen, _cap):
            client = await _slow_client(port, f"/ws/flood?frames={frames}&size={size}")
            for n in range(frames):
                assert await _whole_text(client) == numbered(n, size), n
            assert (await client.event()).data == "done"


async def test_direct_and_queued_frames_of_a_session_keep_their_order() -> None:
    """A session's own frames go straight to the socket while its writer is idle and through
    the outbox otherwise (chat/actors/frame_outbox.py Outbox.put); with a slow reader both kinds
    wait for room, and the client still gets every frame whole and in the order written."""
    frames, size = 200, 8 * 1024
    with trio.fail_after(WITHIN):
        async with front_door() as (port, _seen, _cap):
            client = await _slow_client(port, f"/ws/mixed?frames={frames}&size={size}")
            for n in range(frames):
                assert await _whole_text(client) == numbered(n, size), n


async def _first_read(port: int, target: str) -> list[Any]:
    """The events of the client's first read after its handshake."""
    client = await _open(port, target)
    client.ws.receive_data(await client.stream.receive_some(65536))
    return list(client.ws.events())


async def test_an_answer_held_for_the_first_frame_goes_out_with_it() -> None:
    """accept(with_first_frame=True): the upgrade's answer and the first frame (a session's
    welcome, or a close) leave in one write, so the client's first read holds both; frames
    after it follow as usual."""
    frames, size = 3, 100
    with trio.fail_after(WITHIN):
        async with front_door() as (port, _seen, _cap):
            client = await _open(port, f"/ws/mixed?frames={frames}&size={size}&welcome=1")
            client.ws.receive_data(await client.stream.receive_some(65536))
            first = list(client.ws.events())
            assert [type(e) for e in first[:2]] == [AcceptConnection, TextMessage], first
            assert first[1].data == "welcome"
            client.pending.extend(first[2:])
            for n in range(frames):
                assert await _whole_text(client) == numbered(n, size), n

            first = await _first_read(port, "/ws/echo?close_first=1")
            assert [type(e) for e in first] == [AcceptConnection, CloseConnection], first
            assert first[1].code == 4000


async def test_fragments_pings_and_the_size_limit() -> None:
    with trio.fail_after(WITHIN):
        async with front_door() as (port, _seen, _cap):
            client = await _accepted(port)
            await client.send(TextMessage(data="one ", message_finished=False))
            await client.send(Ping(payload=b"are you there"))
            await client.send(TextMessage(data="message"))
            pong = await client.event()
            assert isinstance(pong, Pong) and pong.payload == b"are you there"
            assert (await client.event()).data == "one message"

            # Over the limit, in parts: close 1009, and the socket's close handshake completes.
            await client.send(TextMessage(data="x" * 600, message_finished=False))
            await client.send(TextMessage(data="x" * 600))
            closing = await client.event()
            assert isinstance(closing, CloseConnection) and closing.code == 1009
            await client.send(closing.response())
            assert await client.event() is None  # then the server closes the connection


async def test_bad_utf8_is_closed_with_1007() -> None:
    with trio.fail_after(WITHIN):
        async with front_door() as (port, _seen, _cap):
            client = await _accepted(port)
            # A masked text frame by hand: wsproto will not send invalid UTF-8.
            payload = b"\xff\xfe"
            mask = b"\x01\x02\x03\x04"
            masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
            await client.stream.send_all(
                bytes([0x80 | Opcode.TEXT, 0x80 | len(payload)]) + mask + masked
            )
            closing = await client.event()
            assert isinstance(closing, CloseConnection) and closing.code == 1007


async def test_the_peers_close_is_answered_and_ends_the_handler() -> None:
    with trio.fail_after(WITHIN):
        async with front_door() as (port, seen, cap):
            client = await _accepted(port)
            await client.send(CloseConnection(code=1000, reason="bye"))
            answer = await client.event()
            assert isinstance(answer, CloseConnection) and answer.code == 1000
            await seen.handler_cancelled.wait()
            assert await client.event() is None
            while cap.active:  # the place is given back as the handler's task ends
                await trio.sleep(0.01)

            # A server's close: the client answers it and the connection ends.
            client = await _accepted(port)
            await client.send(TextMessage(data="close please"))
            closing = await client.event()
            assert isinstance(closing, CloseConnection) and closing.code == 4000
            await client.send(closing.response())
            assert await client.event() is None


async def _http_answer(client: Client) -> tuple[int, bytes]:
    reject = await client.event()
    assert isinstance(reject, RejectConnection), reject
    body = b""
    while reject.has_body:
        data = await client.event()
        assert isinstance(data, RejectData)
        body += data.data
        if data.body_finished:
            break
    return reject.status_code, body


async def test_refusals_invalid_handshakes_the_cap_and_a_handlers_error() -> None:
    with trio.fail_after(WITHIN):
        async with front_door(limit=1) as (port, seen, _cap):
            status, body = await _http_answer(await _open(port, "/ws/echo?refuse=1"))
            assert status == 403
            assert orjson.loads(body)["error"]["code"] == "origin_not_allowed"

            status, body = await _http_answer(await _open(port, "/ws/broken"))
            assert status == 500

            # A handler's error after the upgrade: close 1011.
            client = await _accepted(port, "/ws/broken?after_accept=1")
            await client.send(TextMessage(data="boom"))
            closing = await client.event()
            assert isinstance(closing, CloseConnection) and closing.code == 1011

            # An error beside the cancellation that the peer's close brings: logged, and the
            # listener goes on.
            client = await _accepted(port, "/ws/broken?beside_the_close=1")
            await client.send(CloseConnection(code=1000))
            assert isinstance(await client.event(), CloseConnection)
            assert await client.event() is None

            # The one place is held by an open socket: the next handshake is 503, in the
            # contract's error shape.
            held = await _accepted(port)
            status, body = await _http_answer(await _open(port, "/ws/echo"))
            assert status == 503
            assert orjson.loads(body)["error"]["code"] == "unavailable"
            await held.send(TextMessage(data="still here"))
            assert (await held.event()).data == "still here"

            # No Sec-WebSocket-Key: hypercorn's answer, 400.
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            await stream.send_all(
                b"GET /ws/echo HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            assert (await stream.receive_some(65536)).startswith(b"HTTP/1.1 400")
            assert len(seen.sockets) == 5


@pytest.mark.parametrize("head", [b"", b"GET /ws/ech", b"GET /ws/echo HTTP/1.1\r\nHost:"])
async def test_a_connection_silent_past_the_deadline_is_closed(head: bytes) -> None:
    with trio.fail_after(WITHIN):
        async with front_door() as (port, _seen, _cap):
            started = trio.current_time()  # before the server's deadline starts (its accept)
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            await stream.send_all(head)
            assert await stream.receive_some(65536) == b""  # closed, with nothing answered...
            assert trio.current_time() - started >= SILENCE_DEADLINE  # ...and not before it


async def test_an_upgrade_on_a_reused_connection_is_served_through_hypercorn(base_url: str) -> None:
    """The front door looks only at a connection's first request: a widget handshake after a
    REST request on the same keep-alive connection reaches hypercorn, and the service still
    serves it (WebSocketRoutes and BareSocket, chat/http/bare_ws.py) with its welcome."""
    org = await make_org(base_url)
    host, port = base_url.removeprefix("http://").split(":")
    with trio.fail_after(WITHIN):
        stream = await trio.open_tcp_stream(host, int(port))
        client = Client(stream)
        await stream.send_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            data = await stream.receive_some(65536)
            assert data, answer
            answer += data
        assert answer.startswith(b"HTTP/1.1 200"), answer
        target = f"/ws/widget?key={org.space['widget_key']}"
        await client.send(
            Request(host="t", target=target, extra_headers=[(b"origin", ORIGIN.encode())])
        )
        assert isinstance(await client.event(), AcceptConnection)
        welcome = await client.event()
        assert isinstance(welcome, TextMessage)
        assert orjson.loads(welcome.data)["type"] == "welcome"
