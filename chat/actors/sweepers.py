"""Periodic sweeps, safe to run in every process at once: each change is an atomic script that
applies once (an expiry re-checks inactivity, an idle close that the visitor has not replied
since; an agent goes offline only if its sockets are stale).

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
from chat.streams.log import StreamLog, ThreadAction

logger = logging.getLogger(__name__)
SWEEP_TIMEOUT_SECONDS = 30.0


async def run_expiry_sweeper(
    stream_log: StreamLog,
    db: Database,
    period_seconds: float,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Expire threads idle for longer than their space's thread_ttl_seconds, and close those
    whose visitor did not reply to an agent within the space's idle_close_seconds."""
    task_status.started()
    while True:
        try:
            with trio.fail_after(SWEEP_TIMEOUT_SECONDS):
                rows = await db.run(space_queries.all_space_settings)
                await sweep_expiry(stream_log, [(s, SpaceSettings.of(raw)) for s, raw in rows])
        except (StreamLogError, OSError, psycopg.Error, trio.TooSlowError) as exc:
            logger.warning("expiry sweep failed: %r", exc)
        await trio.sleep(period_seconds)


async def sweep_expiry(stream_log: StreamLog, spaces: list[tuple[str, SpaceSettings]]) -> int:
    """Expire each space's threads idle past its `thread_ttl_seconds`, and close (with a system
    message saying why) those whose agent answered more than its `idle_close_seconds` ago and
    whose visitor has not written since; how many changed.

    The candidates of every space come in one pipelined round trip (its `open_threads` and
    `answered` sets by score); each change is a script that re-checks, so a message that lands
    first keeps its thread open."""
    now = now_ms()
    queries: list[tuple[str, int]] = []
    changes: list[tuple[str, ThreadAction, int, str]] = []
    for space_id, space_settings in spaces:
        keys = stream_log.keys(space_id)
        cutoff = now - space_settings.thread_ttl_seconds * 1000
        queries.append((keys.open_threads, cutoff))
        changes.append((space_id, "expire", cutoff, ""))
        if idle := space_settings.idle_close_seconds:
            text = idle_close_text(idle, space_settings.reopen_window_seconds)
            answered_before = now - idle * 1000
            queries.append((keys.answered, answered_before))
            changes.append((space_id, "idle", answered_before, text))
    changed = 0
    found = await stream_log.scored_below_each(queries)
    for (space_id, action, cutoff, text), thread_ids in zip(changes, found, strict=True):
        for thread_id in thread_ids:
            if await stream_log.do_change_thread(
                space_id, thread_id, action, expire_before_ms=cutoff, text=text
            ):
                changed += 1
    return changed


def idle_close_text(idle_seconds: int, reopen_window_seconds: int) -> str:
    """The system message of an idle close, in the space's own terms."""
    after = _duration(idle_seconds)
    again = "reopen it" if reopen_window_seconds else "start a new one"
    return f"This conversation was closed after {after} without a reply. Write again to {again}."


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


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
                # Two pipelined round trips for every space, and a script per agent gone.
                space_ids = await db.run(space_queries.all_space_ids)
                stale = await stream_log.stale_agents_of(space_ids)
                for space_id, agent_ids in stale.items():
                    for agent_id in agent_ids:
                        await stream_log.do_agent_gone(space_id, agent_id, "")
                await stream_log.viewing.do_sweep_all(space_ids)
        except (StreamLogError, OSError, psycopg.Error, trio.TooSlowError) as exc:
            logger.warning("presence sweep failed: %r", exc)
        await trio.sleep(period_seconds)
