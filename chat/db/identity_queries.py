"""Signed visitor identity in PostgreSQL (structures.md, "Signed visitor identity"): each space's
identity secret (configuration, written here by its admin route) and the lookup of a verified
visitor by the site's user id (the projector writes `visitors.external_id`)."""

from __future__ import annotations

from datetime import datetime

import psycopg


def identity_secret(
    conn: psycopg.Connection, organization_id: str, space_id: str
) -> tuple[str | None, datetime | None] | None:
    """The live space's secret and when it was made (None, None before the first); None when
    the organization has no such live space."""
    row = conn.execute(
        "SELECT s.secret, s.rotated_at FROM spaces sp"
        " LEFT JOIN space_identity_secrets s ON s.space_id = sp.id"
        " WHERE sp.id = %s AND sp.organization_id = %s AND sp.deleted_at IS NULL",
        (space_id, organization_id),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def rotate_identity_secret(
    conn: psycopg.Connection, organization_id: str, space_id: str, secret: str
) -> datetime | None:
    """Store `secret` as the live space's (a first one, or replacing the old, which stops
    verifying at once); when, or None when the organization has no such live space."""
    row = conn.execute(
        "INSERT INTO space_identity_secrets (space_id, secret)"
        " SELECT id, %s FROM spaces"
        " WHERE id = %s AND organization_id = %s AND deleted_at IS NULL"
        " ON CONFLICT (space_id) DO UPDATE SET secret = EXCLUDED.secret, rotated_at = now()"
        " RETURNING rotated_at",
        (secret, space_id, organization_id),
    ).fetchone()
    return None if row is None else row[0]


def space_secret(conn: psycopg.Connection, space_id: str) -> str | None:
    """The secret a visitor's token must be signed with; None when the space has none yet."""
    row = conn.execute(
        "SELECT secret FROM space_identity_secrets WHERE space_id = %s", (space_id,)
    ).fetchone()
    return None if row is None else str(row[0])


def visitor_of(conn: psycopg.Connection, space_id: str, sub: str) -> str | None:
    """The projected visitor verified as `sub` in the space, if any: what a lost Valkey
    mapping is restored from."""
    row = conn.execute(
        "SELECT id::text FROM visitors WHERE space_id = %s AND external_id = %s",
        (space_id, sub),
    ).fetchone()
    return None if row is None else str(row[0])
