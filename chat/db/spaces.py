"""Spaces: a site's widget configuration."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from chat.db.rows import SpaceRow

_COLUMNS = (
    "id::text, organization_id::text, name, widget_key, allowed_domains, settings, created_at"
)


def new_widget_key() -> str:
    return "wk_" + secrets.token_urlsafe(18)


def create_space(
    conn: psycopg.Connection,
    organization_id: str,
    name: str,
    allowed_domains: list[str],
    settings: dict[str, Any],
) -> SpaceRow:
    with conn.cursor(row_factory=class_row(SpaceRow)) as cur:
        row = cur.execute(
            "INSERT INTO spaces (id, organization_id, name, widget_key, allowed_domains, settings)"
            f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
            (
                uuid.uuid4(),
                organization_id,
                name,
                new_widget_key(),
                allowed_domains,
                Jsonb(settings),
            ),
        ).fetchone()
    assert row is not None
    return row


def list_spaces(conn: psycopg.Connection, organization_id: str) -> list[SpaceRow]:
    with conn.cursor(row_factory=class_row(SpaceRow)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM spaces WHERE organization_id = %s AND deleted_at IS NULL"
            " ORDER BY created_at, id",
            (organization_id,),
        ).fetchall()


def space_by_id(conn: psycopg.Connection, organization_id: str, space_id: str) -> SpaceRow | None:
    with conn.cursor(row_factory=class_row(SpaceRow)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM spaces"
            " WHERE id = %s AND organization_id = %s AND deleted_at IS NULL",
            (space_id, organization_id),
        ).fetchone()


def space_by_widget_key(conn: psycopg.Connection, widget_key: str) -> SpaceRow | None:
    with conn.cursor(row_factory=class_row(SpaceRow)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM spaces WHERE widget_key = %s AND deleted_at IS NULL",
            (widget_key,),
        ).fetchone()


def all_space_ids(conn: psycopg.Connection) -> list[str]:
    """Every live space, for the projector and the sweepers."""
    rows = conn.execute("SELECT id::text FROM spaces WHERE deleted_at IS NULL").fetchall()
    return [r[0] for r in rows]


def all_space_settings(conn: psycopg.Connection) -> list[tuple[str, dict[str, Any]]]:
    """Every live space with its settings, for the expiry sweep."""
    rows = conn.execute("SELECT id::text, settings FROM spaces WHERE deleted_at IS NULL")
    return [(r[0], r[1]) for r in rows.fetchall()]
