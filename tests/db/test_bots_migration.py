"""migrations/0022.bots.sql brings a database of the shape before it (agents without kind or
bot_rules, groups without bot_agent_id, no bot_tokens) to what schema.sql describes, keeps every
stored agent a human, refuses a bot with a password, and running it again changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from chat.config import Settings
from chat.db.migrations import MIGRATIONS_PATH
from chat.embedded.services import EmbeddedServices

MIGRATION = MIGRATIONS_PATH / "0022.bots.sql"


def _shape(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        checks = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid IN ('agents'::regclass, 'groups'::regclass, 'bot_tokens'::regclass)"
            " ORDER BY 1"
        ).fetchall()
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns"
            " WHERE table_name IN ('agents', 'groups', 'bot_tokens') ORDER BY 1, 2"
        ).fetchall()
    return {"checks": checks, "columns": columns}


def test_0022_adds_bots(embedded: EmbeddedServices, settings: Settings) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(embedded.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = embedded.database_url.rsplit("/", 1)[0] + "/" + name
    schema = (MIGRATIONS_PATH.parent / "schema.sql").read_text()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema)  # type: ignore[arg-type]
        # The shape before 0022.
        conn.execute("DROP TABLE bot_tokens")
        conn.execute("ALTER TABLE groups DROP COLUMN bot_agent_id")
        conn.execute("ALTER TABLE agents DROP COLUMN bot_rules, DROP COLUMN kind")
        org = uuid.uuid4()
        conn.execute("INSERT INTO organizations (id, name) VALUES (%s, 'o')", (org,))
        conn.execute(
            "INSERT INTO agents (id, organization_id, email, name, role, password_hash)"
            " VALUES (%s, %s, 'a@example.com', 'n', 'admin', 'x')",
            (uuid.uuid4(), org),
        )
        for _ in range(2):  # idempotent
            conn.execute(MIGRATION.read_text())  # type: ignore[arg-type]
        assert conn.execute("SELECT kind FROM agents").fetchall() == [("human",)]
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE agents SET kind = 'bot'")  # a bot has no password
        conn.execute("UPDATE agents SET kind = 'bot', password_hash = ''")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE agents SET kind = 'robot'")
    assert _shape(url) == _shape(settings.database_url)
