"""The projector: space streams -> PostgreSQL in batches; XACK only after the commit.

Crash policy: Redis or PostgreSQL errors back off and retry (nothing is acked, so nothing is
lost; rows are idempotent, so nothing doubles): this process's own unacked entries are read again
at once, entries a crashed projector left pending are reclaimed with XAUTOCLAIM once idle for
`projector_claim_idle_seconds`. A space stream that lost the projector's group (NOGROUP: a
deleted stream, FLUSHALL, an older backup) gets it back without stopping the other spaces. An
entry this version cannot decode, or that PostgreSQL refuses, is dead-lettered (the space's
`dead` stream) before it is acked. Anything else propagates to the supervisor.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import psycopg
import trio

from chat.backoff import Backoff
from chat.config import Settings
from chat.db import space_queries
from chat.db.pool import Database
from chat.db.projection import Batch
from chat.metrics.series import ProjectorMeter
from chat.space_settings import MAX_REOPEN_WINDOW_SECONDS
from chat.streams import groups
from chat.streams.errors import ConsumerGroupMissingError, StreamLogError
from chat.streams.log import StreamLog
from chat.streams.retention import Retention

logger = logging.getLogger(__name__)

READ_BLOCK_MS = 1000
# After a batch smaller than CHAT_PROJECTOR_BATCH, the next read waits this long (while the batch
# is written), so that under a light, steady load a transaction carries a few dozen entries
# instead of one or two: its fixed cost (BEGIN, four statements, COMMIT, an XACK) dominated the
# projector's CPU at 250 msgs/s. PostgreSQL lags the log by at most this much more, and history
# reads merge the stream tail anyway (chat/thread_history.py).
LINGER_SECONDS = 0.05
# A new space is followed as soon as its control entry arrives (ProjectorState.follow_space);
# this refresh is the fallback for an entry that was lost (appended while Redis failed).
SPACES_REFRESH_SECONDS = 5.0
TRIM_INTERVAL_SECONDS = 10.0


@dataclass
class ProjectorState:
    """What the projector has seen, for /metrics, /readyz and tests."""

    spaces: list[str] = field(default_factory=list)
    rows_projected: int = 0
    batches: int = 0
    dead_lettered: int = 0
    groups_healed: int = 0
    # trio.current_time() of the first error of the current run of errors; None while healthy.
    failing_since: float | None = None
    # Spaces created since the last turn of the loop (the control stream's `space.created`).
    new_spaces: set[str] = field(default_factory=set)
    # Batch time and each entry's lag (chat/metrics/series.py); the services pass the process's.
    meter: ProjectorMeter = field(default_factory=ProjectorMeter.unregistered)

    def follow_space(self, space_id: str) -> None:
        """Follow this new space from the projector's next turn (at most one idle read, 1 s)."""
        self.new_spaces.add(space_id)


async def run_projector(
    stream_log: StreamLog,
    db: Database,
    settings: Settings,
    state: ProjectorState,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    consumer = f"node-{settings.node_id}"
    retention = Retention(stream_log)
    known: set[str] = set()
    touched: dict[str, set[str]] = {}
    next_refresh = next_claim = next_trim = 0.0
    backoff = Backoff("projector")
    # Read but not yet written. The next batch is read while this one is written (the write runs
    # on a database thread), so catch-up is bounded by the slower of the two, not by their sum.
    ahead: list[groups.Decoded] = []
    # Set after an error (and at start): this consumer's unacked entries are read back first.
    recovering = True
    task_status.started()
    while True:
        now = trio.current_time()
        try:
            if now >= next_refresh:
                followed = await db.run(space_queries.followed_space_ids)
                state.spaces = await _ensure_groups(retention, known, followed)
                next_refresh = now + SPACES_REFRESH_SECONDS
            if state.new_spaces:
                new = sorted(state.new_spaces - set(state.spaces))
                state.spaces = [*state.spaces, *await _ensure_groups(retention, known, new)]
                state.new_spaces.clear()
            if now >= next_claim:
                await _reclaim(stream_log, db, settings, state, consumer, touched)
                next_claim = now + settings.projector_claim_idle_seconds / 2
            if recovering:
                recovering = await _project_own_pending(
                    stream_log, db, settings, state, consumer, touched
                )
            ahead = await _write_and_read(stream_log, db, settings, state, consumer, ahead, touched)
            if trio.current_time() >= next_trim:
                for space_id, threads in touched.items():
                    await retention.trim(space_id, settings.resume_window_seconds, threads)
                touched.clear()
                next_trim = trio.current_time() + TRIM_INTERVAL_SECONDS
            backoff.reset()
            state.failing_since = None
        except* ConsumerGroupMissingError:
            # NOGROUP. What was read ahead stays pending, or comes again with the new group.
            ahead, recovering = [], True
            healed, removed = await groups.heal_missing_groups(
                stream_log, state.spaces, retention.ensure_group_unless_removed
            )
            state.groups_healed += len(healed)
            if healed:
                logger.warning("projector: consumer group recreated on the streams of %s", healed)
            if removed:
                # Deleted spaces whose keys the retention sweep just removed (projected first).
                state.spaces = [s for s in state.spaces if s not in removed]
                known.difference_update(removed)
        except* (StreamLogError, OSError, psycopg.OperationalError) as group:
            # What was read ahead stays pending for this consumer: read back once this recovers.
            ahead, recovering = [], True
            if state.failing_since is None:
                state.failing_since = trio.current_time()
            await backoff.wait(logger, group.exceptions[0])


async def _ensure_groups(retention: Retention, known: set[str], space_ids: list[str]) -> list[str]:
    """The projector's group on each of these spaces' streams, created once per process; the
    spaces to follow: not a deleted space whose keys were just removed (its stream stays gone)."""
    followed = []
    for space_id in space_ids:
        if space_id not in known:
            if not await retention.ensure_group_unless_removed(space_id):
                continue
            known.add(space_id)
        followed.append(space_id)
    return followed


async def _project_own_pending(
    stream_log: StreamLog,
    db: Database,
    settings: Settings,
    state: ProjectorState,
    consumer: str,
    touched: dict[str, set[str]],
) -> bool:
    """Project one batch of this consumer's own unacked entries; False once there are none."""
    pending = await groups.read_own_pending(
        stream_log, consumer, state.spaces, settings.projector_batch
    )
    if not pending:
        return False
    await _project(stream_log, db, state, pending, touched, settings.resume_window_seconds)
    return True


async def _write_and_read(
    stream_log: StreamLog,
    db: Database,
    settings: Settings,
    state: ProjectorState,
    consumer: str,
    batch: list[groups.Decoded],
    touched: dict[str, set[str]],
) -> list[groups.Decoded]:
    """Project `batch` while reading the next one. The read blocks only when there is nothing
    to write, and lingers (LINGER_SECONDS) after a small batch, so an entry waits at most that
    long for later ones."""
    async with trio.open_nursery() as nursery:
        if batch:
            nursery.start_soon(
                _project, stream_log, db, state, batch, touched, settings.resume_window_seconds
            )
            if len(batch) < settings.projector_batch:
                await trio.sleep(LINGER_SECONDS)
        block_ms = 0 if batch else READ_BLOCK_MS
        return await groups.read_new(
            stream_log, consumer, state.spaces, settings.projector_batch, block_ms
        )


async def _reclaim(
    stream_log: StreamLog,
    db: Database,
    settings: Settings,
    state: ProjectorState,
    consumer: str,
    touched: dict[str, set[str]],
) -> None:
    """Take over what crashed consumers left pending (groups.reclaim_all)."""

    async def take(space_id: str, claimed: list[groups.Decoded]) -> None:
        logger.info("projector reclaimed %d entries of space %s", len(claimed), space_id)
        await _project(stream_log, db, state, claimed, touched, settings.resume_window_seconds)

    idle_ms = int(settings.projector_claim_idle_seconds * 1000)
    await groups.reclaim_all(
        stream_log, consumer, state.spaces, idle_ms, settings.projector_batch, take
    )


async def _project(
    stream_log: StreamLog,
    db: Database,
    state: ProjectorState,
    decoded: list[groups.Decoded],
    touched: dict[str, set[str]],
    finished_ttl_seconds: int,
) -> None:
    if not decoded:
        return
    started = time.perf_counter()
    batch = Batch()
    by_space: dict[str, list[str]] = {}
    for space_id, entry_id, entry in decoded:
        by_space.setdefault(space_id, []).append(entry_id)
        if isinstance(entry, groups.Undecodable):
            # Kept for an operator (or a newer version) before the ack below lets it go.
            logger.error(
                "projector: entry %s of space %s dead-lettered: %s",
                entry_id,
                space_id,
                entry.reason,
            )
            await groups.dead_letter(stream_log, space_id, entry_id, entry.reason)
            state.dead_lettered += 1
            continue
        batch.add(space_id, entry)
        threads = touched.setdefault(space_id, set())  # every space read gets trimmed
        if (thread_id := entry.thread_id) is not None:
            threads.add(thread_id)
    try:
        await db.run(batch.write)
    except (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError) as exc:
        # One bad entry must not stop the space forever: write the batch entry by entry and
        # set aside (dead-letter) the ones PostgreSQL refuses.
        logger.error("projector: batch refused (%r); projecting entry by entry", exc)
        batch = await _project_one_by_one(stream_log, db, state, decoded)
    await groups.ack(stream_log, by_space)
    await _expire_finished(stream_log, batch, finished_ttl_seconds)
    state.rows_projected += len(batch.messages)
    state.batches += 1
    state.meter.batch_done([entry_id for _, entry_id, _ in decoded], started)


async def _project_one_by_one(
    stream_log: StreamLog, db: Database, state: ProjectorState, decoded: list[groups.Decoded]
) -> Batch:
    done = Batch()
    for space_id, entry_id, entry in decoded:
        if isinstance(entry, groups.Undecodable):
            continue  # dead-lettered already
        single = Batch()
        single.add(space_id, entry)
        try:
            await db.run(single.write)
        except (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError) as exc:
            logger.error(
                "projector: entry %s of space %s dead-lettered: %r", entry_id, space_id, exc
            )
            await groups.dead_letter(stream_log, space_id, entry_id, repr(exc))
            state.dead_lettered += 1
            continue
        done.add(space_id, entry)
    return done


async def _expire_finished(stream_log: StreamLog, batch: Batch, ttl_seconds: int) -> None:
    """A closed thread's stream and state are in PostgreSQL now; let Redis forget them later.

    The stream is kept for the resume window, so late reconnects still resume from it; the
    state (a small hash) as long as any space may reopen the thread. A thread that reopened
    after its close was read keeps both (the script re-checks, chat/streams/lua_queue.py).
    """
    by_space: dict[str, list[str]] = {}
    for space_id, thread_id in batch.finished_threads:
        by_space.setdefault(space_id, []).append(thread_id)
    state_ttl = max(ttl_seconds, MAX_REOPEN_WINDOW_SECONDS)
    for space_id, thread_ids in by_space.items():
        await stream_log.expire_finished(space_id, sorted(thread_ids), ttl_seconds, state_ttl)
