"""`chat drain PID`: start the staged drain of a `chat serve` process (SIGUSR1; see
chat/actors/drain.py) and wait until it has exited. Given the parent of `serve --workers`, it
drains every worker, and the parent exits after the last."""

from __future__ import annotations

import os
import signal
import time

import psutil

from chat.ops.context import OpsError

EXIT_POLL_SECONDS = 0.2


def drain_process(pid: int, timeout: float) -> str:
    """Signal the process and wait for it to exit; what happened, in a line. OpsError: no such
    process (exit 2), or still running after `timeout` seconds (exit 1)."""
    try:
        process = psutil.Process(pid)
        command = process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        raise OpsError(f"no process {pid} of this account") from None
    if "serve" not in command or not any("chat" in part for part in command):
        # SIGUSR1's default action ends a process: never send it to anything but `chat serve`.
        raise OpsError(f"process {pid} is not `chat serve`: {' '.join(command)[:80]}")
    try:
        os.kill(pid, signal.SIGUSR1)
    except ProcessLookupError:
        raise OpsError(f"no process {pid}") from None
    print(f"draining process {pid}; waiting for it to exit", flush=True)
    deadline = time.monotonic() + timeout
    while _running(process):
        if time.monotonic() > deadline:
            raise OpsError(f"process {pid} is still running after {timeout:.0f} s", 1)
        # Another process's end can only be polled (and psutil's own wait would take a zombie,
        # one its parent has not reaped yet, for a live process).
        time.sleep(EXIT_POLL_SECONDS)
    return f"process {pid} has exited"


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
