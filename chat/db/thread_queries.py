"""Reading projected conversation data: thread rows and pages of messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from chat.ids import StreamId, format_id

Row = dict[str, Any]

_MESSAGE_COLUMNS = (
    "thread_id::text, id_ms, id_seq, sender_type, sender_id, sender_name, content, client_id,"
    " created_at, attachment, quick_replies"
)
_THREAD_COLUMNS = (
    "t.id::text, t.space_id::text, t.visitor_id::text, t.assigned_agent_id::text, t.status,"
    " t.last_activity_at, t.created_at, t.closed_at, t.channel, t.email, t.group_id::text,"
    " t.deleted_at"
)
# The columns thread_json_row reads, for the other query modules of threads (t: threads).
THREAD_COLUMNS = _THREAD_COLUMNS


def message_row_json(row: Row) -> Row:
    return {
        "id": format_id((row["id_ms"], row["id_seq"])),
        "thread_id": row["thread_id"],
        "sender_type": row["sender_type"],
        "sender_id": row["sender_id"],
        "sender_name": row["sender_name"],
        "content": row["content"],
        "client_id": row["client_id"],
        "created_at": _time(row["created_at"]),
        **({"attachment": row["attachment"]} if row.get("attachment") else {}),
        **({"quick_replies": row["quick_replies"]} if row.get("quick_replies") else {}),
    }


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def messages_before(
    conn: psycopg.Connection, thread_id: str, before: StreamId | None, limit: int
) -> list[Row]:
    """Up to `limit` messages older than `before` (newest first)."""
    bound = before or (2**62, 0)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE thread_id = %s"
            " AND (id_ms, id_seq) < (%s, %s) ORDER BY id_ms DESC, id_seq DESC LIMIT %s",
            (thread_id, bound[0], bound[1], limit),
        ).fetchall()
    return [message_row_json(r) for r in rows]


def messages_after(
    conn: psycopg.Connection, thread_id: str, after: StreamId, limit: int
) -> list[Row]:
    """Up to `limit` messages newer than `after` (oldest first)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE thread_id = %s"
            " AND (id_ms, id_seq) > (%s, %s) ORDER BY id_ms, id_seq LIMIT %s",
            (thread_id, after[0], after[1], limit),
        ).fetchall()
    return [message_row_json(r) for r in rows]


def thread_json_row(row: Row) -> Row:
    return {
        "id": row["id"],
        "space_id": row["space_id"],
        "visitor_id": row["visitor_id"],
        "assigned_agent_id": row["assigned_agent_id"],
        "status": row["status"],
        "group_id": row["group_id"],
        "last_activity_at": _time(row["last_activity_at"]),
        "created_at": _time(row["created_at"]),
        "closed_at": _time(row["closed_at"]),
        **({"channel": row["channel"], "email": row["email"]} if row["channel"] else {}),
        # Only on a soft-deleted thread (structures.md, "Deleting conversations and visitors").
        **({"deleted_at": _time(row["deleted_at"])} if row["deleted_at"] else {}),
    }


def thread_with_visitor(
    conn: psycopg.Connection, organization_id: str, thread_id: str
) -> Row | None:
    """A thread of this organization with its visitor; None for anyone else's."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {_THREAD_COLUMNS}, v.name AS v_name, v.email AS v_email,"
            " v.current_url AS v_url, v.created_at AS v_created"
            " FROM threads t JOIN spaces s ON s.id = t.space_id"
            " LEFT JOIN visitors v ON v.id = t.visitor_id"
            " WHERE t.id = %s AND s.organization_id = %s AND s.deleted_at IS NULL",
            (thread_id, organization_id),
        ).fetchone()
    if row is None:
        return None
    thread = thread_json_row(row)
    thread["visitor"] = {
        "id": row["visitor_id"],
        "space_id": row["space_id"],
        "name": row["v_name"],
        "email": row["v_email"],
        "current_url": row["v_url"],
        "created_at": _time(row["v_created"]),
    }
    return thread


def list_threads(
    conn: psycopg.Connection,
    space_id: str,
    statuses: list[str],
    limit: int,
    cursor: tuple[datetime, str] | None,
    assigned_agent_id: str | None = None,
    tag_id: str | None = None,
) -> list[Row]:
    """Threads of a space by newest activity first; `cursor` is the last (time, id) seen;
    `tag_id`: only those carrying the tag."""
    params: list[object] = [space_id, statuses]
    after = ""
    if tag_id is not None:
        after += (
            " AND EXISTS (SELECT 1 FROM thread_tags tt WHERE tt.thread_id = t.id"
            " AND tt.tag_id = %s AND tt.present)"
        )
        params.append(tag_id)
    if assigned_agent_id is not None:
        after += " AND t.assigned_agent_id = %s"
        params.append(assigned_agent_id)
    if cursor is not None:
        after += " AND (t.last_activity_at, t.id) < (%s, %s)"
        params.extend(cursor)
    params.append(limit)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {_THREAD_COLUMNS} FROM threads t WHERE t.space_id = %s"
            f" AND t.status = ANY(%s) AND t.deleted_at IS NULL{after}"
            " ORDER BY t.last_activity_at DESC, t.id DESC LIMIT %s",
            params,
        ).fetchall()
    return [thread_json_row(r) for r in rows]


def projected_thread_ids(conn: psycopg.Connection, thread_ids: list[str]) -> set[str]:
    """Which of these threads PostgreSQL holds (whatever their space or status)."""
    if not thread_ids:
        return set()
    rows = conn.execute("SELECT id::text FROM threads WHERE id = ANY(%s::uuid[])", (thread_ids,))
    return {str(r[0]) for r in rows.fetchall()}


def visitor_in_organization(
    conn: psycopg.Connection, organization_id: str, visitor_id: str
) -> Row | None:
    """A projected visitor of one of this organization's live spaces; None for anyone else's."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "SELECT v.id::text, v.space_id::text, v.name, v.email, v.current_url, v.created_at"
            " FROM visitors v JOIN spaces s ON s.id = v.space_id"
            " WHERE v.id = %s AND s.organization_id = %s AND s.deleted_at IS NULL",
            (visitor_id, organization_id),
        ).fetchone()
    if row is None:
        return None
    return {**row, "created_at": _time(row["created_at"])}


def threads_of_visitor(conn: psycopg.Connection, visitor_id: str, limit: int) -> list[Row]:
    """The visitor's threads, newest first (the caller has checked the visitor is its own)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {_THREAD_COLUMNS} FROM threads t WHERE t.visitor_id = %s"
            " AND t.deleted_at IS NULL ORDER BY t.created_at DESC, t.id DESC LIMIT %s",
            (visitor_id, limit),
        ).fetchall()
    return [thread_json_row(r) for r in rows]
