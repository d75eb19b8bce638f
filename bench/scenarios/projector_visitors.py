"""The projector scenario's load processes: widget visitors that append a backlog (as fast as
their acks and the space's limit allow) or a steady load, and count what came back (see
projector.py for the scenario)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from bench import clients
from bench.fleet import Link, split

# What a visitor paces itself to: a margin under the space's limit (projector.SPACE_RATE), whose
# bucket may persist across the visitor's reconnections (each repeat reconnects).
CLIENT_RATE, CLIENT_BURST = 90.0, 500
WINDOW = 16  # messages a visitor keeps in flight awaiting acks while appending the backlog
CONNECT_CONCURRENCY = 50  # widget handshakes in flight per load process
COMMAND_TIMEOUT_SECONDS = 120.0
DRAIN_SECONDS = 5.0  # acks still awaited when a steady load ends
CONTENT_PAD = "x" * 80  # a message of about 100 characters, stamp included


@dataclass(frozen=True)
class VisitorJob:
    ws_url: str
    keys: tuple[str, ...]  # one widget key per visitor of this load process


@dataclass
class _Visitor:
    ws: WebSocketConnection
    tokens: float = CLIENT_BURST
    refilled: float = field(default_factory=time.monotonic)
    outstanding: dict[str, float] = field(default_factory=dict)  # client_id -> send time
    acked: int = 0
    ack_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    async def paced(self) -> None:
        """Wait for a token of the client-side bucket that keeps under the space's limit."""
        now = time.monotonic()
        self.tokens = min(CLIENT_BURST, self.tokens + (now - self.refilled) * CLIENT_RATE)
        self.refilled = now
        if self.tokens < 1:
            await trio.sleep((1 - self.tokens) / CLIENT_RATE)
            self.tokens, self.refilled = 1.0, time.monotonic()
        self.tokens -= 1

    async def send(self) -> None:
        client_id = str(uuid.uuid4())
        self.outstanding[client_id] = time.perf_counter()
        content = f"{clients.stamp()} {CONTENT_PAD}"
        await clients.send(self.ws, {"type": "message", "client_id": client_id, "content": content})


async def _read_answers(visitor: _Visitor, slots: trio.Semaphore, done: trio.CancelScope) -> None:
    """Count acks and errors until cancelled; a closed socket ends the visitor's drive."""
    try:
        while True:
            frame = await clients.receive(visitor.ws)
            kind = frame.get("type")
            if kind not in ("ack", "error"):
                continue  # agents, thread...: not what this scenario measures
            sent = visitor.outstanding.pop(str(frame.get("client_id")), None)
            if kind == "ack" and sent is not None:
                visitor.acked += 1
                visitor.ack_ms.append((time.perf_counter() - sent) * 1000)
            else:
                visitor.errors[str(frame.get("code", "unknown"))] += 1
            if sent is not None:
                slots.release()
    except ConnectionClosed:
        visitor.errors["closed"] += max(1, len(visitor.outstanding))
        done.cancel()


async def _append(visitor: _Visitor, count: int) -> None:
    """Send `count` messages as fast as acks come back (WINDOW in flight), within the limit."""
    slots = trio.Semaphore(WINDOW)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_read_answers, visitor, slots, nursery.cancel_scope)
        for _ in range(count):
            await slots.acquire()
            await visitor.paced()
            await visitor.send()
        for _ in range(WINDOW):  # every answer in
            await slots.acquire()
        nursery.cancel_scope.cancel()


async def _steady(visitor: _Visitor, interval: float, offset: float, until: float) -> None:
    """One message every `interval` s until `until` (a message whose window is full is
    skipped and counted, so the offered load stays open-loop)."""
    slots = trio.Semaphore(WINDOW)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_read_answers, visitor, slots, nursery.cancel_scope)
        due = trio.current_time() + offset
        while due < until:
            await trio.sleep_until(due)
            due += interval
            try:
                slots.acquire_nowait()
            except trio.WouldBlock:
                visitor.errors["skipped"] += 1
                continue
            await visitor.send()
        with trio.move_on_after(DRAIN_SECONDS):
            for _ in range(WINDOW):
                await slots.acquire()
        visitor.errors["unanswered"] += len(visitor.outstanding)
        nursery.cancel_scope.cancel()


async def _connect(
    nursery: trio.Nursery, job: VisitorJob, sessions: list[str | None]
) -> list[_Visitor]:
    """Every visitor of the job, resuming its session of an earlier repeat (same visitor)."""
    limiter = trio.CapacityLimiter(CONNECT_CONCURRENCY)
    found: list[_Visitor | None] = [None] * len(job.keys)

    async def one(index: int) -> None:
        async with limiter:
            ws, welcome, _ = await clients.open_widget(
                nursery, job.ws_url, job.keys[index], session=sessions[index]
            )
        sessions[index] = str(welcome["session"])
        found[index] = _Visitor(ws)

    async with trio.open_nursery() as connecting:
        for index in range(len(job.keys)):
            connecting.start_soon(one, index)
    return [v for v in found if v is not None]


def _tally(visitors: list[_Visitor], seconds: float) -> dict[str, Any]:
    errors: Counter[str] = Counter()
    for visitor in visitors:
        errors.update(visitor.errors)
        visitor.errors.clear()
    ack_ms = [ms for v in visitors for ms in v.ack_ms]
    acked = sum(v.acked for v in visitors)
    for visitor in visitors:
        visitor.acked, visitor.ack_ms = 0, []
    return {"acked": acked, "seconds": seconds, "errors": dict(errors), "ack_ms": ack_ms}


async def _close(visitors: list[_Visitor]) -> None:
    with trio.move_on_after(DRAIN_SECONDS) as scope:
        scope.shield = True
        for visitor in visitors:
            await visitor.ws.aclose()


async def worker(job: VisitorJob, link: Link) -> None:
    """Commands: connect, append <count>, steady {rate, seconds}, close."""
    sessions: list[str | None] = [None] * len(job.keys)
    visitors: list[_Visitor] = []
    async with trio.open_nursery() as nursery:  # the sockets' reader tasks live here
        async for name, args in link.commands():
            with trio.fail_after(COMMAND_TIMEOUT_SECONDS):
                started = time.perf_counter()
                async with trio.open_nursery() as drive:
                    if name == "connect":
                        visitors = await _connect(nursery, job, sessions)
                    elif name == "append" and visitors:
                        for visitor, count in zip(
                            visitors, split(args, len(visitors)), strict=True
                        ):
                            drive.start_soon(_append, visitor, count)
                    elif name == "steady" and visitors:
                        rate, until = args["rate"], trio.current_time() + args["seconds"]
                        interval = len(visitors) / rate if rate else args["seconds"]
                        for index, visitor in enumerate(visitors):
                            offset = interval * index / len(visitors)
                            drive.start_soon(_steady, visitor, interval, offset, until)
                    elif name == "close":
                        await _close(visitors)
                        visitors = []
            await link.reply(_tally(visitors, time.perf_counter() - started))
        await _close(visitors)
        nursery.cancel_scope.cancel()
