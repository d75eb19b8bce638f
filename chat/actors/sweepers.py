"""Periodic sweeps, safe to run in every process at once: each change is an atomic script that
applies once (an expiry re-checks inactivity; an agent goes offline only if its sockets are stale).

Crash policy: Redis or PostgreSQL errors are logged and the sweep runs again next period.
"""

from __future__ import annotations

import logging
import time

import coredis.exceptions
import psycopg
import trio

from chat.db import spaces as space_queries
from chat.db.pool import Database
from chat.spaces import SpaceSettings
from chat.streams.log import StreamLog

log = logging.getLogger(__name__)
SWEEP_TIMEOUT_SECONDS = 30.0


async def run_expiry_sweeper(
    log_: StreamLog,
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
                    await expire_idle_threads(log_, space_id, ttl)
        except (coredis.exceptions.RedisError, OSError, psycopg.Error, trio.TooSlowError) as exc:
            log.warning("expiry sweep failed: %r", exc)
        await trio.sleep(period_seconds)


async def expire_idle_threads(log_: StreamLog, space_id: str, ttl_seconds: int) -> int:
    cutoff = int(time.time() * 1000) - ttl_seconds * 1000
    idle = await log_.scored_between(log_.keys(space_id).open_threads, "-inf", cutoff)
    expired = 0
    for thread_id in idle:
        if await log_.do_change_thread(space_id, thread_id, "expire", expire_before_ms=cutoff):
            expired += 1
    return expired


async def run_presence_sweeper(
    log_: StreamLog,
    db: Database,
    ttl_seconds: int,
    period_seconds: float,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Agents whose every socket stopped heartbeating (a crashed process's) go offline."""
    task_status.started()
    ttl_ms = ttl_seconds * 1000
    while True:
        try:
            with trio.fail_after(SWEEP_TIMEOUT_SECONDS):
                for space_id in await db.run(space_queries.all_space_ids):
                    cutoff = int(time.time() * 1000) - ttl_ms
                    stale = await log_.scored_between(log_.keys(space_id).online, "-inf", cutoff)
                    for agent_id in stale:
                        await log_.do_agent_gone(space_id, agent_id, "", ttl_ms)
        except (coredis.exceptions.RedisError, OSError, psycopg.Error, trio.TooSlowError) as exc:
            log.warning("presence sweep failed: %r", exc)
        await trio.sleep(period_seconds)
