"""The listener: our WebSocket routes served straight off the connection, the rest by hypercorn
(issue 19, step 6).

`serve` takes hypercorn's place in chat/server.py: it binds what hypercorn's config says (a
host:port or the `--workers` parent's fd://), runs the ASGI lifespan, accepts, and on shutdown
stops accepting and gives the connections `graceful_timeout` to end, as hypercorn's
`worker_serve` did. What it adds is a look at each connection's first bytes
(`serve_connection`): a WebSocket handshake to one of `routes` is served by a
`DirectSocket` (chat/http/ws_connection.py) in the connection's own task; anything else (REST,
pages, an upgrade on a reused connection, a handshake split past HEAD_BYTES) goes to hypercorn's
own connection server with the bytes already read put back in front, and is served exactly as
before, through the ASGI app (`WebSocketRoutes` still serves a WebSocket that comes that way).

A REST request waits for no more than its first read here: only a request line naming one of
`routes` makes the front door read on to the end of the headers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial

import h11
import trio
from hypercorn.app_wrappers import ASGIWrapper
from hypercorn.config import Config
from hypercorn.trio.lifespan import Lifespan
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ConnectionState, LifespanState
from hypercorn.utils import repr_socket_addr

from chat.http.bare_ws import Handler, label_records
from chat.http.listener import FULL_BODY, FULL_HEADERS, ConnectionCap
from chat.http.ws_connection import CLOSE_INTERNAL_ERROR, RECEIVE_BYTES, DirectSocket
from chat.http.ws_handshake import PlainHandshake

logger = logging.getLogger(__name__)

# A handshake's request line and headers must fit in this (h11's and hypercorn's default too).
HEAD_BYTES = 16 * 1024


class PrefixedStream(trio.abc.HalfCloseableStream):
    """`stream` with `prefix` read again first: how hypercorn gets a connection we looked at.

    It has the `socket` hypercorn's TCPServer asks a plain connection for, and no
    `do_handshake` (which TCPServer takes for TLS)."""

    def __init__(self, stream: trio.SocketStream, prefix: bytes) -> None:
        self.transport = stream
        self.socket = stream.socket
        self._prefix = prefix

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        if self._prefix:
            data, self._prefix = self._prefix, b""
            await trio.lowlevel.checkpoint()
            return data
        return bytes(await self.transport.receive_some(max_bytes))

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self.transport.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self.transport.wait_send_all_might_not_block()

    async def send_eof(self) -> None:
        await self.transport.send_eof()

    async def aclose(self) -> None:
        await self.transport.aclose()


class FrontDoor:
    """Serves one accepted connection: a WebSocket route's handshake directly, the rest through
    hypercorn's TCPServer running the ASGI app."""

    def __init__(
        self,
        app: ConnectionCap,
        config: Config,
        context: WorkerContext,
        lifespan_state: LifespanState,
        routes: dict[str, Handler],
    ) -> None:
        self.cap = app
        self.app = ASGIWrapper(app)  # how hypercorn's connection server calls an ASGI app
        self.config = config
        self.context = context
        self.lifespan_state = lifespan_state
        self.routes = {path.encode("ascii"): handler for path, handler in routes.items()}

    async def serve_connection(self, stream: trio.SocketStream) -> None:
        try:
            head, handler = await self._read_head(stream)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            head, handler = b"", None
        if not head:  # silent past the deadline, or gone: nothing to serve
            await _close(stream)
            return
        socket = self._direct_socket(stream, head) if handler is not None else None
        if socket is None:
            server = TCPServer(
                self.app,
                self.config,
                self.context,
                ConnectionState(self.lifespan_state.copy()),
                PrefixedStream(stream, head),  # type: ignore[arg-type]  # a plain stream, no TLS
            )
            await server.run()
            return
        del head  # held for the socket's life otherwise (issue 19: memory per socket)
        assert handler is not None
        await self._serve_websocket(stream, socket, handler)

    def _direct_socket(self, stream: trio.SocketStream, head: bytes) -> DirectSocket | None:
        """A DirectSocket for `head` if it is one whole bodiless GET and a valid WebSocket
        handshake (RFC 6455 4.2.1); None otherwise, and hypercorn answers it as it always did
        (a 400 for a bad handshake, the app for a plain GET)."""
        http = h11.Connection(h11.SERVER, max_incomplete_event_size=HEAD_BYTES)
        http.receive_data(head)
        try:
            request = http.next_event()
            if not isinstance(request, h11.Request) or not isinstance(
                http.next_event(), h11.EndOfMessage
            ):
                return None
        except h11.RemoteProtocolError:
            return None
        handshake = PlainHandshake(list(request.headers), request.http_version.decode("ascii"))
        if not handshake.is_valid():
            return None
        try:
            address = stream.socket.getpeername()
        except OSError:
            return None  # gone already: hypercorn finds that out too
        return DirectSocket(
            stream,
            http,
            request,
            handshake,
            remote_addr=address[0] if isinstance(address, tuple) else None,
            max_message=self.config.websocket_max_message_size,
        )

    async def _read_head(self, stream: trio.SocketStream) -> tuple[bytes, Handler | None]:
        """The bytes read before deciding, and the WebSocket route's handler if the request line
        names one (then the bytes hold the whole head, or HEAD_BYTES of it). No bytes when the
        deadline passed first: the connection is closed, as hypercorn's header deadline did."""
        head = b""
        handler: Handler | None = None
        # hypercorn gives a connection keep_alive_timeout to send its request (it closes idle
        # ones after it); the front door gives the same.
        with trio.move_on_after(self.config.keep_alive_timeout):
            while True:
                data = await stream.receive_some(RECEIVE_BYTES)
                if not data:
                    return head, None
                head += data
                line_end = head.find(b"\r\n")
                if line_end < 0:
                    if len(head) < HEAD_BYTES:
                        continue
                    return head, None
                if handler is None:
                    handler = self._route(head[:line_end])
                    if handler is None:
                        return head, None
                if b"\r\n\r\n" in head or len(head) >= HEAD_BYTES:
                    return head, handler
        return b"", None  # past the deadline without a request line or a whole head: closed

    def _route(self, request_line: bytes) -> Handler | None:
        method, _, rest = request_line.partition(b" ")
        if method != b"GET":
            return None
        target = rest.partition(b" ")[0]
        return self.routes.get(target.partition(b"?")[0])

    async def _serve_websocket(
        self, stream: trio.SocketStream, socket: DirectSocket, handler: Handler
    ) -> None:
        """Run the route's handler under the connection cap. What hypercorn did with an app's
        error: logged, then a 500 before the upgrade or a close 1011 after it; the same when the
        handler returns without either."""
        try:
            # The peer's close or disappearance cancels this scope (DirectSocket); an error
            # raised beside that cancellation comes out of it as an ExceptionGroup. Nothing
            # reaches the listener: one socket's error never ends the others'.
            with socket.cancel_scope:
                if not self.cap.enter():
                    await socket.answer(503, FULL_HEADERS, FULL_BODY)
                else:
                    try:
                        label_records(socket.headers)
                        await handler(socket)
                    except Exception:
                        logger.exception("error in the WebSocket handler")
                    finally:
                        self.cap.leave()
                    if not socket.accepted and not socket.answered:
                        await socket.answer(500, [], b"")
                    elif socket.open():
                        await socket.close(CLOSE_INTERNAL_ERROR)
        except Exception:
            logger.exception("error in the WebSocket handler")
        await _close(stream)


async def _close(stream: trio.SocketStream) -> None:
    """Half-close first so what we wrote last is read before the connection goes (as hypercorn's
    TCPServer closed)."""
    try:
        await stream.send_eof()
    except (trio.BrokenResourceError, trio.ClosedResourceError, trio.BusyResourceError, OSError):
        pass
    await stream.aclose()


async def serve(
    app: ConnectionCap,
    config: Config,
    routes: dict[str, Handler],
    *,
    shutdown_trigger: Callable[[], Awaitable[None]],
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """hypercorn's `worker_serve` for plain HTTP/1.1 and WebSockets, with the front door."""
    lifespan_state: LifespanState = {}
    front_door = FrontDoor(app, config, WorkerContext(None), lifespan_state, routes)
    lifespan = Lifespan(front_door.app, config, lifespan_state)
    async with trio.open_nursery() as lifespan_nursery:
        await lifespan_nursery.start(lifespan.handle_lifespan)
        await lifespan.wait_for_startup()
        async with trio.open_nursery() as connections:
            sockets = config.create_sockets()
            if sockets.secure_sockets or sockets.quic_sockets:
                raise ValueError("the front door serves plain HTTP only (TLS ends at the proxy)")
            listeners = []
            binds = []
            for sock in sockets.insecure_sockets:
                sock.listen(config.backlog)
                listeners.append(trio.SocketListener(trio.socket.from_stdlib_socket(sock)))
                binds.append(f"http://{repr_socket_addr(sock.family, sock.getsockname())}")
            for bind in binds:
                logger.info("listening on %s", bind)
            task_status.started(binds)
            async with trio.open_nursery() as accepting:
                accepting.start_soon(
                    partial(
                        trio.serve_listeners,
                        front_door.serve_connection,
                        listeners,
                        handler_nursery=connections,
                    )
                )
                await shutdown_trigger()
                accepting.cancel_scope.cancel()
            # hypercorn's idle keep-alive connections close on this; the rest get the deadline.
            await front_door.context.terminated.set()
            connections.cancel_scope.deadline = trio.current_time() + config.graceful_timeout
        await lifespan.wait_for_shutdown()
        lifespan_nursery.cancel_scope.cancel()
