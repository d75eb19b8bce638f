"""PostgreSQL's side of deleting: the admins' list of soft-deleted threads, and the erasure of a
visitor's rows (structures.md, "Deleting conversations and visitors")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from chat.db.thread_queries import THREAD_COLUMNS, Row, thread_json_row


def deleted_threads(
    conn: psycopg.Connection, space_id: str, limit: int, cursor: tuple[datetime, str] | None
) -> list[Row]:
    """A space's soft-deleted threads, most recently deleted first; `cursor` is the last
    (deleted_at, id) seen. Served by the partial index `threads_deleted` (migration 0010)."""
    params: list[object] = [space_id]
    after = ""
    if cursor is not None:
        after = " AND (t.deleted_at, t.id) < (%s, %s)"
        params.extend(cursor)
    params.append(limit)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {THREAD_COLUMNS} FROM threads t WHERE t.space_id = %s"
            f" AND t.deleted_at IS NOT NULL{after} ORDER BY t.deleted_at DESC, t.id DESC LIMIT %s",
            params,
        ).fetchall()
    return [thread_json_row(r) for r in rows]


@dataclass(frozen=True, slots=True)
class VisitorRows:
    """A visitor of the organization, as PostgreSQL knows them: their space and threads."""

    space_id: str
    thread_ids: list[str]


def visitor_rows(
    conn: psycopg.Connection, organization_id: str, visitor_id: str
) -> VisitorRows | None:
    """The visitor's space and thread ids; None for another organization's or an unknown one.

    A visitor is found by their row or, should it be missing (a reclaim's order), by a thread."""
    row = conn.execute(
        "SELECT x.space_id::text FROM (SELECT space_id FROM visitors WHERE id = %s"
        " UNION SELECT space_id FROM threads WHERE visitor_id = %s) x"
        " JOIN spaces s ON s.id = x.space_id WHERE s.organization_id = %s LIMIT 1",
        (visitor_id, visitor_id, organization_id),
    ).fetchone()
    if row is None:
        return None
    threads = conn.execute(
        "SELECT id::text FROM threads WHERE visitor_id = %s ORDER BY created_at", (visitor_id,)
    ).fetchall()
    return VisitorRows(str(row[0]), [str(t[0]) for t in threads])


def erase_visitor_rows(conn: psycopg.Connection, visitor_id: str, thread_ids: list[str]) -> int:
    """Delete the visitor's row, their threads, every message of those threads (agents' replies
    too: they are part of the visitor's conversation), the notes, tags and read markers of those
    threads, their outbox rows, their pages and their attachments' rows; the rows deleted.
    The attachments' bytes are deleted by the caller (`attachment_ids` first).

    Tables other features add about a thread or visitor must be listed here as well."""
    deleted = 0
    with conn.cursor() as cur:
        for sql in (
            "DELETE FROM messages WHERE thread_id = ANY(%s::uuid[])",
            "DELETE FROM email_outbox WHERE thread_id = ANY(%s::uuid[])",
            "DELETE FROM notes WHERE thread_id = ANY(%s::uuid[])",
            "DELETE FROM thread_tags WHERE thread_id = ANY(%s::uuid[])",
            "DELETE FROM read_markers WHERE thread_id = ANY(%s::uuid[])",
            "DELETE FROM conversation_stats WHERE thread_id = ANY(%s::uuid[])",
            "DELETE FROM threads WHERE id = ANY(%s::uuid[])",
        ):
            cur.execute(sql, (thread_ids,))
            deleted += cur.rowcount
        cur.execute("DELETE FROM threads WHERE visitor_id = %s", (visitor_id,))
        deleted += cur.rowcount
        cur.execute("DELETE FROM visitor_pages WHERE visitor_id = %s", (visitor_id,))
        deleted += cur.rowcount
        cur.execute("DELETE FROM attachments WHERE visitor_id = %s", (visitor_id,))
        deleted += cur.rowcount
        cur.execute("DELETE FROM visitors WHERE id = %s", (visitor_id,))
        deleted += cur.rowcount
    return deleted


def thread_owner(conn: psycopg.Connection, thread_id: str) -> tuple[str, str, bool] | None:
    """A projected thread's (space id, visitor id, deleted); None when PostgreSQL has none."""
    row = conn.execute(
        "SELECT space_id::text, visitor_id::text, deleted_at IS NOT NULL FROM threads"
        " WHERE id = %s",
        (thread_id,),
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]), bool(row[2]))


def attachment_ids(conn: psycopg.Connection, visitor_id: str) -> list[str]:
    """The ids (file store keys) of every attachment of the visitor's conversations."""
    rows = conn.execute(
        "SELECT id::text FROM attachments WHERE visitor_id = %s", (visitor_id,)
    ).fetchall()
    return [str(r[0]) for r in rows]
