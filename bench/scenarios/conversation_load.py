"""The conversation scenario's load processes: widget visitors sending on a jittered grid and
agents receiving (one in each space replying to a share of it), each side collecting what it
sent, what was acked and what arrived, per repeat (see conversation.py for the scenario)."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from bench import clients
from bench.stats import percentiles

CONNECTS_IN_FLIGHT = 50  # per load process
# After the last send: how long without any frame counts as "everything arrived", and the most
# a repeat waits for that (a lost message would otherwise be waited for forever).
QUIET_SECONDS = 1.0
DRAIN_LIMIT_SECONDS = 15.0
REPLY_QUEUE = 256  # per replying agent; replies beyond it are skipped and counted
KEEP_ALIVE_SECONDS = 20.0  # the console heartbeats every 20 s, the widget pings every 25 s
PADDING = "x" * 40  # a message about the size of a real one


@dataclass
class Job:
    ws_url: str
    visitors: list[tuple[str, str]]  # (space id, widget key)
    agents: list[tuple[int, str, str, bool]]  # (global index, token, space id, replies)
    reply_share: float
    seed: int


@dataclass
class Collected:
    """What one load process saw during one repeat."""

    sent: int = 0
    replies_sent: int = 0
    replies_skipped: int = 0
    ack_ms: list[float] = field(default_factory=list)
    reply_ack_ms: list[float] = field(default_factory=list)
    e2e_va_ms: list[float] = field(default_factory=list)
    e2e_av_ms: list[float] = field(default_factory=list)
    acked_va: list[tuple[str, str]] = field(default_factory=list)  # (space, message id)
    received_va: dict[int, list[str]] = field(default_factory=dict)  # agent index -> ids
    acked_av: list[tuple[str, str]] = field(default_factory=list)  # (thread, message id)
    received_av: dict[str, list[str]] = field(default_factory=dict)  # thread -> ids
    errors: Counter[str] = field(default_factory=Counter)


class Load:
    """One load process's clients. Readers run for the whole session; senders per repeat."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.rng = random.Random(job.seed)  # noqa: S311 - jitter, not secrets
        self.now = Collected()
        self.pending: dict[str, float] = {}  # client_id -> perf_counter at send
        self.last_frame = time.monotonic()
        self.visitors: list[tuple[str, WebSocketConnection]] = []
        self.repliers: list[tuple[WebSocketConnection, trio.MemorySendChannel[str]]] = []
        self.repeat = 0

    def seen(self) -> None:
        self.last_frame = time.monotonic()

    async def connect(self, nursery: trio.Nursery) -> dict[str, Any]:
        limiter = trio.CapacityLimiter(CONNECTS_IN_FLIGHT)
        connect_ms: list[float] = []
        agents = []
        for index, token, space_id, replies in self.job.agents:
            ws = await clients.open_agent(nursery, self.job.ws_url, token, (space_id,))
            agents.append(ws)
            send: trio.MemorySendChannel[str] | None = None
            if replies:
                send, receive = trio.open_memory_channel[str](REPLY_QUEUE)
                nursery.start_soon(self._reply, ws, receive)
            nursery.start_soon(self._read_agent, index, ws, send)

        async def one(space_id: str, key: str) -> None:
            async with limiter:
                ws, _welcome, seconds = await clients.open_widget(nursery, self.job.ws_url, key)
            connect_ms.append(seconds * 1000)
            self.visitors.append((space_id, ws))
            nursery.start_soon(self._read_visitor, space_id, ws)

        async with trio.open_nursery() as connecting:
            for space_id, key in self.job.visitors:
                connecting.start_soon(one, space_id, key)
        nursery.start_soon(self._keep_alive, agents)
        return {"visitors": len(self.visitors), "connect_ms": percentiles(connect_ms)}

    async def _keep_alive(self, agents: list[WebSocketConnection]) -> None:
        """Heartbeats and pings as the console and the widget send them: the service closes a
        socket that stays silent (CHAT_SOCKET_IDLE_TIMEOUT_SECONDS), and agents that do not
        heartbeat go offline."""
        while True:
            await trio.sleep(KEEP_ALIVE_SECONDS)
            for ws in agents:
                await clients.send(ws, {"type": "heartbeat"})
            for _space, ws in self.visitors:
                await clients.send(ws, {"type": "ping"})

    async def _read_visitor(self, space_id: str, ws: WebSocketConnection) -> None:
        while True:
            frame = await clients.receive(ws)
            self.seen()
            now = self.now
            match frame.get("type"):
                case "ack":
                    started = self.pending.pop(frame["client_id"], None)
                    if started is not None:
                        now.ack_ms.append((time.perf_counter() - started) * 1000)
                    now.acked_va.append((space_id, frame["id"]))
                case "message" if frame.get("sender_type") == "agent":
                    if (ms := clients.latency_ms(frame["content"])) is not None:
                        now.e2e_av_ms.append(ms)
                    now.received_av.setdefault(frame["thread_id"], []).append(frame["id"])
                case "error":
                    self.pending.pop(frame.get("client_id", ""), None)
                    now.errors[frame.get("code", "?")] += 1

    async def _read_agent(
        self, index: int, ws: WebSocketConnection, replies: trio.MemorySendChannel[str] | None
    ) -> None:
        while True:
            frame = await clients.receive(ws)
            self.seen()
            now = self.now
            match frame.get("type"):
                case "message" if frame.get("sender_type") == "visitor":
                    if (ms := clients.latency_ms(frame["content"])) is not None:
                        now.e2e_va_ms.append(ms)
                    now.received_va.setdefault(index, []).append(frame["id"])
                    if replies is not None and self.rng.random() < self.job.reply_share:
                        try:
                            replies.send_nowait(frame["thread_id"])
                        except trio.WouldBlock:
                            now.replies_skipped += 1
                case "ack" if frame.get("ref") == "message":
                    started = self.pending.pop(frame["client_id"], None)
                    if started is not None:
                        now.reply_ack_ms.append((time.perf_counter() - started) * 1000)
                    now.acked_av.append((frame["thread_id"], frame["id"]))
                case "error":
                    self.pending.pop(frame.get("client_id", ""), None)
                    now.errors["agent:" + str(frame.get("code", "?"))] += 1

    async def _reply(
        self, ws: WebSocketConnection, threads: trio.MemoryReceiveChannel[str]
    ) -> None:
        sequence = 0
        async for thread_id in threads:
            sequence += 1
            client_id = f"a{id(ws)}-{sequence}"
            self.pending[client_id] = time.perf_counter()
            self.now.replies_sent += 1
            await clients.send(
                ws,
                {
                    "type": "message",
                    "thread_id": thread_id,
                    "client_id": client_id,
                    "content": f"{clients.stamp()} a {PADDING}",
                },
            )

    async def run_repeat(self, rate: float, seconds: float, start_at: float) -> Collected:
        self.repeat += 1
        self.now = Collected()
        begin = trio.current_time() + (start_at - time.time())
        async with trio.open_nursery() as senders:
            for index, (_space, ws) in enumerate(self.visitors):
                senders.start_soon(self._send, index, ws, rate, begin, seconds)
        # Every load process sends only inside the window: once it is over, what is still to
        # arrive here (from other processes' visitors too) is in flight, and the quiet wait
        # below sees it in.
        await trio.sleep_until(begin + seconds)
        with trio.move_on_after(DRAIN_LIMIT_SECONDS):
            while True:
                if not self.pending and time.monotonic() - self.last_frame >= QUIET_SECONDS:
                    break
                # Waiting for frames that may never come (a lost one): only time tells.
                await trio.sleep(0.05)
        self.pending.clear()
        return self.now

    async def _send(
        self, index: int, ws: WebSocketConnection, rate: float, begin: float, seconds: float
    ) -> None:
        interval = 1.0 / rate
        phase = self.rng.uniform(0, interval)
        k = 0
        end = begin + seconds
        while (due := begin + phase + k * interval) < end:
            # The jitter stays inside the repeat's window: at a low rate a visitor's interval is
            # long (500 visitors at 5 msgs/s: 100 s), and a send jittered past the window's end
            # reached an agent of another load process after that process had drained its
            # repeat, which counted it as lost.
            jittered = due + self.rng.uniform(-0.3, 0.3) * interval
            await trio.sleep_until(min(max(jittered, begin), end))
            client_id = f"v{index}-{self.repeat}-{k}"
            self.pending[client_id] = time.perf_counter()
            self.now.sent += 1
            await clients.send(
                ws,
                {
                    "type": "message",
                    "client_id": client_id,
                    "content": f"{clients.stamp()} v {PADDING}",
                },
            )
            k += 1


async def worker(job: Job, link: Any) -> None:
    load = Load(job)
    try:
        async with trio.open_nursery() as nursery:
            async for name, args in link.commands():
                if name == "connect":
                    await link.reply(await load.connect(nursery))
                elif name == "repeat":
                    await link.reply(await load.run_repeat(**args))
            nursery.cancel_scope.cancel()
    except* ConnectionClosed:
        raise RuntimeError("a bench socket was closed by the server") from None
