"""Sockets at the ends of their lives: a stopping server closes them with 1012 and exits
without waiting out its graceful timeout; a silent peer is closed with 1001."""

from __future__ import annotations

from pathlib import Path

import trio

from chat.config import Settings
from chat.server import serve
from tests.conftest import ServerProcess, free_port
from tests.helpers.chat import agent_socket, close_code, make_org, widget

# hypercorn's graceful_timeout is 5 s: a stop that waited it out would take at least that.
STOPPED_WITHIN = 4.0


async def test_stopping_server_closes_sockets_with_1012_and_exits_promptly(
    settings: Settings, server_processes: list[ServerProcess], tmp_path: Path
) -> None:
    server = ServerProcess(settings, free_port())
    server_processes.append(server)
    await server.start("a", tmp_path)
    org = await make_org(server.base)
    async with widget(org) as (visitor, _), agent_socket(org.base, org.token) as (agent, _):
        # A socket that already came and went must not hold the stop up either.
        async with widget(org):
            pass
        assert server.proc is not None
        server.proc.terminate()
        assert await close_code(visitor) == 1012
        assert await close_code(agent) == 1012
    await trio.to_thread.run_sync(server.proc.wait, STOPPED_WITHIN)


async def test_a_silent_socket_is_closed_with_1001(
    settings: Settings, nursery: trio.Nursery
) -> None:
    quiet = settings.model_copy(update={"socket_idle_timeout_seconds": 0.5})
    binds = await nursery.start(serve, quiet, "127.0.0.1", 0)
    org = await make_org(str(binds[0]))
    async with widget(org) as (visitor, _):
        assert await close_code(visitor) == 1001
    async with widget(org) as (talker, _):
        # Pings keep it open past the timeout.
        for _ in range(4):
            await talker.send({"type": "ping"})
            await talker.expect("pong")
            with trio.move_on_after(0.3):
                await talker.ws.get_message()
                raise AssertionError("nothing but pongs is expected")
