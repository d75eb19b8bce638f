"""A Redis outage: sessions get `unavailable` and go on; after it, the same client_id lands once."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from chat.config import Settings
from chat.embedded.valkey import ValkeyProcess, start_valkey, stop_valkey
from tests.helpers.chat import agent_socket, make_org, widget


@pytest.fixture
def settings(settings: Settings, private_valkey: tuple[Path, ValkeyProcess]) -> Settings:
    return settings.model_copy(update={"redis_url": private_valkey[1].url})


async def test_visitor_hears_unavailable_then_retries_once(
    base_url: str, private_valkey: tuple[Path, ValkeyProcess]
) -> None:
    data, valkey = private_valkey
    with trio.fail_after(90):
        org = await make_org(base_url)
        async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
            async with widget(org) as (visitor, _):
                first = await visitor.say("before the outage")
                await agent.expect("message", client_id=first["client_id"])
                await trio.to_thread.run_sync(stop_valkey, data)
                await visitor.send({"type": "message", "client_id": "during", "content": "x"})
                error = await visitor.expect("error", timeout=30)
                assert error["code"] == "unavailable" and error["client_id"] == "during"
                await trio.to_thread.run_sync(lambda: start_valkey(data, port=valkey.port))
                # The same client_id again, now that Redis is back: acked, stored once.
                with trio.fail_after(30):
                    while True:
                        await visitor.send(
                            {"type": "message", "client_id": "during", "content": "x"}
                        )
                        frame = await visitor.expect_any(("ack", "error"))
                        if frame["type"] == "ack":
                            break
                        assert frame["code"] == "unavailable"
                        await trio.sleep(0.5)  # a client's retry delay
                ack = frame
                # The reader found its way back: the agent gets the message live.
                got = await agent.expect("message", client_id="during", timeout=30)
                assert got["id"] == ack["id"]
                assert (await visitor.say("after", client_id="during"))["id"] == ack["id"]
