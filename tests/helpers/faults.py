"""The fault suite's stage (tests/faults): a Valkey and a PostgreSQL of the test's own, `chat
serve` processes pointed at them, the faults themselves, and the check that every acked message
reached PostgreSQL exactly once.

The services are the embedded ones (chat.embedded), started on the test's own data folder, so a
fault never touches the session-wide services that other tests use.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import trio

from chat.config import Settings
from chat.embedded import postgres, valkey
from chat.embedded._support import child_exited, process_alive
from tests.conftest import SECRET, ServerProcess, free_port
from tests.helpers.chat import make_org
from tests.helpers.db import POLL_SECONDS, query
from tests.helpers.load import GENEROUS_SETTINGS, Load

# Where Valkey 8 keeps its multi-part AOF, under its `dir` (chat/embedded/valkey.py).
AOF_DIRNAME = "appendonlydir"
FILLER = "filler"  # the file `fill` writes


@dataclass
class Stage:
    """A test's own Valkey and PostgreSQL (on `data`) and the servers it started."""

    data: Path
    logs: Path
    valkey: valkey.ValkeyProcess
    postgres: postgres.PostgresProcess
    settings: Settings
    servers: list[ServerProcess] = field(default_factory=list)

    @classmethod
    def up(cls, root: Path) -> Stage:
        data, logs = root / "services", root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        cache = valkey.start_valkey(data)
        database = postgres.start_postgres(data)
        settings = Settings(
            redis_url=cache.url,
            database_url=database.url,
            secret_key=SECRET,
            key_prefix="f" + uuid.uuid4().hex[:8],
        )
        return cls(data, logs, cache, database, settings)

    def down(self) -> None:
        """Stop the servers, then the services; a stopped Valkey is woken first (a stopped
        process does not hear SIGTERM)."""
        for server in self.servers:
            server.stop()
        if process_alive(self.valkey.pid, valkey.PROCESS_NAME):
            os.kill(self.valkey.pid, signal.SIGCONT)
        try:
            valkey.stop_valkey(self.data)
        finally:
            postgres.stop_postgres(self.data)

    async def serve(self, node: str) -> ServerProcess:
        """A `chat serve` process on a free port, once its /readyz answers 200."""
        server = ServerProcess(self.settings, free_port())
        self.servers.append(server)
        await server.start(node, self.logs)
        return server

    # The faults.

    async def kill_valkey(self) -> None:
        """kill -9: no AOF flush, no goodbye to the clients."""
        pid = self.valkey.pid
        os.kill(pid, signal.SIGKILL)
        while not child_exited(pid) and process_alive(pid, valkey.PROCESS_NAME):
            await trio.sleep(0.05)  # polling a dying process: nothing to wait on

    async def start_valkey(self) -> None:
        """Valkey again on its port and its AOF (replayed before it answers PING)."""
        port = self.valkey.port
        self.valkey = await trio.to_thread.run_sync(
            lambda: valkey.start_valkey(self.data, port=port)
        )

    @contextmanager
    def valkey_stopped(self) -> Iterator[None]:
        """SIGSTOP: the sockets stay open and nothing answers, as in a hung server."""
        os.kill(self.valkey.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.valkey.pid, signal.SIGCONT)

    async def stop_postgres(self) -> None:
        await trio.to_thread.run_sync(postgres.stop_postgres, self.data)

    async def start_postgres(self) -> None:
        port = self.postgres.port
        self.postgres = await trio.to_thread.run_sync(
            lambda: postgres.start_postgres(self.data, port=port)
        )


def mount_tmpfs(path: Path, size: str) -> str | None:
    """Mount a tmpfs of `size` on `path`; None, or why it could not be (not root, a container
    without CAP_SYS_ADMIN)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    done = subprocess.run(  # noqa: S603 - fixed program, our own path
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return f"mount -t tmpfs refused: {done.stderr.strip() or done.returncode}"
    return None


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)  # noqa: S603,S607


def fill(folder: Path) -> Path:
    """Write a file into `folder` until its file system is full; the file, to delete later.

    Unbuffered writes, halving the size on ENOSPC down to one byte, so nothing is left in a
    buffer that a close would try to flush."""
    filler = folder / FILLER
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    size = 1 << 16
    try:
        while size:
            try:
                os.write(fd, b"\0" * size)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                size //= 2
    finally:
        os.close(fd)
    return filler


# What PostgreSQL holds.


@dataclass(frozen=True)
class Stored:
    """The load's messages in PostgreSQL: how often each client_id is stored, and as which id."""

    counts: Counter[str]
    ids: dict[str, str]


def stored(database_url: str) -> Stored:
    rows = query(database_url, "SELECT client_id, id_ms, id_seq FROM messages")
    counts: Counter[str] = Counter(str(r[0]) for r in rows)
    return Stored(counts, {str(r[0]): f"{r[1]}-{r[2]}" for r in rows})


async def wait_all_stored(database_url: str, acked: dict[str, str], timeout: float) -> float | None:
    """Poll PostgreSQL until every acked client_id is there; how long that took, or None if
    some were still missing after `timeout` (the check that follows says which)."""
    started = trio.current_time()
    with trio.move_on_after(timeout):
        while True:
            found = await trio.to_thread.run_sync(stored, database_url)
            if all(cid in found.counts for cid in acked):
                return trio.current_time() - started
            await trio.sleep(POLL_SECONDS)
    return None


def check_exactly_once(found: Stored, acked: dict[str, str]) -> list[str]:
    """What breaks "every acked message stored exactly once, under its acked id, and nothing
    stored twice"; empty when all holds."""
    problems = []
    for cid, mid in acked.items():
        if found.counts[cid] != 1:
            problems.append(f"{cid} acked as {mid}, stored {found.counts[cid]} times")
        elif found.ids[cid] != mid:
            problems.append(f"{cid} acked as {mid}, stored as {found.ids[cid]}")
    doubles = [cid for cid, n in found.counts.items() if n > 1 and cid not in acked]
    problems += [f"{cid} (never acked) stored {found.counts[cid]} times" for cid in doubles]
    strays = [cid for cid in found.counts if cid not in acked]
    problems += [f"{cid} stored but never acked" for cid in strays if found.counts[cid] == 1]
    return problems


# The table row.


@dataclass(frozen=True)
class Row:
    fault: str
    acked: int
    stored_once: int
    max_outage: float  # the longest time between two acks of one visitor
    max_wait: float  # the longest one send waited for its answer
    codes: Counter[str]
    # From the fault's end until every message acked before it was in PostgreSQL; None if
    # that did not happen within PROJECTION_SECONDS.
    projected: float | None
    # What broke "stored exactly once" (check_exactly_once) and what the clients saw break.
    problems: list[str] = field(default_factory=list)

    def cells(self) -> list[str]:
        codes = ", ".join(f"{c} ×{n}" for c, n in sorted(self.codes.items())) or "none"
        return [
            self.fault,
            str(self.acked),
            str(self.stored_once),
            f"{self.max_outage:.1f} s",
            f"{self.max_wait:.1f} s",
            codes,
            "never" if self.projected is None else f"{self.projected:.1f} s",
        ]


HEADER = [
    "fault",
    "acked",
    "stored once",
    "max client-visible outage",
    "longest wait for an answer",
    "codes seen",
    "in PostgreSQL after the fault",
]


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(lines)


async def settle(outcome: Outcome, database_url: str, fault: str) -> Row:
    """After the load stopped: wait for PostgreSQL (at most PROJECTION_SECONDS), then count.
    The row for the table, with any problem found; the caller records it, then asserts."""
    load = outcome.load
    acked = load.acked
    await wait_all_stored(database_url, acked, PROJECTION_SECONDS)
    found = await trio.to_thread.run_sync(stored, database_url)
    problems = check_exactly_once(found, acked) + load.breaches
    once = sum(1 for cid in acked if found.counts[cid] == 1)
    return Row(
        fault,
        len(acked),
        once,
        load.max_gap(),
        load.max_wait(),
        load.codes,
        outcome.projected,
        problems,
    )


# The run: steady load, the fault, recovery.

VISITORS = 3
MESSAGES_PER_SECOND = 5.0  # in total, over the visitors
WARMUP_ACKS = 5  # each visitor has this many acks before the fault: the load is steady
RECOVERY_ACKS = 5  # ... and this many after it: the service is back for every one of them
WARMUP_SECONDS = 30.0  # a bound on the warm-up (a loaded 2-core machine), not its length
# How long after a fault ends every visitor must be chatting again. A frame waits at most one
# storage deadline (5 s) for its `unavailable`, then the client retries after 0.5 s; the rest is
# slack for a loaded machine. A service that never recovers fails here.
RECOVERY_SECONDS = 20.0
# How long PostgreSQL may take to hold every acked message once the load stops.
PROJECTION_SECONDS = 60.0


@dataclass(frozen=True)
class Outcome:
    load: Load
    fault_seconds: float  # from the fault's start to its end (the restart done, the signal sent)
    projected: float | None  # see Row.projected


async def under_load(
    bases: list[str], database_url: str, fault: Callable[[], Awaitable[None]]
) -> Outcome:
    """A space with generous rate limits on `bases[0]`, the load on every base; `fault` once the
    load is steady; the load stopped once every visitor is acked again after it (or an
    AssertionError after RECOVERY_SECONDS). Meanwhile, how long PostgreSQL takes to hold every
    message acked before the fault ended."""
    org = await make_org(bases[0], settings=GENEROUS_SETTINGS)
    load = Load.spread(
        bases, org.space["widget_key"], visitors=VISITORS, per_second=MESSAGES_PER_SECOND
    )
    projected: list[float | None] = []

    async def projection_after_fault(acked: dict[str, str]) -> None:
        projected.append(await wait_all_stored(database_url, acked, PROJECTION_SECONDS))

    stuck = False
    async with trio.open_nursery() as nursery:
        nursery.start_soon(load.run)
        with trio.fail_after(WARMUP_SECONDS):
            await load.wait_acks_since(trio.current_time(), WARMUP_ACKS)
        started = trio.current_time()
        await fault()
        over = trio.current_time()
        nursery.start_soon(projection_after_fault, load.acked)
        with trio.move_on_after(RECOVERY_SECONDS) as waiting:
            await load.wait_acks_since(over, RECOVERY_ACKS)
        stuck = waiting.cancelled_caught
        if stuck:
            nursery.cancel_scope.cancel()
        load.stopping.set()
    assert not stuck, (
        f"not every visitor was acked {RECOVERY_ACKS} messages within "
        f"{RECOVERY_SECONDS:.0f} s after the fault: codes {dict(load.codes)}, "
        f"acks after it {[sum(1 for t in v.ack_times if t > over) for v in load.visitors]}"
    )
    return Outcome(load, over - started, projected[0])


# What a client may meet during a fault (CONTRACT.md; structures.md, "Storage outages" and the
# close codes). Anything else (an HTTP 500 handshake, a 1011 close, a send left unanswered for
# ANSWER_TIMEOUT_SECONDS) fails the test.
UNAVAILABLE = "error unavailable"  # a frame while storage is unreachable: resend, same client_id
STORAGE_FAULT_CODES = frozenset({UNAVAILABLE})
# The server process died under the socket (1006, no close frame), and reconnecting to it
# while it is down is refused; visitors move to the next server.
SERVER_FAULT_CODES = frozenset({UNAVAILABLE, "close 1006", "connect refused"})


async def survive(
    stage: Stage,
    bases: list[str],
    name: str,
    fault: Callable[[], Awaitable[None]],
    allowed: frozenset[str],
    record: Callable[[Row], None],
    *,
    felt: str | None = None,
) -> Row:
    """The whole case: load, fault, recovery, the count in PostgreSQL, the table row, and the
    assertions: every acked message stored exactly once under its acked id, nothing twice,
    only codes from `allowed`, no visitor without an ack for longer than the fault plus
    RECOVERY_SECONDS, and PostgreSQL caught up. `felt`: a code the clients must have met at
    least once, showing that the fault really happened."""
    url = stage.settings.database_url
    outcome = await under_load(bases, url, fault)
    row = await settle(outcome, url, name)
    record(row)
    assert not row.problems, row.problems
    assert set(row.codes) <= allowed, f"codes outside {sorted(allowed)}: {dict(row.codes)}"
    assert felt is None or row.codes[felt] > 0, f"no client met {felt!r}: was there a fault?"
    bound = outcome.fault_seconds + RECOVERY_SECONDS
    assert row.max_outage <= bound, f"a visitor went {row.max_outage:.1f} s without an ack"
    assert row.projected is not None, "PostgreSQL did not catch up"
    return row
