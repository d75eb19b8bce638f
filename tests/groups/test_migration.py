"""migrations/0002.groups.sql: a database created at 0001 (schema.sql as it was then, with
0001 applied) upgrades to the shape a new database gets from today's schema.sql, keeping its data.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from yoyo import get_backend, read_migrations

from chat.config import Settings
from chat.db.migrations import MIGRATIONS_PATH, _yoyo_url
from chat.db.schema import apply_schema
from chat.embedded.services import EmbeddedServices

SCHEMA_AT_0001 = Path(__file__).with_name("schema-at-0001.sql")
NEW_TABLES = ("organizations", "groups", "group_members")


def _database_at_0001(admin_url: str) -> str:
    """A new database with schema.sql of 0001's time and only 0001 recorded as applied."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA_AT_0001.read_text())  # type: ignore[arg-type]
    backend = get_backend(_yoyo_url(url))
    try:
        with backend.lock():
            every = read_migrations(str(MIGRATIONS_PATH))
            first = every.filter(lambda m: m.id == "0001.email-channel")
            backend.apply_migrations(backend.to_apply(first))
    finally:
        backend.connection.close()
    return url


def _shape(url: str) -> dict[str, Any]:
    """Columns (type, nullability, default), indexes and constraints of the tables 0002 touches."""
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_name = ANY(%s)"
            " ORDER BY table_name, column_name",
            (list(NEW_TABLES),),
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1",
            (list(NEW_TABLES),),
        ).fetchall()
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
            (list(NEW_TABLES),),
        ).fetchall()
    return {"columns": columns, "indexes": indexes, "constraints": constraints}


def test_0002_upgrades_a_database_made_at_0001(
    embedded: EmbeddedServices, settings: Settings
) -> None:
    url = _database_at_0001(embedded.database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'organizations'"
        ).fetchall()
        assert ("default_max_concurrent_chats",) not in columns  # really the old shape
        org_id = conn.execute(
            "INSERT INTO organizations (id, name) VALUES (gen_random_uuid(), 'Old') RETURNING id"
        ).fetchone()
        assert org_id is not None

    apply_schema(url)  # what `chat serve` and `chat migrate` do at start

    with psycopg.connect(url) as conn:
        applied = conn.execute("SELECT migration_id FROM _yoyo_migration ORDER BY 1").fetchall()
        # Then every later migration (each has its own test).
        assert applied[:2] == [("0001.email-channel",), ("0002.groups",)]
        default = conn.execute(
            "SELECT default_max_concurrent_chats FROM organizations WHERE id = %s", (org_id[0],)
        ).fetchone()
        assert default == (5,)  # the organization that existed gets the default
        conn.execute(
            "INSERT INTO groups (id, organization_id, name) VALUES (gen_random_uuid(), %s, 'A')",
            (org_id[0],),
        )
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO groups (id, organization_id, name)"
                " VALUES (gen_random_uuid(), %s, 'a')",
                (org_id[0],),
            )
    # The upgraded database has the shape a new one gets from schema.sql (settings' database).
    upgraded = _shape(url)
    assert any(name == "groups_live_name" for name, _ in upgraded["indexes"])
    assert any("default_max_concurrent_chats" in c for _, c in upgraded["constraints"])
    assert upgraded == _shape(settings.database_url)
    apply_schema(url)  # and applying again changes nothing
    assert _shape(url) == _shape(settings.database_url)
