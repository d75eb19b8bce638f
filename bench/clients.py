"""WebSocket clients as a widget and as an agent client speak to the service (trio-websocket).

Each connection lives in a nursery the caller owns (trio-websocket's reader task runs there);
`drop` cuts a connection without a close handshake, as a network failure would.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

import orjson
import trio
from trio_websocket import (
    ConnectionClosed,
    HandshakeError,
    WebSocketConnection,
    connect_websocket_url,
)

from bench.api import BENCH_ORIGIN

Json = dict[str, Any]
# Frames a client's reader task may hold before the server's sends wait (trio-websocket's
# own buffer; ours are the scenario's channels).
MESSAGE_QUEUE = 64
CONNECT_TIMEOUT_SECONDS = 60.0
# What Chromium offers on every WebSocket. The service declines it (chat/http/ws_handshake.py);
# offering it keeps the bench honest: a service that accepted it would cost each browser socket
# a 262 KB compressor, and trio-websocket (which speaks no extension) fails such a handshake
# loudly instead of measuring a socket no browser gets.
BROWSER_OFFER = (b"Sec-WebSocket-Extensions", b"permessage-deflate; client_max_window_bits")


class ClientError(Exception):
    pass


# What a connect attempt may fail with while a server is busy, restarting or refusing: the
# scenarios count these (and retry where a widget would) instead of failing the run.
CONNECT_ERRORS = (ClientError, OSError, HandshakeError, ConnectionClosed, trio.TooSlowError)


def widget_url(ws_url: str, key: str, session: str | None = None, last: str | None = None) -> str:
    query = {"key": key}
    if session:
        query["session"] = session
    if last:
        query["last"] = last
    return f"{ws_url}/ws/widget?{urllib.parse.urlencode(query)}"


async def open_widget(
    nursery: trio.Nursery,
    ws_url: str,
    key: str,
    *,
    session: str | None = None,
    last: str | None = None,
) -> tuple[WebSocketConnection, Json, float]:
    """Connect as a widget on the bench origin; the socket, its welcome, and the seconds from
    the TCP connect to the welcome."""
    started = time.perf_counter()
    with trio.fail_after(CONNECT_TIMEOUT_SECONDS):
        ws = await connect_websocket_url(
            nursery,
            widget_url(ws_url, key, session, last),
            extra_headers=[(b"Origin", BENCH_ORIGIN.encode()), BROWSER_OFFER],
            message_queue_size=MESSAGE_QUEUE,
        )
        welcome = orjson.loads(await ws.get_message())
    if welcome.get("type") != "welcome":
        raise ClientError(f"expected a welcome, got {welcome}")
    return ws, welcome, time.perf_counter() - started


async def open_agent(
    nursery: trio.Nursery, ws_url: str, token: str, space_ids: tuple[str, ...]
) -> WebSocketConnection:
    """Connect as an agent and subscribe to `space_ids` from now; returns once subscribed."""
    with trio.fail_after(CONNECT_TIMEOUT_SECONDS):
        ws = await connect_websocket_url(
            nursery,
            f"{ws_url}/ws/agent?token={token}",
            extra_headers=[BROWSER_OFFER],
            message_queue_size=MESSAGE_QUEUE,
        )
        welcome = orjson.loads(await ws.get_message())
        if welcome.get("type") != "welcome":
            raise ClientError(f"expected a welcome, got {welcome}")
        for space_id in space_ids:
            await send(ws, {"type": "subscribe", "space_id": space_id})
        waiting = set(space_ids)
        while waiting:
            frame = orjson.loads(await ws.get_message())
            if frame.get("type") == "subscribed":
                waiting.discard(frame["space_id"])
            elif frame.get("type") == "error":
                raise ClientError(f"subscribe failed: {frame}")
    return ws


async def send(ws: WebSocketConnection, frame: Json) -> None:
    await ws.send_message(orjson.dumps(frame).decode())


async def receive(ws: WebSocketConnection) -> Json:
    frame: Json = orjson.loads(await ws.get_message())
    return frame


async def drop(ws: WebSocketConnection) -> None:
    """Close the TCP connection with no close frame (trio-websocket 0.12 has no public call)."""
    await ws._close_stream()  # noqa: SLF001 - pinned version; a network failure, on purpose


def stamp() -> str:
    """A send time for the content, read back by the receiver for end-to-end latency (the load
    processes share the machine's clock)."""
    return f"{time.time():.6f}"


def latency_ms(content: str) -> float | None:
    head = content.split(" ", 1)[0]
    try:
        return (time.time() - float(head)) * 1000
    except ValueError:
        return None
