"""migrations/0018.appearance.sql brings a database of the shape before it (agents without
avatar_id) to what schema.sql and the migrations describe, and running it again changes
nothing."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from chat.config import Settings
from chat.db.migrations import MIGRATIONS_PATH
from chat.embedded.services import EmbeddedServices

MIGRATION = MIGRATIONS_PATH / "0018.appearance.sql"


def _shape(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_name = 'agents' ORDER BY 1"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'agents' ORDER BY 1"
        ).fetchall()
    return {"columns": columns, "indexes": indexes}


def test_0018_adds_the_avatar_column_and_index(
    embedded: EmbeddedServices, settings: Settings
) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(embedded.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = embedded.database_url.rsplit("/", 1)[0] + "/" + name
    schema = (MIGRATIONS_PATH.parent / "schema.sql").read_text()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema)  # type: ignore[arg-type]
        conn.execute("ALTER TABLE agents DROP COLUMN avatar_id")
        for _ in range(2):  # idempotent
            conn.execute(MIGRATION.read_text())  # type: ignore[arg-type]
    made = _shape(url)
    assert ("avatar_id", "uuid", "YES") in made["columns"]
    assert any(index == "agents_avatar" for index, _ in made["indexes"])
    assert made == _shape(settings.database_url)
