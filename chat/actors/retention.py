"""The retention sweep: every space's streams trimmed to the resume window, quiet spaces too, and
the keys of deleted spaces removed once their streams are projected (structures.md,
"Retention"). The projector trims the spaces it reads as it goes; a space nobody writes to is
read by nobody, so without this sweep its last hour of entries (and its open threads' streams)
would stay in Valkey for good.

Safe in every process at once: a trim only ever removes what is projected and older than the
window, and each removal step is idempotent (chat/streams/retention.py).

Crash policy: Redis or PostgreSQL errors are logged and the sweep runs again next period; a
removal cut off halfway is finished by a later one. Anything else propagates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

import psycopg
import trio

from chat.db import space_queries
from chat.db.pool import Database
from chat.streams.errors import StreamLogError
from chat.streams.retention import Retention

logger = logging.getLogger(__name__)

# One sweep's deadline: 1,000 spaces take ~0.1 s on one machine; a hung Valkey or PostgreSQL
# ends the sweep, and the next period tries again.
SWEEP_TIMEOUT_SECONDS = 60.0
# A deleted space's keys wait this long after the deletion, so that every process's lists of
# live spaces (the router's, the webhook ingest's, the sweeps', refreshed every few seconds) have
# dropped it and none recreates its groups.
REMOVAL_GRACE_SECONDS = 60.0


@dataclass
class RetentionState:
    """What the sweep did, for tests and the logs."""

    sweeps: int = 0
    trimmed: int = 0
    spaces_removed: int = 0


async def run_retention_sweeper(
    retention: Retention,
    db: Database,
    keep_seconds: int,
    period_seconds: float,
    state: RetentionState,
    *,
    removal_grace_seconds: float = REMOVAL_GRACE_SECONDS,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Every `period_seconds`: trim each followed space's stream and its open threads' streams
    to `keep_seconds` (never what is not projected), then remove the keys of spaces deleted
    more than `removal_grace_seconds` ago whose streams are projected. Never returns unless
    cancelled; a cancelled sweep leaves nothing half-done that the next one does not finish."""
    task_status.started()
    while True:
        try:
            with trio.fail_after(SWEEP_TIMEOUT_SECONDS):
                await sweep_once(retention, db, keep_seconds, state, removal_grace_seconds)
        except (StreamLogError, OSError, psycopg.Error, trio.TooSlowError) as exc:
            logger.warning("retention sweep failed: %r", exc)
        await trio.sleep(period_seconds)


async def sweep_once(
    retention: Retention,
    db: Database,
    keep_seconds: int,
    state: RetentionState,
    removal_grace_seconds: float = REMOVAL_GRACE_SECONDS,
) -> None:
    """One pass: trims, then removals (see run_retention_sweeper)."""
    for space_id in await db.run(space_queries.followed_space_ids):
        state.trimmed += await retention.trim(space_id, keep_seconds, every_open=True)
    doomed = await db.run(lambda c: space_queries.spaces_to_remove(c, removal_grace_seconds))
    for space_id, organization_id in doomed:
        removal = await retention.remove_space(space_id, organization_id)
        if not removal.done:
            continue  # its stream is not all projected yet: the next sweep tries again
        await db.run(partial(space_queries.mark_keys_removed, space_id=space_id))
        state.spaces_removed += 1
        logger.info("space %s deleted: its %d Valkey keys removed", space_id, removal.keys)
    state.sweeps += 1
