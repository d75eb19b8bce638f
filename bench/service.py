"""The service under test: started by the bench (embedded Valkey and PostgreSQL in a temp
folder, `chat serve --workers N`) or an existing one at a URL.

A managed service can be restarted (the storm and projector scenarios) and its processes are
sampled for CPU and RSS. Its settings lift the limits meant for real visitors (flood guard, REST
throttles): the bench measures capacity, not the throttles.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import psutil
import trio

from chat.embedded.cluster import read_cluster

READY_TIMEOUT_SECONDS = 60.0

# What a managed service runs with, besides the URLs and the secret.
BENCH_ENV = {
    "CHAT_LOG_LEVEL": "WARNING",
    "CHAT_FLOOD_FRAMES_PER_SECOND": "1000000",
    "CHAT_API_REQUESTS_PER_MINUTE": "0",
    "CHAT_LOGIN_ATTEMPTS_PER_MINUTE": "0",
    "CHAT_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": "0",
    "CHAT_REGISTRATIONS_PER_ADDRESS_PER_HOUR": "0",
    "CHAT_BENCH_ECHO": "true",
    # Every simulated visitor comes from one address: lift the per-address visitor budgets.
    "CHAT_VISITOR_SOCKETS_PER_ADDRESS": os.environ.get("BENCH_SOCKETS_PER_ADDRESS", "0"),
    "CHAT_VISITOR_OPEN_THREADS_PER_ADDRESS": "0",
    "CHAT_VISITOR_THREADS_PER_ADDRESS_PER_HOUR": "0",
    "CHAT_VISITOR_MESSAGES_PER_ADDRESS_PER_SECOND": "0",
    # The webhooks scenario's receiver listens on loopback.
    "CHAT_WEBHOOK_ALLOW_PRIVATE": "true",
}


class ServiceError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    """Where the service is, and (when managed) how to restart and sample it."""

    base_url: str
    managed: bool
    workers: int = 1
    # --pin: the CPUs the service (chat serve, Valkey, PostgreSQL) runs on; None: any.
    cpus: frozenset[int] | None = None
    redis_url: str | None = None
    database_url: str | None = None
    data_dir: Path | None = None
    port: int = 0
    _proc: subprocess.Popen[bytes] | None = None
    _secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    _log: Path | None = None

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http")

    # -- managed lifecycle -------------------------------------------------------------------

    @classmethod
    def start_managed(
        cls, workers: int, keep_dir: Path | None = None, *, cluster: int = 0
    ) -> Service:
        """`cluster` N: Valkey is a local cluster of N masters (`chat services up --cluster`)."""
        data_dir = keep_dir or Path(tempfile.mkdtemp(prefix="chat-bench-"))
        up = ["services", "up", "--data-dir", str(data_dir)]
        if cluster:
            up += ["--cluster", str(cluster)]
        out = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "chat.cli", *up],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0:
            raise ServiceError(f"embedded services did not start:\n{out.stdout}{out.stderr}")
        urls = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
        port = free_port()
        service = cls(
            base_url=f"http://127.0.0.1:{port}",
            managed=True,
            workers=workers,
            redis_url=urls["REDIS_URL"],
            database_url=urls["DATABASE_URL"],
            data_dir=data_dir,
            port=port,
        )
        service._log = data_dir / "serve.log"
        return service

    def env(self, projector: bool, lag_sample_seconds: float | None = None) -> dict[str, str]:
        """`lag_sample_seconds`: how often the service reads its projector lag (its default,
        1 s, unless given: the projector scenario's catch-up watch reads it every 50 ms)."""
        assert self.redis_url and self.database_url
        return {
            **os.environ,
            **BENCH_ENV,
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": self._secret,
            "CHAT_PROJECTOR_ENABLED": "true" if projector else "false",
            **(
                {"CHAT_PROJECTOR_LAG_SAMPLE_SECONDS": str(lag_sample_seconds)}
                if lag_sample_seconds
                else {}
            ),
        }

    async def launch(
        self, *, projector: bool = True, lag_sample_seconds: float | None = None
    ) -> float:
        """Start `chat serve`; returns the seconds until /readyz answered 200."""
        assert self.managed and self._proc is None and self._log is not None
        started = time.monotonic()
        self._proc = self._spawn(projector, lag_sample_seconds)
        if self.cpus:  # Valkey and PostgreSQL serve the service: on its CPUs too
            pin_processes(
                [p for group in self.store_processes().values() for p in group], self.cpus
            )
        await self.wait_ready()
        return time.monotonic() - started

    def _spawn(
        self, projector: bool, lag_sample_seconds: float | None = None
    ) -> subprocess.Popen[bytes]:
        assert self._log is not None
        with self._log.open("ab") as out:
            return subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [
                    sys.executable,
                    "-m",
                    "chat.cli",
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                env=self.env(projector, lag_sample_seconds),
                stdout=out,
                stderr=subprocess.STDOUT,
                # Only setrlimit and sched_setaffinity, before exec.
                preexec_fn=partial(_prepare_child, self.cpus),  # noqa: PLW1509
            )

    async def wait_ready(self) -> None:
        with trio.fail_after(READY_TIMEOUT_SECONDS):
            while True:
                if self._proc is not None and self._proc.poll() is not None:
                    raise ServiceError(f"chat serve exited:\n{self.log_tail()}")
                if await trio.to_thread.run_sync(self._ready):
                    return
                await trio.sleep(0.05)  # polling a starting process: there is no event to wait on

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=2) as reply:  # noqa: S310
                return bool(reply.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    async def stop(self) -> None:
        """SIGTERM and wait (the service drains its sockets for up to 5 s)."""
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            await trio.to_thread.run_sync(proc.wait, 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            await trio.to_thread.run_sync(proc.wait)

    async def restart(self, *, projector: bool = True) -> float:
        await self.stop()
        return await self.launch(projector=projector)

    def close(self) -> None:
        """Stop everything and remove the data folder (kept when --keep-data named it)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._proc = None
        if self.managed and self.data_dir is not None:
            subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "chat.cli",
                    "services",
                    "down",
                    "--data-dir",
                    str(self.data_dir),
                ],
                capture_output=True,
                check=False,
            )
            if self.data_dir.name.startswith("chat-bench-"):
                shutil.rmtree(self.data_dir, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        if self._log is None or not self._log.exists():
            return ""
        return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])

    # -- sampling ----------------------------------------------------------------------------

    def chat_processes(self) -> list[psutil.Process]:
        """`chat serve` and its workers (managed only)."""
        if self._proc is None or self._proc.poll() is not None:
            return []
        parent = psutil.Process(self._proc.pid)
        found = [parent, *parent.children(recursive=True)]
        return [p for p in found if "chat.cli" in " ".join(_cmdline(p))]

    def store_processes(self) -> dict[str, list[psutil.Process]]:
        """The embedded Valkey and PostgreSQL processes of this data folder."""
        if self.data_dir is None:
            return {}
        found: dict[str, list[psutil.Process]] = {"valkey": [], "postgres": []}
        folder = str(self.data_dir)
        # Valkey retitles itself ("valkey-server 127.0.0.1:<port>"): found by its pidfile.
        valkey_pids = {_read_pid(self.data_dir / "valkey" / "valkey.pid")}
        cluster = read_cluster(self.data_dir)
        valkey_pids |= {node.pid for node in cluster.nodes} if cluster else set()
        for proc in psutil.process_iter(["name", "cmdline"]):
            line = " ".join(proc.info.get("cmdline") or [])
            name = proc.info.get("name") or ""
            if "valkey" in name and (proc.pid in valkey_pids or folder in line):
                found["valkey"].append(proc)
            elif name.startswith("postgres") and folder in line:
                found["postgres"].append(proc)
        postmasters = list(found["postgres"])
        for proc in postmasters:
            try:
                found["postgres"] += proc.children(recursive=True)
            except psutil.Error:
                pass
        return found


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return []


def _prepare_child(cpus: frozenset[int] | None) -> None:
    _raise_fd_limit()
    if cpus:
        os.sched_setaffinity(0, cpus)


def pin_processes(procs: list[psutil.Process], cpus: frozenset[int]) -> None:
    """Keep `procs` (and the threads they have) on `cpus`; a process gone meanwhile is skipped."""
    for proc in procs:
        try:
            proc.cpu_affinity(sorted(cpus))
        except psutil.Error:
            pass


def parse_cpus(spec: str) -> frozenset[int]:
    """`0`, `0,2` or `0-3` as a set of CPU numbers; ValueError for anything else."""
    cpus: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.strip().partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    if not cpus:
        raise ValueError(f"no CPUs in {spec!r}")
    return frozenset(cpus)


def _raise_fd_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
