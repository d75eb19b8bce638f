"""Protocol-level helpers: accounts, spaces, widget and agent sockets."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    WebSocketConnection,
    open_websocket_url,
)

from tests.helpers.http import call

ORIGIN = "https://shop.example.com"
PASSWORD = "correct horse"  # every account made here signs in with it
FRAME_TIMEOUT = 10.0
# Revocations must close sockets "within seconds"; the XADD itself wakes every follower.
CLOSE_WITHIN = 5.0


@dataclass
class Org:
    base: str
    token: str
    agent: dict[str, Any]
    space: dict[str, Any]

    @property
    def ws_base(self) -> str:
        return self.base.replace("http://", "ws://")


async def make_org(base: str, *, allowed: list[str] | None = None, settings: Any = None) -> Org:
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    reply = await call(
        "POST",
        f"{base}/api/v1/auth/register",
        {"organization_name": "Acme", "name": "Ada", "email": email, "password": PASSWORD},
    )
    assert reply.status == 201, reply.body
    token = reply.body["access_token"]
    body: dict[str, Any] = {"name": "Shop", "allowed_domains": allowed or ["shop.example.com"]}
    if settings:
        body["settings"] = settings
    space = await call("POST", f"{base}/api/v1/spaces", body, token=token)
    assert space.status == 201, space.body
    return Org(base, token, reply.body["agent"], space.body)


def _matches(frame: dict[str, Any], type_: str, match: dict[str, Any]) -> bool:
    return frame.get("type") == type_ and all(frame.get(k) == v for k, v in match.items())


@dataclass
class Client:
    ws: WebSocketConnection
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_message(json.dumps(frame))

    async def next(self, timeout: float = FRAME_TIMEOUT) -> dict[str, Any]:
        with trio.fail_after(timeout):
            frame: dict[str, Any] = json.loads(await self.ws.get_message())
        self.seen.append(frame)
        return frame

    async def expect(
        self, type_: str, timeout: float = FRAME_TIMEOUT, **match: Any
    ) -> dict[str, Any]:
        """The next frame of this type (and fields); other frames in between are kept in seen."""
        with trio.fail_after(timeout):
            while True:
                frame = await self.next(timeout)
                if _matches(frame, type_, match):
                    return frame

    async def expect_since(
        self, mark: int, type_: str, timeout: float = FRAME_TIMEOUT, **match: Any
    ) -> dict[str, Any]:
        """The first frame of this type (and fields) received since `len(seen)` was `mark`,
        waiting for it if none has come: an entry's frame may arrive before the ack of the
        frame that appended it (the contract allows it), and an `expect` of that ack skips it."""
        for frame in self.seen[mark:]:
            if _matches(frame, type_, match):
                return frame
        return await self.expect(type_, timeout, **match)

    async def expect_any(self, types: tuple[str, ...]) -> dict[str, Any]:
        """The next frame whose type is one of `types`."""
        while True:
            frame = await self.next()
            if frame.get("type") in types:
                return frame

    async def say(self, content: str, **extra: Any) -> dict[str, Any]:
        client_id = extra.pop("client_id", str(uuid.uuid4()))
        await self.send({"type": "message", "client_id": client_id, "content": content, **extra})
        return await self.expect("ack", client_id=client_id)


@asynccontextmanager
async def widget(
    org: Org, *, session: str | None = None, last: str | None = None, origin: str = ORIGIN
) -> AsyncIterator[tuple[Client, dict[str, Any]]]:
    url = f"{org.ws_base}/ws/widget?key={org.space['widget_key']}"
    if session:
        url += f"&session={session}"
    if last:
        url += f"&last={last}"
    async with open_websocket_url(url, extra_headers=[("Origin", origin)]) as ws:
        client = Client(ws)
        welcome = await client.expect("welcome")
        yield client, welcome


async def assert_alive(client: Client) -> None:
    """The socket still answers: a ping gets its pong."""
    await client.send({"type": "ping"})
    await client.expect("pong")


async def handshake_status(org: Org, key: str) -> int | None:
    """The HTTP status a widget handshake with this key is refused with; None if accepted."""
    url = f"{org.ws_base}/ws/widget?key={key}"
    try:
        async with open_websocket_url(url, extra_headers=[(b"Origin", ORIGIN.encode())]):
            return None
    except ConnectionRejected as rejected:
        return int(rejected.status_code)


@asynccontextmanager
async def agent_socket(
    base: str, token: str, *, subscribe: str | None = None, cursor: str | None = None
) -> AsyncIterator[tuple[Client, dict[str, Any]]]:
    async with open_websocket_url(
        f"{base.replace('http://', 'ws://')}/ws/agent?token={token}"
    ) as ws:
        client = Client(ws)
        welcome = await client.expect("welcome")
        if subscribe:
            frame: dict[str, Any] = {"type": "subscribe", "space_id": subscribe}
            if cursor:
                frame["cursor"] = cursor
            await client.send(frame)
            await client.expect("subscribed", space_id=subscribe)
        yield client, welcome


async def close_code(client: Client, within: float = CLOSE_WITHIN) -> int:
    """The code the server closes this socket with (frames before it are skipped)."""
    with trio.fail_after(within):
        try:
            while True:
                await client.ws.get_message()
        except ConnectionClosed as closed:
            assert closed.reason is not None
            return int(closed.reason.code)
