"""Operator lookups across every organization (`chat inspect`, `chat tail`, `chat projector
status`): a space by id, name or widget key, deleted ones included, and the projected rows of a
thread or a visitor. Read only; never used by a request, which stays within its organization.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row, dict_row


@dataclass(frozen=True, slots=True)
class OpsSpace:
    id: str
    name: str
    widget_key: str
    organization_id: str
    organization_name: str
    created_at: datetime
    deleted_at: datetime | None


_SPACE = (
    "SELECT s.id::text, s.name, s.widget_key, s.organization_id::text,"
    " o.name AS organization_name, s.created_at, s.deleted_at"
    " FROM spaces s JOIN organizations o ON o.id = s.organization_id"
)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def spaces_matching(conn: psycopg.Connection, ref: str) -> list[OpsSpace]:
    """Spaces whose id or widget key is `ref`, else whose name is `ref` (case-insensitively);
    live ones first. Several spaces may share a name (across organizations)."""
    with conn.cursor(row_factory=class_row(OpsSpace)) as cur:
        if _is_uuid(ref):
            found = cur.execute(_SPACE + " WHERE s.id = %s", (ref,)).fetchall()
            if found:
                return found
        found = cur.execute(_SPACE + " WHERE s.widget_key = %s", (ref,)).fetchall()
        if found:
            return found
        return cur.execute(
            _SPACE + " WHERE lower(s.name) = lower(%s)"
            " ORDER BY s.deleted_at IS NOT NULL, s.created_at, s.id",
            (ref,),
        ).fetchall()


def all_spaces(conn: psycopg.Connection, *, with_deleted: bool = False) -> list[OpsSpace]:
    with conn.cursor(row_factory=class_row(OpsSpace)) as cur:
        where = "" if with_deleted else " WHERE s.deleted_at IS NULL"
        return cur.execute(_SPACE + where + " ORDER BY o.name, s.name, s.id").fetchall()


def thread_row(conn: psycopg.Connection, thread_id: str) -> dict[str, Any] | None:
    """The thread as projected, with its message count; None when PostgreSQL has no such row."""
    if not _is_uuid(thread_id):
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT t.id::text, t.space_id::text, t.visitor_id::text,"
            " t.assigned_agent_id::text, t.status, t.created_at, t.last_activity_at,"
            " t.closed_at, t.deleted_at, t.entry_ms || '-' || t.entry_seq AS last_entry,"
            " (SELECT count(*) FROM messages m WHERE m.thread_id = t.id) AS messages"
            " FROM threads t WHERE t.id = %s",
            (thread_id,),
        ).fetchone()


def visitor_row(conn: psycopg.Connection, visitor_id: str) -> dict[str, Any] | None:
    if not _is_uuid(visitor_id):
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id::text, space_id::text, name, email, current_url, created_at,"
            " entry_ms || '-' || entry_seq AS last_entry FROM visitors WHERE id = %s",
            (visitor_id,),
        ).fetchone()


def visitor_threads(conn: psycopg.Connection, visitor_id: str, limit: int) -> list[dict[str, Any]]:
    """The visitor's projected threads, newest first."""
    if not _is_uuid(visitor_id):
        return []
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT id::text, status, created_at, last_activity_at, closed_at FROM threads"
            " WHERE visitor_id = %s ORDER BY created_at DESC, id LIMIT %s",
            (visitor_id, limit),
        ).fetchall()
