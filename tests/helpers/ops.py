"""Running the operator commands (`chat inspect`, `tail`, ...) as an operator does: a `chat`
subprocess pointed at the test's Valkey, PostgreSQL and key prefix. Run with trio, so the
in-process server of the test keeps serving (and projecting) meanwhile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import trio

from chat.config import Settings

COMMAND_TIMEOUT = 60


def ops_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": settings.redis_url,
        "DATABASE_URL": settings.database_url,
        "CHAT_KEY_PREFIX": settings.key_prefix,
        "CHAT_LOG_LEVEL": "WARNING",
    }


@dataclass
class Done:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)


async def chat(settings: Settings, *args: str) -> Done:
    """`chat ARGS` to its end: its exit code, stdout and stderr."""
    with trio.fail_after(COMMAND_TIMEOUT):
        done = await trio.run_process(
            [sys.executable, "-m", "chat.cli", *args],
            env=ops_env(settings),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    return Done(done.returncode, done.stdout.decode(), done.stderr.decode())


class Lines:
    """A child's output stream, read a line at a time."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._buffer = b""

    async def line(self, timeout: float = 20) -> str:
        with trio.fail_after(timeout):
            while b"\n" not in self._buffer:
                chunk = await self._stream.receive_some()
                assert chunk, f"the stream ended; so far: {self._buffer!r}"
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()


@asynccontextmanager
async def tail_process(settings: Settings, *args: str) -> AsyncIterator[trio.Process]:
    """`chat tail ARGS` running, its stdout and stderr piped; killed if still running at exit."""
    proc = await trio.lowlevel.open_process(
        [sys.executable, "-m", "chat.cli", "tail", *args],
        env=ops_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        with trio.CancelScope(shield=True), trio.move_on_after(10):
            await proc.wait()
