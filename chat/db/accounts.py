"""Organizations, agents and refresh tokens: configuration written by the service directly."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.rows import class_row

from chat.db.rows import AgentRow, OrganizationRow
from chat.errors import EmailTakenError, LastAdminError

_AGENT_COLUMNS = (
    "id::text, organization_id::text, email, name, role, accepting_chats, max_concurrent_chats,"
    " last_seen_at, created_at, password_hash, kind,"
    # Its live groups: every agent JSON carries them (one indexed lookup per agent row).
    " ARRAY(SELECT m.group_id::text FROM group_members m JOIN groups g ON g.id = m.group_id"
    "   WHERE m.agent_id = agents.id AND g.deleted_at IS NULL"
    "   ORDER BY g.created_at, g.id) AS group_ids"
)
ORGANIZATION_COLUMNS = (
    "id::text, name, default_max_concurrent_chats, require_two_factor, created_at, time_zone"
)


def create_organization_with_admin(
    conn: psycopg.Connection, org_name: str, name: str, email: str, password_hash: str
) -> tuple[OrganizationRow, AgentRow]:
    with conn.cursor(row_factory=class_row(OrganizationRow)) as cur:
        org = cur.execute(
            "INSERT INTO organizations (id, name) VALUES (%s, %s)"
            f" RETURNING {ORGANIZATION_COLUMNS}",
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
    max_concurrent_chats: int | None = None,
) -> AgentRow:
    """No `max_concurrent_chats`: the organization's default_max_concurrent_chats."""
    try:
        with conn.transaction(), conn.cursor(row_factory=class_row(AgentRow)) as cur:
            row = cur.execute(
                "INSERT INTO agents (id, organization_id, email, name, role, password_hash,"
                " max_concurrent_chats) VALUES (%s, %s, %s, %s, %s, %s, COALESCE(%s,"
                " (SELECT default_max_concurrent_chats FROM organizations WHERE id = %s)))"
                f" RETURNING {_AGENT_COLUMNS}",
                (
                    uuid.uuid4(),
                    organization_id,
                    email,
                    name,
                    role,
                    password_hash,
                    max_concurrent_chats,
                    organization_id,
                ),
            ).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise EmailTakenError() from exc
    assert row is not None
    return row


def email_in_use(conn: psycopg.Connection, email: str) -> bool:
    """Whether a live agent has this email (any case): checked before hashing a password, so a
    taken email costs a SELECT, not a hash. The unique index still decides a race."""
    return (
        conn.execute(
            "SELECT 1 FROM agents WHERE lower(email) = lower(%s) AND deleted_at IS NULL",
            (email,),
        ).fetchone()
        is not None
    )


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


def active_chats(conn: psycopg.Connection, agent_id: str) -> int:
    """How many conversations the agent holds (status active), as projected: one claimed a moment
    ago may not be counted yet (structures.md, "Thread commands by role")."""
    row = conn.execute(
        "SELECT count(*) FROM threads WHERE assigned_agent_id = %s AND status = 'active'",
        (agent_id,),
    ).fetchone()
    return int(row[0]) if row else 0


def live_agent(conn: psycopg.Connection, agent_id: str) -> AgentRow | None:
    """A live agent by id alone: only for a caller already proven to be that agent (refresh)."""
    with conn.cursor(row_factory=class_row(AgentRow)) as cur:
        return cur.execute(
            f"SELECT {_AGENT_COLUMNS} FROM agents WHERE id = %s AND deleted_at IS NULL",
            (agent_id,),
        ).fetchone()


def agent_in_session(
    conn: psycopg.Connection, organization_id: str, agent_id: str, session_id: str
) -> AgentRow | None:
    """The live agent, while the sign-in (refresh family) its access token names is not revoked."""
    with conn.cursor(row_factory=class_row(AgentRow)) as cur:
        return cur.execute(
            f"SELECT {_AGENT_COLUMNS} FROM agents"
            " WHERE id = %s AND organization_id = %s AND deleted_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM refresh_tokens"
            "   WHERE family_id = %s AND revoked_at IS NOT NULL)",
            (agent_id, organization_id, session_id),
        ).fetchone()


def store_refresh_token(
    conn: psycopg.Connection,
    agent_id: str,
    token_hash: bytes,
    ttl_seconds: int,
    family_id: str,
    second_factor: bool = False,
) -> None:
    """`second_factor`: the sign-in passed it (a rotation carries the family's flag over)."""
    conn.execute(
        "INSERT INTO refresh_tokens (id, agent_id, family_id, token_hash, expires_at,"
        " second_factor) VALUES (%s, %s, %s, %s, %s, %s)",
        (
            uuid.uuid4(),
            agent_id,
            family_id,
            token_hash,
            datetime.now(UTC) + timedelta(seconds=ttl_seconds),
            second_factor,
        ),
    )


@dataclass(frozen=True, slots=True)
class RefreshUse:
    agent_id: str
    session_id: str  # the refresh family: one sign-in
    valid: bool  # False: expired, revoked, deleted agent, or reused (the family is now revoked)
    reused: bool
    second_factor: bool = False  # the sign-in passed the second factor
    # Not valid because the sign-in passed no second factor while its agent has one or its
    # organization requires one (the token is left unused: it may work once that changes).
    owes_second_factor: bool = False


def use_refresh_token(conn: psycopg.Connection, token_hash: bytes) -> RefreshUse | None:
    """Mark a refresh token used; None for a token never issued.

    A token used twice means it leaked: its whole family is revoked (`reused`).
    """
    row = conn.execute(
        "SELECT t.agent_id::text, t.family_id::text, t.used_at, t.revoked_at, t.expires_at,"
        " a.deleted_at, t.second_factor, o.require_two_factor OR EXISTS (SELECT 1 FROM"
        "   two_factor f WHERE f.agent_id = a.id AND f.confirmed_at IS NOT NULL)"
        " FROM refresh_tokens t JOIN agents a ON a.id = t.agent_id"
        " JOIN organizations o ON o.id = a.organization_id"
        " WHERE t.token_hash = %s FOR UPDATE OF t",
        (token_hash,),
    ).fetchone()
    if row is None:
        return None
    agent_id, family_id, used_at, revoked_at, expires_at, deleted_at, passed, wanted = row
    if used_at is not None:
        revoke_family(conn, family_id)
        return RefreshUse(agent_id, family_id, valid=False, reused=True)
    if revoked_at is not None or deleted_at is not None or expires_at <= datetime.now(UTC):
        return RefreshUse(agent_id, family_id, valid=False, reused=False)
    if wanted and not passed:
        return RefreshUse(agent_id, family_id, valid=False, reused=False, owes_second_factor=True)
    conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = %s", (token_hash,))
    return RefreshUse(agent_id, family_id, valid=True, reused=False, second_factor=passed)


def revoke_family(conn: psycopg.Connection, family_id: str) -> None:
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = %s AND revoked_at IS NULL",
        (family_id,),
    )


def list_agents(conn: psycopg.Connection, organization_id: str) -> list[AgentRow]:
    with conn.cursor(row_factory=class_row(AgentRow)) as cur:
        return cur.execute(
            f"SELECT {_AGENT_COLUMNS} FROM agents"
            " WHERE organization_id = %s AND deleted_at IS NULL ORDER BY created_at, id",
            (organization_id,),
        ).fetchall()


def update_agent(
    conn: psycopg.Connection, organization_id: str, agent_id: str, changes: dict[str, object]
) -> AgentRow | None:
    """Set the given columns (names come from the caller's validated model, never the client).

    Demoting the organization's last admin (to supervisor or agent) is refused: someone must be
    able to administer it.
    """
    if changes.get("role") not in (None, "admin"):
        _keep_an_admin(conn, organization_id, agent_id)
    assignments = ", ".join(f"{column} = %s" for column in changes)
    with conn.cursor(row_factory=class_row(AgentRow)) as cur:
        return cur.execute(
            f"UPDATE agents SET {assignments or 'id = id'}"
            " WHERE id = %s AND organization_id = %s AND deleted_at IS NULL"
            f" RETURNING {_AGENT_COLUMNS}",
            (*changes.values(), agent_id, organization_id),
        ).fetchone()


def delete_agent(conn: psycopg.Connection, organization_id: str, agent_id: str) -> bool:
    """Soft-delete a live agent and end all its sign-ins; False when there is no such agent."""
    if agent_by_id(conn, organization_id, agent_id) is None:
        return False
    _keep_an_admin(conn, organization_id, agent_id)
    conn.execute("UPDATE agents SET deleted_at = now() WHERE id = %s", (agent_id,))
    # A deleted agent leaves its groups: routing never meets it there.
    conn.execute("DELETE FROM group_members WHERE agent_id = %s", (agent_id,))
    end_sign_ins(conn, agent_id)
    return True


def _keep_an_admin(conn: psycopg.Connection, organization_id: str, leaving_id: str) -> None:
    """Raise LastAdminError when `leaving_id` is the organization's only live admin.

    The admins' rows are locked, so two admins demoting each other at once cannot both pass.
    """
    admins = conn.execute(
        "SELECT id::text FROM agents WHERE organization_id = %s AND role = 'admin'"
        " AND deleted_at IS NULL ORDER BY id FOR UPDATE",
        (organization_id,),
    ).fetchall()
    if [row[0] for row in admins] == [leaving_id]:
        raise LastAdminError()


def end_sign_ins(
    conn: psycopg.Connection, agent_id: str, *, keep_session: str | None = None
) -> list[str]:
    """Revoke the agent's sign-ins (refresh families), but `keep_session`; their ids."""
    rows = conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now()"
        " WHERE agent_id = %s AND revoked_at IS NULL AND family_id IS DISTINCT FROM %s"
        " RETURNING family_id::text",
        (agent_id, keep_session),
    ).fetchall()
    return sorted({row[0] for row in rows})


def end_sign_in(conn: psycopg.Connection, agent_id: str, session_id: str) -> None:
    """Revoke one sign-in of this agent (logout). A stranger's family id changes nothing."""
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now()"
        " WHERE family_id = %s AND agent_id = %s AND revoked_at IS NULL",
        (session_id, agent_id),
    )


def session_of_refresh_token(
    conn: psycopg.Connection, agent_id: str, token_hash: bytes
) -> str | None:
    row = conn.execute(
        "SELECT family_id::text FROM refresh_tokens WHERE token_hash = %s AND agent_id = %s",
        (token_hash, agent_id),
    ).fetchone()
    return str(row[0]) if row else None


def organization_by_id(conn: psycopg.Connection, organization_id: str) -> OrganizationRow | None:
    with conn.cursor(row_factory=class_row(OrganizationRow)) as cur:
        return cur.execute(
            f"SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE id = %s", (organization_id,)
        ).fetchone()


def update_organization(
    conn: psycopg.Connection, organization_id: str, changes: dict[str, object]
) -> OrganizationRow | None:
    """Set the given columns (names come from the caller's validated model, never the client)."""
    assignments = ", ".join(f"{column} = %s" for column in changes)
    with conn.cursor(row_factory=class_row(OrganizationRow)) as cur:
        return cur.execute(
            f"UPDATE organizations SET {assignments or 'id = id'} WHERE id = %s"
            f" RETURNING {ORGANIZATION_COLUMNS}",
            (*changes.values(), organization_id),
        ).fetchone()
