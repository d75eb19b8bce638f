"""A steady widget load for the fault suite (tests/faults): a few visitors that keep chatting
through an outage the way a careful widget would, and a record of what each one saw.

Each visitor sends one message at a time, each under a fresh client_id, and waits for its
answer. `unavailable` (or no answer at all) means "maybe stored": the same client_id is sent
again, on this socket or after a reconnect (with the session token and `last`), until it is
acked; the contract promises it is stored once however often it is sent. A lost socket or a
refused handshake is retried after a short delay, on the next server in the visitor's list.
What the visitor met on the way (error codes, close codes, HTTP statuses) is counted by name.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    ConnectionTimeout,
    HandshakeError,
    WebSocketConnection,
    open_websocket_url,
)

from chat.ids import id_key
from tests.helpers.chat import ORIGIN

# How long one send waits for its ack or error before the socket is given up. The service's own
# storage deadlines are 5 s (structures.md, "Deadlines and cancellation"), so a live server
# always answers well within this; silence this long means the server itself is gone or hung.
ANSWER_TIMEOUT_SECONDS = 15.0
# A widget's pause before it sends a refused (unavailable) message again.
RETRY_DELAY_SECONDS = 0.5
# A widget's pause before it reconnects after a lost socket or a refused handshake.
RECONNECT_DELAY_SECONDS = 0.5
CONNECT_TIMEOUT_SECONDS = 10.0
DISCONNECT_TIMEOUT_SECONDS = 2.0

# Space settings that keep the rate limit out of the way: the load is not a flood, and a resend
# storm after an outage must not be what the test measures.
GENEROUS_SETTINGS = {"visitor_messages_per_second": 50, "visitor_burst": 200}


class NoAnswerError(Exception):
    """A send got neither an ack nor an error within ANSWER_TIMEOUT_SECONDS."""


@dataclass
class Visitor:
    """One widget visitor of the load: where it connects, what it was acked, what it met."""

    name: str
    bases: list[str]  # ws://host:port of the servers to try, the first one preferred
    widget_key: str
    at: int = 0  # index in `bases` of the server in use
    session: str | None = None
    last: str | None = None  # the newest message id this visitor has seen
    pending: str | None = None  # a client_id sent and not acked yet
    acked: dict[str, str] = field(default_factory=dict)  # client_id -> message id
    ack_times: list[float] = field(default_factory=list)
    max_wait: float = 0.0  # the longest a send waited for its answer (ack or error)
    codes: Counter[str] = field(default_factory=Counter)
    # Contract breaches seen from the client side (an ack that changed its id, a resume that
    # repeated an old message): asserted empty by the tests.
    breaches: list[str] = field(default_factory=list)
    connects: int = 0

    def see(self, message_id: str) -> None:
        if self.last is None or id_key(message_id) > id_key(self.last):
            self.last = message_id

    def url(self) -> str:
        url = f"{self.bases[self.at]}/ws/widget?key={self.widget_key}"
        if self.session:
            url += f"&session={self.session}"
        if self.last:
            url += f"&last={self.last}"
        return url

    def max_gap(self) -> float:
        """The longest time between two acks this visitor saw."""
        times = self.ack_times
        return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)


@dataclass
class Load:
    """The visitors and the pace: each waits `interval` after an ack before its next send."""

    visitors: list[Visitor]
    interval: float
    stopping: trio.Event = field(default_factory=trio.Event)

    @classmethod
    def spread(cls, bases: list[str], widget_key: str, *, visitors: int, per_second: float) -> Load:
        """`visitors` visitors sending `per_second` messages a second in total, spread over the
        servers (visitor i prefers server i mod n, and fails over to the next)."""
        ws = [b.replace("http://", "ws://") for b in bases]
        made = [
            Visitor(f"v{i}", ws[i % len(ws) :] + ws[: i % len(ws)], widget_key)
            for i in range(visitors)
        ]
        return cls(made, interval=visitors / per_second)

    async def run(self) -> None:
        """Run every visitor until `stopping` is set and each has its last message acked."""
        async with trio.open_nursery() as nursery:
            for visitor in self.visitors:
                nursery.start_soon(run_visitor, visitor, self)

    @property
    def acked(self) -> dict[str, str]:
        return {cid: mid for v in self.visitors for cid, mid in v.acked.items()}

    @property
    def codes(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for v in self.visitors:
            total.update(v.codes)
        return total

    @property
    def breaches(self) -> list[str]:
        return [f"{v.name}: {b}" for v in self.visitors for b in v.breaches]

    def max_gap(self) -> float:
        return max(v.max_gap() for v in self.visitors)

    def max_wait(self) -> float:
        return max(v.max_wait for v in self.visitors)

    def fewest_acks_since(self, since: float) -> int:
        """The smallest number of acks any one visitor got after `since` (trio time)."""
        return min(sum(1 for t in v.ack_times if t > since) for v in self.visitors)

    async def wait_acks_since(self, since: float, each: int) -> None:
        """Until every visitor has been acked `each` messages after `since`: the service is back
        for all of them. The caller bounds this with its deadline."""
        while self.fewest_acks_since(since) < each:
            await trio.sleep(0.1)  # polling the visitors' progress, under the caller's deadline


async def run_visitor(visitor: Visitor, load: Load) -> None:
    """Chat until the load stops and nothing is pending; reconnect through anything else."""
    while True:
        try:
            await _converse(visitor, load)
            return
        except ConnectionRejected as rejected:
            visitor.codes[f"http {rejected.status_code}"] += 1
        except ConnectionTimeout:
            visitor.codes["connect timeout"] += 1
        except ConnectionClosed as closed:
            code = closed.reason.code if closed.reason is not None else None
            visitor.codes[f"close {code}"] += 1
        except NoAnswerError:
            visitor.codes["no answer"] += 1
        except (OSError, HandshakeError):
            visitor.codes["connect refused"] += 1
        visitor.at = (visitor.at + 1) % len(visitor.bases)
        await trio.sleep(RECONNECT_DELAY_SECONDS)


async def _converse(visitor: Visitor, load: Load) -> None:
    async with open_websocket_url(
        visitor.url(),
        extra_headers=[(b"Origin", ORIGIN.encode())],
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        disconnect_timeout=DISCONNECT_TIMEOUT_SECONDS,
    ) as ws:
        visitor.connects += 1
        welcome = await _next_of(ws, visitor, "welcome")
        resumed_after = visitor.last
        visitor.session = welcome["session"]
        for message in welcome["history"]:
            if resumed_after is not None and id_key(message["id"]) <= id_key(resumed_after):
                visitor.breaches.append(f"resume after {resumed_after} sent {message['id']}")
            visitor.see(message["id"])
        while True:
            if visitor.pending is None:
                if load.stopping.is_set():
                    return
                visitor.pending = str(uuid.uuid4())
            answer = await _send(ws, visitor, visitor.pending)
            if answer["type"] == "ack":
                _record_ack(visitor, answer)
                await trio.sleep(load.interval)  # the load's pace, not a synchronisation
            else:
                visitor.codes[f"error {answer['code']}"] += 1
                await trio.sleep(RETRY_DELAY_SECONDS)  # a widget's retry delay


async def _send(ws: WebSocketConnection, visitor: Visitor, client_id: str) -> dict[str, Any]:
    frame = {"type": "message", "client_id": client_id, "content": f"{visitor.name} {client_id}"}
    await ws.send_message(json.dumps(frame))
    sent = trio.current_time()
    try:
        with trio.move_on_after(ANSWER_TIMEOUT_SECONDS):
            while True:
                answer = await _next_frame(ws, visitor)
                if answer["type"] in ("ack", "error") and answer.get("client_id") == client_id:
                    return answer
        raise NoAnswerError
    finally:
        visitor.max_wait = max(visitor.max_wait, trio.current_time() - sent)


async def _next_of(ws: WebSocketConnection, visitor: Visitor, type_: str) -> dict[str, Any]:
    with trio.move_on_after(ANSWER_TIMEOUT_SECONDS):
        while True:
            frame = await _next_frame(ws, visitor)
            if frame["type"] == type_:
                return frame
    raise NoAnswerError


async def _next_frame(ws: WebSocketConnection, visitor: Visitor) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await ws.get_message())
    if frame["type"] == "message":
        visitor.see(frame["id"])
    return frame


def _record_ack(visitor: Visitor, ack: dict[str, Any]) -> None:
    client_id, message_id = ack["client_id"], ack["id"]
    before = visitor.acked.get(client_id)
    if before is not None and before != message_id:
        visitor.breaches.append(f"{client_id} acked as {before}, then as {message_id}")
    visitor.acked[client_id] = message_id
    visitor.ack_times.append(trio.current_time())
    visitor.pending = None
    visitor.see(message_id)
