"""Reads of visitor context and read state (structures.md, "Visitor context", "Read state"):
what the visitor panel and the thread lists' unread counts need from PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from chat.ids import ms_to_rfc3339

Row = dict[str, Any]


def visitor_context(conn: psycopg.Connection, visitor_id: str, pages: int) -> Row:
    """The visitor's attributes, locale, time zone, browser and OS, whether they are verified
    (and as whom), and their newest `pages`
    pages (newest first). The caller has checked the visitor is its organization's."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT attributes, locale, timezone, browser, os, external_id FROM visitors"
            " WHERE id = %s",
            (visitor_id,),
        ).fetchone()
        visited = cur.execute(
            "SELECT url, title, id_ms FROM visitor_pages WHERE visitor_id = %s"
            " ORDER BY id_ms DESC, id_seq DESC LIMIT %s",
            (visitor_id, pages),
        ).fetchall()
    found = (
        dict(row)
        if row
        else dict.fromkeys(("attributes", "locale", "timezone", "browser", "os", "external_id"))
    )
    found["attributes"] = found["attributes"] or {}
    # structures.md, "Signed visitor identity": a verified visitor carries the site's user id.
    found["verified"] = found["external_id"] is not None
    found["pages"] = [
        {"url": p["url"], "title": p["title"], "at": ms_to_rfc3339(p["id_ms"])} for p in visited
    ]
    return found


def unread_counts(
    conn: psycopg.Connection, agent_id: str, thread_ids: list[str]
) -> dict[str, tuple[int, str | None]]:
    """thread id -> (the visitor's messages after the agent's read marker, the marker). A thread
    the agent never read counts every visitor message."""
    if not thread_ids:
        return {}
    with conn.cursor() as cur:
        rows = cur.execute(
            "SELECT t.id::text, r.message_ms, r.message_seq,"
            " (SELECT count(*) FROM messages m WHERE m.thread_id = t.id"
            "  AND m.sender_type = 'visitor'"
            "  AND (r.message_ms IS NULL OR (m.id_ms, m.id_seq) > (r.message_ms, r.message_seq)))"
            " FROM unnest(%s::uuid[]) AS t(id)"
            " LEFT JOIN read_markers r ON r.thread_id = t.id AND r.reader_id = %s",
            (thread_ids, agent_id),
        ).fetchall()
    return {
        thread: (int(count), f"{ms}-{seq}" if ms is not None else None)
        for thread, ms, seq, count in rows
    }
