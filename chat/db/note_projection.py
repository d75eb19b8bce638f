"""Projecting the agents' own entries (notes, tag changes) into PostgreSQL, idempotently: a
replayed entry adds no row twice and never undoes a newer one (structures.md, "Private notes",
"Tags"). Part of the projector's batch (chat/db/projection.py), in its transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from chat.events import NoteCreated, ThreadTagChanged

_INSERT_NOTES = (
    "INSERT INTO notes (thread_id, id_ms, id_seq, space_id, author_id, author_name, content,"
    " client_id, created_at, to_agent_id)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, timestamptz 'epoch' + %s * interval '1 ms', %s)"
    " ON CONFLICT DO NOTHING"
)
# The latest entry per (thread, tag) wins, whatever order replays come in.
_UPSERT_THREAD_TAG = (
    "INSERT INTO thread_tags (thread_id, tag_id, present, entry_ms, entry_seq)"
    " VALUES (%s, %s, %s, %s, %s)"
    " ON CONFLICT (thread_id, tag_id) DO UPDATE SET present = EXCLUDED.present,"
    " entry_ms = EXCLUDED.entry_ms, entry_seq = EXCLUDED.entry_seq"
    " WHERE (thread_tags.entry_ms, thread_tags.entry_seq)"
    " < (EXCLUDED.entry_ms, EXCLUDED.entry_seq)"
)


@dataclass
class AgentEntries:
    notes: list[tuple[object, ...]] = field(default_factory=list)
    tags: list[tuple[object, ...]] = field(default_factory=list)

    def add_note(self, space_id: str, n: NoteCreated, ms: int, seq: int) -> None:
        self.notes.append(
            (
                n.thread_id,
                ms,
                seq,
                space_id,
                n.author_id,
                n.author_name,
                n.content,
                n.client_id,
                ms,
                n.to_agent_id,
            )
        )

    def add_tag(self, t: ThreadTagChanged, ms: int, seq: int) -> None:
        self.tags.append((t.thread_id, t.tag_id, t.type == "thread.tagged", ms, seq))

    def write(self, cur: psycopg.Cursor[object]) -> None:
        if self.notes:
            cur.executemany(_INSERT_NOTES, self.notes)
        if self.tags:
            # In entry order, so within one batch the later entry of a pair is the one kept.
            cur.executemany(_UPSERT_THREAD_TAG, self.tags)
