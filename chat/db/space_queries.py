"""Spaces: a site's widget configuration."""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from chat.db.rows import SpaceRow
from chat.space_settings import SpaceSettings

_COLUMNS = (
    "id::text, organization_id::text, name, widget_key, allowed_domains, settings, created_at"
)


WIDGET_KEY_BYTES = 18
WIDGET_KEY = re.compile(r"wk_[A-Za-z0-9_-]{1,64}")


def new_widget_key() -> str:
    return "wk_" + secrets.token_urlsafe(WIDGET_KEY_BYTES)


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


def space_by_id(
    conn: psycopg.Connection, organization_id: str, space_id: str, *, lock: bool = False
) -> SpaceRow | None:
    with conn.cursor(row_factory=class_row(SpaceRow)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM spaces"
            " WHERE id = %s AND organization_id = %s AND deleted_at IS NULL"
            + (" FOR UPDATE" if lock else ""),
            (space_id, organization_id),
        ).fetchone()


def space_by_widget_key(conn: psycopg.Connection, widget_key: str) -> SpaceRow | None:
    """The live space of a key; None for anything that is not a key (a NUL would fail the query)."""
    if not WIDGET_KEY.fullmatch(widget_key):
        return None
    with conn.cursor(row_factory=class_row(SpaceRow)) as cur:
        return cur.execute(
            f"SELECT {_COLUMNS} FROM spaces WHERE widget_key = %s AND deleted_at IS NULL",
            (widget_key,),
        ).fetchone()


def update_space(
    conn: psycopg.Connection,
    organization_id: str,
    space_id: str,
    name: str | None,
    allowed_domains: list[str] | None,
    settings_change: dict[str, Any],
) -> SpaceRow | None:
    """Change what is given; settings are merged key by key into the stored ones."""
    current = space_by_id(conn, organization_id, space_id, lock=True)
    if current is None:
        return None
    settings = SpaceSettings.of({**current.settings, **settings_change}).model_dump()
    with conn.cursor(row_factory=class_row(SpaceRow)) as cur:
        return cur.execute(
            "UPDATE spaces SET name = %s, allowed_domains = %s, settings = %s"
            f" WHERE id = %s RETURNING {_COLUMNS}",
            (
                name if name is not None else current.name,
                allowed_domains if allowed_domains is not None else current.allowed_domains,
                Jsonb(settings),
                space_id,
            ),
        ).fetchone()


def rotate_widget_key(
    conn: psycopg.Connection, organization_id: str, space_id: str
) -> SpaceRow | None:
    """The space with a fresh widget key; None when there is no such space."""
    with conn.cursor(row_factory=class_row(SpaceRow)) as cur:
        return cur.execute(
            "UPDATE spaces SET widget_key = %s"
            " WHERE id = %s AND organization_id = %s AND deleted_at IS NULL"
            f" RETURNING {_COLUMNS}",
            (new_widget_key(), space_id, organization_id),
        ).fetchone()


def delete_space(conn: psycopg.Connection, organization_id: str, space_id: str) -> bool:
    """Soft-delete: the space, its widget key and its threads disappear from the API."""
    deleted = conn.execute(
        "UPDATE spaces SET deleted_at = now()"
        " WHERE id = %s AND organization_id = %s AND deleted_at IS NULL",
        (space_id, organization_id),
    )
    return deleted.rowcount == 1


def all_space_ids(conn: psycopg.Connection) -> list[str]:
    """Every live space, for the projector and the sweepers."""
    rows = conn.execute("SELECT id::text FROM spaces WHERE deleted_at IS NULL").fetchall()
    return [r[0] for r in rows]


def followed_space_ids(conn: psycopg.Connection) -> list[str]:
    """Every space whose stream the projector follows and the retention sweep trims: the live
    ones, and the deleted ones whose Valkey keys are not removed yet (their last entries are
    projected before the keys go; chat/actors/retention.py)."""
    rows = conn.execute(
        "SELECT id::text FROM spaces WHERE deleted_at IS NULL OR keys_removed_at IS NULL"
    ).fetchall()
    return [r[0] for r in rows]


def spaces_to_remove(conn: psycopg.Connection, grace_seconds: float) -> list[tuple[str, str]]:
    """Deleted spaces whose Valkey keys are still there, deleted more than `grace_seconds`
    ago (every process's lists of live spaces have dropped them by then): (space, organization).
    """
    rows = conn.execute(
        "SELECT id::text, organization_id::text FROM spaces WHERE deleted_at IS NOT NULL"
        " AND keys_removed_at IS NULL AND deleted_at < now() - make_interval(secs => %s)"
        " ORDER BY deleted_at",
        (grace_seconds,),
    )
    return [(r[0], r[1]) for r in rows.fetchall()]


def mark_keys_removed(conn: psycopg.Connection, space_id: str) -> None:
    conn.execute("UPDATE spaces SET keys_removed_at = now() WHERE id = %s", (space_id,))


def all_space_organizations(conn: psycopg.Connection) -> dict[str, str]:
    """Every live space with its organization, for the router."""
    rows = conn.execute(
        "SELECT id::text, organization_id::text FROM spaces WHERE deleted_at IS NULL"
    )
    return {r[0]: r[1] for r in rows.fetchall()}


def all_space_settings(conn: psycopg.Connection) -> list[tuple[str, dict[str, Any]]]:
    """Every live space with its settings, for the expiry sweep."""
    rows = conn.execute("SELECT id::text, settings FROM spaces WHERE deleted_at IS NULL")
    return [(r[0], r[1]) for r in rows.fetchall()]
