"""The listener's limits around the ASGI app: the cap on connections one process serves at
once (`max_connections`), and closing a connection whose request was answered unread.

hypercorn has no such setting, and it builds and runs its listeners itself (`worker_serve`), so
a cap at accept() would mean re-implementing it. The cap is counted here instead, around the
ASGI app: every HTTP request and WebSocket in progress holds a place, and over the cap the
connection is answered 503 at once (a WebSocket handshake too, through the ASGI
`websocket.http.response` extension) and closed. What this leaves uncounted is bounded by
hypercorn's own deadlines: a connection that has not sent its headers, or idles between
requests, is closed after `keep_alive_timeout` (HEADERS_DEADLINE_SECONDS in chat/http/app.py).
So the descriptors one process holds stay below the cap plus what arrives in those seconds;
the OS limit (`ulimit -n`) must be above that.

Answered unread: when the app answers before a request's body has all arrived (the 408 of a
slow body, chat/http/app.py), hypercorn must close the connection, and starts to while the app
sends the end of its answer; but that same step tells quart-trio the client is gone, quart-trio
cancels the app's task, and the cancellation lands in the middle of hypercorn's close (hypercorn
0.18, quart-trio 0.12): the connection stayed open, read for as long as the client kept
trickling. So the end of every HTTP answer is sent shielded (`_shielded_end`): hypercorn's own
writes are shielded already, and what the shield adds (ending the stream, a shutdown and close
of the socket, or readying it for the next request) does not wait on the client.
"""

from __future__ import annotations

import logging

import trio
from hypercorn.typing import (
    ASGIFramework,
    ASGIReceiveCallable,
    ASGISendCallable,
    ASGISendEvent,
    Scope,
)

logger = logging.getLogger(__name__)

FULL_BODY = b'{"error":{"code":"unavailable","message":"the server is busy; retry shortly"}}'
FULL_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(FULL_BODY)).encode()),
    (b"connection", b"close"),
    (b"retry-after", b"1"),
]


class ConnectionCap:
    """An ASGI app that serves at most `limit` HTTP requests and WebSockets of `app` at once."""

    def __init__(self, app: ASGIFramework, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.active = 0
        self.refused = 0

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if not self.enter():
            await _refuse(scope["type"] == "websocket", send)
            return
        try:
            await self.app(scope, receive, _shielded_end(send) if scope["type"] == "http" else send)
        finally:
            self.leave()

    def enter(self) -> bool:
        """Take a place for one request or WebSocket; False (counted, logged once) when full.
        The front door (chat/http/front_door.py) takes places for the sockets it serves itself."""
        if self.active >= self.limit:
            if self.refused == 0:
                logger.warning("connection cap of %d reached: refusing with 503", self.limit)
            self.refused += 1
            return False
        self.active += 1
        return True

    def leave(self) -> None:
        self.active -= 1


async def _refuse(websocket: bool, send: ASGISendCallable) -> None:
    if websocket:  # hypercorn offers the websocket.http.response extension
        await send(
            {"type": "websocket.http.response.start", "status": 503, "headers": FULL_HEADERS}
        )
        await send({"type": "websocket.http.response.body", "body": FULL_BODY, "more_body": False})
    else:
        await send({"type": "http.response.start", "status": 503, "headers": FULL_HEADERS})
        await send({"type": "http.response.body", "body": FULL_BODY, "more_body": False})


def _shielded_end(send: ASGISendCallable) -> ASGISendCallable:
    """`send`, with the last body message of an answer sent shielded (see the docstring)."""

    async def shielded(message: ASGISendEvent) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            with trio.CancelScope(shield=True):
                await send(message)
        else:
            await send(message)

    return shielded
