"""A real agent WebSocket client for sync browser tests.

Playwright's sync API owns the test thread, so the agent runs `trio.run` in a background thread
and the test calls into it with `trio.from_thread.run(..., trio_token=...)`. Every frame the
agent receives is kept, so a test can wait for one that arrived before it started waiting, and
count frames afterwards ("exactly once").
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

T = TypeVar("T")
# A test waits this long for a frame unless it says otherwise.
FRAME_TIMEOUT = 15.0
# The contract wants a heartbeat at least every 25 s.
HEARTBEAT_SECONDS = 20.0
START_TIMEOUT = 30.0


class AgentDriver:
    """One agent socket (`/ws/agent`), subscribed to one space, heartbeating while it runs."""

    def __init__(self, base: str, token: str, space_id: str) -> None:
        self.url = f"{base.replace('http://', 'ws://')}/ws/agent?token={token}"
        self.space_id = space_id
        self.frames: list[dict[str, Any]] = []
        self._ws: WebSocketConnection | None = None
        self._arrived = trio.Event()
        self._cancel: trio.CancelScope | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    # --- lifetime (test thread) ----------------------------------------------------------------

    def start(self) -> None:
        """Connect, subscribe and send the first heartbeat; returns once the agent is online."""
        handoff: queue.Queue[BaseException | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, args=(handoff,), daemon=True)
        self._thread.start()
        failure = handoff.get(timeout=START_TIMEOUT)
        if failure is not None:
            raise AssertionError(f"the agent client could not start: {failure!r}") from failure

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._token is not None and self._cancel is not None:
            try:
                trio.from_thread.run_sync(self._cancel.cancel, trio_token=self._token)
            except trio.RunFinishedError:
                pass
        self._thread.join(timeout=START_TIMEOUT)
        self._thread = None

    def _run(self, handoff: queue.Queue[BaseException | None]) -> None:
        try:
            trio.run(self._main, handoff)
        except BaseException as exc:  # noqa: BLE001 - reported to the test through _failure
            self._failure = exc
            handoff.put(exc)

    async def _main(self, handoff: queue.Queue[BaseException | None]) -> None:
        self._token = trio.lowlevel.current_trio_token()
        with trio.CancelScope() as self._cancel:
            async with open_websocket_url(self.url) as ws, trio.open_nursery() as nursery:
                self._ws = ws
                nursery.start_soon(self._read, ws)
                with trio.fail_after(START_TIMEOUT):
                    await self._wait(lambda: self._find("welcome"))
                    await self._send({"type": "subscribe", "space_id": self.space_id})
                    await self._wait(lambda: self._find("subscribed", space_id=self.space_id))
                    await self._send({"type": "heartbeat"})
                nursery.start_soon(self._heartbeat)
                handoff.put(None)

    async def _read(self, ws: WebSocketConnection) -> None:
        try:
            while True:
                self.frames.append(json.loads(await ws.get_message()))
                self._arrived.set()
                self._arrived = trio.Event()
        except ConnectionClosed as closed:
            raise AssertionError(f"the agent socket closed: {closed.reason}") from closed

    async def _heartbeat(self) -> None:
        while True:
            await trio.sleep(HEARTBEAT_SECONDS)
            await self._send({"type": "heartbeat"})

    async def _send(self, frame: dict[str, Any]) -> None:
        assert self._ws is not None
        await self._ws.send_message(json.dumps(frame))

    async def _wait(self, found: Callable[[], T | None]) -> T:
        while (result := found()) is None:
            await self._arrived.wait()
        return result

    def _find(self, type_: str, **match: Any) -> dict[str, Any] | None:
        return next((f for f in self.frames if _matches(f, type_, match)), None)

    # --- calls from the test thread ------------------------------------------------------------

    def _call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        if self._failure is not None:
            raise AssertionError(f"the agent client failed: {self._failure!r}") from self._failure
        assert self._token is not None, "start() the agent first"
        return trio.from_thread.run(fn, *args, trio_token=self._token)

    def wait_for(
        self,
        type_: str,
        timeout: float = FRAME_TIMEOUT,
        where: Callable[[dict[str, Any]], bool] | None = None,
        **match: Any,
    ) -> dict[str, Any]:
        """The first frame received so far, or from now on, of this type with these fields
        (and for which `where` holds, if given)."""

        def found() -> dict[str, Any] | None:
            return next(
                (
                    f
                    for f in self.frames
                    if _matches(f, type_, match) and (where is None or where(f))
                ),
                None,
            )

        async def wait() -> dict[str, Any]:
            with trio.fail_after(timeout):
                return await self._wait(found)

        try:
            return self._call(wait)
        except trio.TooSlowError:
            raise AssertionError(
                f"no {type_} frame with {match} within {timeout} s; got {self.frames}"
            ) from None

    def count(self, type_: str, **match: Any) -> int:
        """How many frames of this type with these fields have arrived (read on the agent's loop,
        so never in the middle of an append)."""

        async def count() -> int:
            return sum(_matches(f, type_, match) for f in self.frames)

        return self._call(count)

    def matching(
        self,
        type_: str,
        where: Callable[[dict[str, Any]], bool] | None = None,
        **match: Any,
    ) -> list[dict[str, Any]]:
        """Every frame so far of this type with these fields (and for which `where` holds, if
        given), in the order received; read on the agent's loop, like count()."""

        async def matching() -> list[dict[str, Any]]:
            return [
                f for f in self.frames if _matches(f, type_, match) and (where is None or where(f))
            ]

        return self._call(matching)

    def send(self, frame: dict[str, Any]) -> None:
        self._call(self._send, frame)

    def claim(self, thread_id: str) -> dict[str, Any]:
        self.send({"type": "claim", "thread_id": thread_id})
        return self.wait_for("ack", ref="claim", thread_id=thread_id)

    def say(self, thread_id: str, content: str) -> dict[str, Any]:
        """Post a message in the thread; returns its ack (the message is in the log)."""
        client_id = str(uuid.uuid4())
        self.send(
            {"type": "message", "thread_id": thread_id, "client_id": client_id, "content": content}
        )
        return self.wait_for("ack", client_id=client_id)


def _matches(frame: dict[str, Any], type_: str, match: dict[str, Any]) -> bool:
    return frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items())
