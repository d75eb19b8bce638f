"""`fsync` durability: the append and WAITAOF travel together; acks still come back."""

from __future__ import annotations

import pytest
import trio

from chat.config import Settings
from tests.helpers.chat import agent_socket, make_org, widget


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"ack_durability": "fsync"})


async def test_fsync_mode_acks_and_delivers(base_url: str, settings: Settings) -> None:
    assert settings.ack_durability == "fsync"
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
            async with widget(org) as (visitor, _):
                ack = await visitor.say("durable, fsynced")
                assert (await agent.expect("message"))["id"] == ack["id"]
                again = await visitor.say("durable, fsynced", client_id=ack["client_id"])
                assert again["id"] == ack["id"]
