"""Fixtures: one embedded Valkey and PostgreSQL per test session; per test a fresh database and
a fresh key prefix, so tests are isolated without restarting servers."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import trio

from chat.config import Settings
from chat.db.schema import apply_schema
from chat.embedded.services import EmbeddedServices, services_down, services_up
from chat.embedded.valkey import ValkeyProcess, start_valkey, stop_valkey
from chat.server import serve
from chat.streams.log import StreamLog

SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServices]:
    data_dir = tmp_path_factory.mktemp("services")
    found = services_up(data_dir)
    try:
        yield found
    finally:
        services_down(data_dir)


def _fresh_database(admin_url: str) -> str:
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # noqa: S608 - generated name
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    apply_schema(url)
    return url


VISITOR_BUDGETS_OFF = {
    "visitor_sockets_per_address": 0,
    "visitor_open_threads_per_address": 0,
    "visitor_threads_per_address_per_hour": 0,
    "visitor_messages_per_address_per_second": 0,
}


@pytest.fixture
def settings(embedded: EmbeddedServices) -> Settings:
    return Settings(
        redis_url=embedded.redis_url,
        database_url=_fresh_database(embedded.database_url),
        secret_key=SECRET,
        key_prefix="t" + uuid.uuid4().hex[:8],
        presence_check_seconds=0.5,
        expiry_check_seconds=0.5,
        projector_claim_idle_seconds=1.0,
        db_pool_size=4,
        # Every test client comes from 127.0.0.1: the per-address visitor budgets are lifted
        # here, as in the bench, and tests/http/test_visitor_budgets.py sets them itself.
        **VISITOR_BUDGETS_OFF,
    )


@pytest.fixture
def private_valkey(tmp_path: Path) -> Iterator[tuple[Path, ValkeyProcess]]:
    """A Valkey of this test's own (its data folder and process), for tests that stop, hang
    (SIGSTOP) or kill it: the session's shared Valkey is never touched."""
    data = tmp_path / "valkey-data"
    found = start_valkey(data)
    try:
        yield data, found
    finally:
        # A hung (SIGSTOPped) server would not hear the SIGTERM; a killed one is gone already.
        with contextlib.suppress(ProcessLookupError):
            os.kill(found.pid, signal.SIGCONT)
        stop_valkey(data)


@pytest.fixture
async def stream_log(embedded: EmbeddedServices) -> AsyncIterator[StreamLog]:
    """The log on the session's Valkey under a fresh key prefix, for tests of the stream
    mechanisms that need no database."""
    from tests.helpers.streams import open_stream_log

    async with open_stream_log(embedded.redis_url) as log:
        yield log


@pytest.fixture
async def base_url(settings: Settings, nursery: trio.Nursery) -> str:
    """One in-process server on a free port."""
    binds = await nursery.start(serve, settings, "127.0.0.1", 0)
    return str(binds[0])


def free_port() -> int:
    """A free port below the kernel's ephemeral range. A port the kernel hands out (bind to 0)
    is one any connection may later take as its source port: a server stopped and started again
    on it (the restart tests) found it taken (EADDRINUSE), by another test's connection or by a
    client retrying against the stopped server, which can connect to itself on that port."""
    low = _ephemeral_low()
    pick = random.SystemRandom()
    for _ in range(500):
        port = pick.randrange(max(1024, low - 16000), low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port below {low}")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def changed_scalar_settings(settings: Settings) -> dict[str, str]:
    """CHAT_* variables for the scalar settings that differ from their defaults."""
    skip = {"redis_url", "database_url", "secret_key"}
    env: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if name in skip or value == field.default or not isinstance(value, int | float | str):
            continue
        env[f"CHAT_{name.upper()}"] = str(value)
    return env


@dataclass
class ServerProcess:
    """A `chat serve` child process, for tests that kill -9 it."""

    settings: Settings
    port: int
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, node: str) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            # Every scalar setting a test changed reaches the child (naming them one by one
            # once missed api_burst, and a test's lifted budget silently did not apply).
            **changed_scalar_settings(s),
            "REDIS_URL": s.redis_url,
            "DATABASE_URL": s.database_url,
            "SECRET_KEY": s.secret_key,
            "CHAT_KEY_PREFIX": s.key_prefix,
            "CHAT_NODE_ID": node,
            "CHAT_PROJECTOR_CLAIM_IDLE_SECONDS": "1",
            "CHAT_LOG_LEVEL": "WARNING",
            # These tests stream as fast as acks come back; flooding is tested elsewhere.
            "CHAT_FLOOD_FRAMES_PER_SECOND": "10000",
            **{f"CHAT_{k.upper()}": str(v) for k, v in VISITOR_BUDGETS_OFF.items()},
        }

    async def start(self, node: str, tmp: Path) -> None:
        self.log_path = tmp / f"server-{node}-{uuid.uuid4().hex[:6]}.log"
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "chat.cli", "serve", "--port", str(self.port)],
                env=self.env(node),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        await self.wait_ready()

    async def wait_ready(self) -> None:
        from tests.helpers.http import call

        with trio.fail_after(30):
            while True:
                assert self.proc is not None and self.proc.poll() is None, self.read_log()
                try:
                    if (await call("GET", f"{self.base}/readyz")).status == 200:
                        return
                except OSError:
                    pass
                await trio.sleep(0.1)  # polling a starting process: nothing to wait on

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def read_log(self) -> str:
        return self.log_path.read_text() if self.log_path else ""


@pytest.fixture
async def server_processes(settings: Settings) -> AsyncIterator[list[ServerProcess]]:
    made: list[ServerProcess] = []
    try:
        yield made
    finally:
        for proc in made:
            proc.stop()


# The second tier (`make test-tier2`; CI runs both tiers): whole suites that re-prove on another
# topology what the first tier proves (the Valkey Cluster suite) or sweep the API with generated
# requests (the schemathesis fuzz). They are most of the first tier's time otherwise; the fault
# suite (marker `faults`) runs in the second tier too.
TIER2_PATHS = ("tests/cluster/", "tests/http/test_openapi_fuzz.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    root = Path(str(config.rootpath))
    for item in items:
        where = Path(str(item.path)).relative_to(root).as_posix()
        if where.startswith(TIER2_PATHS):
            item.add_marker(pytest.mark.tier2)
