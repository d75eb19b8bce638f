"""Two-factor enrolments, recovery codes, and the second factor of sign-ins (structures.md,
"Two-factor sign-in"). Configuration: written by the service directly.

Each check that consumes something is one conditional UPDATE, so two concurrent requests with
the same code or recovery code cannot both pass: the row decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret_sealed: bytes
    confirmed_at: datetime | None  # None: waiting for its first code
    last_step: int | None
    recovery_codes_left: int


@dataclass(frozen=True, slots=True)
class SignInNeeds:
    """What a password-correct sign-in of the agent still owes."""

    enrolled: bool  # a confirmed enrolment: a code is asked
    required: bool  # the organization requires a second factor


def enrolment(conn: psycopg.Connection, agent_id: str) -> Enrolment | None:
    row = conn.execute(
        "SELECT secret_sealed, confirmed_at, last_step,"
        " (SELECT count(*) FROM two_factor_recovery_codes c"
        "   WHERE c.agent_id = f.agent_id AND c.used_at IS NULL)"
        " FROM two_factor f WHERE agent_id = %s",
        (agent_id,),
    ).fetchone()
    if row is None:
        return None
    return Enrolment(bytes(row[0]), row[1], row[2], int(row[3]))


def sign_in_needs(conn: psycopg.Connection, agent_id: str) -> SignInNeeds:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM two_factor"
        "   WHERE agent_id = a.id AND confirmed_at IS NOT NULL),"
        " o.require_two_factor"
        " FROM agents a JOIN organizations o ON o.id = a.organization_id WHERE a.id = %s",
        (agent_id,),
    ).fetchone()
    if row is None:
        return SignInNeeds(enrolled=False, required=False)
    return SignInNeeds(enrolled=bool(row[0]), required=bool(row[1]))


def start_enrolment(conn: psycopg.Connection, agent_id: str, secret_sealed: bytes) -> bool:
    """Keep a new secret waiting for its first code (replacing one still waiting); False when
    the agent has a confirmed enrolment, which is never replaced this way."""
    row = conn.execute(
        "INSERT INTO two_factor (agent_id, secret_sealed) VALUES (%s, %s)"
        " ON CONFLICT (agent_id) DO UPDATE"
        " SET secret_sealed = EXCLUDED.secret_sealed, last_step = NULL, created_at = now()"
        " WHERE two_factor.confirmed_at IS NULL RETURNING 1",
        (agent_id, secret_sealed),
    ).fetchone()
    return row is not None


def accept_step(conn: psycopg.Connection, agent_id: str, step: int, *, confirming: bool) -> bool:
    """Record `step` as the last accepted one, only if it is later than the last (a code works
    once); `confirming` an enrolment waiting for its first code, else a confirmed one. False
    when the code was used already or the enrolment is not in that state."""
    row = conn.execute(
        "UPDATE two_factor SET last_step = %s, confirmed_at = COALESCE(confirmed_at, now())"
        " WHERE agent_id = %s AND (last_step IS NULL OR last_step < %s)"
        " AND (confirmed_at IS NULL) = %s RETURNING 1",
        (step, agent_id, step, confirming),
    ).fetchone()
    return row is not None


def replace_recovery_codes(conn: psycopg.Connection, agent_id: str, hashes: list[bytes]) -> None:
    """The agent's recovery codes become these (the old ones, used or not, stop working)."""
    conn.execute("DELETE FROM two_factor_recovery_codes WHERE agent_id = %s", (agent_id,))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO two_factor_recovery_codes (agent_id, code_hash) VALUES (%s, %s)",
            [(agent_id, code_hash) for code_hash in hashes],
        )


def use_recovery_code(conn: psycopg.Connection, agent_id: str, code_hashes: list[bytes]) -> bool:
    """Spend an unused recovery code of a confirmed enrolment, given its hash under each key
    that verifies (a SECRET_KEY rotation's grace period); False when there is none."""
    row = conn.execute(
        "UPDATE two_factor_recovery_codes SET used_at = now()"
        " WHERE agent_id = %s AND code_hash = ANY(%s) AND used_at IS NULL"
        " AND EXISTS (SELECT 1 FROM two_factor"
        "   WHERE agent_id = %s AND confirmed_at IS NOT NULL) RETURNING 1",
        (agent_id, code_hashes, agent_id),
    ).fetchone()
    return row is not None


def reseal(conn: psycopg.Connection, agent_id: str, secret_sealed: bytes) -> None:
    """Store the agent's TOTP secret sealed anew (under the current SECRET_KEY)."""
    conn.execute(
        "UPDATE two_factor SET secret_sealed = %s WHERE agent_id = %s", (secret_sealed, agent_id)
    )


def remove(conn: psycopg.Connection, agent_id: str) -> bool:
    """Drop the agent's enrolment (confirmed or waiting) and recovery codes; False if none."""
    conn.execute("DELETE FROM two_factor_recovery_codes WHERE agent_id = %s", (agent_id,))
    row = conn.execute(
        "DELETE FROM two_factor WHERE agent_id = %s RETURNING confirmed_at IS NOT NULL",
        (agent_id,),
    ).fetchone()
    return row is not None and bool(row[0])


def mark_sign_in(conn: psycopg.Connection, agent_id: str, session_id: str) -> None:
    """The sign-in (refresh family) has passed the second factor (its agent just confirmed an
    enrolment with a code while signed in)."""
    conn.execute(
        "UPDATE refresh_tokens SET second_factor = true WHERE family_id = %s AND agent_id = %s",
        (session_id, agent_id),
    )


def live_agent_id_by_email(conn: psycopg.Connection, email: str) -> str | None:
    """For the CLI's reset: the live agent with this email (any case)."""
    row = conn.execute(
        "SELECT id::text FROM agents WHERE lower(email) = lower(%s) AND deleted_at IS NULL",
        (email,),
    ).fetchone()
    return str(row[0]) if row else None
