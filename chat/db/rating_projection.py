"""Projecting visitors' ratings (`rated` entries) into PostgreSQL (structures.md, "Ratings").
Part of the projector's batch (chat/db/projection.py), in its transaction. One row per thread:
the log appends at most one rating per thread, and a replayed entry (or, past the marker's TTL,
a later one) adds nothing: the first rating stays, as the log's script decides."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from chat.events import ThreadRated

_INSERT_RATINGS = (
    "INSERT INTO ratings (thread_id, space_id, visitor_id, agent_id, score, comment, client_id,"
    " entry_ms, entry_seq, created_at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, timestamptz 'epoch' + %s * interval '1 ms')"
    " ON CONFLICT (thread_id) DO NOTHING"
)


@dataclass
class Ratings:
    rows: list[tuple[object, ...]] = field(default_factory=list)

    def add(self, space_id: str, r: ThreadRated, ms: int, seq: int) -> None:
        self.rows.append(
            (r.thread_id, space_id, r.visitor_id, r.agent_id, r.score, r.comment, r.client_id)
            + (ms, seq, ms)
        )

    def write(self, cur: psycopg.Cursor[object]) -> None:
        if self.rows:
            cur.executemany(_INSERT_RATINGS, self.rows)
