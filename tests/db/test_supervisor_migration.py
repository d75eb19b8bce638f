"""migrations/0019.supervisor-role.sql brings a database of the shape before it (agents.role
'admin' or 'agent' only, notes without an addressee) to what schema.sql describes, keeps every
stored agent, and running it again changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from chat.config import Settings
from chat.db.migrations import MIGRATIONS_PATH
from chat.embedded.services import EmbeddedServices

MIGRATION = MIGRATIONS_PATH / "0019.supervisor-role.sql"
OLD_CHECK = "CHECK (role IN ('admin', 'agent'))"


def _shape(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        checks = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'agents'::regclass AND contype = 'c' ORDER BY 1"
        ).fetchall()
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_name = 'notes' ORDER BY 1"
        ).fetchall()
    return {"checks": checks, "columns": columns}


def test_0019_allows_supervisors_and_addressed_notes(
    embedded: EmbeddedServices, settings: Settings
) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(embedded.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = embedded.database_url.rsplit("/", 1)[0] + "/" + name
    schema = (MIGRATIONS_PATH.parent / "schema.sql").read_text()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema)  # type: ignore[arg-type]
        # The shape before 0019: the old CHECK, no addressee, and agents stored under it.
        conn.execute("ALTER TABLE agents DROP CONSTRAINT agents_role_check")
        conn.execute(f"ALTER TABLE agents ADD CONSTRAINT agents_role_check {OLD_CHECK}")
        conn.execute("ALTER TABLE notes DROP COLUMN to_agent_id")
        org = uuid.uuid4()
        conn.execute("INSERT INTO organizations (id, name) VALUES (%s, 'o')", (org,))
        for role in ("admin", "agent"):
            conn.execute(
                "INSERT INTO agents (id, organization_id, email, name, role, password_hash)"
                " VALUES (%s, %s, %s, 'n', %s, 'x')",
                (uuid.uuid4(), org, f"{role}@example.com", role),
            )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE agents SET role = 'supervisor' WHERE role = 'agent'")
        for _ in range(2):  # idempotent
            conn.execute(MIGRATION.read_text())  # type: ignore[arg-type]
        conn.execute("UPDATE agents SET role = 'supervisor' WHERE role = 'agent'")
        roles = conn.execute("SELECT role FROM agents ORDER BY role").fetchall()
        assert roles == [("admin",), ("supervisor",)]
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE agents SET role = 'owner' WHERE role = 'admin'")
    made = _shape(url)
    assert ("to_agent_id", "uuid", "YES") in made["columns"]
    assert made == _shape(settings.database_url)
