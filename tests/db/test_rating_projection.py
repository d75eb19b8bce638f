"""Projecting `rated` entries (chat/db/rating_projection.py): keyed by thread, a replayed entry
adds nothing, and a later rating of the same thread (possible only once the log's marker has
expired) never replaces the first."""

from __future__ import annotations

import uuid

import trio

from chat.config import Settings
from chat.db.pool import open_database
from chat.db.projection import Batch
from chat.events import LogEntry, ThreadRated


async def test_the_first_rating_stays_whatever_is_replayed(settings: Settings) -> None:
    space_id, thread_id, visitor_id = (str(uuid.uuid4()) for _ in range(3))

    def entry(entry_id: str, score: str, comment: str | None) -> LogEntry:
        rated = ThreadRated(
            thread_id=thread_id,
            visitor_id=visitor_id,
            score=score,  # type: ignore[arg-type]
            comment=comment,
            client_id=entry_id,
        )
        return LogEntry(entry_id, rated)

    first = entry("1700000000000-0", "good", "kind")
    with trio.fail_after(30):
        async with open_database(settings.database_url, 1) as db:
            for batch_entries in ([first, first], [first], [entry("1700000009000-0", "bad", None)]):
                batch = Batch()
                for e in batch_entries:
                    batch.add(space_id, e)
                await db.run(batch.write)
            rows = await db.run(
                lambda c: c.execute(
                    "SELECT score, comment, entry_ms, agent_id, created_at = timestamptz"
                    " '2023-11-14T22:13:20Z' FROM ratings WHERE thread_id = %s",
                    (thread_id,),
                ).fetchall()
            )
    assert rows == [("good", "kind", 1_700_000_000_000, None, True)]
