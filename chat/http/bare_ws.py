"""The WebSocket routes served as bare ASGI beside quart-trio (issue 19).

quart-trio wraps each WebSocket in a request context, a header multidict, a receive channel of
its own and a pump task that moves hypercorn's messages into that channel: about 11 KB and two
tasks per socket, and one more task switch per frame received. Our sessions need none of it:
they read and write text frames, read a few query arguments and headers, and answer a refused
handshake with the contract's error body. `WebSocketRoutes` takes the WebSocket scopes of its
paths before quart sees them; everything else (REST, pages, other paths) still goes to quart.

Semantics kept from quart-trio: a `websocket.disconnect` from the peer cancels the handler (its
session runs its shielded `leave` and ends), and a handshake refused before `accept` is an HTTP
answer through hypercorn's `websocket.http.response` extension.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, cast
from urllib.parse import parse_qsl

import orjson
import trio
from hypercorn.typing import ASGIFramework, ASGIReceiveCallable, ASGISendCallable, Scope

from chat.http.request_ids import REQUEST_ID_HEADER, client_or_new_id, new_id
from chat.log_format import request_id, session_id

JSON_HEADERS = [(b"content-type", b"application/json")]
# ASGI's callables as plain dicts: the sessions read and write a handful of known keys.
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class SocketHeaders:
    """A handshake's headers, looked up by name in any case (what client_address needs)."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw

    def get(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower().encode("latin1")
        for key, value in self._raw:
            if key == wanted:
                return value.decode("latin1")
        return default

    def getlist(self, name: str) -> list[str]:
        wanted = name.lower().encode("latin1")
        return [value.decode("latin1") for key, value in self._raw if key == wanted]


def query_args(query: str) -> dict[str, str]:
    """The first value of each query argument, as quart's `args.get` answered."""
    args: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        args.setdefault(name, value)
    return args


def error_body(code: str, message: str) -> bytes:
    """A refused handshake's body, in the contract's error shape."""
    return orjson.dumps({"error": {"code": code, "message": message}})


class HandshakeSocket(Protocol):
    """What a WebSocket route's handler gets: the handshake to accept or refuse, then the
    sessions' Socket (chat/actors/socket.py). Served over ASGI (`BareSocket`, below) or straight
    off the connection (chat/http/ws_connection.py)."""

    args: dict[str, str]
    headers: SocketHeaders
    remote_addr: str | None
    accepted: bool

    async def accept(self, *, with_first_frame: bool = False) -> None:
        """Upgrade. `with_first_frame`: the answer may wait to go out with the first frame
        sent, in one write; only for a handler that sends before it reads (its peer waits for
        the answer before it sends)."""
        ...

    async def reject(self, status: int, code: str, message: str) -> None: ...

    async def receive(self) -> str | bytes: ...

    async def send(self, data: str) -> None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


class BareSocket:
    """One WebSocket over ASGI's receive/send: the sessions' Socket (chat/actors/socket.py).

    `scope` is the handler's cancel scope: the peer's disconnect cancels it, as quart-trio's
    pump task did."""

    __slots__ = ("_receive", "_send", "_scope", "args", "headers", "remote_addr", "accepted")

    def __init__(
        self,
        asgi_scope: Mapping[str, Any],
        receive: Receive,
        send: Send,
        cancel_scope: trio.CancelScope,
    ) -> None:
        self._receive = receive
        self._send = send
        self._scope = cancel_scope
        self.args = query_args(asgi_scope.get("query_string", b"").decode("latin1"))
        self.headers = SocketHeaders(asgi_scope.get("headers") or [])
        client = asgi_scope.get("client")
        self.remote_addr: str | None = client[0] if client else None
        self.accepted = False

    async def accept(self, *, with_first_frame: bool = False) -> None:
        del with_first_frame  # ASGI sends the answer at once
        await self._send({"type": "websocket.accept", "subprotocol": None, "headers": []})
        self.accepted = True

    async def reject(self, status: int, code: str, message: str) -> None:
        """Refuse the handshake with an HTTP answer in the contract's error shape."""
        body = error_body(code, message)
        await self._send(
            {"type": "websocket.http.response.start", "status": status, "headers": JSON_HEADERS}
        )
        await self._send({"type": "websocket.http.response.body", "body": body, "more_body": False})

    async def receive(self) -> str | bytes:
        while True:
            message = await self._receive()
            kind = message["type"]
            if kind == "websocket.receive":
                text = message.get("text")
                if text is not None:
                    return str(text)
                return bytes(message.get("bytes") or b"")
            if kind == "websocket.disconnect":
                # The peer is gone: end the handler as quart-trio did (its session's `leave`
                # runs shielded), and never return from here.
                self._scope.cancel()
                await trio.lowlevel.checkpoint()
                raise trio.BrokenResourceError("the WebSocket closed")  # pragma: no cover

    async def send(self, data: str) -> None:
        await self._send({"type": "websocket.send", "text": data})

    async def close(self, code: int, reason: str = "") -> None:
        await self._send({"type": "websocket.close", "code": code, "reason": reason})


Handler = Callable[[HandshakeSocket], Awaitable[None]]


class WebSocketRoutes:
    """ASGI: the WebSocket scopes of `routes` to their handlers, everything else to `app`."""

    def __init__(self, app: ASGIFramework, routes: dict[str, Handler]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        handler = self.routes.get(scope.get("path", "")) if scope["type"] == "websocket" else None
        if handler is None:
            await self.app(scope, receive, send)
            return
        with trio.CancelScope() as cancel_scope:
            socket = BareSocket(
                cast(Mapping[str, Any], scope),
                cast(Receive, receive),
                cast(Send, send),
                cancel_scope,
            )
            label_records(socket.headers)
            await handler(socket)


def label_records(headers: SocketHeaders) -> None:
    """Every record logged for this socket's task from now on carries its request id (the
    client's, or a new one) and a session id (chat/http/request_ids.py)."""
    request_id.set(client_or_new_id(headers.get(REQUEST_ID_HEADER)))
    session_id.set(new_id())
