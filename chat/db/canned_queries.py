"""Canned responses: an organization's shared replies and each agent's personal ones
(structures.md, "Canned responses").

Configuration, written by the service directly. What an agent may see is their organization's
live org-wide responses and their own live personal ones; anything else (another organization's,
another agent's personal one, a deleted one) is not found, whoever asks, admins included.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row

from chat.db.rows import CannedResponseRow
from chat.errors import CannedResponseLimitError, ForbiddenError, ShortcutTakenError

# Caps keep an agent's whole list one answer (no cursor) that the console loads once per
# session and filters as the agent types: 1000 shared + 200 own, at most ~5 MB of content.
MAX_ORGANIZATION_RESPONSES = 1000
MAX_PERSONAL_RESPONSES = 200
MAX_LISTED = MAX_ORGANIZATION_RESPONSES + MAX_PERSONAL_RESPONSES
MAX_SHORTCUT_CHARS = 32  # also the table's CHECK (schema.sql)
MAX_TITLE_CHARS = 120

_COLUMNS = (
    "id::text, organization_id::text, owner_agent_id::text, shortcut, title, content,"
    " created_at, updated_at"
)
# Visible to one agent: the organization's org-wide ones and the agent's own.
_VISIBLE = (
    "organization_id = %(org)s AND deleted_at IS NULL"
    " AND (owner_agent_id IS NULL OR owner_agent_id = %(agent)s)"
)


def list_responses(
    conn: psycopg.Connection,
    organization_id: str,
    agent_id: str,
    prefix: str | None = None,
    limit: int = MAX_LISTED,
) -> list[CannedResponseRow]:
    """The responses the agent may use, by shortcut (a personal one before an org-wide one of
    the same shortcut); `prefix` keeps those whose shortcut or title starts with it, in any
    case."""
    params: dict[str, Any] = {"org": organization_id, "agent": agent_id, "limit": limit}
    where = _VISIBLE
    if prefix:
        params["prefix"] = prefix.lower()
        where += " AND (starts_with(shortcut, %(prefix)s) OR starts_with(lower(title), %(prefix)s))"
    with conn.cursor(row_factory=class_row(CannedResponseRow)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM canned_responses WHERE {where}"
            " ORDER BY shortcut, owner_agent_id IS NULL, created_at, id LIMIT %(limit)s",
            params,
        ).fetchall()


def response_by_id(
    conn: psycopg.Connection, organization_id: str, agent_id: str, response_id: str
) -> CannedResponseRow | None:
    """One response the agent may see; None for anything else."""
    with conn.cursor(row_factory=class_row(CannedResponseRow)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM canned_responses WHERE id = %(id)s AND {_VISIBLE}",
            {"id": response_id, "org": organization_id, "agent": agent_id},
        ).fetchone()


def create_response(
    conn: psycopg.Connection,
    organization_id: str,
    owner_agent_id: str | None,
    shortcut: str,
    title: str,
    content: str,
) -> CannedResponseRow:
    """A new org-wide (`owner_agent_id` None) or personal response. Raises
    CannedResponseLimitError past the scope's cap, ShortcutTakenError when a live response of
    the same scope has the shortcut. The organization's row is locked, so two creations at the
    cap cannot both pass the count."""
    conn.execute("SELECT 1 FROM organizations WHERE id = %s FOR UPDATE", (organization_id,))
    if owner_agent_id is None:
        count_sql = (
            "SELECT count(*) FROM canned_responses WHERE organization_id = %s"
            " AND owner_agent_id IS NULL AND deleted_at IS NULL"
        )
        key, limit = organization_id, MAX_ORGANIZATION_RESPONSES
    else:
        count_sql = (
            "SELECT count(*) FROM canned_responses WHERE owner_agent_id = %s AND deleted_at IS NULL"
        )
        key, limit = owner_agent_id, MAX_PERSONAL_RESPONSES
    row = conn.execute(count_sql, (key,)).fetchone()
    if row is not None and row[0] >= limit:
        raise CannedResponseLimitError(limit=limit)
    values = (str(uuid.uuid4()), organization_id, owner_agent_id, shortcut, title, content)
    try:
        with conn.transaction(), conn.cursor(row_factory=class_row(CannedResponseRow)) as cur:
            created = cur.execute(
                "INSERT INTO canned_responses"
                " (id, organization_id, owner_agent_id, shortcut, title, content)"
                f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                values,
            ).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise ShortcutTakenError() from exc
    assert created is not None
    return created


def _held_for_change(
    conn: psycopg.Connection, organization_id: str, agent_id: str, is_admin: bool, response_id: str
) -> CannedResponseRow | None:
    """The response locked for a change by this agent; None when they may not see it,
    ForbiddenError when it is org-wide and they are not an admin."""
    with conn.cursor(row_factory=class_row(CannedResponseRow)) as cur:
        row = cur.execute(
            f"SELECT {_COLUMNS} FROM canned_responses WHERE id = %(id)s AND {_VISIBLE} FOR UPDATE",
            {"id": response_id, "org": organization_id, "agent": agent_id},
        ).fetchone()
    if row is not None and row.owner_agent_id is None and not is_admin:
        raise ForbiddenError("only admins change the organization's canned responses")
    return row


def update_response(
    conn: psycopg.Connection,
    organization_id: str,
    agent_id: str,
    is_admin: bool,
    response_id: str,
    changes: dict[str, Any],
) -> CannedResponseRow | None:
    """Set the given columns (names come from the caller's validated model, never the client);
    None when the agent may not see the response."""
    row = _held_for_change(conn, organization_id, agent_id, is_admin, response_id)
    if row is None:
        return None
    assignments = "".join(f", {column} = %s" for column in changes)
    try:
        with conn.transaction():
            conn.execute(
                f"UPDATE canned_responses SET updated_at = now(){assignments} WHERE id = %s",
                (*changes.values(), response_id),
            )
    except psycopg.errors.UniqueViolation as exc:
        raise ShortcutTakenError() from exc
    return response_by_id(conn, organization_id, agent_id, response_id)


def delete_response(
    conn: psycopg.Connection, organization_id: str, agent_id: str, is_admin: bool, response_id: str
) -> bool:
    """Soft-delete; False when the agent may not see the response. Its shortcut is free again."""
    if _held_for_change(conn, organization_id, agent_id, is_admin, response_id) is None:
        return False
    conn.execute(
        "UPDATE canned_responses SET deleted_at = now(), updated_at = now() WHERE id = %s",
        (response_id,),
    )
    return True
