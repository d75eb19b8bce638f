"""Load processes: each runs one trio loop with its share of the clients of a scenario.

The coordinator (this process) and the load processes speak in lockstep over a pipe: the
coordinator sends one command to every process and waits for one reply from each (`ask`). A
scenario's worker function reads commands with `link.commands()` and answers each with
`link.reply`. Results travel as plain picklable data.
"""

from __future__ import annotations

import importlib
import multiprocessing
import multiprocessing.connection
import resource
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psutil
import trio

T = TypeVar("T")
Command = tuple[str, Any]
WorkerFn = Callable[[Any, "Link"], Awaitable[None]]
# A command's answer may take this long at most (connecting thousands of sockets included).
ASK_TIMEOUT_SECONDS = 300.0
STOP: Command = ("stop", None)


class FleetError(Exception):
    """A load process failed; the message carries its traceback."""


class Link:
    """A load process's end of the pipe."""

    def __init__(self, conn: multiprocessing.connection.Connection) -> None:
        self._conn = conn

    async def commands(self) -> AsyncIterator[Command]:
        """Commands until the coordinator says stop (answered for the caller)."""
        while True:
            command: Command = await trio.to_thread.run_sync(self._conn.recv)
            if command[0] == "stop":
                await self.reply(None)
                return
            yield command

    async def reply(self, value: Any) -> None:
        await trio.to_thread.run_sync(self._conn.send, ("ok", value))


def _raise_fd_limit() -> None:
    """Thousands of sockets per process need as many descriptors as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _process_main(conn: multiprocessing.connection.Connection) -> None:
    _raise_fd_limit()
    while True:
        message = conn.recv()
        if message is None:
            return
        if message == STOP:  # a session whose function had already failed
            conn.send(("ok", None))
            continue
        fn_path, job = message
        module, name = fn_path.split(":")
        fn: WorkerFn = getattr(importlib.import_module(module), name)
        try:
            trio.run(fn, job, Link(conn))
        except BaseException:  # noqa: BLE001 - reported to the coordinator, which raises it
            conn.send(("error", traceback.format_exc()))


class Fleet:
    """N load processes, started once per bench run and reused by every scenario."""

    def __init__(self, size: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conns: list[multiprocessing.connection.Connection] = []
        self._procs: list[multiprocessing.process.BaseProcess] = []
        for _ in range(size):
            mine, theirs = context.Pipe()
            proc = context.Process(target=_process_main, args=(theirs,), daemon=True)
            proc.start()
            theirs.close()
            self._conns.append(mine)
            self._procs.append(proc)

    @property
    def size(self) -> int:
        return len(self._procs)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid is not None]

    def processes(self) -> list[psutil.Process]:
        return [psutil.Process(pid) for pid in self.pids]

    @asynccontextmanager
    async def session(self, fn_path: str, jobs: list[Any]) -> AsyncIterator[FleetSession]:
        """Run `fn_path` ("module:function") in every process, one job each, until stopped."""
        assert len(jobs) == self.size, "one job per load process"
        for conn, job in zip(self._conns, jobs, strict=True):
            conn.send((fn_path, job))
        session = FleetSession(self._conns)
        try:
            yield session
        finally:
            with trio.CancelScope(shield=True):
                await session.ask(STOP, limit_seconds=60)

    def close(self) -> None:
        for conn in self._conns:
            try:
                conn.send(None)
            except OSError:
                pass
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()


class FleetSession:
    def __init__(self, conns: list[multiprocessing.connection.Connection]) -> None:
        self._conns = conns

    async def ask(
        self, command: Command | list[Command], limit_seconds: float = ASK_TIMEOUT_SECONDS
    ) -> list[Any]:
        """Send a command (the same to all, or one each) and return every process's answer."""
        commands = command if isinstance(command, list) else [command] * len(self._conns)
        for conn, each in zip(self._conns, commands, strict=True):
            conn.send(each)
        replies: list[Any] = [None] * len(self._conns)

        async def answer(index: int) -> None:
            conn = self._conns[index]
            # Polling in the thread, so a cancelled ask leaves no thread blocked in recv().
            while not await trio.to_thread.run_sync(conn.poll, 0.2):
                pass
            status, value = conn.recv()
            if status == "error":
                raise FleetError(f"load process {index} failed:\n{value}")
            replies[index] = value

        with trio.fail_after(limit_seconds):
            async with trio.open_nursery() as nursery:
                for index in range(len(self._conns)):
                    nursery.start_soon(answer, index)
        return replies


def split(total: int, parts: int) -> list[int]:
    """`total` as `parts` near-equal shares."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def cut(items: list[T], sizes: Iterable[int]) -> list[list[T]]:
    """`items` in consecutive runs of `sizes`: with `split(len(items), parts)`, one near-equal
    share each (a load process's clients)."""
    runs, start = [], 0
    for size in sizes:
        runs.append(items[start : start + size])
        start += size
    return runs
