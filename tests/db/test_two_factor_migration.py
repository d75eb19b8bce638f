"""migrations/0016.two-factor.sql: a database of the shape before it (its columns and tables
dropped, its record gone) upgrades to what today's schema.sql makes, keeping its rows."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from chat.config import Settings
from chat.db.schema import apply_schema

TABLES = ("organizations", "refresh_tokens", "two_factor", "two_factor_recovery_codes")


def _shape(url: str) -> list[Any]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_name = ANY(%s) ORDER BY 1, 2",
            (list(TABLES),),
        ).fetchall()


def test_0016_upgrades_a_database_from_before_it(settings: Settings) -> None:
    url = settings.database_url  # today's schema.sql and every migration, fresh
    wanted = _shape(url)
    org_id, agent_id = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE two_factor_recovery_codes, two_factor")
        conn.execute("ALTER TABLE organizations DROP COLUMN require_two_factor")
        conn.execute("ALTER TABLE refresh_tokens DROP COLUMN second_factor")
        conn.execute("DELETE FROM _yoyo_migration WHERE migration_id = '0016.two-factor'")
        conn.execute("INSERT INTO organizations (id, name) VALUES (%s, 'Old')", (org_id,))
        conn.execute(
            "INSERT INTO agents (id, organization_id, email, name, role, password_hash)"
            " VALUES (%s, %s, 'old@example.com', 'Old', 'admin', 'x')",
            (agent_id, org_id),
        )
        conn.execute(
            "INSERT INTO refresh_tokens (id, agent_id, family_id, token_hash, expires_at)"
            " VALUES (%s, %s, %s, 'h', now() + interval '1 day')",
            (uuid.uuid4(), agent_id, uuid.uuid4()),
        )
    assert _shape(url) != wanted  # really the old shape

    apply_schema(url)  # what `chat serve` and `chat migrate` do at start

    assert _shape(url) == wanted
    with psycopg.connect(url) as conn:
        recorded = conn.execute(
            "SELECT 1 FROM _yoyo_migration WHERE migration_id = '0016.two-factor'"
        ).fetchone()
        assert recorded is not None
        required = conn.execute(
            "SELECT require_two_factor FROM organizations WHERE id = %s", (org_id,)
        ).fetchone()
        assert required == (False,)
        passed = conn.execute(
            "SELECT second_factor FROM refresh_tokens WHERE agent_id = %s", (agent_id,)
        ).fetchone()
        assert passed == (False,)  # a sign-in from before passed no second factor
    apply_schema(url)  # and again: nothing left to do, nothing fails
