"""`chat drain PID`: start the staged drain of a `chat serve` process (SIGUSR1; see
chat/actors/drain.py) and wait until it has exited. Given the parent of `serve --workers`, it
drains every worker, and the parent exits after the last."""

from __future__ import annotations

import os
import signal

import psutil

from chat.ops.context import OpsError


def drain_process(pid: int, timeout: float) -> str:
    """Signal the process and wait for it to exit; what happened, in a line. OpsError: no such
    process (exit 2), or still running after `timeout` seconds (exit 1)."""
    try:
        process = psutil.Process(pid)
        os.kill(pid, signal.SIGUSR1)
    except (psutil.NoSuchProcess, ProcessLookupError):
        raise OpsError(f"no process {pid}") from None
    print(f"draining process {pid}; waiting for it to exit", flush=True)
    try:
        process.wait(timeout)
    except psutil.TimeoutExpired:
        raise OpsError(f"process {pid} is still running after {timeout:.0f} s", 1) from None
    return f"process {pid} has exited"
