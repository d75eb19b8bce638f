"""API keys in PostgreSQL (structures.md, "API keys"): configuration, written here directly.

Every read an admin makes is scoped by organization: another organization's key is not found.
The key itself is never stored, only its SHA-256 (chat/auth/api_keys.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from chat.auth.api_keys import NewKey
from chat.db import accounts
from chat.db.rows import AgentRow
from chat.errors import ApiKeyLimitError

# Live (not revoked) keys per organization: enough for every integration, few enough that a
# leaked admin token cannot mint keys without bound. Revoked keys stay listed and do not count.
MAX_LIVE_KEYS = 100
# last_used_at is written at most this often per key: a busy integration would otherwise turn
# every read into a write of the same row.
LAST_USED_RESOLUTION_SECONDS = 60

Row = dict[str, Any]

_COLUMNS = (
    "k.id::text, k.name, k.scopes, k.prefix, k.last4, k.created_by::text,"
    " a.name AS created_by_name, k.created_at, k.last_used_at, k.revoked_at,"
    # What key_in_use accepts: not revoked, and its admin still a live admin.
    " (k.revoked_at IS NULL AND a.deleted_at IS NULL AND a.role = 'admin') AS active"
)
_TIMES = ("created_at", "last_used_at", "revoked_at")


def _key_json(row: Row) -> Row:
    return {**row, **{t: row[t].isoformat() if row[t] else None for t in _TIMES}}


def create_api_key(
    conn: psycopg.Connection,
    organization_id: str,
    created_by: str,
    name: str,
    scopes: list[str],
    new: NewKey,
) -> Row:
    """Store a new key's hash; ApiKeyLimitError past MAX_LIVE_KEYS live keys."""
    # Lock the organization's row so two creates cannot both pass the count.
    conn.execute("SELECT 1 FROM organizations WHERE id = %s FOR UPDATE", (organization_id,))
    found = conn.execute(
        "SELECT count(*) FROM api_keys WHERE organization_id = %s AND revoked_at IS NULL",
        (organization_id,),
    ).fetchone()
    if found is not None and found[0] >= MAX_LIVE_KEYS:
        raise ApiKeyLimitError(f"an organization has at most {MAX_LIVE_KEYS} live API keys")
    conn.execute(
        "INSERT INTO api_keys (id, organization_id, created_by, name, scopes, key_hash, prefix,"
        " last4) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (new.id, organization_id, created_by, name, scopes, new.key_hash, new.prefix, new.last4),
    )
    row = api_key_by_id(conn, organization_id, new.id)
    assert row is not None
    return row


def api_key_by_id(conn: psycopg.Connection, organization_id: str, key_id: str) -> Row | None:
    """The organization's key (revoked ones too); None for another organization's."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            f"SELECT {_COLUMNS} FROM api_keys k JOIN agents a ON a.id = k.created_by"
            " WHERE k.id = %s AND k.organization_id = %s",
            (key_id, organization_id),
        ).fetchone()
    return None if row is None else _key_json(row)


def list_api_keys(conn: psycopg.Connection, organization_id: str) -> list[Row]:
    """Every key of the organization, revoked ones included, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            f"SELECT {_COLUMNS} FROM api_keys k JOIN agents a ON a.id = k.created_by"
            " WHERE k.organization_id = %s ORDER BY k.created_at, k.id",
            (organization_id,),
        ).fetchall()
    return [_key_json(r) for r in rows]


def revoke_api_key(conn: psycopg.Connection, organization_id: str, key_id: str) -> Row | None:
    """Revoke the key (a revoked one stays as it was); None for another organization's."""
    conn.execute(
        "UPDATE api_keys SET revoked_at = now()"
        " WHERE id = %s AND organization_id = %s AND revoked_at IS NULL",
        (key_id, organization_id),
    )
    return api_key_by_id(conn, organization_id, key_id)


@dataclass(frozen=True, slots=True)
class KeyInUse:
    """A live key, for checking a request: its hash is compared by the caller."""

    id: str
    key_hash: bytes
    scopes: list[str]
    agent: AgentRow | None  # the agent it acts as while a live admin of the key's organization
    last_used_stale: bool  # last_used_at should be written (chat/http/api_key_auth.py)


def key_in_use(conn: psycopg.Connection, key_id: str) -> KeyInUse | None:
    """The key by id if it is not revoked; None otherwise. Its agent is None once that agent is
    deleted or no longer an admin (the key then stops working, see structures.md)."""
    row = conn.execute(
        "SELECT organization_id::text, created_by::text, key_hash, scopes,"
        " last_used_at IS NULL OR last_used_at < now() - make_interval(secs => %s)"
        " FROM api_keys WHERE id = %s AND revoked_at IS NULL",
        (LAST_USED_RESOLUTION_SECONDS, key_id),
    ).fetchone()
    if row is None:
        return None
    organization_id, created_by, key_hash, scopes, stale = row
    agent = accounts.agent_by_id(conn, organization_id, created_by)
    if agent is not None and agent.role != "admin":
        agent = None
    return KeyInUse(key_id, bytes(key_hash), list(scopes), agent, bool(stale))


def note_key_used(conn: psycopg.Connection, key_id: str) -> None:
    """Set last_used_at, unless another request (of any process) did within the resolution."""
    conn.execute(
        "UPDATE api_keys SET last_used_at = now() WHERE id = %s"
        " AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => %s))",
        (key_id, LAST_USED_RESOLUTION_SECONDS),
    )
