"""The webhook ingest: follows the space streams through its own consumer group (`webhooks`)
and turns each public entry into the events and deliveries of PostgreSQL (structures.md,
"Webhooks"). Delivery itself is the senders' (chat/actors/webhook_sender.py).

Every process runs one; the consumer group shares the entries among them. An entry is acked
only after its rows are committed, and the rows are keyed by (endpoint, space, entry id), so an
entry read twice (a crash between commit and XACK) enqueues nothing twice: nothing is lost,
nothing doubles, and an event's id is its entry id.

Crash policy: Redis or PostgreSQL errors back off and retry; this consumer's own unacked entries
are read again first, and entries a crashed process left pending are reclaimed with XAUTOCLAIM
once idle for `projector_claim_idle_seconds` (the ingest works from the entry, so they must be).
A stream that lost the group (NOGROUP) gets it back at the next turn. An entry this version
cannot decode is acked away: the projector dead-letters it already. Anything else propagates to
the supervisor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
import trio

from chat.backoff import Backoff
from chat.config import Settings
from chat.db import space_queries, webhook_queries
from chat.db.pool import Database
from chat.streams import groups
from chat.streams.errors import ConsumerGroupMissingError, StreamLogError
from chat.streams.keys import WEBHOOKS_GROUP
from chat.streams.log import StreamLog
from chat.webhooks.events import PublicEvent, public_event

logger = logging.getLogger(__name__)

READ_BLOCK_MS = 1000
READ_COUNT = 500
# After a batch smaller than READ_COUNT the next read waits this long, so that under a steady
# load a batch carries dozens of entries rather than one or two: each batch costs an XREADGROUP,
# a transaction and an XACK whatever its size, and reading as fast as entries came made the
# ingest cost more CPU the faster it went (as the projector's LINGER_SECONDS). Webhooks go out
# at most this much later; deliveries are seconds-scale anyway (retries, receivers).
LINGER_SECONDS = 0.1
# The fallback for a space whose control entry was missed (follow_space is the fast path).
SPACES_REFRESH_SECONDS = 5.0
# Events past the retention are swept this often (by every process; the deletes are idempotent).
SWEEP_SECONDS = 3600.0


@dataclass
class IngestState:
    """What the ingest did, for tests and /metrics."""

    entries: int = 0
    enqueued: int = 0
    failing_since: float | None = None
    new_spaces: set[str] = field(default_factory=set)

    def follow_space(self, space_id: str) -> None:
        self.new_spaces.add(space_id)


async def run_webhook_ingest(
    stream_log: StreamLog,
    db: Database,
    settings: Settings,
    state: IngestState,
    enqueued: Callable[[], None],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Ingest until cancelled; never returns otherwise. `enqueued` is called after a commit that
    enqueued deliveries (it wakes this process's sender).

    Resource handling: one consumer `node-<node_id>` in the group `webhooks` on each live space
    stream, created at the stream's start. Cancellation leaves read entries pending: read again
    by this node's next start, or reclaimed by another process.
    """
    consumer = f"node-{settings.node_id}"
    spaces: dict[str, str] = {}  # space id -> organization id
    known: set[str] = set()
    next_refresh = next_claim = next_sweep = 0.0
    backoff = Backoff("webhook ingest")
    recovering = True
    task_status.started()
    while True:
        now = trio.current_time()
        try:
            if now >= next_refresh or state.new_spaces:
                state.new_spaces.clear()
                spaces = await db.run(space_queries.all_space_organizations)
                for space_id in sorted(spaces.keys() - known):
                    await groups.ensure_group(stream_log, space_id, WEBHOOKS_GROUP, "0")
                    known.add(space_id)
                next_refresh = now + SPACES_REFRESH_SECONDS
            if now >= next_claim:
                await _reclaim(stream_log, db, settings, state, consumer, spaces, enqueued)
                next_claim = now + settings.projector_claim_idle_seconds / 2
            if now >= next_sweep:
                gone = await db.run(
                    lambda c: webhook_queries.sweep(c, settings.webhook_retention_days)
                )
                if gone:
                    logger.info("webhooks: %d events past the retention swept", gone)
                next_sweep = now + SWEEP_SECONDS
            ids = sorted(spaces)
            if recovering:
                batch = await groups.read_own_pending(
                    stream_log, consumer, ids, READ_COUNT, WEBHOOKS_GROUP
                )
                recovering = bool(batch)
            else:
                batch = await groups.read_new(
                    stream_log, consumer, ids, READ_COUNT, READ_BLOCK_MS, WEBHOOKS_GROUP
                )
            await _ingest(stream_log, db, state, spaces, batch, enqueued)
            backoff.reset()
            if 0 < len(batch) < READ_COUNT:
                await trio.sleep(LINGER_SECONDS)
            state.failing_since = None
        except* ConsumerGroupMissingError:
            known.clear()  # recreate the groups at the next turn; what was read stays pending
            next_refresh, recovering = 0.0, True
        except* (StreamLogError, OSError, psycopg.OperationalError) as group:
            recovering = True
            if state.failing_since is None:
                state.failing_since = trio.current_time()
            await backoff.wait(logger, group.exceptions[0])


async def _reclaim(
    stream_log: StreamLog,
    db: Database,
    settings: Settings,
    state: IngestState,
    consumer: str,
    spaces: dict[str, str],
    enqueued: Callable[[], None],
) -> None:
    async def take(space_id: str, claimed: list[groups.Decoded]) -> None:
        logger.info("webhooks reclaimed %d entries of space %s", len(claimed), space_id)
        await _ingest(stream_log, db, state, spaces, claimed, enqueued)

    idle_ms = int(settings.projector_claim_idle_seconds * 1000)
    await groups.reclaim_all(
        stream_log, consumer, sorted(spaces), idle_ms, READ_COUNT, take, WEBHOOKS_GROUP
    )


async def _ingest(
    stream_log: StreamLog,
    db: Database,
    state: IngestState,
    spaces: dict[str, str],
    batch: list[groups.Decoded],
    enqueued: Callable[[], None],
) -> None:
    """Store the batch's public events and their deliveries in one transaction, then XACK."""
    if not batch:
        return
    by_space: dict[str, list[str]] = {}
    for space_id, entry_id, _entry in batch:
        by_space.setdefault(space_id, []).append(entry_id)

    def record(conn: psycopg.Connection) -> int:
        # In the transaction that inserts: an endpoint committed before it gets every entry
        # after, exactly as when the insert itself checked (its WHERE EXISTS still does).
        organizations = {spaces[s] for s, _, _ in batch if s in spaces}
        wanted = webhook_queries.organizations_with_endpoints(conn, organizations)
        events: list[PublicEvent] = []
        for space_id, _, entry in batch:
            organization_id = spaces.get(space_id)
            if isinstance(entry, groups.Undecodable) or organization_id not in wanted:
                continue  # the projector dead-letters what cannot be decoded
            assert organization_id is not None
            event = public_event(organization_id, space_id, entry)
            if event is not None:
                events.append(event)
        return webhook_queries.record_events(conn, events)

    count = await db.run(record)
    await groups.ack(stream_log, by_space, WEBHOOKS_GROUP)
    state.entries += len(batch)
    state.enqueued += count
    if count:
        enqueued()
