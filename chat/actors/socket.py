"""What sessions need of a WebSocket, and the one skeleton both sessions run on (`run_session`).

A kind of session (chat/actors/visitor.py, chat/actors/agent.py) is a `Session`: it joins
(reads its state, queues the welcome, starts its own tasks), parses and handles frames (one small
handler per frame kind, its `match` closed with `assert_never`), says how an error answers a
frame, and leaves. Phoenix channels' join / handle_in / terminate are the model. Everything the
two kinds share, the outbox (chat/actors/frame_outbox.py), the reader, the flood guard, the idle
timeout, the error replies and the close codes, is here once.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn, Protocol, TypeVar

import psycopg
import trio

from chat.actors.floor import Floors
from chat.actors.frame_outbox import Outbox
from chat.actors.thread import ThreadActors
from chat.commands.threads import ThreadCommands
from chat.config import Settings
from chat.db.pool import Database
from chat.errors import CLOSE_FLOODING, CLOSE_GOING_AWAY, ChatError, UnavailableError
from chat.json_types import Json
from chat.metrics.series import SessionMeter
from chat.protocol.inbound import AgentSendMessage, SendMessage
from chat.streams.errors import StreamLogError
from chat.streams.log import StreamLog
from chat.streams.reader import StreamRouter

logger = logging.getLogger(__name__)

# Frames waiting for a slow client. A feed that fills it waits (its subscription then catches up
# from the log); acks and errors wait too. Sized for a burst of history plus live traffic.
OUTBOX_SIZE = 256
CLOSE_TIMEOUT_SECONDS = 2.0
# A session's way out (marking an agent gone) gets this long, shielded, even when cancelled.
CLEANUP_TIMEOUT_SECONDS = 3.0


# What a frame handler may meet when Redis or PostgreSQL is unreachable: answered with an
# `unavailable` error frame, the session goes on and the client retries (client_ids make it safe).
STORAGE_ERRORS: tuple[type[Exception], ...] = (
    StreamLogError,
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


@dataclass
class SessionStats:
    """The deliberate drops of this process's sessions, exported in /metrics."""

    # Sessions cut off with 1013 because they fell behind their feed, by kind ("visitor").
    overflows: Counter[str] = field(default_factory=Counter)
    # Each kind's series (chat/metrics/series.py); the services pass the process's.
    visitor: SessionMeter = field(default_factory=lambda: SessionMeter.unregistered("visitor"))
    agent: SessionMeter = field(default_factory=lambda: SessionMeter.unregistered("agent"))


@dataclass(frozen=True, slots=True)
class SessionDeps:
    """What the sessions use of the process's services, and nothing more (chat/http/ws.py builds
    it from Services; actors never import the composition root)."""

    settings: Settings
    stream_log: StreamLog
    router: StreamRouter
    db: Database
    threads: ThreadActors
    commands: ThreadCommands
    stats: SessionStats
    # The floor views of this process, by organization (chat/actors/floor.py); None where the
    # sessions are served without them (a floor.subscribe then answers unavailable).
    floors: Floors | None = None


F = TypeVar("F")
# The frames answered with an ack once durably in the log: their handling is the ack latency.
MESSAGE_FRAMES = (SendMessage, AgentSendMessage)


class Revocable(Protocol):
    """What can end a session from outside: a revoked sign-in or key, a drain, falling behind
    (chat/actors/revocation.py's Watch). A callback rather than a task waiting for it: the
    reader runs in the session's own task, and an idle session holds two tasks, not three
    (issue 19)."""

    def on_revoked(self, stop: Callable[[], None]) -> None:
        """Call `stop` at the revocation (at once if it came already)."""
        ...

    def closing(self) -> Closing | None:
        """The revocation as the session's way out (its close code and reason), if any."""
        ...


class Session(Protocol[F]):
    """What a kind of session adds to the skeleton; `F` is its union of inbound frames."""

    outbox: Outbox

    @property
    def who(self) -> str:
        """Names the session in logs ("agent <id>")."""
        ...

    def parse(self, data: str | bytes) -> F:
        """The frame, or InvalidError saying where and why."""
        ...

    async def join(self, nursery: trio.Nursery) -> None:
        """Read the state, queue the welcome, start the session's own tasks in `nursery`."""
        ...

    @property
    def watch(self) -> Revocable:
        """What ends the session from outside (chat/actors/revocation.py's Watch)."""
        ...

    async def handle(self, frame: F) -> None:
        """Answer one frame (an ack, a reply) through the outbox; a ChatError to refuse it."""
        ...

    def error_reply(self, err: ChatError, frame: F | None) -> Json:
        """The error frame answering `frame` (None when it did not parse)."""
        ...

    async def leave(self) -> None:
        """Undo what joining did; runs shielded on every way out."""
        ...


async def run_session(
    socket: Socket,
    session: Session[F],
    settings: Settings,
    meter: SessionMeter | None = None,
) -> None:
    """Serve one accepted socket until it closes; never returns earlier.

    Steps:
      1. `session.join(nursery)`. Frames are read only after it returns, so the welcome it
         queues is the first frame sent and no frame is answered before it.
      2. The outbox starts writing to the socket (its writer task runs only while frames wait,
         chat/actors/frame_outbox.py) and the frame reader runs in the session's own task; a
         failed write ends the session (a DirectSocket cancels it, another socket's error
         propagates). A revocation (`session.watch`) stops the reader and closes with its code.
      3. The reader takes each frame within `settings.socket_idle_timeout_seconds` (silence:
         close 1001) and at most `settings.flood_frames_per_second` a second (more: close
         4008); the session parses and handles it.

    Error handling: a ChatError from a frame is answered with the session's error frame and a
    storage error with `unavailable`; the session goes on. `Closing` raised by any task closes
    the socket with its code (waiting briefly for the peer's close). Anything else propagates.

    Resource handling: `session.leave()` runs on every way out, shielded, within
    CLEANUP_TIMEOUT_SECONDS. The outbox is closed once the session's tasks have ended.

    `meter` counts the frames, acks, errors and closes (none: a meter nobody reads).
    """
    meter = meter or SessionMeter.unregistered("unmetered")
    meter.sockets.inc()
    try:
        async with trio.open_nursery() as nursery:
            try:
                await session.join(nursery)
                await session.outbox.start(nursery, socket, meter)
                await _read_frames(
                    socket,
                    session,
                    settings.flood_frames_per_second,
                    settings.socket_idle_timeout_seconds,
                    meter,
                )
            finally:
                with trio.move_on_after(CLEANUP_TIMEOUT_SECONDS, shield=True):
                    await session.leave()
    except* Closing as group:
        closing = group.exceptions[0]
        assert isinstance(closing, Closing)
        meter.closed(closing.code)
        await close_quietly(socket, closing.code, closing.reason)
    finally:
        session.outbox.close()
        meter.sockets.dec()
        logger.debug("%s: session ended", session.who)


async def _read_frames(
    socket: Socket, session: Session[F], flood_limit: int, idle_seconds: float, meter: SessionMeter
) -> NoReturn:
    flood = FloodGuard(flood_limit)
    # Silence (no frame for `idle_seconds`): a live client always speaks within that time
    # (pings, heartbeats), so the peer is gone. One scope for the reader's life, its deadline
    # moved at each frame and lifted while the frame is handled: a scope per receive was about
    # 1 KB of every idle socket and a scope's setup per frame (issue 19).
    with trio.CancelScope() as silence:
        # A revocation stops the reader through the same scope (a scope is ~0.9 KB of an idle
        # socket): the revocation, when there is one, is the reason it ended.
        session.watch.on_revoked(silence.cancel)
        while True:
            silence.deadline = trio.current_time() + idle_seconds
            data = await socket.receive()
            silence.deadline = math.inf
            received = time.perf_counter()
            meter.frames_received.inc()
            if flood.over():
                raise Closing(CLOSE_FLOODING, "too many frames")
            frame: F | None = None
            try:
                frame = session.parse(data)
                await session.handle(frame)
                if isinstance(frame, MESSAGE_FRAMES):
                    meter.acked(received)
            except ChatError as err:
                meter.refused(err.code)
                await session.outbox.send(session.error_reply(err, frame))
            except STORAGE_ERRORS as exc:
                logger.warning("%s: storage unavailable: %r", session.who, exc)
                meter.refused(UnavailableError.code)
                await session.outbox.send(session.error_reply(UnavailableError(), frame))
    raise session.watch.closing() or Closing(CLOSE_GOING_AWAY, f"no frame for {idle_seconds:g} s")


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
