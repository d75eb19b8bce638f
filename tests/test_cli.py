"""The command line as a user runs it: embedded services up/down, and serve --workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import trio

from chat.config import Settings
from tests.conftest import ServerProcess, free_port
from tests.helpers.chat import PASSWORD, agent_socket, make_org, widget
from tests.helpers.http import call
from tests.helpers.totp import totp


def _chat(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "chat.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    return done.stdout


def test_services_up_prints_urls_and_down_stops_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    out = _chat("services", "up", "--data-dir", str(data))
    urls = dict(line.split("=", 1) for line in out.strip().splitlines())
    try:
        assert urls["REDIS_URL"].startswith("redis://:") and "@127.0.0.1:" in urls["REDIS_URL"]
        with psycopg.connect(urls["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert _chat("services", "up", "--data-dir", str(data)) == out  # idempotent
    finally:
        _chat("services", "down", "--data-dir", str(data))
    assert not (data / "services.json").exists()


async def test_workers_share_one_port_and_converse(settings: Settings, tmp_path: Path) -> None:
    """Two worker processes behind one port: each socket may land on either; they converse."""
    port = free_port()
    server = ServerProcess(settings, port)
    env = server.env("ignored")
    env.pop("CHAT_NODE_ID")
    log = (tmp_path / "workers.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "chat.cli", "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server.proc = proc
    try:
        with trio.fail_after(60):
            await server.wait_ready()
            org = await make_org(server.base)
            async with agent_socket(server.base, org.token, subscribe=org.space["id"]) as (
                agent,
                _,
            ):
                for n in range(4):  # several sockets, so both workers are likely used
                    async with widget(org) as (visitor, _):
                        ack = await visitor.say(f"hello {n}")
                        frame = await agent.expect("message", client_id=ack["client_id"])
                        assert frame["id"] == ack["id"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode == 0, (tmp_path / "workers.log").read_text()
    assert "with 2 workers" in (tmp_path / "workers.log").read_text()
    assert os.path.exists(tmp_path / "workers.log")


def test_serve_on_a_taken_port_says_so_in_one_line() -> None:
    """A taken port was a traceback from inside the server's nursery, after the embedded
    services had started; it is checked first now."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "chat.cli", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "REDIS_URL": "redis://127.0.0.1:1", "DATABASE_URL": "x"},
        )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"chat serve: 127.0.0.1:{port} is already in use; choose another with --port"
        " (make run PORT=...)"
    ]


async def test_reset_two_factor_lets_a_locked_out_agent_sign_in_with_the_password(
    base_url: str, settings: Settings
) -> None:
    with trio.fail_after(60):
        org = await make_org(base_url)
        api = f"{base_url}/api/v1"
        started = await call("POST", f"{api}/auth/two-factor/enrol", token=org.token)
        code = {"code": totp(started.body["secret"])}
        confirmed = await call("POST", f"{api}/auth/two-factor/confirm", code, token=org.token)
        assert confirmed.status == 200, confirmed.body
        login = {"email": org.agent["email"], "password": PASSWORD}
        refused = await call("POST", f"{api}/auth/login", login)
        assert refused.body["error"]["code"] == "two_factor_code_required"
        env = {**os.environ, "DATABASE_URL": settings.database_url}
        out = await trio.to_thread.run_sync(
            lambda: _chat("reset-two-factor", org.agent["email"].upper(), env=env)
        )
        assert "turned off" in out
        assert (await call("POST", f"{api}/auth/login", login)).status == 200
