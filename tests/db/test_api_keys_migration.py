"""migrations/0015.api-keys.sql brings a database of the shape before it (schema.sql without the
api_keys table) to what schema.sql describes, and running it again changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from chat.config import Settings
from chat.db.migrations import MIGRATIONS_PATH
from chat.embedded.services import EmbeddedServices

MIGRATION = MIGRATIONS_PATH / "0015.api-keys.sql"


def _shape(url: str) -> dict[str, Any]:
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable, column_default"
            " FROM information_schema.columns WHERE table_name = 'api_keys' ORDER BY 1"
        ).fetchall()
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'api_keys'::regclass ORDER BY 1"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'api_keys' ORDER BY 1"
        ).fetchall()
    return {"columns": columns, "constraints": constraints, "indexes": indexes}


def test_0015_creates_what_schema_sql_describes(
    embedded: EmbeddedServices, settings: Settings
) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(embedded.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = embedded.database_url.rsplit("/", 1)[0] + "/" + name
    schema = (MIGRATIONS_PATH.parent / "schema.sql").read_text()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(schema)  # type: ignore[arg-type]
        conn.execute("DROP TABLE api_keys")
        assert conn.execute("SELECT to_regclass('api_keys')").fetchone() == (None,)
        for _ in range(2):  # idempotent
            conn.execute(MIGRATION.read_text())  # type: ignore[arg-type]
    made = _shape(url)
    assert len(made["columns"]) == 11 and len(made["indexes"]) == 3  # pkey, key_hash, org
    assert made == _shape(settings.database_url)
