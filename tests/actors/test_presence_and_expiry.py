"""Presence from heartbeats (a crashed process's agents go offline by themselves) and expiry."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from chat.config import Settings
from tests.conftest import ServerProcess, free_port
from tests.helpers.chat import agent_socket, make_org, widget


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"presence_ttl_seconds": 2})


async def test_widget_hears_agents_come_and_go(base_url: str) -> None:
    with trio.fail_after(30):
        org = await make_org(base_url)
        async with widget(org) as (visitor, welcome):
            assert welcome["agents_online"] is False
            async with agent_socket(base_url, org.token):
                assert (await visitor.expect("agents"))["online"] is True
            assert (await visitor.expect("agents"))["online"] is False


async def test_crashed_process_agents_go_offline(
    base_url: str, settings: Settings, server_processes: list[ServerProcess], tmp_path: Path
) -> None:
    """The agent's process is killed: no goodbye; the sweep in another process notices."""
    with trio.fail_after(40):
        org = await make_org(base_url)
        other = ServerProcess(settings, free_port())
        server_processes.append(other)
        await other.start("doomed", tmp_path)
        # The surviving in-process server sweeps with a 2 s presence TTL.
        async with widget(org) as (visitor, _):
            async with agent_socket(other.base, org.token) as (agent, _):
                assert (await visitor.expect("agents"))["online"] is True
                other.kill()
            assert (await visitor.expect("agents", timeout=30))["online"] is False


async def test_idle_thread_expires_and_both_sides_hear(base_url: str) -> None:
    with trio.fail_after(40):
        # Reopening off: a visitor writing after the expiry starts a new conversation.
        org = await make_org(
            base_url, settings={"thread_ttl_seconds": 10, "reopen_window_seconds": 0}
        )
        async with agent_socket(base_url, org.token, subscribe=org.space["id"]) as (agent, _):
            async with widget(org) as (visitor, _):
                ack = await visitor.say("anyone?")
                frame = await visitor.expect("thread", timeout=30)
                while frame["thread"]["status"] != "expired":
                    frame = await visitor.expect("thread", timeout=30)
                assert frame["thread"]["id"] == ack["thread_id"]
                update = await agent.expect("thread.updated", change="expired", timeout=30)
                assert update["thread"]["id"] == ack["thread_id"]
                again = await visitor.say("hello again")
                assert again["thread_id"] != ack["thread_id"]
