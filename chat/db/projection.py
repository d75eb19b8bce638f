"""Writing log entries into PostgreSQL, idempotently: a replayed entry never adds a row twice.

A batch is one transaction of a few statements (one per kind of row, the rows passed as arrays),
so a batch of 500 entries takes tens of ms, far inside the statement timeout. A batch that times
out or is cancelled rolls back whole; its entries stay pending and are written again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import psycopg
from psycopg.types.json import Jsonb

from chat.db.note_projection import AgentEntries
from chat.db.rating_projection import Ratings
from chat.events import (
    LogEntry,
    MessagePosted,
    NoteCreated,
    ReadMarked,
    ThreadChanged,
    ThreadDeleted,
    ThreadOpened,
    ThreadRated,
    ThreadSnapshot,
    ThreadTagChanged,
    VisitorUpdated,
)
from chat.ids import parse_id

# One statement per batch, the rows passed as one array per column: executemany sent a statement
# per row, and adapting each row's parameters cost the projector about twice the client CPU.
# Duplicates inside one statement are fine with DO NOTHING (the first in array order stays).
_INSERT_MESSAGES = (
    "INSERT INTO messages (thread_id, id_ms, id_seq, space_id, sender_type, sender_id,"
    " sender_name, content, client_id, created_at, attachment, quick_replies)"
    " SELECT m.thread_id, m.id_ms, m.id_seq, m.space_id, m.sender_type, m.sender_id,"
    " m.sender_name, m.content, m.client_id, timestamptz 'epoch' + m.id_ms * interval '1 ms',"
    " m.attachment::jsonb, m.quick_replies::jsonb"
    " FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::uuid[], %s::text[], %s::text[],"
    " %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])"
    " AS m(thread_id, id_ms, id_seq, space_id, sender_type, sender_id, sender_name, content,"
    " client_id, attachment, quick_replies)"
    " ON CONFLICT DO NOTHING"
)
_UPSERT_THREAD = (
    "INSERT INTO threads (id, space_id, visitor_id, assigned_agent_id, status, last_activity_at,"
    " created_at, closed_at, channel, email, group_id, entry_ms, entry_seq)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (id) DO UPDATE SET assigned_agent_id = EXCLUDED.assigned_agent_id,"
    " group_id = EXCLUDED.group_id,"
    " channel = coalesce(EXCLUDED.channel, threads.channel),"
    " email = coalesce(EXCLUDED.email, threads.email),"
    " status = EXCLUDED.status, closed_at = EXCLUDED.closed_at,"
    " last_activity_at = greatest(threads.last_activity_at, EXCLUDED.last_activity_at),"
    " entry_ms = EXCLUDED.entry_ms, entry_seq = EXCLUDED.entry_seq"
    " WHERE (threads.entry_ms, threads.entry_seq) < (EXCLUDED.entry_ms, EXCLUDED.entry_seq)"
)
# Soft delete and restore (structures.md, "Deleting conversations and visitors"): applied only
# if the entry is newer than the one that last wrote the row, so a replayed delete never undoes
# a later restore (nor the reverse). A thread not projected yet is not there to mark: a delete
# needs a closed thread, which the projector wrote before (one space's entries come in order).
_MARK_DELETED = (
    "UPDATE threads SET deleted_at = %s, entry_ms = %s, entry_seq = %s"
    " WHERE id = %s AND (entry_ms, entry_seq) < (%s, %s)"
)
_TOUCH_THREADS = (
    "UPDATE threads SET last_activity_at = greatest(threads.last_activity_at,"
    " timestamptz 'epoch' + u.ms * interval '1 ms')"
    " FROM unnest(%s::uuid[], %s::bigint[]) AS u(id, ms) WHERE threads.id = u.id"
)
# Mail to send (chat/actors/mailer.py): one row per `message` entry on the email channel, written
# in the projection's transaction (an outbox), so a message is mailed once it is stored and never
# forgotten; the entry id keys it, so a replayed entry adds no second row.
_INSERT_OUTBOX = (
    "INSERT INTO email_outbox (id_ms, id_seq, space_id, thread_id, recipient)"
    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
_UPSERT_VISITOR = (
    "INSERT INTO visitors (id, space_id, name, email, current_url, created_at, attributes,"
    " locale, timezone, browser, os, external_id, entry_ms, entry_seq)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (id) DO UPDATE SET name = coalesce(EXCLUDED.name, visitors.name),"
    " email = coalesce(EXCLUDED.email, visitors.email),"
    " current_url = coalesce(EXCLUDED.current_url, visitors.current_url),"
    " attributes = coalesce(EXCLUDED.attributes, visitors.attributes),"
    " locale = coalesce(EXCLUDED.locale, visitors.locale),"
    " timezone = coalesce(EXCLUDED.timezone, visitors.timezone),"
    " browser = coalesce(EXCLUDED.browser, visitors.browser),"
    " os = coalesce(EXCLUDED.os, visitors.os),"
    " external_id = coalesce(EXCLUDED.external_id, visitors.external_id),"
    " entry_ms = EXCLUDED.entry_ms, entry_seq = EXCLUDED.entry_seq"
    " WHERE (visitors.entry_ms, visitors.entry_seq) < (EXCLUDED.entry_ms, EXCLUDED.entry_seq)"
)

# A verified identify's user id is one visitor's per space (a unique index). The log maps it once
# (chat/streams/identity.py), so another row holds it only if Valkey lost its mapping and a new
# visitor was verified as that user: the newest entry wins, and the projection never fails on it.
_RELEASE_EXTERNAL_ID = (
    "UPDATE visitors SET external_id = NULL WHERE space_id = %s AND external_id = %s AND id <> %s"
)

# The pages a visitor was on (structures.md, "Visitor context"): one row per entry with a URL,
# keyed by the entry id; then each touched visitor keeps only its newest VISITOR_PAGES_KEPT.
VISITOR_PAGES_KEPT = 50
_INSERT_PAGES = (
    "INSERT INTO visitor_pages (visitor_id, id_ms, id_seq, url, title)"
    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)
_TRIM_PAGES = (
    "DELETE FROM visitor_pages p USING (SELECT visitor_id, id_ms, id_seq, row_number() OVER"
    " (PARTITION BY visitor_id ORDER BY id_ms DESC, id_seq DESC) AS n FROM visitor_pages"
    " WHERE visitor_id = ANY(%s::uuid[])) old WHERE old.n > %s AND p.visitor_id = old.visitor_id"
    " AND p.id_ms = old.id_ms AND p.id_seq = old.id_seq"
)
# Read markers only move forward, whatever order entries are replayed in.
_UPSERT_READ = (
    "INSERT INTO read_markers (thread_id, reader_id, message_ms, message_seq)"
    " VALUES (%s, %s, %s, %s) ON CONFLICT (thread_id, reader_id) DO UPDATE"
    " SET message_ms = EXCLUDED.message_ms, message_seq = EXCLUDED.message_seq"
    " WHERE (read_markers.message_ms, read_markers.message_seq)"
    " < (EXCLUDED.message_ms, EXCLUDED.message_seq)"
)


def _quick_replies_json(m: MessagePosted) -> str | None:
    if not m.quick_replies:
        return None
    return orjson.dumps([q.model_dump() for q in m.quick_replies]).decode()


def _ts(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


@dataclass
class Batch:
    """One projector batch, grouped by statement so each runs as one executemany."""

    messages: list[tuple[object, ...]] = field(default_factory=list)
    threads: list[tuple[object, ...]] = field(default_factory=list)
    touches: dict[str, int] = field(default_factory=dict)
    visitors: list[tuple[object, ...]] = field(default_factory=list)
    outbox: list[tuple[object, ...]] = field(default_factory=list)
    pages: list[tuple[object, ...]] = field(default_factory=list)
    reads: list[tuple[object, ...]] = field(default_factory=list)
    finished_threads: set[tuple[str, str]] = field(default_factory=set)  # (space, thread)
    agent_entries: AgentEntries = field(default_factory=AgentEntries)  # notes and tags
    deletions: list[tuple[object, ...]] = field(default_factory=list)
    identities: list[tuple[object, ...]] = field(default_factory=list)  # verified identifies
    ratings: Ratings = field(default_factory=Ratings)

    def add(self, space_id: str, entry: LogEntry) -> None:
        ms, seq = parse_id(entry.id)
        match entry.event:
            case MessagePosted() as m:
                self.messages.append(
                    (
                        m.thread_id,
                        ms,
                        seq,
                        space_id,
                        m.sender_type,
                        m.sender_id,
                        m.sender_name,
                        m.content,
                        m.client_id,
                        m.attachment.model_dump_json() if m.attachment else None,
                        _quick_replies_json(m),
                    )
                )
                self.touches[m.thread_id] = max(ms, self.touches.get(m.thread_id, 0))
                if m.channel == "email" and m.sender_type in ("visitor", "agent"):
                    # A visitor's lead or reply notifies the team; an agent's answer goes to
                    # the visitor.
                    to = "team" if m.sender_type == "visitor" else "visitor"
                    self.outbox.append((ms, seq, space_id, m.thread_id, to))
            case ThreadOpened() as o:
                v = o.visitor
                self.visitors.append(
                    (v.id, space_id, v.name, v.email, v.current_url, _ts(v.created or ms))
                    + (None,) * 5
                    + (v.external_id, ms, seq)
                )
                self.threads.append(_thread_row(o.thread, ms, seq))
            case ThreadChanged() as c:
                self.threads.append(_thread_row(c.thread, ms, seq))
                if c.thread.status in ("closed", "expired"):
                    self.finished_threads.add((space_id, c.thread.id))
            case VisitorUpdated() as u:
                self.visitors.append(
                    (
                        u.visitor_id,
                        space_id,
                        u.name,
                        u.email,
                        u.current_url,
                        _ts(u.created or ms),
                        Jsonb(u.attributes) if u.attributes is not None else None,
                        u.locale,
                        u.timezone,
                        u.browser,
                        u.os,
                        u.external_id,
                        ms,
                        seq,
                    )
                )
                if u.external_id is not None:
                    self.identities.append((space_id, u.external_id, u.visitor_id))
                if u.current_url is not None:
                    self.pages.append((u.visitor_id, ms, seq, u.current_url, u.page_title))
            case NoteCreated() as n:
                self.agent_entries.add_note(space_id, n, ms, seq)
            case ThreadTagChanged() as t:
                self.agent_entries.add_tag(t, ms, seq)
            case ReadMarked() as r:
                reader = r.reader_id if r.reader_type == "agent" else "visitor"
                self.reads.append((r.thread_id, reader, *parse_id(r.message_id)))
            case ThreadRated() as rt:
                self.ratings.add(space_id, rt, ms, seq)
            case ThreadDeleted() as d:
                when = _ts(ms) if d.type == "thread.deleted" else None
                self.deletions.append((when, ms, seq, d.thread_id, ms, seq))
            case _:
                pass  # typing (and its draft), presence and viewers are not kept

    def write(self, conn: psycopg.Connection) -> None:
        with conn.cursor() as cur:
            if self.identities:
                cur.executemany(_RELEASE_EXTERNAL_ID, self.identities)
            if self.visitors:
                cur.executemany(_UPSERT_VISITOR, self.visitors)
            if self.threads:
                cur.executemany(_UPSERT_THREAD, self.threads)
            if self.messages:
                columns = zip(*self.messages, strict=True)  # every row has every column
                cur.execute(_INSERT_MESSAGES, [list(column) for column in columns])
            if self.touches:
                cur.execute(_TOUCH_THREADS, [list(self.touches), list(self.touches.values())])
            if self.outbox:
                cur.executemany(_INSERT_OUTBOX, self.outbox)
            self.agent_entries.write(cur)
            self.ratings.write(cur)
            if self.pages:
                cur.executemany(_INSERT_PAGES, self.pages)
                touched = sorted({str(p[0]) for p in self.pages})
                cur.execute(_TRIM_PAGES, [touched, VISITOR_PAGES_KEPT])
            if self.reads:
                cur.executemany(_UPSERT_READ, self.reads)
            if self.deletions:  # after the thread upserts: a close and a delete in one batch
                cur.executemany(_MARK_DELETED, self.deletions)


def _thread_row(t: ThreadSnapshot, ms: int, seq: int) -> tuple[object, ...]:
    return (
        t.id,
        t.space_id,
        t.visitor_id,
        t.assigned_agent_id,
        t.status,
        _ts(t.last),
        _ts(t.created),
        _ts(t.closed),
        t.channel,
        t.email,
        t.group_id,
        ms,
        seq,
    )
