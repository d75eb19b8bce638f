"""What sessions need of a WebSocket, so actors do not depend on the web framework."""

from __future__ import annotations

import logging
from typing import Any, Protocol

import coredis.exceptions
import psycopg
import trio

from chat.errors import CLOSE_GOING_AWAY
from chat.wire import Frame, dumps

logger = logging.getLogger(__name__)

# Frames waiting for a slow client. A feed that fills it waits (its subscription then catches up
# from the log); acks and errors wait too. Sized for a burst of history plus live traffic.
OUTBOX_SIZE = 256
CLOSE_TIMEOUT_SECONDS = 2.0


# What a frame handler may meet when Redis or PostgreSQL is unreachable: answered with an
# `unavailable` error frame, the session goes on and the client retries (client_ids make it safe).
STORAGE_ERRORS: tuple[type[Exception], ...] = (
    coredis.exceptions.RedisError,
    psycopg.OperationalError,
    OSError,
)


class Socket(Protocol):
    async def receive(self) -> str | bytes: ...

    async def send(self, data: str) -> None: ...

    async def close(self, code: int, reason: str = "") -> None: ...


class Closing(Exception):
    """Raised inside a session to end it with a close code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def run_writer(socket: Socket, outbox: trio.MemoryReceiveChannel[Frame]) -> None:
    """Send queued frames in order until the outbox closes or the socket fails.

    A frame may come encoded already (text shared by every session that gets the same entry)."""
    async with outbox:
        async for frame in outbox:
            await socket.send(frame if isinstance(frame, str) else dumps(frame))


async def end_session_after(nursery: trio.Nursery, fn: Any, *args: Any) -> None:
    """Reader and writer are siblings: the first of them to finish ends the whole session."""
    await fn(*args)
    nursery.cancel_scope.cancel()


async def close_quietly(socket: Socket, code: int, reason: str) -> None:
    """Send a close frame, then read until the peer's close arrives (RFC 6455 7.1.1).

    Returning at once would let the server drop the TCP connection under a client that is still
    sending (a flooding one, say), and that client would see 1006 instead of our code.
    """
    with trio.move_on_after(CLOSE_TIMEOUT_SECONDS) as scope:
        scope.shield = True
        try:
            await socket.close(code, reason)
        except Exception:  # noqa: BLE001 - the peer may be gone already; closing is best effort
            logger.debug("closing a socket that is already gone", exc_info=True)
            return
    # Not shielded: the peer's close ends the handler by cancelling it, as it should.
    with trio.move_on_after(CLOSE_TIMEOUT_SECONDS):
        try:
            while True:
                await socket.receive()
        except Exception:  # noqa: BLE001 - any end of the stream is the end we wait for
            return


async def receive_within(socket: Socket, seconds: float) -> str | bytes:
    """The next frame, or Closing(1001) after `seconds` of silence: a live client always
    speaks within that time (pings, heartbeats), so silence means the peer is gone."""
    with trio.move_on_after(seconds):
        return await socket.receive()
    raise Closing(CLOSE_GOING_AWAY, f"no frame for {seconds:g} s")


class FloodGuard:
    """Counts frames per second; past the limit the connection is closed (contract: 4008)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._window = 0.0
        self._count = 0

    def over(self) -> bool:
        now = trio.current_time()
        if now - self._window >= 1.0:
            self._window = now
            self._count = 0
        self._count += 1
        return self._count > self.limit
