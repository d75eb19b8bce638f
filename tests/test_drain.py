"""The staged drain of a `chat serve` process (chat drain PID / SIGUSR1), and `serve --workers`
starting a worker that died again. These stop processes: marker serial."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import trio

from chat.config import Settings
from chat.errors import CLOSE_SERVICE_RESTART
from tests.conftest import ServerProcess, free_port
from tests.helpers.chat import Client, agent_socket, close_code, make_org, widget
from tests.helpers.db import POLL_SECONDS
from tests.helpers.http import call
from tests.helpers.ops import chat

pytestmark = pytest.mark.serial

BALANCER_SECONDS = 5.0
SPREAD_SECONDS = 2.0


async def _closed_at(client: Client, closes: list[tuple[float, int]]) -> None:
    code = await close_code(client, within=BALANCER_SECONDS + SPREAD_SECONDS + 20)
    closes.append((trio.current_time(), code))


async def test_a_drain_fails_readiness_then_closes_sockets_spread_out_and_exits(
    settings: Settings, tmp_path: Path
) -> None:
    draining = settings.model_copy(
        update={
            "drain_balancer_seconds": BALANCER_SECONDS,
            "drain_spread_seconds": SPREAD_SECONDS,
            "drain_timeout_seconds": 30.0,
        }
    )
    server = ServerProcess(draining, free_port())
    try:
        with trio.fail_after(120):
            await server.start("drained", tmp_path)
            assert server.proc is not None
            org = await make_org(server.base)
            closes: list[tuple[float, int]] = []
            async with (
                widget(org) as (first, _),
                widget(org) as (second, _),
                agent_socket(server.base, org.token, subscribe=org.space["id"]) as (agent, _),
                trio.open_nursery() as nursery,
            ):
                drained = trio.Event()

                async def run_drain() -> None:
                    done = await chat(settings, "drain", str(server.proc.pid))  # type: ignore[union-attr]
                    assert done.code == 0 and "has exited" in done.out, done
                    drained.set()

                nursery.start_soon(run_drain)
                with trio.fail_after(10):
                    while (ready := await call("GET", f"{server.base}/readyz")).status == 200:
                        await trio.sleep(POLL_SECONDS)
                started = trio.current_time()  # the drain began at most a poll before
                assert (ready.status, ready.body) == (503, {"status": "draining"})
                assert (await call("GET", f"{server.base}/healthz")).status == 200
                # Still serving while the balancer takes it out of rotation (a closed socket
                # would fail this).
                ack = await first.say("still here")
                await agent.expect("message", id=ack["id"])
                for client in (first, second, agent):
                    nursery.start_soon(_closed_at, client, closes)
                await drained.wait()
        assert server.proc.wait(timeout=10) == 0, server.read_log()
    finally:
        server.stop()
    assert [code for _, code in closes] == [CLOSE_SERVICE_RESTART] * 3
    times = sorted(t for t, _ in closes)
    assert times[0] - started >= BALANCER_SECONDS - 1
    # Three sockets over 2 s: one every 0.67 s, not all in one instant.
    assert times[-1] - times[0] >= SPREAD_SECONDS / 2


async def test_workers_restart_a_dead_worker_and_drain_together(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    server = ServerProcess(settings, port)
    env = server.env("ignored")
    env.pop("CHAT_NODE_ID")
    env["CHAT_DRAIN_BALANCER_SECONDS"] = env["CHAT_DRAIN_SPREAD_SECONDS"] = "0.5"
    log_path = tmp_path / "workers.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "chat.cli", "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server.proc = proc
    try:
        with trio.fail_after(120):
            await server.wait_ready()
            parent = psutil.Process(proc.pid)
            with trio.fail_after(30):
                while len(parent.children()) < 2:
                    await trio.sleep(POLL_SECONDS)
            before = {c.pid for c in parent.children()}
            victim = min(before)
            psutil.Process(victim).send_signal(signal.SIGKILL)
            with trio.fail_after(30):
                while len(now := {c.pid for c in parent.children()} - {victim}) < 2:
                    await trio.sleep(POLL_SECONDS)
            assert victim not in now and len(now & before) == 1
            await server.wait_ready()
            org = await make_org(server.base)
            for n in range(4):  # either worker may take each socket; all converse
                async with widget(org) as (visitor, _):
                    await visitor.say(f"after the restart {n}")

            done = await chat(settings, "drain", str(proc.pid))
            assert done.code == 0 and "has exited" in done.out, done
        assert proc.wait(timeout=10) == 0, log_path.read_text()
    finally:
        server.stop()
    assert f"worker {victim} exited (-9); starting another" in log_path.read_text()


async def test_drain_refuses_a_process_that_is_not_chat_serve(settings: Settings) -> None:
    sleeper = await trio.lowlevel.open_process(
        [sys.executable, "-c", "import time; time.sleep(60)"]
    )
    try:
        done = await chat(settings, "drain", str(sleeper.pid))
        assert done.code == 2 and "is not `chat serve`" in done.err, done
        assert sleeper.poll() is None  # not signalled
    finally:
        sleeper.kill()
        await sleeper.wait()
