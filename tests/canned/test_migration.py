"""migrations/0004.canned-responses.sql creates the table and indexes schema.sql describes, and
running it again changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from chat.config import Settings
from chat.db.migrations import MIGRATIONS_PATH
from chat.embedded.services import EmbeddedServices

MIGRATION = MIGRATIONS_PATH / "0004.canned-responses.sql"
TABLE = "canned_responses"


def _shape(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_name = %s ORDER BY column_name",
            (TABLE,),
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", (TABLE,)
        ).fetchall()
        constraints = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid::regclass::text = %s ORDER BY 1",
            (TABLE,),
        ).fetchall()
    return {"columns": columns, "indexes": indexes, "constraints": constraints}


def test_0004_creates_what_schema_sql_describes(
    embedded: EmbeddedServices, settings: Settings
) -> None:
    """A database of the shape before 0004 (today's tables less canned_responses) gets, from the
    migration alone, the shape a new one gets from schema.sql (the settings' database)."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(embedded.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = embedded.database_url.rsplit("/", 1)[0] + "/" + name
    schema = (MIGRATIONS_PATH.parent / "schema.sql").read_text()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema)  # type: ignore[arg-type]
        conn.execute(f"DROP TABLE {TABLE}")
        assert _shape(url)["columns"] == []  # really without it
        for _ in range(2):  # idempotent
            conn.execute(MIGRATION.read_text())  # type: ignore[arg-type]
    made = _shape(url)
    assert len(made["indexes"]) == 3 and made["constraints"]  # the key and both shortcut indexes
    assert made == _shape(settings.database_url)
