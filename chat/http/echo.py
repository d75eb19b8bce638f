"""A bare WebSocket echo through the same stack (hypercorn, quart-trio, the same limits).

Only with `CHAT_BENCH_ECHO=true`: the bench's ceiling figure, so that every msgs/s it reports
can also be read as a share of what this stack does with no work at all per frame.
"""

from __future__ import annotations

from quart import Blueprint, websocket


def echo_blueprint() -> Blueprint:
    bp = Blueprint("echo", __name__)

    @bp.websocket("/ws/echo")
    async def echo_socket() -> None:
        await websocket.accept()
        while True:
            await websocket.send(await websocket.receive())

    return bp
