"""The projection of visitor context and read state (chat/db/projection.py): replayed entries
add nothing twice, a read marker never moves back, and a visitor keeps its newest 50 pages."""

from __future__ import annotations

import uuid

import psycopg

from chat.config import Settings
from chat.db.projection import VISITOR_PAGES_KEPT, Batch
from chat.events import LogEntry, ReadMarked, VisitorUpdated
from tests.helpers.db import query


def _write(url: str, space_id: str, entries: list[LogEntry]) -> None:
    batch = Batch()
    for entry in entries:
        batch.add(space_id, entry)
    with psycopg.connect(url) as conn:
        batch.write(conn)


def test_pages_and_markers_replay_and_trim(settings: Settings) -> None:
    url, space_id = settings.database_url, str(uuid.uuid4())
    visitor_id, thread_id, agent_id = (str(uuid.uuid4()) for _ in range(3))
    pages = [
        LogEntry(
            f"{1_700_000_000_000 + n}-0",
            VisitorUpdated(
                visitor_id=visitor_id,
                current_url=f"https://shop.example.com/{n}",
                page_title=f"Page {n}",
                locale="de-DE" if n == 0 else None,
                attributes={"plan": "pro", "seats": 3} if n == 0 else None,
            ),
        )
        for n in range(VISITOR_PAGES_KEPT + 5)
    ]
    newer = LogEntry(
        "1700000001000-0",
        ReadMarked(thread_id=thread_id, reader_type="agent", reader_id=agent_id, message_id="9-2"),
    )
    older = LogEntry(
        "1700000001001-0",
        ReadMarked(thread_id=thread_id, reader_type="agent", reader_id=agent_id, message_id="9-1"),
    )
    for _ in range(2):  # a replay (a reclaimed batch) changes nothing
        _write(url, space_id, [*pages, newer, older])
    kept = query(
        url,
        "SELECT url FROM visitor_pages WHERE visitor_id = %s ORDER BY id_ms DESC",
        (visitor_id,),
    )
    assert len(kept) == VISITOR_PAGES_KEPT
    assert kept[0][0] == f"https://shop.example.com/{VISITOR_PAGES_KEPT + 4}"
    row = query(url, "SELECT attributes, locale FROM visitors WHERE id = %s", (visitor_id,))
    assert row == [({"plan": "pro", "seats": 3}, "de-DE")]  # later entries without them keep them
    markers = query(url, "SELECT message_ms, message_seq FROM read_markers", ())
    assert markers == [(9, 2)]
