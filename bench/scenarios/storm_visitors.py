"""Storm's load processes: the widget visitors, each with an open thread, that lose their
sockets and come back (see storm.py for the scenario).

Each load process holds a `Crowd` and answers the coordinator's commands: open, drop,
reconnect, arm (reconnect by themselves, like the widget, through a restart), verify.
"""

from __future__ import annotations

import random
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection
from wsproto import ConnectionType, WSConnection

from bench import clients
from bench.api import BENCH_ORIGIN
from bench.fleet import Link
from bench.scenarios import storm_proof

OPENS_IN_FLIGHT = 100  # per load process, for the first connect and message of each visitor
# The widget's reconnect backoff (full jitter): a delay in [0, min(CAP, BASE * 2**attempt)].
BACKOFF_BASE_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 2.0
HEARTBEAT_SECONDS = 25.0  # the widget's ping and the agent's heartbeat
ACK_TIMEOUT_SECONDS = 30.0
DROP_TIMEOUT_SECONDS = 10.0


async def open_widget(
    nursery: trio.Nursery, ws_url: str, key: str, *, session: str, last: str
) -> tuple[WebSocketConnection, dict[str, Any], float]:
    """clients.open_widget, except that a connection reset before the handshake's answer fails
    at once instead of hanging: trio-websocket 0.12 never wakes the handshake's waiter when the
    stream closes first, which is what a restarting server does to the connects its closing
    listener had queued. A browser gets `onclose` right away and backs off; so do we."""
    started = time.perf_counter()
    url = urllib.parse.urlsplit(clients.widget_url(ws_url, key, session or None, last or None))
    assert url.hostname is not None and url.port is not None
    with trio.fail_after(clients.CONNECT_TIMEOUT_SECONDS):
        stream = await trio.open_tcp_stream(url.hostname, url.port)
        ws = WebSocketConnection(
            stream,
            WSConnection(ConnectionType.CLIENT),
            host=f"{url.hostname}:{url.port}",
            path=f"{url.path}?{url.query}",
            client_extra_headers=[(b"Origin", BENCH_ORIGIN.encode())],
            message_queue_size=clients.MESSAGE_QUEUE,
        )

        async def reader() -> None:
            try:
                await ws._reader_task()  # noqa: SLF001 - see above
            finally:
                ws._open_handshake.set()  # noqa: SLF001 - wake the waiter below

        nursery.start_soon(reader)
        await ws._open_handshake.wait()  # noqa: SLF001
        if ws.closed is not None:
            raise ConnectionClosed(ws.closed)
        welcome = await clients.receive(ws)
    if welcome.get("type") != "welcome":
        raise clients.ClientError(f"expected a welcome, got {welcome}")
    return ws, welcome, time.perf_counter() - started


@dataclass(frozen=True)
class StormJob:
    ws_url: str
    visitors: tuple[tuple[int, str], ...]  # (space index, widget key)


@dataclass
class Visitor:
    space: int
    key: str
    session: str = ""
    thread_id: str = ""
    last: str = ""  # the last message id seen: the resume cursor
    ws: WebSocketConnection | None = None
    closed: trio.Event = field(default_factory=trio.Event)
    acked: trio.Event = field(default_factory=trio.Event)
    ack: dict[str, Any] = field(default_factory=dict)
    # This repeat's figures.
    received: list[str] = field(default_factory=list)  # agent message ids, in arrival order
    via_history: int = 0
    expected: int = 0
    complete: trio.Event = field(default_factory=trio.Event)
    welcomes: int = 0
    welcome_at: float = 0.0  # wall clock of the latest welcome
    closed_at: float = 0.0  # wall clock of the first close seen this repeat
    attempts: int = 0
    errors: int = 0
    wrong_thread: int = 0

    def reset(self) -> None:
        self.received = []
        self.via_history = 0
        self.expected = 0
        self.complete = trio.Event()
        self.welcomes = 0
        self.welcome_at = 0.0
        self.closed_at = 0.0
        self.attempts = 0
        self.errors = 0
        self.wrong_thread = 0

    def seen(self, message: dict[str, Any], *, history: bool) -> None:
        self.last = message["id"]
        if message.get("sender_type") == "agent":
            self.received.append(message["id"])
            self.via_history += history
            if self.expected and len(self.received) >= self.expected:
                self.complete.set()


class Crowd:
    """One load process's visitors."""

    def __init__(self, job: StormJob, nursery: trio.Nursery) -> None:
        self.job = job
        self.nursery = nursery
        self.visitors = [Visitor(space, key) for space, key in job.visitors]
        self.watching: trio.CancelScope | None = None

    @property
    def live(self) -> list[Visitor]:
        """The visitors whose thread was opened (a failed first connect leaves one out)."""
        return [v for v in self.visitors if v.thread_id]

    async def connect(self, v: Visitor) -> float:
        """Connect (resuming when it has a session), take in the welcome, start reading."""
        ws, welcome, took = await open_widget(
            self.nursery, self.job.ws_url, v.key, session=v.session, last=v.last
        )
        v.welcome_at = time.time()
        v.welcomes += 1
        v.session = welcome["session"]
        thread = welcome.get("thread") or {}
        if v.thread_id and thread.get("id") != v.thread_id:
            v.wrong_thread += 1
        for message in welcome.get("history") or []:
            v.seen(message, history=True)
        v.ws, v.closed = ws, trio.Event()
        self.nursery.start_soon(self.read, v, ws, v.closed)
        return took

    async def read(self, v: Visitor, ws: WebSocketConnection, closed: trio.Event) -> None:
        try:
            while True:
                frame = await clients.receive(ws)
                match frame.get("type"):
                    case "message":
                        v.seen(frame, history=False)
                    case "ack":
                        v.ack = frame
                        v.acked.set()
                    case "error":
                        v.errors += 1
        except ConnectionClosed:
            pass
        finally:
            v.closed_at = v.closed_at or time.time()
            closed.set()

    async def heartbeat(self) -> None:
        """The widget's ping, for sockets that outlive a ping interval (one task per process)."""
        while True:
            await trio.sleep(HEARTBEAT_SECONDS)
            for v in self.live:
                if v.ws is not None and not v.closed.is_set():
                    try:
                        await clients.send(v.ws, {"type": "ping"})
                    except ConnectionClosed:
                        pass

    # -- commands --

    async def open(self) -> list[tuple[int, str] | None]:
        """Each visitor connects and opens its thread with one message."""
        limiter = trio.CapacityLimiter(OPENS_IN_FLIGHT)

        async def one(v: Visitor) -> None:
            async with limiter:
                try:
                    await self.connect(v)
                    assert v.ws is not None
                    await clients.send(
                        v.ws,
                        {"type": "message", "client_id": str(uuid.uuid4()), "content": "hello"},
                    )
                    with trio.fail_after(ACK_TIMEOUT_SECONDS):
                        await v.acked.wait()
                except clients.CONNECT_ERRORS:
                    return
            v.thread_id, v.last = v.ack["thread_id"], v.ack["id"]

        async with trio.open_nursery() as nursery:
            for v in self.visitors:
                nursery.start_soon(one, v)
        return [(v.space, v.thread_id) if v.thread_id else None for v in self.visitors]

    async def drop(self) -> int:
        """Cut every socket at once, no close handshake; wait until each reader saw it."""
        for v in self.live:
            v.reset()
            if v.ws is not None:
                await clients.drop(v.ws)
        with trio.move_on_after(DROP_TIMEOUT_SECONDS):
            for v in self.live:
                await v.closed.wait()
        return sum(v.closed.is_set() for v in self.live)

    async def reconnect(self) -> dict[str, Any]:
        """Every dropped visitor reconnects at the same moment with its session and `last`."""
        started = time.time()
        seconds: list[float] = []
        failed = 0

        async def one(v: Visitor) -> None:
            nonlocal failed
            try:
                seconds.append(await self.connect(v))
            except clients.CONNECT_ERRORS:
                failed += 1

        async with trio.open_nursery() as nursery:
            for v in self.live:
                nursery.start_soon(one, v)
        return {
            "started": started,
            "welcome_at": [v.welcome_at for v in self.live if v.welcome_at],
            "seconds": seconds,
            "failed": failed,
        }

    async def arm(self) -> None:
        """From now, every visitor whose socket closes reconnects by itself, like the widget,
        until `verify` ends the watch."""
        for v in self.live:
            v.reset()
        await self.nursery.start(self._watch_all)

    async def _watch_all(
        self, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        with trio.CancelScope() as self.watching:
            async with trio.open_nursery() as nursery:
                for v in self.live:
                    nursery.start_soon(self._keep_connected, v)
                task_status.started()

    async def _keep_connected(self, v: Visitor) -> None:
        while True:
            await v.closed.wait()
            attempt = 0
            while True:
                ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
                await trio.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not crypto
                attempt += 1
                v.attempts += 1
                try:
                    await self.connect(v)
                    break
                except clients.CONNECT_ERRORS:
                    continue

    async def verify(self, expected: dict[str, list[str]]) -> dict[str, Any]:
        """Wait for every visitor to have its thread's expected ids, then compare."""
        for v in self.live:
            v.expected = len(expected.get(v.thread_id, []))
            if len(v.received) >= v.expected:
                v.complete.set()
        with trio.move_on_after(storm_proof.VERIFY_TIMEOUT_SECONDS):
            for v in self.live:
                await v.complete.wait()
        await trio.sleep(storm_proof.DOUBLE_GRACE_SECONDS)
        if self.watching is not None:
            self.watching.cancel()
            self.watching = None
        figures = dict.fromkeys(storm_proof.COUNTED, 0)
        for v in self.live:
            compared = storm_proof.compare(expected.get(v.thread_id, []), v.received)
            for name, count in compared.items():
                figures[name] += count
            figures["incomplete"] += not v.complete.is_set()
        return {
            **figures,
            "visitors": len(self.live),
            "via_history": sum(v.via_history for v in self.live),
            "received": sum(len(v.received) for v in self.live),
            "welcome_at": [v.welcome_at for v in self.live if v.welcome_at],
            "closed_at": [v.closed_at for v in self.live if v.closed_at],
            "unresumed": sum(not v.welcome_at for v in self.live),
            "welcomes": sum(v.welcomes for v in self.live),
            "attempts": [v.attempts for v in self.live],
            "errors": sum(v.errors for v in self.live),
            "wrong_thread": sum(v.wrong_thread for v in self.live),
        }


async def worker(job: StormJob, link: Link) -> None:
    async with trio.open_nursery() as nursery:
        crowd = Crowd(job, nursery)
        nursery.start_soon(crowd.heartbeat)
        async for name, args in link.commands():
            match name:
                case "open":
                    await link.reply(await crowd.open())
                case "drop":
                    await link.reply(await crowd.drop())
                case "reconnect":
                    await link.reply(await crowd.reconnect())
                case "arm":
                    await crowd.arm()
                    await link.reply(None)
                case "verify":
                    await link.reply(await crowd.verify(args))
                case _:
                    raise ValueError(f"unknown command {name}")
        nursery.cancel_scope.cancel()
