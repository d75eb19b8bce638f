"""The widget header's team and reply time per space, read from PostgreSQL at most once every
TEAM_CACHE_SECONDS per space and process (structures.md, "Appearance").

A widget config is fetched on every page load of every visitor; these reads scan the space's
recent conversations, so they must not run per request. A few minutes of staleness is harmless:
a new picture or a slower week shows a little later. Which agents are online is not cached
here: the config reads it from the log's presence on each request, as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
import trio

from chat.db import team_queries
from chat.db.pool import Database
from chat.db.team_queries import TeamRow

logger = logging.getLogger(__name__)

TEAM_CACHE_SECONDS = 180.0
# Past this wait the config answers without a team and reply time (as when there is no data),
# and tries again on a later request: a slow database must not delay the widget's first paint.
TEAM_WAIT_SECONDS = 1.0
# An outage is remembered this long, so a struggling database is not asked on every page load.
TEAM_RETRY_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class TeamSnapshot:
    members: tuple[TeamRow, ...] = ()
    size: int = 0
    reply_seconds: float | None = None


@dataclass
class TeamCache:
    """Per-space snapshots with their expiry (trio's clock). Owned by Services; one per process."""

    _entries: dict[str, tuple[float, TeamSnapshot]] = field(default_factory=dict)

    async def snapshot(self, db: Database, organization_id: str, space_id: str) -> TeamSnapshot:
        now = trio.current_time()
        cached = self._entries.get(space_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            with trio.fail_after(TEAM_WAIT_SECONDS):
                found = await db.run(lambda c: _read(c, organization_id, space_id))
        except (psycopg.OperationalError, trio.TooSlowError) as exc:
            logger.warning("widget config without its team, the database did not answer: %r", exc)
            stale = cached[1] if cached is not None else TeamSnapshot()
            self._entries[space_id] = (now + TEAM_RETRY_SECONDS, stale)
            return stale
        self._entries[space_id] = (now + TEAM_CACHE_SECONDS, found)
        return found

    def clear(self) -> None:
        """Forget every snapshot of this process (an agent changed its picture here); other
        processes show the change when theirs expire."""
        self._entries.clear()


def _read(conn: psycopg.Connection, organization_id: str, space_id: str) -> TeamSnapshot:
    now = datetime.now(UTC)
    members, size = team_queries.team_of_space(conn, organization_id, space_id, now)
    reply = team_queries.median_first_response_seconds(conn, space_id, now)
    return TeamSnapshot(tuple(members), size, reply)
