"""Process and port helpers shared by the embedded Valkey and PostgreSQL launchers."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

LOOPBACK = "127.0.0.1"

# Popen objects of servers this process spawned directly. Keeping them lets us reap the
# child on stop (otherwise it lingers as a zombie) and keeps Popen.__del__ from warning
# that a subprocess is "still running" -- which is the whole point of a detached server.
_children: dict[int, subprocess.Popen[bytes]] = {}


class EmbeddedServiceError(RuntimeError):
    """An embedded service could not be started or stopped."""


def find_free_port() -> int:
    """Ask the kernel for an unused loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    # SO_REUSEADDR mirrors what the servers do, so a port left in TIME_WAIT by the
    # previous run still counts as free; only a live listener makes the bind fail.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def choose_port(requested: int | None, recorded: int | None) -> int:
    """An explicit port wins; else keep last run's port so URLs stay stable across restarts."""
    if requested is not None:
        return requested
    if recorded is not None and port_is_free(recorded):
        return recorded
    return find_free_port()


def read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def write_text_atomic(path: Path, text: str, *, mode: int = 0o644) -> None:
    # Readers (another `up`, `read_services`) must never see a half-written file.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    tmp.replace(path)


def private_secret(path: Path) -> str:
    """The secret kept in `path` (0600, created on first use): a password of an embedded
    service. URL-safe, so it goes into connection URLs unquoted."""
    if not path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # a concurrent `up` wrote it first
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text().strip()


def process_alive(pid: int, name: str) -> bool:
    """True if `pid` is a running (non-zombie) process called `name`.

    The name check guards against a stale pidfile whose pid was recycled by an unrelated
    process: we must neither reuse nor signal that one.
    """
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and proc.name() == name
    except psutil.Error:
        return False


def spawn_detached(args: Sequence[str], log_path: Path) -> int:
    """Start a server that outlives us: own session (no terminal signals), output to its log."""
    with log_path.open("ab") as log:
        proc = subprocess.Popen(  # noqa: S603 -- args are our own binary and config path
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    return proc.pid


def child_exited(pid: int) -> bool:
    """Non-blocking: has a server we spawned already died (e.g. bad config, port taken)?"""
    child = _children.get(pid)
    if child is None or child.poll() is None:
        return False
    del _children[pid]
    return True


def terminate(pid: int, name: str, timeout: float) -> None:
    """SIGTERM (lets the server flush), then SIGKILL if it is still there after `timeout`."""
    if not _signal(pid, signal.SIGTERM):
        _reap(pid, 0)
        return
    if not _wait_gone(pid, name, timeout):
        _signal(pid, signal.SIGKILL)
        _wait_gone(pid, name, 5.0)


def _signal(pid: int, sig: signal.Signals) -> bool:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, name: str, timeout: float) -> bool:
    if pid in _children:
        return _reap(pid, timeout)
    # Not our child (e.g. the postmaster, started by pg_ctl): poll. A zombie counts as
    # gone because PID 1 in a container may never reap it.
    deadline = time.monotonic() + timeout
    while process_alive(pid, name):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _reap(pid: int, timeout: float) -> bool:
    child = _children.get(pid)
    if child is None:
        return True
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        return False
    del _children[pid]
    return True


def log_tail(path: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return f"(no log at {path})"
