"""Spaces by widget key, cached in each process, so visitors connect while PostgreSQL is away.

A widget handshake needs the space of its key (its id, allowed domains and settings); everything
a visitor does after that needs only Redis. So the space is kept here once loaded:

- A miss loads from PostgreSQL (`space_by_widget_key`); a hit younger than FRESH_SECONDS is used
  as is; an older one is loaded again, and if PostgreSQL does not answer within
  REFRESH_WAIT_SECONDS (or fails) the cached copy is used: during an outage a key seen before
  keeps working, and a new visitor connects in well under a second.
- Invalidation over the control stream (`dispatch`, called by the control follower before the
  session registry's): a deleted space, a rotated key and a changed space drop the space's
  entries on every process. A load that straddles such an entry is returned but not kept, so a
  copy older than the entry is never cached. FRESH_SECONDS bounds what a process that missed an
  entry (one older than this version) may serve.
- Using a stale copy during an outage is safe: deleting a space, rotating its key and changing
  it all commit in PostgreSQL first, so none of them can have happened while it was away.

Unknown keys are not cached (anyone can invent them; the cache would grow without bound), and
the cache holds at most MAX_ENTRIES keys, dropping the oldest loaded first.
See structures.md, "Revocation".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
import trio

from chat.db import space_queries
from chat.db.pool import Database
from chat.db.rows import SpaceRow
from chat.streams.control import ControlEntry, SpaceDeleted, SpaceUpdated, WidgetKeyRotated

logger = logging.getLogger(__name__)

# A cached space is used without asking PostgreSQL for this long after it was loaded.
FRESH_SECONDS = 60.0
# A stale copy is refreshed first; a database that does not answer this fast is not waited on.
REFRESH_WAIT_SECONDS = 0.3
# Keys kept: a few hundred bytes each, so ~10 MB at most.
MAX_ENTRIES = 20_000


@dataclass(frozen=True, slots=True)
class _Cached:
    space: SpaceRow
    loaded_at: float


class SpaceCache:
    """Live spaces by widget key, for this process. Does no I/O on init."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._by_key: dict[str, _Cached] = {}
        # Control entries dispatched so far: a load that straddles one is not kept.
        self._generation = 0
        self.stale_served = 0  # stale copies used because PostgreSQL did not answer

    async def space_by_widget_key(self, widget_key: str) -> SpaceRow | None:
        """The live space of the key, or None when there is none.

        Raises psycopg.OperationalError when PostgreSQL cannot answer and the key was never
        loaded here. Cancellation: nothing is cached, nothing else changes."""
        cached = self._by_key.get(widget_key)
        if cached is None:
            return await self._load(widget_key)
        if trio.current_time() - cached.loaded_at < FRESH_SECONDS:
            return cached.space
        try:
            with trio.fail_after(REFRESH_WAIT_SECONDS):
                return await self._load(widget_key)
        except (psycopg.OperationalError, trio.TooSlowError) as exc:
            self.stale_served += 1
            logger.warning("widget key served from cache, the database did not answer: %r", exc)
            return cached.space

    async def _load(self, widget_key: str) -> SpaceRow | None:
        since = self._generation
        space = await self._db.run(lambda c: space_queries.space_by_widget_key(c, widget_key))
        if since != self._generation:
            return space  # an entry was dispatched meanwhile: maybe older than it, do not keep
        self._by_key.pop(widget_key, None)
        if space is not None:
            if len(self._by_key) >= MAX_ENTRIES:
                del self._by_key[next(iter(self._by_key))]
            self._by_key[widget_key] = _Cached(space, trio.current_time())
        return space

    def dispatch(self, entry: ControlEntry) -> None:
        """Drop what a control entry makes stale."""
        match entry.event:
            case SpaceDeleted(space_id=space_id) | SpaceUpdated(space_id=space_id):
                self.forget_space(space_id)
            case WidgetKeyRotated(space_id=space_id):
                self.forget_space(space_id)

    def forget_space(self, space_id: str) -> None:
        """Drop the space's keys. Called by the process that changed the space, right after the
        commit, so its own next handshake sees the change without waiting for the control
        stream; other processes drop theirs when the entry reaches them (within milliseconds)."""
        self._generation += 1
        for key in [k for k, c in self._by_key.items() if c.space.id == space_id]:
            del self._by_key[key]
