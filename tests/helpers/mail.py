"""A real SMTP server for the email channel's tests: aiosmtpd's Controller, which runs its own
asyncio loop on a thread of its own (so it lives beside trio), collecting what it receives."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import trio
from aiosmtpd.controller import Controller

# The sink is in another thread with no trio event to wait on: poll, under a deadline.
POLL_SECONDS = 0.05
WAIT_SECONDS = 20.0


@dataclass(frozen=True)
class Received:
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class Sink:
    host: str
    port: int
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _received: list[Received] = field(default_factory=list)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def add(self, found: Received) -> None:
        with self._lock:
            self._received.append(found)

    async def wait_for(self, count: int, timeout: float = WAIT_SECONDS) -> list[Received]:
        """Once at least `count` mails have arrived: all of them, in arrival order."""
        with trio.fail_after(timeout):
            while len(got := self.received) < count:
                await trio.sleep(POLL_SECONDS)
        return got

    async def wait_for_mail(
        self, to: str, *, timeout: float = WAIT_SECONDS, skip: int = 0
    ) -> Received:
        """The first mail (after `skip` such mails) addressed to `to`."""
        with trio.fail_after(timeout):
            while True:
                found = [r for r in self.received if to in r.rcpt_tos]
                if len(found) > skip:
                    return found[skip]
                await trio.sleep(POLL_SECONDS)


class _Collect:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = bytes(envelope.original_content or envelope.content)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.sink.add(Received(list(envelope.rcpt_tos), message, raw))
        return "250 OK"


@asynccontextmanager
async def smtp_sink(port: int) -> AsyncIterator[Sink]:
    """An SMTP server on 127.0.0.1:`port` until the block ends."""
    sink = Sink("127.0.0.1", port)
    controller = Controller(_Collect(sink), hostname=sink.host, port=port)
    await trio.to_thread.run_sync(controller.start)  # returns once it answers
    try:
        yield sink
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(controller.stop)
