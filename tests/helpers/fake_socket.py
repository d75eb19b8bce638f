"""An in-process WebSocket peer implementing chat.actors.socket.Socket, for unit tests of the
sessions (the real endpoints are tested through hypercorn in the other tests)."""

from __future__ import annotations

import json

import orjson
import trio

from chat.json_types import Json


class FakeSocket:
    """The peer's end, in process: `say` is a frame from the client, `next` the next frame the
    session sent (EndOfChannel once the session is over); `close` records the code and ends the
    client's side, as the client's close reply does."""

    def __init__(self) -> None:
        self._in_send, self._in = trio.open_memory_channel[str | bytes](100)
        self._out, self._out_receive = trio.open_memory_channel[str](100)
        self.closed_with: int | None = None

    async def receive(self) -> str | bytes:
        try:
            return await self._in.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError) as exc:
            raise OSError("the peer is gone") from exc

    async def send(self, data: str) -> None:
        await self._out.send(data)

    async def close(self, code: int, reason: str = "") -> None:
        self.closed_with = code
        self._in.close()

    async def say(self, frame: Json | str) -> None:
        await self._in_send.send(frame if isinstance(frame, str) else json.dumps(frame))

    def session_over(self) -> None:
        self._out.close()

    async def next(self) -> Json:
        frame: Json = orjson.loads(await self._out_receive.receive())
        return frame

    def nothing_sent(self) -> bool:
        try:
            self._out_receive.receive_nowait()
        except trio.WouldBlock:
            return True
        return False
