"""Organizations, agents and refresh tokens: configuration written by the service directly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import class_row

from chat.db.rows import AgentRow, OrganizationRow
from chat.errors import EmailTakenError

_AGENT_COLUMNS = (
    "id::text, organization_id::text, email, name, role, accepting_chats, max_concurrent_chats,"
    " last_seen_at, created_at, password_hash"
)


def create_organization_with_admin(
    conn: psycopg.Connection, org_name: str, name: str, email: str, password_hash: str
) -> tuple[OrganizationRow, AgentRow]:
    with conn.cursor(row_factory=class_row(OrganizationRow)) as cur:
        org = cur.execute(
            "INSERT INTO organizations (id, name) VALUES (%s, %s)"
            " RETURNING id::text, name, created_at",
            (uuid.uuid4(), org_name),
        ).fetchone()
    assert org is not None
    agent = create_agent(conn, org.id, name, email, password_hash, "admin")
    return org, agent


def create_agent(
    conn: psycopg.Connection,
    organization_id: str,
    name: str,
    email: str,
    password_hash: str,
    role: str,
    max_concurrent_chats: int = 5,
) -> AgentRow:
    try:
        with conn.transaction(), conn.cursor(row_factory=class_row(AgentRow)) as cur:
            row = cur.execute(
                "INSERT INTO agents (id, organization_id, email, name, role, password_hash,"
                " max_concurrent_chats) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                f" RETURNING {_AGENT_COLUMNS}",
                (
                    uuid.uuid4(),
                    organization_id,
                    email,
                    name,
                    role,
                    password_hash,
                    max_concurrent_chats,
                ),
            ).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise EmailTakenError() from exc
    assert row is not None
    return row


def agent_by_email(conn: psycopg.Connection, email: str) -> AgentRow | None:
    with conn.cursor(row_factory=class_row(AgentRow)) as cur:
        return cur.execute(
            f"SELECT {_AGENT_COLUMNS} FROM agents"
            " WHERE lower(email) = lower(%s) AND deleted_at IS NULL",
            (email,),
        ).fetchone()


def agent_by_id(conn: psycopg.Connection, organization_id: str, agent_id: str) -> AgentRow | None:
    """A live agent of this organization; None for another organization's or a deleted one."""
    with conn.cursor(row_factory=class_row(AgentRow)) as cur:
        return cur.execute(
            f"SELECT {_AGENT_COLUMNS} FROM agents"
            " WHERE id = %s AND organization_id = %s AND deleted_at IS NULL",
            (agent_id, organization_id),
        ).fetchone()


def store_refresh_token(
    conn: psycopg.Connection,
    agent_id: str,
    token_hash: bytes,
    ttl_seconds: int,
    family_id: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO refresh_tokens (id, agent_id, family_id, token_hash, expires_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (
            uuid.uuid4(),
            agent_id,
            family_id or uuid.uuid4(),
            token_hash,
            datetime.now(UTC) + timedelta(seconds=ttl_seconds),
        ),
    )


def use_refresh_token(conn: psycopg.Connection, token_hash: bytes) -> tuple[str, str] | None:
    """Mark a refresh token used; (agent_id, family_id) when it was valid, else None.

    A token used twice means it leaked: its whole family is revoked.
    """
    row = conn.execute(
        "SELECT t.agent_id::text, t.family_id::text, t.used_at, t.revoked_at, t.expires_at,"
        " a.deleted_at FROM refresh_tokens t JOIN agents a ON a.id = t.agent_id"
        " WHERE t.token_hash = %s FOR UPDATE OF t",
        (token_hash,),
    ).fetchone()
    if row is None:
        return None
    agent_id, family_id, used_at, revoked_at, expires_at, deleted_at = row
    if used_at is not None:
        revoke_family(conn, family_id)
        return None
    if revoked_at is not None or deleted_at is not None or expires_at <= datetime.now(UTC):
        return None
    conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = %s", (token_hash,))
    return agent_id, family_id


def revoke_family(conn: psycopg.Connection, family_id: str) -> None:
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = %s AND revoked_at IS NULL",
        (family_id,),
    )


def revoke_refresh_token(conn: psycopg.Connection, agent_id: str, token_hash: bytes) -> None:
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now()"
        " WHERE family_id = (SELECT family_id FROM refresh_tokens"
        "   WHERE token_hash = %s AND agent_id = %s)",
        (token_hash, agent_id),
    )
