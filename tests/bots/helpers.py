"""Bots seen from outside: one made through the REST API, and an external bot client written
against the documented agent WebSocket (README "Bots"), as a company writing its own would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import trio
from trio_websocket import WebSocketConnection, open_websocket_url

from tests.helpers.chat import Org
from tests.helpers.http import call


@dataclass
class BotAccount:
    bot: dict[str, Any]
    token: str


async def make_bot(org: Org, name: str = "Helper") -> BotAccount:
    reply = await call("POST", f"{org.base}/api/v1/bots", {"name": name}, token=org.token)
    assert reply.status == 201, reply.body
    assert reply.body["bot"]["kind"] == "bot"
    assert reply.body["token"].startswith("chat_bot_")
    return BotAccount(reply.body["bot"], reply.body["token"])


async def route_space_to_bot(org: Org, bot_id: str | None) -> None:
    reply = await call(
        "PATCH",
        f"{org.base}/api/v1/spaces/{org.space['id']}",
        {"settings": {"bot_agent_id": bot_id}},
        token=org.token,
    )
    assert reply.status == 200, reply.body


@dataclass
class ExternalBot:
    """A bot client: it connects with its token, subscribes to every space its welcome lists,
    answers each visitor message in the conversations it holds, and notes what it heard."""

    ws: WebSocketConnection
    me: str
    answers: list[str] = field(default_factory=list)
    handed_over: list[dict[str, Any]] = field(default_factory=list)
    got: trio.Event = field(default_factory=trio.Event)
    held: set[str] = field(default_factory=set)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_message(json.dumps(frame))

    async def run(self) -> None:
        """Until cancelled: the bot's reading loop."""
        n = 0
        while True:
            frame = json.loads(await self.ws.get_message())
            match frame.get("type"):
                case "thread.updated" if frame["change"] == "assigned":
                    if frame.get("agent_id") == self.me:
                        self.held.add(frame["thread"]["id"])
                case "thread.updated" if frame["change"] == "handed_over":
                    self.held.discard(frame["thread"]["id"])
                    self.handed_over.append(frame)
                    self.got.set()
                case "message" if frame["sender_type"] == "visitor":
                    if frame["thread_id"] in self.held:
                        n += 1
                        text = f"Bot answer {n} to: {frame['content']}"
                        self.answers.append(text)
                        await self.send(
                            {
                                "type": "message",
                                "thread_id": frame["thread_id"],
                                "client_id": f"bot-{n}",
                                "content": text,
                            }
                        )
                        self.got.set()

    async def wait(self) -> None:
        """Until the bot did something it had not when this was called last."""
        await self.got.wait()
        self.got = trio.Event()


@asynccontextmanager
async def external_bot(base: str, token: str) -> AsyncIterator[ExternalBot]:
    url = f"{base.replace('http://', 'ws://')}/ws/agent?token={token}"
    async with open_websocket_url(url) as ws:
        welcome = json.loads(await ws.get_message())
        assert welcome["type"] == "welcome"
        assert welcome["agent"]["kind"] == "bot"
        bot = ExternalBot(ws, welcome["agent"]["id"])
        for space in welcome["spaces"]:
            await bot.send({"type": "subscribe", "space_id": space["id"]})
            while json.loads(await ws.get_message())["type"] != "subscribed":
                pass
        await bot.send({"type": "heartbeat"})
        async with trio.open_nursery() as nursery:
            nursery.start_soon(bot.run)
            yield bot
            nursery.cancel_scope.cancel()
