"""Periodic sweeps, safe to run in every process at once: each change is an atomic script that
applies once (an expiry re-checks inactivity; an agent goes offline only if its sockets are stale).

Crash policy: Redis or PostgreSQL errors are logged and the sweep runs again next period.
"""

from __future__ import annotations

import logging

import psycopg
import trio

from chat.clock import now_ms
from chat.db import space_queries
from chat.db.pool import Database
from chat.space_settings import SpaceSettings
from chat.streams.errors import StreamLogError
from chat.streams.log import StreamLog

logger = logging.getLogger(__name__)
SWEEP_TIMEOUT_SECONDS = 30.0


async def run_expiry_sweeper(
    stream_log: StreamLog,
    db: Database,
    period_seconds: float,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Expire threads idle for longer than their space's thread_ttl_seconds."""
    task_status.started()
    while True:
        try:
            with trio.fail_after(SWEEP_TIMEOUT_SECONDS):
                for space_id, raw in await db.run(space_queries.all_space_settings):
                    ttl = SpaceSettings.of(raw).thread_ttl_seconds
                    await expire_idle_threads(stream_log, space_id, ttl)
        except (StreamLogError, OSError, psycopg.Error, trio.TooSlowError) as exc:
            logger.warning("expiry sweep failed: %r", exc)
        await trio.sleep(period_seconds)


async def expire_idle_threads(stream_log: StreamLog, space_id: str, ttl_seconds: int) -> int:
    cutoff = now_ms() - ttl_seconds * 1000
    idle = await stream_log.scored_between(stream_log.keys(space_id).open_threads, "-inf", cutoff)
    expired = 0
    for thread_id in idle:
        if await stream_log.do_change_thread(
            space_id, thread_id, "expire", expire_before_ms=cutoff
        ):
            expired += 1
    return expired


async def run_presence_sweeper(
    stream_log: StreamLog,
    db: Database,
    period_seconds: float,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Agents whose every socket stopped heartbeating (a crashed process's) go offline, and
    those sockets' open conversations are forgotten (chat/streams/viewing.py)."""
    task_status.started()
    while True:
        try:
            with trio.fail_after(SWEEP_TIMEOUT_SECONDS):
                for space_id in await db.run(space_queries.all_space_ids):
                    for agent_id in await stream_log.stale_agents(space_id):
                        await stream_log.do_agent_gone(space_id, agent_id, "")
                    await stream_log.viewing.do_sweep(space_id)
        except (StreamLogError, OSError, psycopg.Error, trio.TooSlowError) as exc:
            logger.warning("presence sweep failed: %r", exc)
        await trio.sleep(period_seconds)
