"""Storm's agents: one per space, in the coordinator's process (see storm.py for the scenario).
Each posts into its space's threads while the visitors are away or coming back, and keeps the
acked id per thread: what the visitors must then have received (storm_proof)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from bench import clients
from bench.scenarios.storm_visitors import ACK_TIMEOUT_SECONDS, HEARTBEAT_SECONDS


@dataclass
class AgentLine:
    """One space's agent socket, read all along (its feed of the space included) so the acks of
    its posts can be matched by client_id."""

    token: str
    space_id: str
    ws: WebSocketConnection | None = None
    waiting: dict[str, str] = field(default_factory=dict)  # client_id -> thread_id
    acked: dict[str, str] = field(default_factory=dict)  # thread_id -> message id
    errors: int = 0
    done: trio.Event = field(default_factory=trio.Event)

    async def connect(self, nursery: trio.Nursery, ws_url: str) -> None:
        self.ws = await clients.open_agent(nursery, ws_url, self.token, (self.space_id,))
        nursery.start_soon(self.read, self.ws)

    async def read(self, ws: WebSocketConnection) -> None:
        try:
            while True:
                frame = await clients.receive(ws)
                kind, client_id = frame.get("type"), frame.get("client_id")
                if client_id not in self.waiting or kind not in ("ack", "error"):
                    continue
                thread_id = self.waiting.pop(client_id)
                if kind == "ack":
                    self.acked[thread_id] = frame["id"]
                else:
                    self.errors += 1
                if not self.waiting:
                    self.done.set()
        except ConnectionClosed:
            return

    async def post(self, thread_ids: list[str]) -> dict[str, str]:
        """One message into each thread; the acked id per thread (an error leaves it out)."""
        assert self.ws is not None
        self.acked, self.done = {}, trio.Event()
        self.waiting = {str(uuid.uuid4()): thread_id for thread_id in thread_ids}
        if not self.waiting:
            return {}
        for client_id, thread_id in list(self.waiting.items()):
            frame = {
                "type": "message",
                "thread_id": thread_id,
                "client_id": client_id,
                "content": f"agent {clients.stamp()}",
            }
            await clients.send(self.ws, frame)
        with trio.move_on_after(ACK_TIMEOUT_SECONDS):
            await self.done.wait()
        self.errors += len(self.waiting)  # unanswered in time
        return dict(self.acked)

    async def heartbeat(self) -> None:
        while True:
            await trio.sleep(HEARTBEAT_SECONDS)
            if self.ws is not None:
                try:
                    await clients.send(self.ws, {"type": "heartbeat"})
                except ConnectionClosed:
                    pass
