"""Reading an organization's conversations for the admins' export, a page at a time: the export
is streamed (chat/http/api/transcripts.py), so no query returns more than one page of threads and
their messages."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from chat.db.thread_queries import THREAD_COLUMNS, Row, message_row_json, thread_json_row

_MESSAGE_COLUMNS = (
    "thread_id::text, id_ms, id_seq, sender_type, sender_id, sender_name, content, client_id,"
    " created_at"
)


def threads_page(
    conn: psycopg.Connection,
    organization_id: str,
    since: datetime | None,
    until: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Row]:
    """Up to `limit` threads of the organization's live spaces created in [since, until), oldest
    first after `after` (the last (created_at, id) of the previous page), each with its visitor.
    Soft-deleted threads are left out."""
    where = ["s.organization_id = %s", "s.deleted_at IS NULL", "t.deleted_at IS NULL"]
    params: list[object] = [organization_id]
    if since is not None:
        where.append("t.created_at >= %s")
        params.append(since)
    if until is not None:
        where.append("t.created_at < %s")
        params.append(until)
    if after is not None:
        where.append("(t.created_at, t.id) > (%s, %s)")
        params.extend(after)
    params.append(limit)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {THREAD_COLUMNS}, v.name AS v_name, v.email AS v_email"
            " FROM threads t JOIN spaces s ON s.id = t.space_id"
            " LEFT JOIN visitors v ON v.id = t.visitor_id"
            f" WHERE {' AND '.join(where)} ORDER BY t.created_at, t.id LIMIT %s",
            params,
        ).fetchall()
    found = []
    for row in rows:
        thread = thread_json_row(row)
        thread["visitor"] = {
            "id": row["visitor_id"],
            "name": row["v_name"],
            "email": row["v_email"],
        }
        thread["_created"] = row["created_at"]  # the keyset cursor, dropped before output
        found.append(thread)
    return found


def messages_of(conn: psycopg.Connection, thread_ids: list[str]) -> dict[str, list[Row]]:
    """Every message of these threads, oldest first, by thread."""
    by_thread: dict[str, list[Row]] = {t: [] for t in thread_ids}
    if not thread_ids:
        return by_thread
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE thread_id = ANY(%s::uuid[])"
            " ORDER BY thread_id, id_ms, id_seq",
            (thread_ids,),
        ).fetchall()
    for row in rows:
        by_thread[row["thread_id"]].append(message_row_json(row))
    return by_thread
